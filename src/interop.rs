//! Moving models between rnn-lab and PyTorch (`rnn-lab export`, `rnn-lab import`).
//!
//! An export directory holds everything a PyTorch user needs and nothing rnn-lab-specific:
//!
//! | file | what |
//! |---|---|
//! | `model.safetensors` | the `state_dict` of the module in `model.py` ([`layout`]: `embed.weight`, `rnn.weight_ih_l0` …, `head.weight`, `head.bias`) |
//! | `model.json` | the architecture ([`ModelJson`]) |
//! | `vocab.json` | the vocabulary (tokens in id order, specials, tokenisation flags) |
//! | `config.toml` | the resolved experiment the model was trained with |
//! | `task.json` | tagging, classification and regression models: the task kind and the output names (tags, classes) in head-row order |
//! | `model.py` | the whole model as an nn.Module, the vocabulary, eval semantics, `load`/`save`/`check` |
//! | `course_gru.py` | the course GRU as an nn.Module (course-GRU models only) |
//! | `check.safetensors` | rnn-lab's own logits on a fixed input, so `python model.py DIR` proves the load |
//! | `README.md` | the three lines that load it, and how to continue and come back |
//!
//! Import reads the same directory (or a state_dict file with `model.json` and `vocab.json`
//! beside it) back into a checkpoint.

pub mod export_dir;
pub mod import_dir;
pub mod layout;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::Mode;
use crate::nn::{CellKind, GruVariant, HeadKind, Init, InputKind, ModelSpec, RecurrentInit};
use crate::train::checkpoint::CheckpointError;

/// `format` written into `model.json`.
pub const FORMAT: &str = "rnn-lab-pytorch";
/// Version of the export directory layout.
pub const VERSION: u32 = 1;

/// Why an export or import failed. Display is one line naming the file (and the tensor).
#[derive(Debug, Error)]
pub enum InteropError {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// An input file or folder does not exist.
    #[error("{path}: {why}")]
    NotFound {
        /// The file.
        path: PathBuf,
        /// What was expected there.
        why: String,
    },
    /// Writing failed (disk full, permissions): not the input's fault.
    #[error("{path}: {why}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        why: String,
    },
    /// A file's content is wrong (JSON syntax, sizes, a model rnn-lab cannot open).
    #[error("{path}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where inside it.
        why: String,
    },
    /// A state_dict tensor is missing, misshapen, unexpected or unreadable.
    #[error("{path}: {source}")]
    Tensor {
        /// The state_dict file.
        path: PathBuf,
        /// Which tensor and why.
        source: layout::LayoutError,
    },
    /// An experiment file is invalid (the message names it, with line and column).
    #[error("{0}")]
    Config(String),
    /// The target exists and replacing it would lose work.
    #[error("{path}: already exists; {hint}")]
    Exists {
        /// The file or folder.
        path: PathBuf,
        /// How to proceed.
        hint: String,
    },
}

impl InteropError {
    /// Exit status: 1 when writing failed, 2 for anything wrong with the input.
    pub fn exit_code(&self) -> u8 {
        match self {
            InteropError::Io { .. } => 1,
            _ => 2,
        }
    }
    pub(crate) fn not_found(path: impl Into<PathBuf>, why: impl Into<String>) -> Self {
        InteropError::NotFound {
            path: path.into(),
            why: why.into(),
        }
    }
    pub(crate) fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        InteropError::Io {
            path: path.into(),
            why: e.to_string(),
        }
    }
    pub(crate) fn invalid(path: impl Into<PathBuf>, why: impl Into<String>) -> Self {
        InteropError::Invalid {
            path: path.into(),
            why: why.into(),
        }
    }
}

fn per_step() -> HeadKind {
    HeadKind::PerStep
}

