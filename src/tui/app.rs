//! The TUI's whole state and its one transition function, [`update`]. No I/O happens here:
//! whatever needs the outside world (send a command, start a run, open the editor, read files)
//! is queued as an [`Effect`] that the main loop in `tui.rs` carries out, feeding the result
//! back as another [`Action`]. Tests drive `update` directly, without a terminal.
//!
//! This file holds the [`App`], the app-wide actions (quitting, overlays, the prompt, loading
//! and editing an experiment) and the dispatch; each screen or pane reduces its own actions in
//! its own file: `app/browser.rs`, `app/train.rs` (keys of the training screen, sampling and
//! chart settings), `app/run.rs` (the run's life and the trainer's events), `app/runs.rs`,
//! `app/probes.rs`.

mod browser;
mod probes;
mod run;
mod runs;
mod suite;
mod train;

use std::collections::VecDeque;
use std::path::PathBuf;

use crossterm::event::KeyEvent;

use crate::config::Experiment;
use crate::train::protocol::Command;

use super::action::{Action, PromptAction};
use super::keys::{self, Mode};
use super::theme::Theme;

pub use browser::BrowserState;
pub use probes::ProbesState;
pub use run::{
    CheckpointSample, Phase, RunState, CHECKPOINT_SAMPLES_KEPT, HISTORY_CAPACITY, RECENT_WINDOW, SAMPLES_KEPT,
};
pub use runs::{Item as RunsItem, RunsState, SWEEP_POLL_S};
pub use suite::{SuiteState, DEFAULT_SUITE_DIR, SUITE_POLL_S};
pub use train::{
    ChartSettings, Pane, SamplingState, LR_FACTOR, SMOOTHING_STEPS, TEMPERATURE_MAX, TEMPERATURE_STEP, TOP_K_STEPS,
};

/// Seconds to wait for the final checkpoint after `q`→`y` or Ctrl-C.
pub const SAVE_WAIT_S: f64 = 30.0;
/// Seconds to wait for the final checkpoint after SIGTERM.
pub const SIGTERM_WAIT_S: f64 = 3.0;
/// Messages kept in the message log.
const MESSAGES_KEPT: usize = 8;

/// Top-level screens, in title-bar order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The list of `experiments/*.toml`.
    Browser,
    /// The live training dashboard.
    Train,
    /// Run directories and loss-curve overlays.
    Runs,
    /// A suite folder's table and each run's curves (reached from the runs screen; not in
    /// [`Screen::ALL`], the title bar shows it only while it is open).
    Suite,
}

impl Screen {
    /// Every screen, in title-bar order.
    pub const ALL: [Screen; 3] = [Screen::Browser, Screen::Train, Screen::Runs];

    /// Name on the title bar.
    pub fn name(self) -> &'static str {
        match self {
            Screen::Browser => "Browser",
            Screen::Train => "Train",
            Screen::Runs => "Runs",
            Screen::Suite => "Suite",
        }
    }
}

/// What a one-line text prompt is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// The sampling prime text.
    Prime,
    /// Text to run a probe on.
    ProbeText,
    /// A run directory to open.
    OpenRun,
    /// A sweep file to run, here or (`slurm`) as a Slurm job array.
    Sweep {
        /// Submit to Slurm instead of running here.
        slurm: bool,
    },
    /// A suite folder to show.
    Suite,
}

/// A one-line text prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What it is for.
    pub kind: PromptKind,
    /// Text typed so far.
    pub text: String,
}

/// Severity of a message in the message line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something happened.
    Info,
    /// Something the user should notice.
    Warn,
}

