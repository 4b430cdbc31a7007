//! The TUI's whole state and its one transition function, [`update`]. No I/O happens here:
//! whatever needs the outside world (send a command, start a run, open the editor, read files)
//! is queued as an [`Effect`] that the main loop in `tui.rs` carries out, feeding the result
//! back as another [`Action`]. Tests drive `update` directly, without a terminal.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::config::Experiment;
use crate::infer::probe::ProbeReport;
use crate::train::protocol::{Command, Event, Metrics, RunInfo, SampleEvent, SampleRequest};
use crate::tui::history::{History, Point};

use super::action::{self, Action};
use super::files::{BrowserEntry, RunEntry};
use super::probe_view::ProbeView;
use super::theme::Theme;

/// Points kept in the full (halved) view of a loss history.
pub const HISTORY_CAPACITY: usize = 2048;
/// Raw points kept in the recent window.
pub const RECENT_WINDOW: usize = 300;
/// Samples kept in the sample pane.
pub const SAMPLES_KEPT: usize = 12;
/// Checkpoints whose sample is kept for comparison.
pub const CHECKPOINT_SAMPLES_KEPT: usize = 4;
/// Temperature step of the `+`/`-` keys.
pub const TEMPERATURE_STEP: f64 = 0.05;
/// Highest temperature the keys reach.
pub const TEMPERATURE_MAX: f64 = 2.0;
/// Top-k values the `k`/`K` keys step through, from fewest tokens kept to all (0 = all tokens).
pub const TOP_K_STEPS: [usize; 9] = [1, 2, 3, 5, 10, 20, 40, 100, 0];
/// Smoothing strengths (EMA β) the `,`/`.` keys cycle through.
pub const SMOOTHING_STEPS: [f64; 8] = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995];
/// Factor of one learning-rate key press.
pub const LR_FACTOR: f64 = 1.25;
/// Seconds to wait for the final checkpoint after `q`→`y` or Ctrl-C.
pub const SAVE_WAIT_S: f64 = 30.0;
/// Seconds to wait for the final checkpoint after SIGTERM.
pub const SIGTERM_WAIT_S: f64 = 3.0;

/// Top-level screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The list of `experiments/*.toml`.
    Browser,
    /// The live training dashboard.
    Train,
    /// Run directories and loss-curve overlays.
    Runs,
}

/// Which pane of the training screen has the focus (Tab cycles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// Loss chart.
    Loss,
    /// Samples.
    Samples,
    /// Probes (the network's insides), shown full width when focused.
    Probes,
}

impl Pane {
    fn next(self) -> Pane {
        match self {
            Pane::Loss => Pane::Samples,
            Pane::Samples => Pane::Probes,
            Pane::Probes => Pane::Loss,
        }
    }
    fn prev(self) -> Pane {
        self.next().next()
    }
}

/// Where the current run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No run: an experiment is loaded (or not) and can be started.
    Idle,
    /// `start` was asked for; waiting for `Event::Started`.
    Starting,
    /// Training steps are running.
    Running,
    /// Paused; space resumes, `s` steps once.
    Paused,
    /// `Command::Stop` sent; waiting for `Event::Finished`.
    Stopping,
    /// The run ended and its checkpoint is saved.
    Finished,
    /// The trainer failed or went away.
    Failed,
}

