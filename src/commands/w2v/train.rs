//! `rnn-lab w2v train`: word2vec on text files, with progress on stderr, JSON lines on stdout,
//! Ctrl-C saving what is done.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::cli;
use crate::cli::{ArchArg, LevelArg, ObjectiveArg, W2vTrainArgs};
use crate::commands::CliError;
use crate::w2v::formats::{self, Format};
use crate::w2v::session::corpus_options;
use crate::w2v::{model_file, Arch, Corpus, Level, Objective, Report, Settings, Trainer};

fn settings_of(a: &W2vTrainArgs) -> Settings {
    let arch = match a.arch {
        ArchArg::Skipgram => Arch::Skipgram,
        ArchArg::Cbow => Arch::Cbow,
    };
    let mut s = Settings::new(arch);
    s.objective = match a.objective {
        ObjectiveArg::Ns => Objective::Ns,
        ObjectiveArg::Hs => Objective::Hs,
    };
    s.level = match a.level {
        LevelArg::Word => Level::Word,
        LevelArg::Char => Level::Char,
    };
    s.dim = a.dim;
    s.window = a.window;
    s.negative = a.negative;
    s.sample = a.sample;
    s.min_count = a.min_count;
    s.epochs = a.epochs;
    if let Some(lr) = a.lr {
        s.lr = lr;
    }
    s.min_lr = a.min_lr.unwrap_or(s.lr * 1e-4);
    s.table_size = a.table_size;
    s.seed = a.seed;
    s
}

pub(super) fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum JsonLine<'a> {
    Step(&'a crate::w2v::StepReport),
    Epoch(&'a crate::w2v::EpochReport),
    Done {
        corpus_words: u64,
        steps: u64,
        total_steps: u64,
        seconds: f64,
        words_per_s: f64,
        epoch_losses: &'a [f64],
        finished: bool,
    },
}

/// Train.
pub(super) fn run(a: &W2vTrainArgs) -> Result<(), CliError> {
    if a.out.is_none() && a.model.is_none() {
        return Err(CliError::input(
            "w2v train: give --out VECTORS (.txt or .bin) and/or --model MODEL.safetensors",
        ));
    }
    if a.threads == Some(0) {
        return Err(CliError::input("--threads must be at least 1"));
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let files: Vec<&Path> = a.files.iter().map(|p| p.as_path()).collect();
    let mut trainer = match &a.resume {
        Some(path) => {
            let saved = model_file::load(path).map_err(cli)?;
            let corpus = Corpus::from_files(&files, corpus_options(&saved.settings)).map_err(cli)?;
            saved.resume(corpus, &path.display().to_string()).map_err(cli)?
        }
        None => {
            let s = settings_of(a);
            s.check().map_err(cli)?;
            let corpus = Corpus::from_files(&files, corpus_options(&s)).map_err(cli)?;
            Trainer::new(s, corpus).map_err(cli)?
        }
    };
    let (total, start) = (trainer.total_steps(), trainer.progress().step);
    let until = a.steps.map_or(total, |s| s.min(total));
    let c = trainer.corpus();
    eprintln!(
        "rnn-lab: word2vec {} on {} words ({} sentences, {} distinct kept of {}), {} epochs = {} steps{}, {} thread{}",
        trainer.settings().describe(),
        c.words(),
        c.sentences(),
        c.vocab.len(),
        c.raw_types,
        trainer.settings().epochs,
        total,
        if start > 0 {
            format!(", from step {start}")
        } else {
            String::new()
        },
        threads,
        if threads == 1 { " (deterministic)" } else { "s" }
    );
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    let tty = std::io::stderr().is_terminal();
    let mut last_print = Instant::now();
    let epochs = trainer.settings().epochs;
    let mut out_err: Option<CliError> = None;
    let mut words = 0u64;
    let mut on = |r: &Report| {
        if let Report::Step(s) = r {
            words += s.words;
        }
        let mut err = std::io::stderr();
        if a.json && out_err.is_none() {
            let line = match r {
                Report::Step(s) => JsonLine::Step(s),
                Report::Epoch(e) => JsonLine::Epoch(e),
            };
            match serde_json::to_string(&line) {
                Ok(l) => println!("{l}"),
                Err(e) => out_err = Some(CliError::other(e)),
            }
        }
        match r {
            Report::Step(s) if tty && last_print.elapsed().as_secs_f64() > 0.25 => {
                last_print = Instant::now();
                let _ = write!(
                    err,
                    "\r  epoch {}/{epochs}  step {}/{}  loss {:.4}  lr {:.5}  {} words/s   ",
                    s.epoch,
                    s.step,
                    s.total_steps,
                    s.loss,
                    s.lr,
                    human(s.words_per_s)
                );
            }
            Report::Epoch(e) => {
                let _ = writeln!(
                    err,
                    "{}epoch {}/{epochs}: loss {:.4} nats per example over {} examples, {:.1} s, {} words/s",
                    if tty { "\r" } else { "" },
                    e.epoch,
                    e.loss,
                    human(e.examples as f64),
                    e.seconds,
                    human(e.words_per_s)
                );
            }
            Report::Step(_) => {}
        }
    };
    let t0 = Instant::now();
    trainer.run(until, threads, &stop, &mut on);
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = out_err {
        return Err(e);
    }
    let step = trainer.progress().step;
    let finished = step >= total;
    let words = words as f64;
    if a.json {
        let line = JsonLine::Done {
            corpus_words: trainer.corpus().words(),
            steps: step,
            total_steps: total,
            seconds,
            words_per_s: if seconds > 0.0 { words / seconds } else { 0.0 },
            epoch_losses: &trainer.progress().epoch_losses,
            finished,
        };
        println!("{}", serde_json::to_string(&line).map_err(CliError::other)?);
    }
    if tty {
        eprint!("\r{:70}\r", "");
    }
    if let Some(path) = &a.model {
        model_file::save(path, &trainer, &[]).map_err(cli)?;
        eprintln!("rnn-lab: model (step {step} of {total}) saved to {}", path.display());
    }
    if let Some(path) = &a.out {
        let s = trainer.settings();
        let format = Format::from_path(path);
        formats::write(path, trainer.corpus().vocab.words(), s.dim, trainer.syn0(), format).map_err(cli)?;
        eprintln!(
            "rnn-lab: {} vectors × {} written to {} ({})",
            trainer.corpus().vocab.len(),
            s.dim,
            path.display(),
            if format == Format::Binary {
                "word2vec binary"
            } else {
                "word2vec text"
            }
        );
    }
    if !finished {
        eprintln!(
            "rnn-lab: stopped after step {step} of {total}{}",
            match &a.model {
                Some(m) => format!("; continue with --resume {}", m.display()),
                None => String::new(),
            }
        );
    }
    Ok(())
}
