//! Training: one run's state ([`Trainer`], `trainer.rs`, built by `prepare.rs`), its step (`step.rs`: forward →
//! zero_grad → backward → clip → update), what happens when the step blows up
//! (`divergence.rs`), the thread that drives it ([`worker`]: [`start`], the command/event loop)
//! and the messages it speaks ([`protocol`]), checkpoints and run directories.

pub mod checkpoint;
pub mod data;
pub mod divergence;
pub mod embedding_init;
mod fault;
pub mod inspect;
pub mod prepare;
pub mod protocol;
pub mod rundir;
mod step;
pub mod task_ops;
pub mod trainer;
pub mod worker;

pub use divergence::{Blowup, OnDivergence};
pub use prepare::{RunError, RunOptions};
pub use trainer::Trainer;
pub use worker::{start, RunEnd, Worker};
