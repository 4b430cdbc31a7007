//! `rnn-lab [EXPERIMENT | RUN]`: the TUI, wired to the real config loader and trainer thread
//! (a run directory or checkpoint opens for inspection).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};

use super::CliError;
use crate::config::Experiment;
use crate::train::protocol::{Command, Event};
use crate::train::{start, RunOptions};
use crate::tui::{self, Backend, TuiError};

/// The real backend: experiment files through `config::load`, runs on a trainer thread
/// writing `runs/<name>-<timestamp>/`.
pub struct RealBackend;

impl Backend for RealBackend {
    fn load_experiment(&self, path: &Path) -> Result<Experiment, String> {
        crate::config::load(path).map_err(|e| e.to_string())
    }

    fn start(&self, exp: &Experiment, resume: Option<&Path>) -> Result<(Sender<Command>, Receiver<Event>), String> {
        let opts = RunOptions {
            resume: resume.map(Path::to_path_buf),
            ..RunOptions::default()
        };
        let w = start(exp.clone(), opts).map_err(|e| format!("cannot start the trainer thread: {e}"))?;
        Ok((w.commands, w.events))
    }

    fn inspect(&self, checkpoint: &Path) -> Result<(Sender<Command>, Receiver<Event>), String> {
        crate::train::inspect::spawn(checkpoint.to_path_buf()).map_err(|e| format!("cannot start a thread: {e}"))
    }

    fn rnn_lab(&self) -> Option<PathBuf> {
        std::env::current_exe().ok()
    }
}

/// Open the TUI.
pub fn run(experiment: Option<PathBuf>) -> Result<(), CliError> {
    if let Some(p) = experiment
        .as_ref()
        .filter(|p| crate::w2v::experiment::is_word2vec_file(p))
    {
        let exp = crate::w2v::experiment::load(p).map_err(super::w2v::cli)?;
        return tui::w2v::run(exp, p, None).map_err(|e| match e {
            TuiError::NotATerminal => CliError::input(e),
            other => CliError::other(other),
        });
    }
    if let Some(p) = &experiment {
        // Fail early, before the terminal is taken over, on an unreadable or invalid file, or
        // a run directory without a checkpoint.
        if tui::suite::is_suite_dir(p) {
            // A suite folder: read on the scanner thread, its errors shown in the TUI.
        } else if tui::is_run_path(p) {
            crate::train::rundir::resolve(p, crate::train::rundir::Pick::Best).map_err(CliError::input)?;
        } else {
            crate::config::load(p).map_err(CliError::input)?;
        }
    }
    tui::run(experiment, Box::new(RealBackend)).map_err(|e| match e {
        TuiError::NotATerminal => CliError::input(e),
        other => CliError::other(other),
    })
}
