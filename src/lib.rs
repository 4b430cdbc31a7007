//! rnn-lab: a terminal workbench for training and looking inside RNN, GRU and LSTM models.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod error;
pub mod gradcheck;
pub mod headless;
pub mod history;
pub mod nn;
pub mod optim;
pub mod optim_spec;
pub mod probe;
pub mod probe_print;
pub mod sample;
pub mod train;
pub mod tui;
