//! Everything that can happen to the TUI's `App`, as values: what keys mean (see `keys.rs`,
//! the one key table), and what comes back from the trainer thread, the scanner thread and the
//! effects the main loop carried out.
//!
//! Actions are grouped by who handles them: app-wide variants here, then one enum per screen
//! or pane ([`BrowserAction`], [`TrainAction`], [`RunsAction`], [`ProbeAction`]), each reduced
//! by its own file under `app/`. This file depends on nothing in the app: `app` → `keys` →
//! `action`, never back.

use std::path::PathBuf;

use crate::config::Experiment;
use crate::infer::probe::ProbeReport;
use crate::train::protocol::Event;

use super::files::{BrowserEntry, Inspection, RunEntry};
pub use super::probe_view::ProbeAction;
use super::suite::SuiteView;
use super::sweeps::SweepEntry;

/// Everything that can happen to the app: user intents from keys, and results coming back
/// from the trainer, the scanner or the effects the main loop carried out.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Time passes: seconds since the TUI started.
    Tick(f64),
    /// `q`: quit, asking first when the run has unsaved steps.
    Quit,
    /// `y` in the quit question: save (Stop, wait for Finished) and quit.
    ConfirmYes,
    /// `n` in the quit question: quit without saving.
    ConfirmNo,
    /// Ctrl-C: save and quit without asking.
    Interrupt,
    /// SIGTERM/SIGHUP: save (waiting briefly) and quit.
    Terminate,
    /// Ctrl-Z: suspend to the shell (job control); `fg` comes back.
    Suspend,
    /// Esc: close the topmost overlay, prompt or question.
    Cancel,
    /// `?`: show or hide the help.
    ToggleHelp,
    /// ↑/↓ in the help: scroll by this many lines (negative = up).
    ScrollHelp(i16),
    /// Go to the experiment browser (and rescan it).
    ShowBrowser,
    /// Go to the runs screen (and rescan it).
    ShowRuns,
    /// Go to the training screen (when an experiment is loaded).
    ShowTrain,
    /// Open an experiment in `$EDITOR`: the browser's selected file, else the one in use.
    Edit,
    /// Typing into the one-line prompt.
    Prompt(PromptAction),
    /// The experiment browser.
    Browser(BrowserAction),
    /// The training screen.
    Train(TrainAction),
    /// The runs screen.
    Runs(RunsAction),
    /// The probes pane.
    Probe(ProbeAction),
    /// The suite screen.
    Suite(SuiteAction),
    /// An experiment file was read and checked.
    ExperimentLoaded(Result<Experiment, String>),
    /// The editor closed; the file was re-read and checked.
    Edited(PathBuf, Result<Experiment, String>),
    /// A run's config was read: start it from this checkpoint.
    ResumeReady(Box<Experiment>, PathBuf),
    /// The backend could not start the run.
    StartFailed(String),
    /// A run directory or checkpoint was read for inspection (from the scanner; boxed: its
    /// histories are large), or why it could not be.
    Inspected(Result<Box<Inspection>, String>),
    /// An event from the trainer.
    Trainer(Event),
    /// The trainer's channel closed.
    TrainerGone,
}

/// Keys typed into the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptAction {
    /// A character typed.
    Char(char),
    /// Backspace.
    Backspace,
    /// Enter: use the text.
    Submit,
}

/// The experiment browser's actions.
#[derive(Clone, Debug, PartialEq)]
pub enum BrowserAction {
    /// Select the previous experiment.
    Up,
    /// Select the next experiment.
    Down,
    /// Enter: open the selected experiment.
    Open,
    /// `experiments/*.toml` listed (from the scanner).
    Scanned(Vec<BrowserEntry>),
}