impl Phase {
    /// A trainer thread is alive for this run.
    pub fn active(self) -> bool {
        matches!(self, Phase::Starting | Phase::Running | Phase::Paused | Phase::Stopping)
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
    /// Read and validate an experiment file → [`Action::ExperimentLoaded`].
    LoadExperiment(PathBuf),
    /// Start training `App::experiment` (resuming from a checkpoint when given) → channels
    /// kept by the loop, or [`Action::StartFailed`].
    Start {
        /// Checkpoint to resume from.
        resume: Option<PathBuf>,
    },
    /// Read a run directory's `config.toml` and resume its `latest.safetensors`
    /// → [`Action::ResumeReady`] or an error.
    ResumeRun(PathBuf),
    /// Suspend the terminal, run `$EDITOR` on the file, re-read it → [`Action::Edited`].
    OpenEditor(PathBuf),
    /// List `experiments/*.toml` → [`Action::BrowserScanned`].
    ScanExperiments,
    /// List `runs/*/` → [`Action::RunsScanned`].
    ScanRuns,
    /// Read one run directory → [`Action::RunOpened`].
    OpenRun(PathBuf),
    /// Read a run's `probe.json` → [`Action::CompareLoaded`].
    LoadCompareProbe(PathBuf),
    /// Drop the trainer channels (the run is over).
    Detach,
    /// Leave the TUI.
    Quit,
}

/// Waiting for the final checkpoint before quitting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuitWait {
    /// `App::clock` after which we quit anyway.
    pub deadline: f64,
}

/// The browser's list.
#[derive(Clone, Debug, Default)]
pub struct BrowserState {
    /// One row per experiment file.
    pub entries: Vec<BrowserEntry>,
    /// Selected row.
    pub selected: usize,
    /// Whether the first scan has come back.
    pub scanned: bool,
}

/// Everything known about the current run.
#[derive(Clone, Debug)]
pub struct RunState {
    /// Where the run is.
    pub phase: Phase,
    /// Sent once at start.
    pub info: Option<RunInfo>,
    /// The latest logged step.
    pub last: Option<Metrics>,
    /// The latest validation loss.
    pub last_val: Option<f64>,
    /// The best validation loss.
    pub best_val: Option<f64>,
    /// Tasks other than language models: the scores of the last evaluation.
    pub last_task: Option<crate::train::protocol::TaskScores>,
    /// Training loss per logged step.
    pub train: History,
    /// Validation loss per evaluation.
    pub val: History,
    /// Step of the last checkpoint written (or the start step).
    pub saved_step: u64,
    /// The last checkpoint file written.
    pub last_checkpoint: Option<PathBuf>,
    /// Base learning rate as set by the user (None = the experiment's).
    pub lr: Option<f64>,
    /// Restart with the (pending) experiment once `Finished` arrives.
    pub restart_after_stop: bool,
    /// Training diverged and rolled back: `L` halves the learning rate and resumes.
    pub diverged: bool,
}

impl RunState {
    fn new() -> Self {
        RunState {
            phase: Phase::Idle,
            info: None,
            last: None,
            last_val: None,
            best_val: None,
            last_task: None,
            train: History::new(HISTORY_CAPACITY, RECENT_WINDOW),
            val: History::new(HISTORY_CAPACITY, RECENT_WINDOW),
            saved_step: 0,
            last_checkpoint: None,
            lr: None,
            restart_after_stop: false,
            diverged: false,
        }
    }

    /// The latest step done.
    pub fn step(&self) -> u64 {
        self.last
            .as_ref()
            .map(|m| m.step)
            .or(self.info.as_ref().map(|i| i.start_step))
            .unwrap_or(0)
    }

    /// Whether steps have run since the last checkpoint.
    pub fn unsaved(&self) -> bool {
        self.phase.active() && self.step() > self.saved_step
    }
}

/// A checkpoint and the sample generated right after it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointSample {
    /// Step saved.
    pub step: u64,
    /// New best by validation loss.
    pub best: bool,
    /// The sample (None until it arrives).
    pub sample: Option<SampleEvent>,
}

/// Sampling settings and received samples.
#[derive(Clone, Debug)]
pub struct SamplingState {
    /// Temperature in units of [`TEMPERATURE_STEP`] (integer, so `+`/`-` never drift).
    pub temp_steps: u32,
    /// Top-k (0 = all).
    pub top_k: usize,
    /// Prime text.
    pub prime: String,
    /// Tokens per sample.
    pub length: usize,
    /// Newest first.
    pub samples: VecDeque<SampleEvent>,
    /// Newest first.
    pub checkpoints: VecDeque<CheckpointSample>,
    /// Lines scrolled down in the sample pane.
    pub scroll: u16,
}

