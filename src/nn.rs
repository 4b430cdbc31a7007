//! The numerical core: cells, stacks, heads, parameters, BPTT.

pub mod batch;
pub mod cell;
pub mod error;
pub mod export;
pub mod gemm;
pub mod gradcheck;
pub mod model;
pub mod params;
pub mod scalar;
pub mod shard;
pub mod spec;
pub mod workspace;

pub use batch::{Batch, Targets, NO_INPUT};
pub use error::NnError;
pub use model::{LossStats, Model, Score};
pub use params::Params;
pub use scalar::Scalar;
pub use shard::Sharded;
pub use spec::{CellKind, GruVariant, HeadKind, Init, InputKind, ModelSpec};
pub use workspace::Workspace;