/// Side effects `update` asks the main loop to carry out.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send a command to the trainer (ignored when no run is active).
    Send(Command),
    /// Read and validate an experiment file (scanner thread) → [`Action::ExperimentLoaded`].
    LoadExperiment(PathBuf),
    /// Start training `App::experiment` (resuming from a checkpoint when given) → channels
    /// kept by the loop, or [`Action::StartFailed`].
    Start {
        /// Checkpoint to resume from.
        resume: Option<PathBuf>,
    },
    /// Read a run directory's `config.toml` and resume its `latest.safetensors` (scanner
    /// thread) → [`Action::ResumeReady`] or an error.
    ResumeRun(PathBuf),
    /// Suspend the terminal, run `$EDITOR` on the file, re-read it → [`Action::Edited`].
    OpenEditor(PathBuf),
    /// List `experiments/*.toml` (scanner thread) → `BrowserAction::Scanned`.
    ScanExperiments,
    /// List `runs/*/` (scanner thread) → `RunsAction::Scanned`.
    ScanRuns,
    /// Read one run directory (scanner thread) → `RunsAction::Opened`.
    OpenRun(PathBuf),
    /// Read a run's `probe.json` (scanner thread) → `RunsAction::CompareLoaded`.
    LoadCompareProbe(PathBuf),
    /// Read `sweeps/*/` (scanner thread) → `RunsAction::SweepsScanned`.
    ScanSweeps,
    /// Check a sweep file and start `rnn-lab sweep` on it in the background (scanner thread)
    /// → `RunsAction::SweepStarted`.
    StartSweep {
        /// The sweep file.
        file: PathBuf,
        /// `--executor slurm`.
        slurm: bool,
    },
    /// Stop the sweep in this folder (scanner thread) → `RunsAction::SweepStopped`.
    StopSweep(PathBuf),
    /// Read a suite folder (scanner thread) → `SuiteAction::Loaded`.
    LoadSuite(PathBuf),
    /// Drop the trainer channels (the run is over).
    Detach,
    /// Send a command that needs only the model (`Sample`, `Probe`, `Evaluate`) to an
    /// inspector thread holding `checkpoint` (started, or replaced, when it holds another):
    /// `g`, `p` and `v` after a run has finished or on a checkpoint opened for inspection. Its
    /// events come back as trainer events. `None`: only start the inspector (it answers with
    /// `Event::Started`, which says the checkpoint's step).
    Inspect {
        /// The checkpoint to answer from.
        checkpoint: PathBuf,
        /// What to ask.
        command: Option<Command>,
    },
    /// Read a run directory or checkpoint for inspection (scanner thread) →
    /// [`Action::Inspected`].
    InspectRun(PathBuf),
    /// Ctrl-Z: give the terminal back and stop the process (the shell's job control); `fg`
    /// continues and redraws.
    Suspend,
    /// Leave the TUI.
    Quit,
}

/// Waiting for the final checkpoint before quitting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuitWait {
    /// `App::clock` after which we quit anyway.
    pub deadline: f64,
}

/// The whole TUI state.
#[derive(Debug)]
pub struct App {
    /// Every style.
    pub theme: Theme,
    /// Current screen.
    pub screen: Screen,
    /// Focused pane of the training screen.
    pub focus: Pane,
    /// Help overlay shown.
    pub help: bool,
    /// Help scroll offset.
    pub help_scroll: u16,
    /// An error overlay (e.g. an invalid edit, with file:line:col).
    pub error: Option<String>,
    /// A text prompt.
    pub prompt: Option<Prompt>,
    /// "Save before quitting?" shown.
    pub confirm_quit: bool,
    /// Waiting for the final checkpoint, then quit.
    pub quit_wait: Option<QuitWait>,
    /// Set once the app should leave.
    pub quit: bool,
    /// Seconds since the TUI started (advanced by [`Action::Tick`]).
    pub clock: f64,
    /// Measured frames per second (set by the main loop; 0 = not measured).
    pub fps: f64,
    /// Experiment browser.
    pub browser: BrowserState,
    /// The experiment in use.
    pub experiment: Option<Experiment>,
    /// An edited, valid experiment not yet applied (R restarts with it).
    pub pending: Option<Experiment>,
    /// The current run.
    pub run: RunState,
    /// Sampling settings and samples.
    pub sampling: SamplingState,
    /// Loss chart settings.
    pub chart: ChartSettings,
    /// The probes pane: latest probe, view state, a probe to compare with.
    pub probes: ProbesState,
    /// Runs screen.
    pub runs: RunsState,
    /// Suite screen.
    pub suite: SuiteState,
    /// Last few messages, newest last.
    pub messages: VecDeque<(Level, String)>,
    /// Effects for the main loop, oldest first.
    pub effects: Vec<Effect>,
}

impl App {
    /// A fresh app on the browser screen. `no_color` drops every colour (NO_COLOR).
    pub fn new(no_color: bool) -> Self {
        App {
            theme: Theme::new(no_color),
            screen: Screen::Browser,
            focus: Pane::Loss,
            help: false,
            help_scroll: 0,
            error: None,
            prompt: None,
            confirm_quit: false,
            quit_wait: None,
            quit: false,
            clock: 0.0,
            fps: 0.0,
            browser: BrowserState::default(),
            experiment: None,
            pending: None,
            run: RunState::new(),
            sampling: SamplingState::new(),
            chart: ChartSettings::default(),
            probes: ProbesState::new(no_color),
            runs: RunsState::default(),
            suite: SuiteState::default(),
            messages: VecDeque::new(),
            effects: Vec::new(),
        }
    }

