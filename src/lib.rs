//! rnn-lab: a terminal workbench for training and looking inside RNN, GRU and LSTM models.
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod history;
pub mod nn;
pub mod optim_spec;
pub mod probe;
pub mod train;
pub mod tui;
