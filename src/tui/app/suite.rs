//! The suite screen: a suite folder's table (task, cell, seed, solved, sequences when solved,
//! final error, wall time) and the selected run's curves. Reached with `u` from the runs screen
//! (or `rnn-lab tui DIR` on a suite folder); the folder is read on the scanner thread, again
//! every few seconds while the suite is still running (no `suite.json` yet).

use std::path::PathBuf;

use crate::tui::action::SuiteAction;
use crate::tui::suite::{SuiteRun, SuiteView};

use super::{App, Effect, Level, PromptKind, Screen};

/// Seconds between two reads of a suite folder whose suite is still running.
pub const SUITE_POLL_S: f64 = 2.0;
/// The folder the prompt offers first: where `rnn-lab suite --quick` writes.
pub const DEFAULT_SUITE_DIR: &str = "runs/suite-quick";

/// The suite screen.
#[derive(Clone, Debug, Default)]
pub struct SuiteState {
    /// The folder shown (or being read).
    pub dir: Option<PathBuf>,
    /// The folder as last read.
    pub view: Option<SuiteView>,
    /// Selected row.
    pub selected: usize,
    /// `App::clock` of the next read while the suite runs.
    pub next_scan: f64,
}

impl SuiteState {
    /// The selected run.
    pub fn selected_run(&self) -> Option<&SuiteRun> {
        self.view.as_ref()?.runs.get(self.selected)
    }
}

/// The suite screen's actions.
pub(super) fn update(app: &mut App, action: SuiteAction) {
    let s = &mut app.suite;
    match action {
        SuiteAction::Prompt => {
            let text = s
                .dir
                .as_ref()
                .map_or(DEFAULT_SUITE_DIR.to_string(), |d| d.display().to_string());
            app.open_prompt(PromptKind::Suite, text);
        }
        SuiteAction::Up => s.selected = s.selected.saturating_sub(1),
        SuiteAction::Down => {
            let n = s.view.as_ref().map_or(0, |v| v.runs.len());
            s.selected = (s.selected + 1).min(n.saturating_sub(1));
        }
        SuiteAction::Reload => {
            if let Some(d) = s.dir.clone() {
                app.effect(Effect::LoadSuite(d));
            }
        }
        SuiteAction::OpenRun => match run_dir(app) {
            Some(dir) => {
                app.effect(Effect::OpenRun(dir));
                app.screen = Screen::Runs;
            }
            None => app.message(Level::Warn, "this run has no run directory yet"),
        },
        SuiteAction::Inspect => {
            if app.run.phase.active() {
                app.message(Level::Warn, "a run is active: stop it first (x on the training screen)");
            } else if let Some(dir) = run_dir(app) {
                app.message(Level::Info, format!("opening {} for inspection…", dir.display()));
                app.effect(Effect::InspectRun(dir));
            } else {
                app.message(Level::Warn, "this run has no run directory yet");
            }
        }
        SuiteAction::Back => {
            app.screen = Screen::Runs;
            app.effect(Effect::ScanRuns);
        }
        SuiteAction::Loaded(Ok(view)) => {
            let first = s.view.as_ref().is_none_or(|v| v.dir != view.dir);
            // The same run stays selected across a new read (rows only get added).
            let name = s.selected_run().map(|r| r.row.name.clone());
            let view = *view;
            s.selected = name
                .and_then(|n| view.runs.iter().position(|r| r.row.name == n))
                .unwrap_or(0)
                .min(view.runs.len().saturating_sub(1));
            if first {
                s.selected = 0;
            }
            s.next_scan = app.clock + SUITE_POLL_S;
            s.view = Some(view);
            app.screen = Screen::Suite;
        }
        SuiteAction::Loaded(Err(e)) => {
            // A folder being shown stays shown (a read while a run writes can fail once).
            if s.view.is_none() {
                s.dir = None;
            }
            app.error = Some(e);
        }
    }
}

/// Show the suite folder typed into the prompt (read on the scanner thread).
pub(super) fn open(app: &mut App, dir: PathBuf) {
    app.message(Level::Info, format!("reading the suite in {}…", dir.display()));
    app.suite.dir = Some(dir.clone());
    app.effect(Effect::LoadSuite(dir));
}

/// Read the folder again every [`SUITE_POLL_S`] while its suite runs and the screen shows it.
pub(super) fn tick(app: &mut App) {
    let s = &mut app.suite;
    let running = s.view.as_ref().is_some_and(|v| !v.complete);
    if app.screen == Screen::Suite && running && app.clock >= s.next_scan {
        s.next_scan = app.clock + SUITE_POLL_S;
        if let Some(d) = s.dir.clone() {
            app.effect(Effect::LoadSuite(d));
        }
    }
}

fn run_dir(app: &App) -> Option<PathBuf> {
    app.suite.selected_run()?.dir.clone()
}
