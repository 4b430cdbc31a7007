//! The resolved experiment: every field filled (defaults applied) and validated.
//!
//! Parsing (serde structs with `deny_unknown_fields`, spans for line:col) lives beside this file;
//! this is the checked type every other module consumes.

use std::num::NonZeroU64;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::nn::dropout::Dropout;
use crate::nn::spec::{CellKind, GruVariant, Init, RecurrentInit};
use crate::nn::LossNorm;
use crate::optim::spec::OptimSpec;
use crate::task::data::FileFormat;
use crate::task::encode::UnknownWords;
use crate::task::generators::{Criterion, Synthetic};
use crate::task::TaskKind;

/// Tokenisation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// One token per Unicode scalar value.
    Char,
    /// Words, with punctuation split off as tokens of its own.
    Word,
}

/// How the text is cut into sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Continuous text; truncated BPTT carries the state across chunks.
    Stream,
    /// Each line is one sequence from a⟨0⟩ = 0, x⟨1⟩ = 0, ending with EOS.
    Lines,
}

/// `[data]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    /// Language models: the training text's file paths or glob patterns, relative to the
    /// experiment file's folder (`files`, or `train` in the file).
    pub files: Vec<String>,
    /// Tasks: training files (paths or patterns).
    pub train: Vec<String>,
    /// Validation files (tasks and language models); empty = hold out `val_fraction` of the
    /// training examples (tasks, lines-mode text) or the end of the training stream.
    pub valid: Vec<String>,
    /// Test files (optional), scored by `rnn-lab eval CKPT` and at the end of a headless run.
    pub test: Vec<String>,
    /// Char or word tokens. Default: char.
    pub level: Level,
    /// Stream or lines. Default: stream.
    pub mode: Mode,
    /// Fraction of the data held out for validation, in (0, 1). Default: 0.05.
    pub val_fraction: f64,
    /// Tokens seen fewer times in the data become `<unk>` (both levels). Default: 1.
    pub min_count: usize,
    /// Keep at most this many tokens, most frequent first, specials included (0 = no limit;
    /// both levels). Default: 0.
    pub max_vocab: usize,
    /// Lower-case the text before tokenising. Default: false.
    pub lowercase: bool,
    /// Word level: split punctuation off into tokens of its own; false = split on whitespace
    /// only (for pre-tokenised text such as PTB). Default: true.
    pub split_punctuation: bool,
}

/// How stream-mode training batches are cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Batches {
    /// B contiguous streams, chunk after chunk, the state carried across chunks.
    #[default]
    Contiguous,
    /// B windows of T tokens at seeded random places, each from a zero state.
    Random,
}

/// `[model]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSection {
    /// rnn, gru or lstm. Default: lstm.
    pub cell: CellKind,
    /// Hidden size H. Default: 128.
    pub hidden: usize,
    /// Stacked layers L. Default: 1.
    pub layers: usize,
    /// Bidirectional layers (not for language models). Default: false.
    pub bidirectional: bool,
    /// Embedding size E; 0 = one-hot input. Default: 0 (with `embedding_init`: the vectors
    /// file's dimension, filled in by [`Experiment::resolve_embedding_dim`] when a run starts).
    pub embedding: usize,
    /// Word vectors (word2vec text or binary) that initialise the embedding, as written in the
    /// file (relative to the experiment file's folder). Default: none (random init).
    #[serde(default)]
    pub embedding_init: Option<String>,
    /// With `embedding_init`: keep the embedding fixed (no update) instead of fine-tuning it.
    /// Default: false.
    #[serde(default)]
    pub embedding_freeze: bool,
    /// GRU equations. Default: course.
    pub gru_variant: GruVariant,
    /// Weight initialisation. Default: uniform ±0.08.
    pub init: Init,
    /// Recurrent blocks' initialisation. Default: same as `init`.
    #[serde(default)]
    pub init_recurrent: RecurrentInit,
    /// Initial LSTM forget-gate bias. Default: 1.0.
    pub forget_bias: f64,
    /// One tensor for the embedding and the head. Default: false.
    #[serde(default)]
    pub tie_weights: bool,
    /// Dropout during training, by place (resolved from `dropout` and the per-place keys).
    /// Default: none.
    #[serde(default)]
    pub dropout: Dropout,
}

