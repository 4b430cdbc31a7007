//! Experiment files: parse TOML, check into an [`Experiment`], report errors with file:line:col.
//!
//! Reading goes in three passes, each with its own kind of error:
//! 1. [`toml::de::DeTable::parse`] — syntax errors, with the span toml reports;
//! 2. a walk over the parsed tables against [`fields::FIELDS`] — unknown sections and keys, with
//!    the closest valid key suggested;
//! 3. serde into the `raw` structs (every field optional) — wrong types, bad enum values; then
//!    `check` turns the raw structs into an [`Experiment`], filling defaults and rejecting values
//!    out of range at the key's line and column.

mod check;
pub mod emit;
pub mod experiment;
pub mod fields;
mod locate;
pub mod overrides;
mod raw;

use std::path::Path;

use thiserror::Error;

pub use experiment::{is_due, TrainingSection};
pub use experiment::{DataSection, Experiment, Level, Mode, ModelSection, SamplingSection, TaskSection, TaskSource};
pub use fields::json_schema;

/// An experiment file that cannot be used. `Display` is one line: `path:line:col: message`.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable).
    #[error("{path}: cannot read experiment file: {why}")]
    Read {
        /// The experiment file as given.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// A problem at a place in the file.
    #[error("{path}:{line}:{col}: {message}")]
    At {
        /// The experiment file as given.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What is wrong and, where possible, how to fix it.
        message: String,
    },
}

/// Read and check an experiment file.
///
/// # Errors
/// [`ConfigError::Read`] if the file cannot be read or is not UTF-8; [`ConfigError::At`] for
/// anything wrong inside it, at its line and column.
pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        why: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        },
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
            let (line, col) = locate::line_col(valid, offset);
            return Err(ConfigError::At {
                path: path.display().to_string(),
                line,
                col,
                message: format!(
                    "not UTF-8: invalid byte 0x{:02x} at byte offset {offset}; save the file as UTF-8",
                    e.as_bytes()[offset]
                ),
            });
        }
    };
    parse_str(&text, path)
}

/// Check experiment text as if it had been read from `path` (used for the file's name in errors,
/// the default experiment name, and to resolve data paths relative to its folder).
///
/// # Errors
/// [`ConfigError::At`]: invalid TOML, unknown sections or keys, wrong types, values out of range.
pub fn parse_str(text: &str, path: &Path) -> Result<Experiment, ConfigError> {
    check::parse(text, path)
}

/// `path:line:col` of `key` in `[section]` of the experiment file `path` (read again from disk),
/// for errors found after parsing, when the run starts (e.g. an `embedding_init` file that
/// cannot be read); just `path` when the file or the key cannot be found.
pub fn key_location(path: &Path, section: &str, key: &str) -> String {
    let shown = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(path) else {
        return shown;
    };
    let Ok(doc) = toml::de::DeTable::parse(&text) else {
        return shown;
    };
    let mut spans = locate::Spans::default();
    if locate::walk(doc.get_ref(), &mut spans).is_err() {
        return shown;
    }
    match spans.keys.get(&(section.to_string(), key.to_string())) {
        Some((k, _)) => {
            let (line, col) = locate::line_col(&text, k.start);
            format!("{shown}:{line}:{col}")
        }
        None => shown,
    }
}
