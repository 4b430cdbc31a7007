//! The messages of a word2vec run: what it tells whoever drives it ([`Event`]: [`Info`] at the
//! start, steps, epochs, [`Snapshot`]s, saves), what the TUI can ask of it ([`Command`]), how it
//! ended ([`Summary`]) and the lines of its metrics.jsonl ([`Line`]).

use std::path::PathBuf;

use serde::Serialize;

use crate::w2v::engine::{EpochReport, StepReport};

/// Facts about a run, sent once at the start.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Info {
    /// Experiment name.
    pub name: String,
    /// The run directory being written.
    pub run_dir: PathBuf,
    /// e.g. "skip-gram, negative sampling k=5, 100-d, window 5".
    pub model: String,
    /// Corpus words (after min_count) per epoch.
    pub corpus_words: u64,
    /// Sentences.
    pub sentences: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Distinct tokens before min_count.
    pub raw_types: usize,
    /// Epochs.
    pub epochs: u32,
    /// Steps of the whole run (all epochs).
    pub total_steps: u64,
    /// Where this run stops.
    pub until: u64,
    /// Step it starts from (non-zero when resumed).
    pub start_step: u64,
    /// Threads.
    pub threads: usize,
    /// Watched words not in the vocabulary.
    pub unknown_watch: Vec<String>,
}

/// A word and its nearest neighbours by cosine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Watched {
    /// The word.
    pub word: String,
    /// Whether it is in the vocabulary (an empty list otherwise).
    pub known: bool,
    /// (neighbour, cosine), nearest first.
    pub neighbours: Vec<(String, f32)>,
}

/// Analogy scores at a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AnalogyScore {
    /// Top-1 accuracy over answered questions.
    pub accuracy: f64,
    /// Semantic sections' accuracy.
    pub semantic: f64,
    /// Syntactic (`gram…`) sections' accuracy.
    pub syntactic: f64,
    /// Answered / questions.
    pub coverage: f64,
    /// Questions answered.
    pub answered: usize,
}

/// A similarity file's score at a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairScore {
    /// The file as written in the experiment.
    pub file: String,
    /// Spearman's ρ (None when fewer than two pairs are covered).
    pub spearman: Option<f64>,
    /// Covered / pairs.
    pub coverage: f64,
}

/// The vectors seen at a point of training.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// Steps done.
    pub step: u64,
    /// Fraction of the run done, in epochs (e.g. 2.5).
    pub epoch: f64,
    /// Watched words.
    pub neighbours: Vec<Watched>,
    /// Analogy scores (when the experiment names an analogy file).
    pub analogy: Option<AnalogyScore>,
    /// Similarity scores.
    pub pairs: Vec<PairScore>,
    /// The PCA map of the most frequent words: (word, x, y); empty when not asked for.
    #[serde(skip)]
    pub projection: Vec<(String, f32, f32)>,
}

/// What a run tells whoever drives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The run has started.
    Started(Info),
    /// A step is done (every step, whatever `log_every`).
    Step(StepReport),
    /// An epoch is done.
    Epoch(EpochReport),
    /// A snapshot of the vectors.
    Snapshot(Snapshot),
    /// The model was saved.
    Saved {
        /// Steps done.
        step: u64,
        /// The file.
        path: PathBuf,
    },
}

/// What the TUI can ask of a running session.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Watch this word too (its neighbours appear in the next snapshot, taken at once).
    Watch(String),
    /// Stop watching this word.
    Unwatch(String),
    /// Take a snapshot now.
    Snapshot,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Steps done.
    pub step: u64,
    /// Steps of the whole run.
    pub total_steps: u64,
    /// Whether every epoch is done.
    pub finished: bool,
    /// Seconds of training in this process (evaluations and checkpoints not counted).
    pub seconds: f64,
    /// Corpus words per second over this process's training.
    pub words_per_s: f64,
    /// Mean loss per example of each finished epoch.
    pub epoch_losses: Vec<f64>,
    /// The run directory.
    pub run_dir: PathBuf,
    /// The vectors file written at the end.
    pub vectors: PathBuf,
}

/// A metrics.jsonl line (and a `--json` line of `rnn-lab train`).
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Line<'a> {
    /// A step.
    Step(&'a StepReport),
    /// An epoch, with the step it ended at.
    Epoch {
        /// Steps done at its end.
        step: u64,
        /// The epoch.
        #[serde(flatten)]
        e: &'a EpochReport,
    },
    /// An evaluation.
    Eval(&'a Snapshot),
}