impl SamplingState {
    fn new() -> Self {
        SamplingState {
            temp_steps: 16,
            top_k: 0,
            prime: String::new(),
            length: 200,
            samples: VecDeque::new(),
            checkpoints: VecDeque::new(),
            scroll: 0,
        }
    }

    /// The temperature, a multiple of 0.05 (0 = greedy).
    pub fn temperature(&self) -> f64 {
        f64::from(self.temp_steps) * TEMPERATURE_STEP
    }

    /// The request the current settings make.
    pub fn request(&self) -> SampleRequest {
        SampleRequest {
            temperature: self.temperature(),
            top_k: self.top_k,
            prime: self.prime.clone(),
            length: self.length,
        }
    }

    fn apply_experiment(&mut self, exp: &Experiment) {
        let t = exp.sampling.temperature / TEMPERATURE_STEP;
        self.temp_steps = if t.is_finite() {
            t.round().clamp(0.0, TEMPERATURE_MAX / TEMPERATURE_STEP) as u32
        } else {
            16
        };
        self.top_k = exp.sampling.top_k;
        self.prime = exp.sampling.prime.clone();
        self.length = exp.sampling.length;
    }
}

/// How the loss chart is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartSettings {
    /// Index into [`SMOOTHING_STEPS`].
    pub smoothing: usize,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// x axis in wall-clock seconds instead of steps.
    pub x_time: bool,
    /// Show only the recent window instead of the whole run.
    pub recent: bool,
}

impl ChartSettings {
    /// EMA decay β.
    pub fn beta(&self) -> f64 {
        SMOOTHING_STEPS.get(self.smoothing).copied().unwrap_or(0.0)
    }
}

