//! Hyper-parameter sweeps: a sweep file names a base experiment and axes over its keys (lists
//! for a grid, distributions for random search); every point becomes an ordinary experiment
//! file and run directories under `sweeps/<name>/`, run by `rnn-lab train` either here
//! ([`local`], several at once) or as one Slurm job array ([`slurm`]).
//!
//! The pieces, in the order a sweep goes through them:
//! - [`spec`]: read and check the sweep file (errors at its line and column);
//! - [`points`]: expand the axes into points and write each as an experiment file, checked by
//!   the experiment checker before anything runs;
//! - [`plan`]: all of the above before anything runs, then the folder written;
//! - [`layout`]: where everything lives in the sweep folder, the manifest and the per-point
//!   status files that make a sweep resumable;
//! - [`point`]: run one point (`rnn-lab train`, resumed from its latest checkpoint);
//! - [`local`] and [`slurm`]: the executors; [`external`]: other programs with time-outs;
//! - [`results`]: the table sorted by the best validation loss (markdown, CSV, JSON);
//! - [`overview`]: sweep folders as the TUI shows them; starting and stopping one from there.

pub mod external;
pub mod layout;
pub mod local;
pub mod overview;
pub mod plan;
pub mod point;
pub mod points;
pub mod results;
pub mod slurm;
pub mod spec;

use thiserror::Error;

use crate::config::ConfigError;

pub use layout::{Manifest, PointState, PointStatus, SweepDir};
pub use plan::Plan;
pub use points::Point;
pub use results::Row;
pub use spec::{Axis, Domain, SweepSpec};

/// Why a sweep cannot start or go on. `Display` is one line.
#[derive(Debug, Error)]
pub enum SweepError {
    /// The sweep file could not be read.
    #[error("{path}: cannot read sweep file: {why}")]
    Read {
        /// The sweep file as given.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// A problem at a place in the sweep file.
    #[error("{path}:{line}:{col}: {message}")]
    At {
        /// The sweep file as given.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The base experiment is not valid (its own file and place).
    #[error(transparent)]
    Experiment(#[from] ConfigError),
    /// Other bad input: a sweep folder holding a different sweep, an executor that is not
    /// installed, a point whose experiment or data the trainer refused.
    #[error("{0}")]
    Input(String),
    /// The system's trouble: files that cannot be written, a scheduler that does not answer.
    #[error("{0}")]
    System(String),
    /// Stopped by Ctrl-C or SIGTERM; finished points are kept, the others resume next time.
    #[error("{0}")]
    Interrupted(String),
}

impl SweepError {
    /// Whether this is the user's input (exit status 2) rather than anything else (1).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            SweepError::Read { .. } | SweepError::At { .. } | SweepError::Experiment(_) | SweepError::Input(_)
        )
    }

    /// A file-system error at `path`.
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        SweepError::System(format!("{}: {e}", path.display()))
    }
}
