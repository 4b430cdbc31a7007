//! A tiny experiment in a temporary folder, for tests that drive the real trainer.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rnn_lab::config::{parse_str, Experiment};
use rnn_lab::train::protocol::Event;
use rnn_lab::train::{RunOptions, Trainer};

/// A small corpus and experiment: char LSTM with H = 8 on a repeated sentence; `training` lines
/// are added to `[training]`.
pub fn experiment(dir: &Path, training: &str) -> Experiment {
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(40);
    std::fs::write(dir.join("corpus.txt"), text).expect("write corpus");
    let toml = format!(
        "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n\
         [model]\ncell = \"lstm\"\nhidden = 8\n\
         [training]\nbatch_size = 2\nseq_len = 8\nmax_val_tokens = 200\n{training}\n\
         [sampling]\nlength = 12\n"
    );
    parse_str(&toml, &dir.join("tiny.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Options for a run written to `dir/runs`, on one thread.
pub fn options(dir: &Path) -> RunOptions {
    RunOptions {
        out: Some(dir.join("runs")),
        threads: Some(1),
        ..RunOptions::default()
    }
}

/// The [`experiment`] with `training`, prepared to run with [`options`].
pub fn trainer(dir: &Path, training: &str) -> Trainer {
    Trainer::prepare(experiment(dir, training), &options(dir)).unwrap_or_else(|e| panic!("{e}"))
}

/// The one run directory under `out`.
pub fn run_dir(out: &Path) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(v.len(), 1, "expected one run directory in {}", out.display());
    v.remove(0)
}

/// Counts of the periodic work in a list of events.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Logged steps.
    pub steps: usize,
    /// Logged steps with a validation loss.
    pub evaluations: usize,
    /// Checkpoints written.
    pub checkpoints: usize,
    /// Samples generated.
    pub samples: usize,
    /// Probes run.
    pub probes: usize,
}

/// Count the events.
pub fn count(events: &[Event]) -> Counts {
    let mut c = Counts::default();
    for e in events {
        match e {
            Event::Step(m) => {
                c.steps += 1;
                c.evaluations += usize::from(m.val_loss.is_some());
            }
            Event::Checkpointed { .. } => c.checkpoints += 1,
            Event::Sample(_) => c.samples += 1,
            Event::Probe(_) => c.probes += 1,
            _ => {}
        }
    }
    c
}
