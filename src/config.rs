//! Experiment files: parse TOML, check into an [`Experiment`], report errors with file:line:col.

pub mod experiment;

pub use experiment::Experiment;
