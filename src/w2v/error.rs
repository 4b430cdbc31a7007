//! Why a word2vec operation failed. Every message is one line naming the file and, where there is
//! one, the line (or the entry of a binary file).

use thiserror::Error;

/// A word2vec error.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum W2vError {
    /// A file could not be read.
    #[error("{file}: {why}")]
    Read {
        /// The file.
        file: String,
        /// The system's reason.
        why: String,
    },
    /// A file could not be written (not the user's input: exit 1).
    #[error("{file}: cannot write: {why}")]
    Write {
        /// The file.
        file: String,
        /// The system's reason.
        why: String,
    },
    /// A line of a text file is malformed.
    #[error("{file}:{line}: {what}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and what was expected.
        what: String,
    },
    /// A problem at a line and column of a file (experiment files).
    #[error("{file}:{line}:{col}: {what}")]
    At {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What is wrong and what was expected.
        what: String,
    },
    /// A file as a whole is malformed (a truncated binary file, a header that disagrees with the
    /// rows, a model file that is not one).
    #[error("{file}: {what}")]
    File {
        /// The file.
        file: String,
        /// What is wrong, with the place (entry, byte offset) where there is one.
        what: String,
    },
    /// A word asked for is not in the vectors' vocabulary.
    #[error("{file}: `{word}` is not in the vocabulary ({size} words){hint}")]
    NotInVocab {
        /// The vectors file.
        file: String,
        /// The word.
        word: String,
        /// Vocabulary size.
        size: usize,
        /// ", did you mean `…`?" or empty.
        hint: String,
    },
    /// Settings that cannot train (e.g. `window = 0`).
    #[error("{0}")]
    Settings(String),
}

impl W2vError {
    /// Whether the user's input caused it (exit status 2) rather than the system (1).
    pub fn is_input(&self) -> bool {
        !matches!(self, W2vError::Write { .. })
    }

    /// A [`W2vError::Line`].
    pub fn line(file: &str, line: usize, what: impl Into<String>) -> Self {
        W2vError::Line {
            file: file.to_string(),
            line,
            what: what.into(),
        }
    }

    /// A [`W2vError::File`].
    pub fn file(file: &str, what: impl Into<String>) -> Self {
        W2vError::File {
            file: file.to_string(),
            what: what.into(),
        }
    }

    /// A [`W2vError::Read`] from an I/O error.
    pub fn read(file: &std::path::Path, e: &std::io::Error) -> Self {
        W2vError::Read {
            file: file.display().to_string(),
            why: e.to_string(),
        }
    }

    /// A [`W2vError::Write`] from an I/O error.
    pub fn write(file: &std::path::Path, e: &std::io::Error) -> Self {
        W2vError::Write {
            file: file.display().to_string(),
            why: e.to_string(),
        }
    }
}
