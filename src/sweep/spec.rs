//! The sweep file: parse, then check into a [`SweepSpec`]; every error names the file, line and
//! column.
//!
//! ```toml
//! [sweep]
//! base = "../default.toml"        # the experiment every point starts from (relative to this file)
//! trials = 8                      # random draws (needed when an axis is a distribution)
//! seed = 1                        # seed of the draws
//!
//! [set]                           # the same for every point
//! "training.steps" = 300
//!
//! [axes]                          # lists are a grid; distributions are drawn `trials` times
//! "model.hidden" = [64, 128]
//! "training.lr" = { log_uniform = [1e-4, 1e-2] }
//! ```

mod parse;

use std::path::{Path, PathBuf};

use super::SweepError;

/// Sections of a sweep file, with what each holds.
pub const SECTIONS: &[&str] = &["sweep", "set", "axes", "slurm", "local"];
pub(crate) const SWEEP_KEYS: &[&str] = &["name", "base", "trials", "seed"];
pub(crate) const SLURM_KEYS: &[&str] = &[
    "cpus",
    "mem",
    "time",
    "partition",
    "max_running",
    "sbatch",
    "setup",
    "rnn_lab",
];
pub(crate) const LOCAL_KEYS: &[&str] = &["parallel"];
/// Distribution names an axis can use.
pub const DISTRIBUTIONS: &[&str] = &["uniform", "log_uniform", "int_uniform", "choice"];
/// Largest number of points a sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// The values an axis takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A list: every value, crossed with the other lists (a grid).
    Grid(Vec<toml::Value>),
    /// A number drawn uniformly from [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A number whose logarithm is drawn uniformly: exp(U(ln low, ln high)); low > 0.
    LogUniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A whole number drawn uniformly from low..=high.
    IntUniform {
        /// Lower bound (included).
        low: i64,
        /// Upper bound (included).
        high: i64,
    },
    /// One of the values, drawn uniformly.
    Choice(Vec<toml::Value>),
}

impl Domain {
    /// Whether the axis is drawn at random (rather than listed).
    pub fn is_random(&self) -> bool {
        !matches!(self, Domain::Grid(_))
    }
}

/// One swept key.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted experiment key, e.g. `model.hidden`.
    pub key: String,
    /// Its values.
    pub domain: Domain,
    /// Byte offset of the key in the sweep file.
    pub at: usize,
}

/// One key set the same for every point (`[set]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// Dotted experiment key.
    pub key: String,
    /// The value.
    pub value: toml::Value,
    /// Byte offset of the key in the sweep file.
    pub at: usize,
}

/// `[slurm]`: what each array task asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlurmSpec {
    /// `--cpus-per-task`, also the point's training threads. Default: 1.
    pub cpus: usize,
    /// `--mem`, e.g. "2G". Default: the cluster's.
    pub mem: Option<String>,
    /// `--time`, e.g. "00:30:00". Default: the partition's limit.
    pub time: Option<String>,
    /// `--partition`. Default: the cluster's default partition.
    pub partition: Option<String>,
    /// At most this many tasks at once (`--array=…%M`). Default: no limit.
    pub max_running: Option<usize>,
    /// More sbatch options, one each, e.g. "--account=proj".
    pub sbatch: Vec<String>,
    /// Shell lines run before the point, e.g. "module load rust".
    pub setup: Vec<String>,
    /// The rnn-lab binary the tasks run. Default: the one submitting.
    pub rnn_lab: Option<PathBuf>,
}

/// A checked sweep file.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The sweep file as given.
    pub path: PathBuf,
    /// Its text (for locating errors found later).
    pub text: String,
    /// `[sweep] name`: names the folder `sweeps/<name>/`. Default: the file stem.
    pub name: String,
    /// `[sweep] base`, resolved against the sweep file's folder.
    pub base: PathBuf,
    /// Byte offset of `base` (errors of the base as a whole are reported there).
    pub base_at: usize,
    /// `[sweep] trials`: random draws.
    pub trials: Option<usize>,
    /// `[sweep] seed` of the draws. Default: 1.
    pub seed: u64,
    /// `[set]`, in file order.
    pub set: Vec<Setting>,
    /// `[axes]`, in file order.
    pub axes: Vec<Axis>,
    /// `[slurm]`.
    pub slurm: SlurmSpec,
    /// `[local] parallel`: points at once with the local executor.
    pub parallel: Option<usize>,
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

impl SweepSpec {
    /// An error at byte `offset` of the sweep file.
    pub fn at(&self, offset: usize, message: impl Into<String>) -> SweepError {
        located(&self.path, &self.text, offset, message)
    }

    /// Number of points: the grid's size times the draws.
    pub fn point_count(&self) -> usize {
        grid_size(&self.axes).saturating_mul(self.trials.unwrap_or(1))
    }
}

pub(crate) fn located(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> SweepError {
    let (line, col) = line_col(text, offset);
    SweepError::At {
        path: path.display().to_string(),
        line,
        col,
        message: message.into().replace('\n', " "),
    }
}

fn grid_size(axes: &[Axis]) -> usize {
    axes.iter()
        .map(|a| match &a.domain {
            Domain::Grid(v) => v.len(),
            _ => 1,
        })
        .fold(1usize, usize::saturating_mul)
}

/// Read and check a sweep file.
///
/// # Errors
/// [`SweepError::Read`] when it cannot be read; [`SweepError::At`] for anything wrong in it,
/// including an axis naming a key the experiment format does not have (with the closest key)
/// and a base experiment that does not exist.
pub fn load(path: &Path) -> Result<SweepSpec, SweepError> {
    let bytes = std::fs::read(path).map_err(|e| SweepError::Read {
        path: path.display().to_string(),
        why: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        located(path, valid, offset, "not UTF-8: save the sweep file as UTF-8")
    })?;
    parse_str(&text, path)
}

/// Check sweep text as if read from `path` (the base is resolved against its folder).
///
/// # Errors
/// As [`load`].
pub fn parse_str(text: &str, path: &Path) -> Result<SweepSpec, SweepError> {
    parse::Parser { text, path }.parse()
}
