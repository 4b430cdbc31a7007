//! Subcommand handlers. Each returns `Result<(), CliError>`; `main` turns the error into a
//! one-line message and the exit status (2 for bad input, 3 for training that diverged, 1 for
//! anything else).

pub mod baseline;
pub mod bench;
pub mod check;
pub mod eval;
pub mod eval_task;
pub mod export;
pub mod gradcheck;
pub mod import;
pub mod loaded;
pub mod predict;
pub mod probe;
pub mod sample;
pub mod suite;
pub mod sweep;
pub mod train;
pub mod tui;
pub mod w2v;

use std::fmt;

/// A failed command: the message (one line) and whether it was the user's input.
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    /// Exit status: 2 bad input or usage, 3 training diverged, 1 anything else.
    pub code: u8,
    /// One-line message naming the file and place where there is one.
    pub message: String,
}

impl CliError {
    /// Bad input (exit 2).
    pub fn input(message: impl fmt::Display) -> Self {
        CliError {
            code: 2,
            message: one_line(&message.to_string()),
        }
    }
    /// Training diverged (exit 3): the loss or the parameters became NaN or infinite.
    pub fn diverged(message: impl fmt::Display) -> Self {
        CliError {
            code: 3,
            message: one_line(&message.to_string()),
        }
    }
    /// Anything else (exit 1).
    pub fn other(message: impl fmt::Display) -> Self {
        CliError {
            code: 1,
            message: one_line(&message.to_string()),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}