    /// The input mode the keys are read in: the topmost overlay, else the screen (and pane).
    pub fn mode(&self) -> Mode {
        if self.quit_wait.is_some() {
            Mode::Saving
        } else if self.confirm_quit {
            Mode::Confirm
        } else if self.prompt.is_some() {
            Mode::Prompt
        } else if self.error.is_some() && self.run.diverged {
            Mode::Diverged
        } else if self.error.is_some() {
            Mode::Error
        } else if self.help {
            Mode::Help
        } else {
            match self.screen {
                Screen::Browser => Mode::Browser,
                Screen::Runs => Mode::Runs,
                Screen::Suite => Mode::Suite,
                Screen::Train if self.focus == Pane::Probes => Mode::Probes,
                Screen::Train => Mode::Train,
            }
        }
    }

    /// The action of a key in the current mode (from the key table, `keys.rs`).
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        keys::action_for(self.mode(), key)
    }

    /// Take the queued effects.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// Send a command to the trainer if a run is active.
    fn send(&mut self, c: Command) {
        if self.run.phase.active() {
            self.effects.push(Effect::Send(c));
        }
    }

    /// Add a line to the message log.
    pub fn message(&mut self, level: Level, text: impl Into<String>) {
        if self.messages.len() == MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.messages.push_back((level, text.into()));
    }

    /// Whether the experiment (or the run) is a task other than a language model.
    pub fn is_task(&self) -> bool {
        self.run.last_task.is_some() || self.experiment.as_ref().is_some_and(|e| !e.task.is_language_model())
    }

    /// The base learning rate in use.
    pub fn base_lr(&self) -> Option<f64> {
        self.run.lr.or(self.experiment.as_ref().map(|e| e.training.optim.lr))
    }

    fn use_experiment(&mut self, exp: Experiment) {
        self.sampling.apply_experiment(&exp);
        self.run.lr = None;
        self.experiment = Some(exp);
        self.pending = None;
    }

    fn open_prompt(&mut self, kind: PromptKind, text: impl Into<String>) {
        self.prompt = Some(Prompt {
            kind,
            text: text.into(),
        });
    }

    /// Quit now, or stop the run and quit once its last checkpoint is saved (at the latest
    /// `deadline_s` seconds from now).
    fn request_quit(&mut self, deadline_s: f64) {
        if self.run.phase.active() {
            if self.run.phase != Phase::Stopping {
                self.effects.push(Effect::Send(Command::Stop));
                self.run.phase = Phase::Stopping;
            }
            self.quit_wait = Some(QuitWait {
                deadline: self.clock + deadline_s,
            });
            self.message(Level::Info, "saving a checkpoint before quitting…");
        } else {
            self.do_quit();
        }
    }

    fn do_quit(&mut self) {
        self.quit = true;
        self.effect(Effect::Quit);
    }
}

/// The one state transition. Never does I/O; queues [`Effect`]s instead. App-wide actions are
/// reduced here, the rest by the file of their screen or pane.
pub fn update(app: &mut App, action: Action) {
    match action {
        Action::Browser(a) => browser::update(app, a),
        Action::Train(a) => train::update(app, a),
        Action::Runs(a) => runs::update(app, a),
        Action::Probe(a) => probes::update(app, a),
        Action::Suite(a) => suite::update(app, a),
        Action::Trainer(ev) => run::on_event(app, ev),
        Action::TrainerGone => run::trainer_gone(app),
        Action::Tick(t) => tick(app, t),
        Action::Quit => quit(app),
        Action::ConfirmYes | Action::ConfirmNo => {
            if app.confirm_quit {
                app.confirm_quit = false;
                if action == Action::ConfirmYes {
                    app.request_quit(SAVE_WAIT_S);
                } else {
                    app.do_quit();
                }
            }
        }
        Action::Interrupt => {
            app.confirm_quit = false;
            app.request_quit(SAVE_WAIT_S);
        }
        Action::Suspend => app.effect(Effect::Suspend),
        Action::Terminate => {
            app.confirm_quit = false;
            app.request_quit(SIGTERM_WAIT_S);
        }
        Action::Cancel => cancel(app),
        Action::ToggleHelp => {
            app.help = !app.help;
            app.help_scroll = 0;
        }
        Action::ScrollHelp(d) => app.help_scroll = app.help_scroll.saturating_add_signed(d),
        Action::ShowBrowser => {
            app.screen = Screen::Browser;
            app.effect(Effect::ScanExperiments);
        }
        Action::ShowRuns => {
            app.screen = Screen::Runs;
            app.effect(Effect::ScanRuns);
        }
        Action::ShowTrain => {
            if app.experiment.is_some() {
                app.screen = Screen::Train;
            }
        }
        Action::Edit => edit(app),
        Action::Prompt(a) => prompt(app, a),
        Action::ExperimentLoaded(Ok(exp)) => experiment_loaded(app, exp),
        Action::ExperimentLoaded(Err(e)) => app.error = Some(e),
        Action::Edited(path, result) => edited(app, path, result),
        Action::ResumeReady(exp, checkpoint) => {
            app.message(Level::Info, format!("resuming from {}", checkpoint.display()));
            app.use_experiment(*exp);
            run::start(app, Some(checkpoint));
        }
        Action::Inspected(Ok(i)) => run::inspected(app, *i),
        Action::Inspected(Err(e)) => app.error = Some(e),
        Action::StartFailed(e) => {
            app.run.phase = Phase::Failed;
            app.error = Some(format!("could not start training: {e}"));
        }
    }
}

