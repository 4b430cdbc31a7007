//! Tasks beyond language models: sequence tagging, sequence classification and regression, and
//! the synthetic long-memory problems of the LSTM literature.
//!
//! - [`readers`]: CoNLL-style column files (tagging), `label<TAB>text` lines and one file per
//!   class (classification), each error located at `file:line`;
//! - [`seqset`]: labelled sequences stored back to back, the train / validation / test split,
//!   and time-major masked batches built without a per-sequence allocation;
//! - [`encode`]: token and label vocabularies for those files (the language models' [`Vocab`]
//!   code, at char or word level);
//! - [`generators`]: the seeded synthetic tasks (adding problem, embedded Reber grammar,
//!   temporal order, copy, future-dependent tags), each with its "solved" test;
//! - [`metrics`]: token accuracy, conlleval chunk precision / recall / F1, classification
//!   accuracy, macro-F1 and confusion matrix, regression MSE.
//!
//! docs/tasks.md describes every task, parameter and criterion, with citations.
//!
//! [`Vocab`]: crate::data::Vocab

pub mod baseline;
pub mod batcher;
pub mod data;
pub mod encode;
pub mod evaluate;
pub mod generators;
pub mod input;
pub mod load;
pub mod metrics;
pub mod predict;
pub mod readers;
pub mod seqset;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::DataError;

pub use generators::Synthetic;

/// What an experiment trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Next-token prediction over a text (every existing experiment). Default.
    #[default]
    LanguageModel,
    /// One class per token (per-step softmax).
    Tagging,
    /// One class per sequence (many-to-one softmax).
    Classification,
    /// One real value per sequence (many-to-one, squared error).
    Regression,
}

impl TaskKind {
    /// The name as written in experiment files.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::LanguageModel => "language_model",
            TaskKind::Tagging => "tagging",
            TaskKind::Classification => "classification",
            TaskKind::Regression => "regression",
        }
    }
}
pub use seqset::{Labels, SeqSet};

/// A task data problem. `Display` is one line naming the file and, where there is one, the line.
#[derive(Debug, Error)]
pub enum TaskError {
    /// The file could not be read, is not UTF-8, or matched nothing.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A column file line without the tag (or token) column.
    #[error("{file}:{line}: {found} column(s), but the {what} column is column {column}; every token line needs {need} columns (a blank line separates sentences)")]
    MissingColumn {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// Columns on that line.
        found: usize,
        /// "tag" or "token".
        what: &'static str,
        /// 1-based column asked for.
        column: usize,
        /// Columns needed.
        need: usize,
    },
    /// A column file line with a different number of columns from the file's first line.
    #[error("{file}:{line}: ragged line: {found} column(s), but the file's first token line (line {first_line}) has {expected}")]
    Ragged {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// Columns on that line.
        found: usize,
        /// Columns of the first token line.
        expected: usize,
        /// The first token line.
        first_line: usize,
    },
    /// A classification line without a tab.
    #[error("{file}:{line}: expected `label<TAB>text`, found no tab")]
    NoTab {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// A classification line with an empty label.
    #[error("{file}:{line}: empty label before the tab")]
    EmptyLabel {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// A classification line whose text is empty.
    #[error("{file}:{line}: label `{label}` has no text after the tab")]
    NoText {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The label.
        label: String,
    },
    /// One-file-per-class data with a file that holds no example.
    #[error("{file}: empty class file: class `{label}` would have no examples (one example per non-blank line)")]
    EmptyClassFile {
        /// The file.
        file: String,
        /// The class (the file's stem).
        label: String,
    },
    /// A file that holds no sentence or example at all.
    #[error("{file}: no {what} in the file")]
    Empty {
        /// The file.
        file: String,
        /// "sentences" or "examples".
        what: &'static str,
    },
    /// Not enough data for the split asked for.
    #[error("{source_name}: {why}")]
    TooSmall {
        /// Experiment file or data file.
        source_name: String,
        /// What is too small and what to change.
        why: String,
    },
    /// A regression label that is not a finite number.
    #[error("{file}:{line}: regression target `{label}` is not a number")]
    NotANumber {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The label as written.
        label: String,
    },
    /// A tag or class the model was not trained with.
    #[error("{file}:{line}: `{label}` is not one of the model's {known} labels")]
    UnknownLabel {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The label as written.
        label: String,
        /// How many labels the model knows.
        known: usize,
    },
    /// A line a generated task's model cannot read.
    #[error("{file}:{line}: {why}")]
    BadInput {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A generator parameter out of range.
    #[error("{task}: `{name}` = {value}: {why}")]
    BadParam {
        /// The generator.
        task: &'static str,
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        why: String,
    },
}
