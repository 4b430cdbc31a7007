//! Typed errors of the numerical core. Configuration, data and I/O errors live beside their
//! modules; the handlers in `src/commands/` map each to a `CliError`, which holds the exit status.

use thiserror::Error;

/// Errors raised by model construction, batches and numerical checks.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NnError {
    /// A model hyper-parameter is out of range.
    #[error("invalid model setting `{field}` = {value}: {why}")]
    InvalidSpec {
        /// Field name as written in the `[model]` section.
        field: &'static str,
        /// The offending value.
        value: String,
        /// Why it is rejected.
        why: &'static str,
    },
    /// An optimizer or training hyper-parameter is out of range.
    #[error("invalid training setting `{field}` = {value}: {why}")]
    InvalidHyper {
        /// Field name as written in the `[training]` section.
        field: &'static str,
        /// The offending value.
        value: String,
        /// Why it is rejected.
        why: &'static str,
    },
    /// Two sizes that must agree do not.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        /// What was being checked.
        what: String,
        /// Expected size or shape.
        expected: String,
        /// Actual size or shape.
        got: String,
    },
    /// A token index outside the vocabulary or class range.
    #[error("{what} index {index} out of range (size {size})")]
    Index {
        /// Input token, target or class.
        what: &'static str,
        /// The index found.
        index: u32,
        /// The valid size.
        size: usize,
    },
    /// A non-finite value in input data (regression targets).
    #[error("non-finite value {value} in {what} at position {pos}")]
    NonFiniteData {
        /// Which data.
        what: &'static str,
        /// Flat position in the batch.
        pos: usize,
        /// The value.
        value: f64,
    },
    /// The loss, a gradient, a parameter or the optimizer state became NaN or infinite (or a
    /// shard's worker thread panicked): training cannot go on from this state.
    #[error("numerical blow-up: {what} is {value} (non-finite)")]
    Diverged {
        /// Where: `loss`, `gradient of W`, `parameter W` or `optimizer state of W` (W a tensor's
        /// name, e.g. `layers.0.fwd.w`), or `a worker thread`.
        what: String,
        /// The offending value, as text.
        value: String,
    },
}