/// `[training]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSection {
    /// Optimizer, learning rate, schedule, clipping.
    pub optim: OptimSpec,
    /// Sequences per batch B. Default: 32.
    pub batch_size: usize,
    /// Time steps per chunk T (truncated BPTT length; max line length in lines mode). Default: 64.
    pub seq_len: usize,
    /// Optimizer steps to run. Default: 2000. When the file gives `epochs` instead, this is 0
    /// until [`Experiment::resolve_epochs`] fills it in from the data's steps per epoch.
    pub steps: u64,
    /// Alternative to `steps`: passes over the training data.
    pub epochs: Option<f64>,
    /// Log a metrics line every N steps. Default: 10.
    pub log_every: NonZeroU64,
    /// Evaluate on the validation split every N steps; `None` (0 in the file): only at the end
    /// of the run. Default: 200.
    pub eval_every: Option<NonZeroU64>,
    /// Write `latest.safetensors` every N steps; `None` (0 in the file): only at the end of the
    /// run. Default: 500.
    pub checkpoint_every: Option<NonZeroU64>,
    /// Generate a sample every N steps; `None` (0 in the file): only on request
    /// ([`Command::Sample`](crate::train::protocol::Command::Sample), the TUI's `g`). Default: 200.
    pub sample_every: Option<NonZeroU64>,
    /// Run a probe for the views every N steps and once at the start; `None` (0 in the file):
    /// only on request ([`Command::Probe`](crate::train::protocol::Command::Probe), the TUI's `p`).
    /// Default: 100.
    pub probe_every: Option<NonZeroU64>,
    /// Cap on validation tokens per evaluation (0 = all). Default: 100000.
    pub max_val_tokens: usize,
    /// The objective's normalisation. Default: sum (over steps; mean over sequences).
    #[serde(default)]
    pub loss: LossNorm,
    /// Stream-mode batches. Default: contiguous.
    #[serde(default)]
    pub batches: Batches,
    /// A step whose training loss is above this × the running median of the recent step losses
    /// (and above the run's first loss) is a loss blow-up: the run rolls back as for NaN.
    /// 0 = off. Default: 10.
    pub divergence_factor: f64,
    /// Step losses the running median is taken over. Default: 100.
    pub divergence_window: usize,
}

/// `[sampling]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingSection {
    /// Softmax temperature; 0 = greedy. Default: 0.8.
    pub temperature: f64,
    /// Keep the k most likely tokens; 0 = all. Default: 0.
    pub top_k: usize,
    /// Tokens to generate. Default: 200.
    pub length: usize,
    /// Text fed in first. Default: "".
    pub prime: String,
}

/// `[task]`: what the experiment trains.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskSection {
    /// language_model (default), tagging, classification or regression.
    pub kind: TaskKind,
    /// Where the sequences come from.
    pub source: TaskSource,
}

/// Where a task's sequences come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum TaskSource {
    /// A language model's text (`[data] files`).
    #[default]
    Text,
    /// Tagging, classification or regression files (`[data] train`, `valid`, `test`).
    Files {
        /// The files' layout.
        format: FileFormat,
        /// Tagging: what a word outside the vocabulary becomes.
        unknown_words: UnknownWords,
        /// Share of training tokens replaced by their unknown-word class each step.
        word_dropout: f64,
    },
    /// A built-in generator.
    Generated {
        /// The generator and its parameters.
        generator: Synthetic,
        /// Validation sequences.
        val_size: usize,
        /// The "solved" test.
        criterion: Criterion,
    },
}

impl TaskSection {
    /// True for a language model.
    pub fn is_language_model(&self) -> bool {
        self.kind == TaskKind::LanguageModel
    }
}

/// A complete, checked experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// File it was read from (absent for built-in experiments).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// `[experiment] name`. Default: the file stem.
    pub name: String,
    /// `[experiment] seed`. Default: 1.
    pub seed: u64,
    /// `[data]`.
    pub data: DataSection,
    /// `[model]`.
    pub model: ModelSection,
    /// `[training]`.
    pub training: TrainingSection,
    /// `[sampling]`.
    pub sampling: SamplingSection,
    /// `[task]`.
    #[serde(default)]
    pub task: TaskSection,
}

/// Whether something done every `every` steps (`None`: never periodically) is due after `step`.
pub fn is_due(every: Option<NonZeroU64>, step: u64) -> bool {
    every.is_some_and(|n| step.is_multiple_of(n.get()))
}