/// `model.json`: the architecture of an exported model, read by `model.py` and by import.
/// Written by export; a hand-written one needs only the fields without a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelJson {
    /// `"rnn-lab-pytorch"`.
    #[serde(default)]
    pub format: String,
    /// Layout version (1).
    #[serde(default)]
    pub version: u32,
    /// `"rnn"`, `"gru"` or `"lstm"`.
    pub cell: CellKind,
    /// `"course"` (CourseGRU) or `"pytorch"` (nn.GRU). Default: course.
    #[serde(default)]
    pub gru_variant: GruVariant,
    /// |V|: input tokens.
    pub vocab_size: usize,
    /// E; 0 = one-hot input. Default: 0.
    #[serde(default)]
    pub embedding: usize,
    /// H.
    pub hidden: usize,
    /// L.
    pub layers: usize,
    /// Two directions per layer. Default: false.
    #[serde(default)]
    pub bidirectional: bool,
    /// `"per_step"` (language model, tagging), `"seq_classify"`, `"seq_regress"`. Default: per_step.
    #[serde(default = "per_step")]
    pub head: HeadKind,
    /// |Y|: head outputs.
    pub outputs: usize,
    /// How `rnn-lab eval` cuts text: `"stream"` or `"lines"`. Default: stream.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Training steps done when exported.
    #[serde(default)]
    pub step: u64,
    /// rnn-lab's initialisation (kept so a re-import resumes with the same experiment).
    #[serde(default)]
    pub init: Option<Init>,
    /// rnn-lab's initial LSTM forget bias (likewise).
    #[serde(default)]
    pub forget_bias: Option<f64>,
    /// rnn-lab's recurrent initialisation (likewise).
    #[serde(default)]
    pub init_recurrent: Option<RecurrentInit>,
    /// The head shares the embedding's tensor (`head.weight` is `embed.weight`). Default: false.
    #[serde(default)]
    pub tie_weights: bool,
    /// For people: the PyTorch module of the recurrent stack.
    #[serde(default)]
    pub torch_module: String,
    /// For people: the gate blocks in PyTorch row order, in the notes' names.
    #[serde(default)]
    pub gate_order: Vec<String>,
}

impl ModelJson {
    /// Describe `spec` (trained for `step` steps, evaluated in `mode`).
    pub fn of(spec: &ModelSpec, mode: Mode, step: u64) -> Self {
        ModelJson {
            format: FORMAT.into(),
            version: VERSION,
            cell: spec.cell,
            gru_variant: spec.gru_variant,
            vocab_size: spec.vocab,
            embedding: match spec.input {
                InputKind::OneHot => 0,
                InputKind::Embedding(e) => e,
            },
            hidden: spec.hidden,
            layers: spec.layers,
            bidirectional: spec.bidirectional,
            head: spec.head,
            outputs: spec.outputs,
            mode: Some(mode),
            step,
            init: Some(spec.init),
            forget_bias: Some(spec.forget_bias),
            init_recurrent: Some(spec.init_recurrent),
            tie_weights: spec.tie_weights,
            torch_module: layout::torch_module(spec.cell, spec.gru_variant).into(),
            gate_order: layout::torch_gates(spec.cell, spec.gru_variant)
                .iter()
                .map(|g| (*g).to_string())
                .collect(),
        }
    }

    /// The model spec it describes (rnn-lab's defaults for `init` and `forget_bias` when absent).
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            cell: self.cell,
            gru_variant: self.gru_variant,
            vocab: self.vocab_size,
            input: if self.embedding == 0 {
                InputKind::OneHot
            } else {
                InputKind::Embedding(self.embedding)
            },
            hidden: self.hidden,
            layers: self.layers,
            bidirectional: self.bidirectional,
            head: self.head,
            outputs: self.outputs,
            init: self.init.unwrap_or(Init::Uniform(0.08)),
            forget_bias: self.forget_bias.unwrap_or(1.0),
            init_recurrent: self.init_recurrent.unwrap_or_default(),
            tie_weights: self.tie_weights,
        }
    }
}
