//! The numerical core: cells, stacks, heads, parameters, BPTT.
//!
//! The cells, one file each in the notes' notation: [`rnn`], [`gru`] (course form),
//! [`gru_torch`] (PyTorch form) and [`lstm`], with what they share in [`cell`] and [`rows`].
//! The model around them ([`model`]: layers, directions, head, loss, BPTT), its buffers
//! ([`workspace`]), the per-step product kernel ([`gemm`]), and the data-parallel shards
//! ([`shard`]) on long-lived threads ([`pool`]); training-time [`dropout`] masks.

pub mod batch;
pub mod cell;
pub mod dropout;
pub mod error;
pub mod export;
pub mod gemm;
pub mod gradcheck;
pub mod gru;
pub mod gru_torch;
pub mod lstm;
pub mod model;
pub mod params;
pub mod pool;
pub mod rnn;
pub mod rows;
pub mod scalar;
pub mod shard;
pub mod spec;
pub mod workspace;

pub use batch::{Batch, Targets, NO_INPUT};
pub use dropout::{Dropout, DropoutKind, DropoutPass};
pub use error::NnError;
pub use model::{LossNorm, LossStats, Model, Score};
pub use params::Params;
pub use scalar::Scalar;
pub use shard::Sharded;
pub use spec::{CellKind, GruVariant, HeadKind, Init, InputKind, ModelSpec, RecurrentInit};
pub use workspace::Workspace;
