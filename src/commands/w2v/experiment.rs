//! `rnn-lab train EXP` for a `[task] kind = "word2vec"` experiment: the session in this thread,
//! progress on stderr, `--json` lines on stdout (the metrics.jsonl lines, then a `done` line).

use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::cli;
use super::train::human;
use crate::cli::TrainArgs;
use crate::commands::CliError;
use crate::w2v::experiment;
use crate::w2v::session::{Event, Line, Session, SessionOptions, Summary};

/// Run a word2vec experiment headless.
pub fn run(a: &TrainArgs) -> Result<(), CliError> {
    let exp = experiment::load(&a.experiment).map_err(cli)?;
    let time_limit = match a.minutes {
        Some(m) if m.is_finite() && m > 0.0 => Some(std::time::Duration::from_secs_f64(m * 60.0)),
        Some(m) => return Err(CliError::input(format!("--minutes {m}: must be a positive number"))),
        None => None,
    };
    if a.threads == Some(0) {
        return Err(CliError::input("--threads must be at least 1"));
    }
    if a.steps == Some(0) {
        return Err(CliError::input("--steps must be at least 1"));
    }
    let log_every = exp.log_every;
    let opts = SessionOptions {
        steps: a.steps,
        resume: a.resume.clone(),
        // `--out` defaults to "runs"; with --resume, the default continues the checkpoint's run.
        out: (a.resume.is_none() || a.out.as_os_str() != "runs").then(|| a.out.clone()),
        seed: a.seed,
        threads: a.threads,
        time_limit,
        projection: false,
    };
    let mut session = Session::prepare(exp, &opts).map_err(cli)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    let tty = std::io::stderr().is_terminal();
    let json = a.json;
    let mut last = Instant::now();
    let (mut until, mut spe) = (0u64, 1u64);
    let mut on = |ev: Event| {
        let mut err = std::io::stderr();
        let cr = if tty { "\r\x1b[2K" } else { "" };
        match &ev {
            Event::Started(i) => {
                until = i.until;
                spe = (i.total_steps / u64::from(i.epochs.max(1))).max(1);
                let _ = writeln!(
                    err,
                    "rnn-lab: word2vec {} ({}) on {} words ({} sentences, {} distinct kept of {}), {} epochs = {} steps{}{}, {} thread{} → {}",
                    i.name,
                    i.model,
                    i.corpus_words,
                    i.sentences,
                    i.vocab,
                    i.raw_types,
                    i.epochs,
                    i.total_steps,
                    if i.until < i.total_steps { format!(" (stopping after {})", i.until) } else { String::new() },
                    if i.start_step > 0 { format!(", from step {}", i.start_step) } else { String::new() },
                    i.threads,
                    if i.threads == 1 { " (deterministic)" } else { "s" },
                    i.run_dir.display()
                );
                if !i.unknown_watch.is_empty() {
                    let _ = writeln!(
                        err,
                        "rnn-lab: warning: watched words not in the vocabulary: {}",
                        i.unknown_watch.join(", ")
                    );
                }
            }
            Event::Step(s) => {
                let logged = s.step.is_multiple_of(log_every) || s.step == until;
                if json && logged {
                    if let Ok(l) = serde_json::to_string(&Line::Step(s)) {
                        println!("{l}");
                    }
                }
                // At most four progress lines a second on a terminal; the logged ones otherwise.
                let show = if tty {
                    last.elapsed().as_secs_f64() > 0.25 || s.step == until
                } else {
                    logged
                };
                if show {
                    last = Instant::now();
                    let line = format!(
                        "epoch {}  step {:>6}/{}  loss {:.4}  lr {:.5}  {} words/s",
                        s.epoch,
                        s.step,
                        until,
                        s.loss,
                        s.lr,
                        human(s.words_per_s)
                    );
                    if tty {
                        let _ = write!(err, "{cr}{line}");
                    } else {
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
            Event::Epoch(e) => {
                if json {
                    let line = Line::Epoch {
                        step: u64::from(e.epoch) * spe,
                        e,
                    };
                    if let Ok(l) = serde_json::to_string(&line) {
                        println!("{l}");
                    }
                }
                let _ = writeln!(
                    err,
                    "{cr}epoch {}: loss {:.4} nats per example over {} examples, {:.1} s, {} words/s",
                    e.epoch,
                    e.loss,
                    human(e.examples as f64),
                    e.seconds,
                    human(e.words_per_s)
                );
            }
            Event::Snapshot(snap) => {
                if json {
                    if let Ok(l) = serde_json::to_string(&Line::Eval(snap)) {
                        println!("{l}");
                    }
                }
                let mut parts = Vec::new();
                if let Some(a) = &snap.analogy {
                    parts.push(format!(
                        "analogies {:.1}% (semantic {:.1}%, syntactic {:.1}%; coverage {:.1}%)",
                        100.0 * a.accuracy,
                        100.0 * a.semantic,
                        100.0 * a.syntactic,
                        100.0 * a.coverage
                    ));
                }
                for p in &snap.pairs {
                    parts.push(format!(
                        "{} ρ {} (coverage {:.1}%)",
                        p.file.rsplit('/').next().unwrap_or(&p.file),
                        p.spearman.map_or_else(|| "n/a".into(), |r| format!("{r:.3}")),
                        100.0 * p.coverage
                    ));
                }
                if !parts.is_empty() || !snap.neighbours.is_empty() {
                    let _ = writeln!(
                        err,
                        "{cr}at step {} (epoch {:.2}): {}",
                        snap.step,
                        snap.epoch,
                        parts.join("; ")
                    );
                }
                for w in snap.neighbours.iter().filter(|w| w.known) {
                    let list: Vec<String> = w.neighbours.iter().map(|(n, c)| format!("{n} {c:.2}")).collect();
                    let _ = writeln!(err, "  {}: {}", w.word, list.join(", "));
                }
            }
            Event::Saved { .. } => {}
        }
        let _ = err.flush();
    };
    let summary = session.run(&stop, None, &mut on).map_err(cli)?;
    if json {
        #[derive(Serialize)]
        struct Done<'a> {
            kind: &'static str,
            #[serde(flatten)]
            s: &'a Summary,
        }
        println!(
            "{}",
            serde_json::to_string(&Done {
                kind: "done",
                s: &summary
            })
            .map_err(CliError::other)?
        );
    }
    eprintln!(
        "rnn-lab: {} at step {} of {} ({:.1} s, {} words/s); model {}, vectors {}",
        if summary.finished { "finished" } else { "stopped" },
        summary.step,
        summary.total_steps,
        summary.seconds,
        human(summary.words_per_s),
        summary.run_dir.join("latest.safetensors").display(),
        summary.vectors.display()
    );
    if !summary.finished {
        eprintln!(
            "rnn-lab: continue with: rnn-lab train {} --resume {}",
            a.experiment.display(),
            summary.run_dir.join("latest.safetensors").display()
        );
    }
    Ok(())
}
