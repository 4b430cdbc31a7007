//! Corpus reading, vocabulary, train/validation split and batching.
//!
//! - [`files`]: resolve `[data] files` (paths and globs) and read them as UTF-8;
//! - `pieces`: read corpus files piece by piece (bounded memory), checking UTF-8 and NUL bytes;
//! - [`tokens`]: token ids stored 1, 2 or 4 bytes wide, as the vocabulary needs;
//! - [`vocab`]: tokenisation (characters or words) and the token ↔ id table;
//! - [`dataset`]: the corpus as one token array, split into train and validation;
//! - [`batcher`]: mini-batches as pure functions of (seed, step), validation batches;
//! - [`eval`]: the sequences `rnn-lab eval` scores;
//! - [`token`]: token text made visible (one glyph per newline, tab, control character).

pub mod batcher;
pub mod dataset;
pub mod eval;
pub mod files;
mod pieces;
pub mod token;
pub mod tokens;
pub mod vocab;

use thiserror::Error;

pub use batcher::TrainBatcher;
pub use dataset::{load_dataset, Dataset};
pub use eval::{eval_batches, eval_sequences};

pub use vocab::Vocab;

/// A data problem. `Display` is one line naming the file.
#[derive(Debug, Error)]
pub enum DataError {
    /// A `[data] files` entry matches no file.
    #[error("{experiment}: data file `{pattern}` not found (resolved to {resolved}); {hint}")]
    NotFound {
        /// The experiment file.
        experiment: String,
        /// The entry as written.
        pattern: String,
        /// The absolute path or pattern looked at.
        resolved: String,
        /// How to get the data or what to point at instead.
        hint: String,
    },
    /// A data file is empty (or holds only whitespace).
    #[error("{file}: data file is empty; {hint}")]
    Empty {
        /// The file.
        file: String,
        /// What the file should contain.
        hint: String,
    },
    /// A data file is not UTF-8.
    #[error("{file}: not UTF-8 text: invalid byte 0x{byte:02x} at byte offset {offset}; convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8)")]
    NotUtf8 {
        /// The file.
        file: String,
        /// Offset of the first bad byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A data file holds a NUL byte: binary data, not text.
    #[error("{file}: binary data: a NUL byte at byte offset {offset}; rnn-lab reads UTF-8 text files")]
    Binary {
        /// The file.
        file: String,
        /// Offset of the first NUL byte.
        offset: u64,
    },
    /// A data file could not be read.
    #[error("{file}: cannot read data file: {why}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        why: String,
    },
    /// The data is too small for the split or batch shape asked for.
    #[error("{experiment}: {why}")]
    TooSmall {
        /// The experiment file (or name).
        experiment: String,
        /// What is too small and what to change.
        why: String,
    },
    /// A vocabulary in a checkpoint could not be read.
    #[error("bad vocabulary JSON: {0}")]
    VocabJson(String),
}