/// The runs screen.
#[derive(Clone, Debug, Default)]
pub struct RunsState {
    /// Known run directories, newest first.
    pub entries: Vec<RunEntry>,
    /// Selected row.
    pub selected: usize,
    /// Whether the first scan came back.
    pub scanned: bool,
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
    /// The latest probe.
    pub probe: Option<ProbeReport>,
    /// Probe view state (layer, unit, cursor…).
    pub probe_view: ProbeView,
    /// A probe from another run to compare with (run name, report).
    pub compare: Option<(String, ProbeReport)>,
    /// Runs screen.
    pub runs: RunsState,
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
            chart: ChartSettings {
                smoothing: 3,
                log_y: false,
                x_time: false,
                recent: false,
            },
            probe: None,
            probe_view: ProbeView::new(no_color),
            compare: None,
            runs: RunsState::default(),
            messages: VecDeque::new(),
            effects: Vec::new(),
        }
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
        if self.messages.len() == 8 {
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

    fn start_run(&mut self) {
        self.start_run_from(None);
    }

    fn start_run_from(&mut self, resume: Option<PathBuf>) {
        if self.experiment.is_none() {
            self.message(Level::Warn, "no experiment loaded: pick one in the browser (b)");
            return;
        }
        if let Some(p) = self.pending.take() {
            self.use_experiment(p);
        }
        self.run = RunState::new();
        self.run.phase = Phase::Starting;
        self.sampling.samples.clear();
        self.sampling.checkpoints.clear();
        self.probe = None;
        self.screen = Screen::Train;
        self.effect(Effect::Start { resume });
    }

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

/// The one state transition. Never does I/O; queues [`Effect`]s instead.
pub fn update(app: &mut App, action: Action) {
    match action {
        Action::Tick(t) => {
            app.clock = t;
            if let Some(w) = app.quit_wait {
                if app.clock >= w.deadline && !app.quit {
                    app.message(Level::Warn, "gave up waiting for the checkpoint");
                    app.do_quit();
                }
            }
        }
        Action::Quit => {
            if app.run.unsaved() {
                app.confirm_quit = true;
            } else if app.run.phase.active() {
                // Nothing unsaved: tell the trainer to stop, but do not wait for it.
                app.send(Command::Stop);
                app.do_quit();
            } else {
                app.do_quit();
            }
        }
        Action::ConfirmYes => {
            if app.confirm_quit {
                app.confirm_quit = false;
                app.request_quit(SAVE_WAIT_S);
            }
        }
        Action::ConfirmNo => {
            if app.confirm_quit {
                app.confirm_quit = false;
                app.do_quit();
            }
        }
        Action::Interrupt => {
            app.confirm_quit = false;
            app.request_quit(SAVE_WAIT_S);
        }
        Action::Terminate => {
            app.confirm_quit = false;
            app.request_quit(SIGTERM_WAIT_S);
        }
        Action::Cancel => {
            if app.confirm_quit {
                app.confirm_quit = false;
            } else if app.prompt.is_some() {
                app.prompt = None;
            } else if app.error.is_some() {
                app.error = None;
            } else if app.help {
                app.help = false;
            } else if app.screen == Screen::Runs {
                app.screen = if app.experiment.is_some() {
                    Screen::Train
                } else {
                    Screen::Browser
                };
            }
        }
        Action::ToggleHelp => {
            app.help = !app.help;
            app.help_scroll = 0;
        }
        Action::NextPane => app.focus = app.focus.next(),
        Action::PrevPane => app.focus = app.focus.prev(),
        Action::Up => move_selection(app, -1),
        Action::Down => move_selection(app, 1),
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
        Action::OpenSelected => {
            if let Some(e) = app.browser.entries.get(app.browser.selected) {
                let path = e.path.clone();
                app.effect(Effect::LoadExperiment(path));
            }
        }
        Action::StartPause => match app.run.phase {
            Phase::Idle | Phase::Finished | Phase::Failed => app.start_run(),
            Phase::Running => {
                app.send(Command::Pause);
                app.run.phase = Phase::Paused;
            }
            Phase::Paused => {
                app.send(Command::Resume);
                app.run.phase = Phase::Running;
                app.run.diverged = false;
            }
            Phase::Starting | Phase::Stopping => {}
        },
        Action::StepOnce => match app.run.phase {
            Phase::Paused => app.send(Command::StepOnce),
            Phase::Running => {
                app.send(Command::Pause);
                app.run.phase = Phase::Paused;
                app.message(Level::Info, "paused: press s again to run one step");
            }
            _ => app.message(Level::Info, "start training first (space)"),
        },
        Action::SaveNow => {
            if app.run.phase.active() {
                app.send(Command::SaveNow);
                app.message(Level::Info, "saving a checkpoint…");
            } else {
                app.message(Level::Info, "no run to save");
            }
        }
        Action::LrUp | Action::LrDown => {
            if let Some(lr) = app.base_lr() {
                let lr = if action == Action::LrUp {
                    lr * LR_FACTOR
                } else {
                    lr / LR_FACTOR
                };
                app.run.lr = Some(lr);
                app.send(Command::SetLr(lr));
                app.message(Level::Info, format!("learning rate → {lr:.3e}"));
            }
        }
        Action::ResumeLowerLr => match (app.run.phase, app.base_lr()) {
            (Phase::Paused, Some(lr)) => {
                let lr = lr / 2.0;
                app.error = None;
                app.run.diverged = false;
                app.run.lr = Some(lr);
                app.send(Command::SetLr(lr));
                app.send(Command::Resume);
                app.run.phase = Phase::Running;
                app.message(
                    Level::Info,
                    format!("learning rate halved to {lr:.3e}; training resumed"),
                );
            }
            _ => app.message(
                Level::Info,
                "L halves the learning rate and resumes a paused run (after a divergence)",
            ),
        },
        Action::Stop => {
            if app.run.phase.active() && app.run.phase != Phase::Stopping {
                app.send(Command::Stop);
                app.run.phase = Phase::Stopping;
                app.message(Level::Info, "stopping: saving the final checkpoint…");
            }
        }
        Action::Restart => {
            if app.experiment.is_none() {
                return;
            }
            if app.run.phase.active() {
                app.run.restart_after_stop = true;
                if app.run.phase != Phase::Stopping {
                    app.send(Command::Stop);
                    app.run.phase = Phase::Stopping;
                }
                app.message(Level::Info, "restarting: saving this run first…");
            } else {
                app.start_run();
            }
        }
        Action::SmoothMore => {
            app.chart.smoothing = (app.chart.smoothing + 1).min(SMOOTHING_STEPS.len() - 1);
        }
        Action::SmoothLess => app.chart.smoothing = app.chart.smoothing.saturating_sub(1),
        Action::ToggleLogY => app.chart.log_y = !app.chart.log_y,
        Action::ToggleXTime => app.chart.x_time = !app.chart.x_time,
        Action::ToggleRecent => app.chart.recent = !app.chart.recent,
        Action::TempUp | Action::TempDown => {
            let max = (TEMPERATURE_MAX / TEMPERATURE_STEP).round() as u32;
            let s = &mut app.sampling.temp_steps;
            *s = if action == Action::TempUp {
                (*s + 1).min(max)
            } else {
                s.saturating_sub(1)
            };
            sampling_changed(app);
        }
        Action::TopKUp | Action::TopKDown => {
            // 0 (all tokens) is the top of the scale; any other k sits at the first step ≥ k.
            let last = TOP_K_STEPS.len() - 1;
            let k = app.sampling.top_k;
            let i = if k == 0 {
                last
            } else {
                TOP_K_STEPS.iter().position(|&s| s != 0 && s >= k).unwrap_or(last)
            };
            let i = if action == Action::TopKUp {
                (i + 1).min(last)
            } else {
                i.saturating_sub(1)
            };
            app.sampling.top_k = TOP_K_STEPS[i];
            sampling_changed(app);
        }
        Action::SampleNow => {
            if app.run.phase.active() {
                let req = app.sampling.request();
                app.send(Command::Sample(req));
            } else {
                app.message(Level::Info, "start training first (space)");
            }
        }
        Action::EditPrime => {
            app.prompt = Some(Prompt {
                kind: PromptKind::Prime,
                text: app.sampling.prime.clone(),
            })
        }
        Action::ProbeNow => {
            if app.run.phase.active() {
                app.send(Command::Probe(None));
            } else {
                app.message(Level::Info, "start training first (space)");
            }
        }
        Action::ProbeText => {
            app.prompt = Some(Prompt {
                kind: PromptKind::ProbeText,
                text: String::new(),
            })
        }
        Action::OpenRunPrompt => {
            app.prompt = Some(Prompt {
                kind: PromptKind::OpenRun,
                text: String::from("runs/"),
            })
        }
        Action::PromptChar(c) => {
            if let Some(p) = app.prompt.as_mut() {
                p.text.push(c);
            }
        }
        Action::PromptBackspace => {
            if let Some(p) = app.prompt.as_mut() {
                p.text.pop();
            }
        }
        Action::PromptSubmit => {
            if let Some(p) = app.prompt.take() {
                match p.kind {
                    PromptKind::Prime => {
                        app.sampling.prime = p.text;
                        sampling_changed(app);
                    }
                    PromptKind::ProbeText => {
                        let text = Some(p.text).filter(|t| !t.is_empty());
                        if app.run.phase.active() {
                            app.send(Command::Probe(text));
                        } else {
                            app.message(Level::Info, "start training first (space)");
                        }
                    }
                    PromptKind::OpenRun => {
                        app.effect(Effect::OpenRun(PathBuf::from(p.text.trim())));
                        app.screen = Screen::Runs;
                    }
                }
            }
        }
        Action::Edit => {
            let path = match app.screen {
                Screen::Browser => app.browser.entries.get(app.browser.selected).map(|e| e.path.clone()),
                _ => app.experiment.as_ref().and_then(|e| e.path.clone()),
            };
            app.error = None;
            match path {
                Some(p) => app.effect(Effect::OpenEditor(p)),
                None => app.message(Level::Warn, "this experiment has no file to edit"),
            }
        }
        Action::ToggleOverlay => {
            if let Some(r) = app.runs.entries.get_mut(app.runs.selected) {
                r.overlay = !r.overlay;
            }
        }
        Action::ResumeSelected => {
            if app.run.phase.active() {
                app.message(Level::Warn, "a run is active: stop it first (x on the training screen)");
            } else if let Some(r) = app.runs.entries.get(app.runs.selected) {
                let dir = r.dir.clone();
                app.effect(Effect::ResumeRun(dir));
            }
        }
        Action::ResumeReady(exp, checkpoint) => {
            app.message(Level::Info, format!("resuming from {}", checkpoint.display()));
            app.use_experiment(*exp);
            app.start_run_from(Some(checkpoint));
        }
        Action::CompareProbe => {
            if let Some(r) = app.runs.entries.get(app.runs.selected) {
                let path = r.dir.join("probe.json");
                app.effect(Effect::LoadCompareProbe(path));
            }
        }
        Action::ProbeKey(key) => {
            let consumed = app.probe_view.on_key(key, app.probe.as_ref());
            if !consumed {
                if let Some(a) = action::train_key(key) {
                    update(app, a);
                }
            }
        }

        // Results of effects.
        Action::ExperimentLoaded(Ok(exp)) => {
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
        Action::ExperimentLoaded(Err(e)) => app.error = Some(e),
        Action::Edited(path, result) => on_edited(app, path, result),
        Action::StartFailed(e) => {
            app.run.phase = Phase::Failed;
            app.error = Some(format!("could not start training: {e}"));
        }
        Action::BrowserScanned(entries) => {
            app.browser.selected = app.browser.selected.min(entries.len().saturating_sub(1));
            app.browser.entries = entries;
            app.browser.scanned = true;
        }
        Action::RunsScanned(entries) => {
            // Keep overlay marks of runs already known.
            let marked: Vec<PathBuf> = app
                .runs
                .entries
                .iter()
                .filter(|r| r.overlay)
                .map(|r| r.dir.clone())
                .collect();
            app.runs.entries = entries;
            for r in &mut app.runs.entries {
                r.overlay |= marked.contains(&r.dir);
            }
            app.runs.selected = app.runs.selected.min(app.runs.entries.len().saturating_sub(1));
            app.runs.scanned = true;
        }
        Action::RunOpened(Ok(mut entry)) => {
            entry.overlay = true;
            let dir = entry.dir.clone();
            if let Some(i) = app.runs.entries.iter().position(|r| r.dir == dir) {
                app.runs.entries[i] = entry;
                app.runs.selected = i;
            } else {
                app.runs.entries.insert(0, entry);
                app.runs.selected = 0;
            }
            app.message(Level::Info, format!("opened {}", dir.display()));
        }
        Action::RunOpened(Err(e)) | Action::CompareLoaded(Err(e)) => app.error = Some(e),
        Action::CompareLoaded(Ok((name, report))) => {
            app.message(
                Level::Info,
                format!("comparing probes with {name} (Tab to the Probes pane)"),
            );
            app.compare = Some((name, *report));
        }
        Action::Trainer(ev) => on_event(app, ev),
        Action::TrainerGone => {
            if app.run.phase.active() {
                app.run.phase = Phase::Failed;
                app.message(Level::Warn, "the trainer thread ended without finishing");
            }
            app.effect(Effect::Detach);
            if app.quit_wait.is_some() {
                app.do_quit();
            }
        }
    }
}

fn move_selection(app: &mut App, delta: i32) {
    fn step(i: usize, len: usize, delta: i32) -> usize {
        if len == 0 {
            0
        } else if delta < 0 {
            i.saturating_sub(1)
        } else {
            (i + 1).min(len - 1)
        }
    }
    if app.help {
        app.help_scroll = if delta < 0 {
            app.help_scroll.saturating_sub(1)
        } else {
            app.help_scroll.saturating_add(1)
        };
        return;
    }
    match app.screen {
        Screen::Browser => app.browser.selected = step(app.browser.selected, app.browser.entries.len(), delta),
        Screen::Runs => app.runs.selected = step(app.runs.selected, app.runs.entries.len(), delta),
        Screen::Train => {
            if app.focus == Pane::Samples {
                let s = &mut app.sampling.scroll;
                *s = if delta < 0 {
                    s.saturating_sub(1)
                } else {
                    s.saturating_add(1)
                };
            }
        }
    }
}

fn sampling_changed(app: &mut App) {
    let req = app.sampling.request();
    app.send(Command::SetSampling(req));
}

fn on_edited(app: &mut App, path: PathBuf, result: Result<Experiment, String>) {
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

fn on_event(app: &mut App, ev: Event) {
    match ev {
        Event::Started(info) => {
            app.run.saved_step = info.start_step;
            app.message(
                Level::Info,
                format!("training {} → {}", info.model, info.run_dir.display()),
            );
            app.run.info = Some(*info);
            if matches!(app.run.phase, Phase::Starting | Phase::Idle) {
                app.run.phase = Phase::Running;
            }
            // Periodic samples follow the user's settings from the start.
            let req = app.sampling.request();
            app.send(Command::SetSampling(req));
        }
        Event::Step(m) => {
            app.run.train.push(Point {
                step: m.step,
                time_s: m.time_s,
                value: m.train_loss,
            });
            if let Some(v) = m.val_loss {
                app.run.val.push(Point {
                    step: m.step,
                    time_s: m.time_s,
                    value: v,
                });
                app.run.last_val = Some(v);
                if v.is_finite() && app.run.best_val.is_none_or(|b| v < b) {
                    app.run.best_val = Some(v);
                }
            }
            if m.task.is_some() {
                app.run.last_task.clone_from(&m.task);
            }
            app.run.last = Some(m);
        }
        Event::Sample(s) => {
            if let Some(c) = app.sampling.checkpoints.iter_mut().find(|c| c.sample.is_none()) {
                c.sample = Some((*s).clone());
            }
            if app.sampling.samples.len() == SAMPLES_KEPT {
                app.sampling.samples.pop_back();
            }
            app.sampling.samples.push_front(*s);
            app.sampling.scroll = 0;
        }
        Event::Probe(r) => app.probe = Some(*r),
        Event::Checkpointed { path, step, best } => {
            app.run.saved_step = step;
            let tag = if best { " (best)" } else { "" };
            app.message(
                Level::Info,
                format!("checkpoint at step {step}{tag} → {}", path.display()),
            );
            app.run.last_checkpoint = Some(path);
            if app.sampling.checkpoints.len() == CHECKPOINT_SAMPLES_KEPT {
                app.sampling.checkpoints.pop_back();
            }
            app.sampling.checkpoints.push_front(CheckpointSample {
                step,
                best,
                sample: None,
            });
            if app.run.phase != Phase::Stopping {
                let req = app.sampling.request();
                app.send(Command::Sample(req));
            }
        }
        Event::Paused => {
            if app.run.phase == Phase::Running {
                app.run.phase = Phase::Paused;
            }
        }
        Event::Resumed => {
            if app.run.phase == Phase::Paused {
                app.run.phase = Phase::Running;
            }
        }
        Event::Warning(w) => app.message(Level::Warn, w),
        Event::Diverged { step, what } => {
            app.run.phase = Phase::Paused;
            app.run.diverged = true;
            let lr = app
                .base_lr()
                .map_or(String::new(), |lr| format!(" ({lr:.3e} → {:.3e})", lr / 2.0));
            app.error = Some(format!(
                "training diverged at step {step}: {what}. Paused. Press L to halve the learning \
                 rate{lr} and resume, or Esc, then [ / ] and space."
            ));
        }
        Event::Failed(e) => {
            app.run.phase = Phase::Failed;
            app.error = Some(format!("training failed: {e}"));
            app.effect(Effect::Detach);
            if app.quit_wait.is_some() {
                app.do_quit();
            }
        }
        Event::Finished { step } => {
            app.run.phase = Phase::Finished;
            app.run.saved_step = step;
            app.message(Level::Info, format!("run finished at step {step}; checkpoint saved"));
            app.effect(Effect::Detach);
            if app.quit_wait.is_some() {
                app.do_quit();
            } else if app.run.restart_after_stop {
                app.run.restart_after_stop = false;
                app.start_run();
            }
        }
    }
}
