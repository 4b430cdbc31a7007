//! The `rnn-lab` binary from integration tests: the command, a run in a folder, and what it
//! printed, as text.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `rnn-lab` binary cargo built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rnn-lab"))
}

/// `rnn-lab ARGS` run to the end in `dir`.
pub fn run(args: &[&str], dir: &Path) -> Output {
    bin().args(args).current_dir(dir).output().expect("run rnn-lab")
}

/// What a run wrote to stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// What a run wrote to stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