fn tick(app: &mut App, t: f64) {
    app.clock = t;
    runs::tick(app);
    suite::tick(app);
    if let Some(w) = app.quit_wait {
        if app.clock >= w.deadline && !app.quit {
            app.message(Level::Warn, "gave up waiting for the checkpoint");
            app.do_quit();
        }
    }
}

fn quit(app: &mut App) {
    if app.run.unsaved() {
        app.confirm_quit = true;
    } else {
        // Nothing unsaved: tell an active trainer to stop, but do not wait for it.
        app.send(Command::Stop);
        app.do_quit();
    }
}

/// Esc: close the topmost overlay, prompt or question.
fn cancel(app: &mut App) {
    if app.confirm_quit {
        app.confirm_quit = false;
    } else if app.prompt.is_some() {
        app.prompt = None;
    } else if app.error.is_some() {
        app.error = None;
    } else {
        app.help = false;
    }
}

fn edit(app: &mut App) {
    let path = match app.screen {
        Screen::Browser => app.browser.selected_path(),
        _ => app.experiment.as_ref().and_then(|e| e.path.clone()),
    };
    app.error = None;
    match path {
        Some(p) => app.effect(Effect::OpenEditor(p)),
        None => app.message(Level::Warn, "this experiment has no file to edit"),
    }
}

fn prompt(app: &mut App, action: PromptAction) {
    match action {
        PromptAction::Char(c) => {
            if let Some(p) = app.prompt.as_mut() {
                p.text.push(c);
            }
        }
        PromptAction::Backspace => {
            if let Some(p) = app.prompt.as_mut() {
                p.text.pop();
            }
        }
        PromptAction::Submit => {
            let Some(p) = app.prompt.take() else { return };
            match p.kind {
                PromptKind::Prime => train::set_prime(app, p.text),
                PromptKind::ProbeText => train::probe_text(app, p.text),
                PromptKind::OpenRun => runs::open(app, PathBuf::from(p.text.trim())),
                PromptKind::Sweep { slurm } => runs::start_sweep(app, PathBuf::from(p.text.trim()), slurm),
                PromptKind::Suite => suite::open(app, PathBuf::from(p.text.trim())),
            }
        }
    }
}

fn experiment_loaded(app: &mut App, exp: Experiment) {
    app.message(Level::Info, format!("loaded experiment {}", exp.name));
    if app.run.phase.active() {
        app.pending = Some(exp);
        app.message(Level::Info, "a run is active: R restarts with this experiment");
    } else {
        app.use_experiment(exp);
        app.run = RunState::new();
    }
    app.screen = Screen::Train;
    app.focus = Pane::Loss;
}

fn edited(app: &mut App, path: PathBuf, result: Result<Experiment, String>) {
    match result {
        Err(e) => {
            let kept = if app.experiment.is_some() {
                " (kept the previous config)"
            } else {
                ""
            };
            app.error = Some(format!("{e}{kept}"));
        }
        Ok(exp) => {
            if app.screen == Screen::Browser {
                app.effect(Effect::ScanExperiments);
                app.message(Level::Info, format!("{} is valid", path.display()));
                return;
            }
            let current = app.pending.as_ref().or(app.experiment.as_ref());
            if current == Some(&exp) {
                app.message(Level::Info, "no change to the experiment");
            } else if app.run.phase == Phase::Idle {
                app.use_experiment(exp);
                app.message(Level::Info, "experiment updated: space starts training with it");
            } else {
                app.pending = Some(exp);
                app.message(Level::Info, "experiment changed and valid: R restarts the run with it");
            }
        }
    }
}
