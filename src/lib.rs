//! rnn-lab: a terminal workbench for training and looking inside RNN, GRU and LSTM models.
#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod fmt_num;
pub mod headless;
pub mod infer;
pub mod interop;
pub mod nn;
pub mod optim;
pub mod sweep;
pub mod task;
pub mod train;
pub mod tui;
pub mod w2v;
