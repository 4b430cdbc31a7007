//! What reads a trained model without training it: probes (per-step gates, states and gradient
//! norms) and the numbers derived from them, and sampling. Used by the trainer thread, the CLI
//! and the TUI alike; nothing here knows about terminals.

pub mod analysis;
pub mod probe;
pub mod sample;
