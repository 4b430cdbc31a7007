//! The real TUI over a fake trainer, for trying the interface and for the end-to-end test.
//!
//!     cargo run --release --example tui_demo [-- EXP.toml]
//!
//! Runs in the current directory (`experiments/`, `runs/`); when there is no `experiments/`
//! folder, it writes three example experiments (one deliberately invalid). Environment:
//! `RNN_LAB_DEMO_STEP_MS` = milliseconds per fake training step (default 5; try 2000 to see
//! that the UI never waits for a slow step).

#[path = "../tests/support/fake_backend.rs"]
mod fake_backend;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let step_ms = std::env::var("RNN_LAB_DEMO_STEP_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    if !Path::new("experiments").is_dir() {
        if let Err(e) = fake_backend::write_demo_experiments(Path::new(".")) {
            eprintln!("rnn-lab demo: cannot write experiments/: {e}");
            return ExitCode::from(1);
        }
    }
    let backend = fake_backend::FakeBackend::new(Duration::from_millis(step_ms), "runs");
    let initial = std::env::args_os().nth(1).map(PathBuf::from);
    match rnn_lab::tui::run(initial, Box::new(backend)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnn-lab: {e}");
            ExitCode::from(match e {
                rnn_lab::tui::TuiError::NotATerminal => 2,
                _ => 1,
            })
        }
    }
}
