//! The training screen: its panes, the run-control keys, the sampling settings and the loss
//! chart's settings.

use std::collections::VecDeque;

use crate::config::Experiment;
use crate::train::protocol::{Command, SampleEvent, SampleRequest};
use crate::tui::action::TrainAction;

use super::run::{self, CheckpointSample, Phase};
use super::{App, Effect, Level, PromptKind};

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
/// Temperature before an experiment sets one, in [`TEMPERATURE_STEP`]s (0.8).
const DEFAULT_TEMP_STEPS: u32 = 16;

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
    /// Every pane, in Tab order.
    pub const ALL: [Pane; 3] = [Pane::Loss, Pane::Samples, Pane::Probes];

    /// The next (or previous) pane in Tab order, wrapping.
    fn cycle(self, forward: bool) -> Pane {
        let n = Self::ALL.len();
        let i = Self::ALL.iter().position(|&p| p == self).unwrap_or(0);
        let j = if forward { (i + 1) % n } else { (i + n - 1) % n };
        Self::ALL[j]
    }
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
    /// Settings before an experiment is loaded.
    pub fn new() -> Self {
        SamplingState {
            temp_steps: DEFAULT_TEMP_STEPS,
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

    /// Take the experiment's `[sampling]` settings.
    pub(super) fn apply_experiment(&mut self, exp: &Experiment) {
        let t = exp.sampling.temperature / TEMPERATURE_STEP;
        self.temp_steps = if t.is_finite() {
            t.round().clamp(0.0, TEMPERATURE_MAX / TEMPERATURE_STEP) as u32
        } else {
            DEFAULT_TEMP_STEPS
        };
        self.top_k = exp.sampling.top_k;
        self.prime = exp.sampling.prime.clone();
        self.length = exp.sampling.length;
    }

    /// One `+` (up) or `-` press: a step of 0.05 within [0, 2].
    fn step_temperature(&mut self, up: bool) {
        let max = (TEMPERATURE_MAX / TEMPERATURE_STEP).round() as u32;
        self.temp_steps = if up {
            (self.temp_steps + 1).min(max)
        } else {
            self.temp_steps.saturating_sub(1)
        };
    }

    /// One `K` (more tokens) or `k` (fewer) press along [`TOP_K_STEPS`].
    fn step_top_k(&mut self, more: bool) {
        // 0 (all tokens) is the top of the scale; any other k sits at the first step ≥ k.
        let last = TOP_K_STEPS.len() - 1;
        let k = self.top_k;
        let i = if k == 0 {
            last
        } else {
            TOP_K_STEPS.iter().position(|&s| s != 0 && s >= k).unwrap_or(last)
        };
        let i = if more { (i + 1).min(last) } else { i.saturating_sub(1) };
        self.top_k = TOP_K_STEPS[i];
    }
}

impl Default for SamplingState {
    fn default() -> Self {
        Self::new()
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

impl Default for ChartSettings {
    /// β = 0.9, linear axes by step, the whole run.
    fn default() -> Self {
        ChartSettings {
            smoothing: 3,
            log_y: false,
            x_time: false,
            recent: false,
        }
    }
}

/// The training screen's keys.
pub(super) fn update(app: &mut App, action: TrainAction) {
    use TrainAction as T;
    match action {
        T::StartPause => match app.run.phase {
            Phase::Idle | Phase::Finished | Phase::Failed => run::start(app, None),
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
        T::StepOnce => match app.run.phase {
            Phase::Paused => app.send(Command::StepOnce),
            Phase::Running => {
                app.send(Command::Pause);
                app.run.phase = Phase::Paused;
                app.message(Level::Info, "paused: press s again to run one step");
            }
            _ => app.message(Level::Info, "start training first (space)"),
        },
        T::SaveNow => {
            if app.run.phase.active() {
                app.send(Command::SaveNow);
                app.message(Level::Info, "saving a checkpoint…");
            } else {
                app.message(Level::Info, "no run to save");
            }
        }
        T::Stop => {
            if app.run.phase.active() && app.run.phase != Phase::Stopping {
                run::stop(app);
                app.message(Level::Info, "stopping: saving the final checkpoint…");
            }
        }
        T::Restart => restart(app),
        T::LrUp | T::LrDown => {
            if let Some(lr) = app.base_lr() {
                let lr = if action == T::LrUp {
                    lr * LR_FACTOR
                } else {
                    lr / LR_FACTOR
                };
                app.run.lr = Some(lr);
                app.send(Command::SetLr(lr));
                app.message(Level::Info, format!("learning rate → {lr:.3e}"));
            }
        }
        T::ResumeLowerLr => match (app.run.phase, app.base_lr()) {
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
        T::TempUp | T::TempDown => {
            app.sampling.step_temperature(action == T::TempUp);
            sampling_changed(app);
        }
        T::TopKUp | T::TopKDown => {
            app.sampling.step_top_k(action == T::TopKUp);
            sampling_changed(app);
        }
        T::SampleNow => {
            let req = app.sampling.request();
            ask_model(app, Command::Sample(req));
        }
        T::EditPrime => {
            let text = app.sampling.prime.clone();
            app.open_prompt(PromptKind::Prime, text);
        }
        T::ProbeNow => probe(app, None),
        T::ProbeText => app.open_prompt(PromptKind::ProbeText, ""),
        T::SmoothMore => app.chart.smoothing = (app.chart.smoothing + 1).min(SMOOTHING_STEPS.len() - 1),
        T::SmoothLess => app.chart.smoothing = app.chart.smoothing.saturating_sub(1),
        T::ToggleLogY => app.chart.log_y = !app.chart.log_y,
        T::ToggleXTime => app.chart.x_time = !app.chart.x_time,
        T::ToggleRecent => app.chart.recent = !app.chart.recent,
        T::NextPane => app.focus = app.focus.cycle(true),
        T::PrevPane => app.focus = app.focus.cycle(false),
        T::ScrollUp | T::ScrollDown => {
            if app.focus == Pane::Samples {
                let s = &mut app.sampling.scroll;
                *s = if action == T::ScrollUp {
                    s.saturating_sub(1)
                } else {
                    s.saturating_add(1)
                };
            }
        }
    }
}

/// `R`: stop this run (saving it) and start again, with the edited experiment if any.
fn restart(app: &mut App) {
    if app.experiment.is_none() {
        return;
    }
    if app.run.phase.active() {
        app.run.restart_after_stop = true;
        run::stop(app);
        app.message(Level::Info, "restarting: saving this run first…");
    } else {
        run::start(app, None);
    }
}

/// The prompt's prime text was entered.
pub(super) fn set_prime(app: &mut App, text: String) {
    app.sampling.prime = text;
    sampling_changed(app);
}

/// The prompt's probe text was entered (empty = the default snippet).
pub(super) fn probe_text(app: &mut App, text: String) {
    probe(app, Some(text).filter(|t| !t.is_empty()));
}

fn probe(app: &mut App, text: Option<String>) {
    ask_model(app, Command::Probe(text));
}

/// A command that needs the model but no training (`Sample`, `Probe`): to the trainer while
/// a run is active (running or paused), else to an inspector holding the run's last
/// checkpoint, so `g` and `p` work after the run has finished too.
fn ask_model(app: &mut App, cmd: Command) {
    if app.run.phase.active() {
        app.send(cmd);
    } else if let Some(checkpoint) = app.run.last_checkpoint.clone() {
        app.effect(Effect::Inspect {
            checkpoint,
            command: cmd,
        });
    } else {
        app.message(Level::Info, "start training first (space)");
    }
}

fn sampling_changed(app: &mut App) {
    let req = app.sampling.request();
    app.send(Command::SetSampling(req));
}
