//! Training: the step, the background worker and its protocol, checkpoints.

pub mod protocol;
