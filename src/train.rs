//! Training: the step, the background worker and its protocol, checkpoints, run directories.

pub mod checkpoint;
pub mod protocol;
pub mod rundir;
pub mod trainer;

pub use trainer::{spawn, RunError, RunOptions, Trainer};
