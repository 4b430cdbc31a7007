//! The numerical core: cells, stacks, heads, parameters, BPTT.

pub mod batch;
pub mod spec;
