//! The terminal UI.

pub mod probe_view;