/// The training screen's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainAction {
    /// Space: start a run, pause it or resume it.
    StartPause,
    /// Run one training step (pauses first when running).
    StepOnce,
    /// Save a checkpoint now.
    SaveNow,
    /// Stop the run (saves a checkpoint).
    Stop,
    /// Restart the run, with the edited experiment if there is one.
    Restart,
    /// Multiply the learning rate by 1.25.
    LrUp,
    /// Divide the learning rate by 1.25.
    LrDown,
    /// `L`: halve the learning rate and resume (offered after a divergence).
    ResumeLowerLr,
    /// Temperature + 0.05.
    TempUp,
    /// Temperature − 0.05 (0 = greedy).
    TempDown,
    /// Next larger top-k (towards all tokens).
    TopKUp,
    /// Next smaller top-k (towards 1).
    TopKDown,
    /// Generate a sample now.
    SampleNow,
    /// Edit the prime text in the prompt.
    EditPrime,
    /// Run a probe now on the default snippet.
    ProbeNow,
    /// Evaluate on the validation data now (running, paused, finished or inspected).
    Evaluate,
    /// Type a text to probe in the prompt.
    ProbeText,
    /// Stronger loss smoothing.
    SmoothMore,
    /// Weaker loss smoothing.
    SmoothLess,
    /// Toggle a logarithmic y axis.
    ToggleLogY,
    /// Toggle the x axis between steps and wall time.
    ToggleXTime,
    /// Toggle between the whole run and the recent window.
    ToggleRecent,
    /// Tab: focus the next pane.
    NextPane,
    /// Shift-Tab: focus the previous pane.
    PrevPane,
    /// ↑ in the samples pane: scroll up.
    ScrollUp,
    /// ↓ in the samples pane: scroll down.
    ScrollDown,
}

/// The runs screen's actions.
#[derive(Clone, Debug, PartialEq)]
pub enum RunsAction {
    /// Select the previous run.
    Up,
    /// Select the next run.
    Down,
    /// Show or hide the selected run in the overlay chart.
    ToggleOverlay,
    /// Type a run directory to open.
    OpenPrompt,
    /// Compare probes with the selected run's `probe.json`.
    CompareProbe,
    /// Continue training the selected run from its `latest.safetensors`.
    Resume,
    /// Open the selected run's best (else latest) checkpoint for inspection on the training
    /// screen.
    Inspect,
    /// Esc: back to the training screen (or the browser when nothing is loaded).
    Back,
    /// `runs/*/` listed (from the scanner).
    Scanned(Vec<RunEntry>),
    /// A run directory was read (from the scanner; boxed: its histories are large).
    Opened(Result<Box<RunEntry>, String>),
    /// Another run's probe was read: (run name, report) (from the scanner).
    CompareLoaded(Result<(String, Box<ProbeReport>), String>),
    /// Type a sweep file to run: here (`false`) or as a Slurm job array (`true`).
    SweepPrompt(bool),
    /// Stop the selected sweep (Ctrl-C to its `rnn-lab sweep`, or scancel its job).
    StopSweep,
    /// `sweeps/*/` read (from the scanner).
    SweepsScanned(Vec<SweepEntry>),
    /// A sweep was checked and started in the background: (name, folder, its log), or the
    /// sweep file's one-line error (from the scanner).
    SweepStarted(Result<(String, PathBuf, PathBuf), String>),
    /// What stopping a sweep did, or why it could not (from the scanner).
    SweepStopped(Result<String, String>),
}

/// The suite screen's actions.
#[derive(Clone, Debug, PartialEq)]
pub enum SuiteAction {
    /// `u` on the runs screen: type the suite folder to show.
    Prompt,
    /// Select the previous run.
    Up,
    /// Select the next run.
    Down,
    /// Read the suite folder again.
    Reload,
    /// Open the selected run's directory on the runs screen (its loss overlaid).
    OpenRun,
    /// Inspect the selected run's best (else latest) checkpoint.
    Inspect,
    /// Esc: back to the runs screen.
    Back,
    /// The suite folder was read (from the scanner; boxed: every run's curves), or its
    /// one-line error.
    Loaded(Result<Box<SuiteView>, String>),
}
