//! The current run's life: its phase, loss histories and checkpoints, starting it, and what
//! the trainer thread's events do to the app.

use std::path::PathBuf;

use crate::train::protocol::{Command, Event, Metrics, RunInfo, SampleEvent};
use crate::tui::files::Inspection;
use crate::tui::history::{History, Point};

use super::{App, Effect, Level, Screen};

/// Points kept in the full (halved) view of a loss history.
pub const HISTORY_CAPACITY: usize = 2048;
/// Raw points kept in the recent window.
pub const RECENT_WINDOW: usize = 300;
/// Samples kept in the sample pane.
pub const SAMPLES_KEPT: usize = 12;
/// Checkpoints whose sample is kept for comparison.
pub const CHECKPOINT_SAMPLES_KEPT: usize = 4;

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
    /// No run: a checkpoint opened for inspection (the runs screen's `i`, or `rnn-lab
    /// RUN_DIR`); `g`, `p` and `v` ask it, space starts a new run of its experiment.
    Inspecting,
}

impl Phase {
    /// A trainer thread is alive for this run.
    pub fn active(self) -> bool {
        matches!(self, Phase::Starting | Phase::Running | Phase::Paused | Phase::Stopping)
    }
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
    /// Validation minus training loss (nats/token) at the latest evaluation: how much the model
    /// overfits (the status line shows it).
    pub gap: Option<f64>,
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
    /// Training diverged and rolled back, and has not been resumed since: `L` halves the
    /// learning rate and resumes.
    pub diverged: bool,
    /// `v` was pressed and its answer has not come yet (the answer then gets a message).
    pub eval_pending: bool,
    /// The last evaluation of a model that is not training (a finished run's checkpoint, or
    /// the one inspected).
    pub checked: Option<Metrics>,
}

impl RunState {
    /// No run yet.
    pub fn new() -> Self {
        RunState {
            phase: Phase::Idle,
            info: None,
            last: None,
            last_val: None,
            gap: None,
            best_val: None,
            last_task: None,
            train: History::new(HISTORY_CAPACITY, RECENT_WINDOW),
            val: History::new(HISTORY_CAPACITY, RECENT_WINDOW),
            saved_step: 0,
            last_checkpoint: None,
            lr: None,
            restart_after_stop: false,
            diverged: false,
            eval_pending: false,
            checked: None,
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

impl Default for RunState {
    fn default() -> Self {
        Self::new()
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

/// Start a fresh run of the experiment in use (the pending edit first, if any), resuming from
/// `resume` when given.
pub(super) fn start(app: &mut App, resume: Option<PathBuf>) {
    if app.experiment.is_none() {
        app.message(Level::Warn, "no experiment loaded: pick one in the browser (b)");
        return;
    }
    if let Some(p) = app.pending.take() {
        app.use_experiment(p);
    }
    app.run = RunState::new();
    app.run.phase = Phase::Starting;
    app.sampling.samples.clear();
    app.sampling.checkpoints.clear();
    app.probes.latest = None;
    app.screen = Screen::Train;
    app.effect(Effect::Start { resume });
}

/// Ask the trainer to stop (it saves a checkpoint and answers `Finished`).
pub(super) fn stop(app: &mut App) {
    if app.run.phase.active() && app.run.phase != Phase::Stopping {
        app.send(Command::Stop);
        app.run.phase = Phase::Stopping;
    }
}

/// An event from the trainer thread.
pub(super) fn on_event(app: &mut App, ev: Event) {
    match ev {
        // An inspector's: the checkpoint's step and model.
        Event::Started(info) if app.run.phase == Phase::Inspecting => {
            app.run.saved_step = info.start_step;
            app.run.info = Some(*info);
        }
        Event::Started(info) => {
            app.run.saved_step = info.start_step;
            app.message(
                Level::Info,
                format!("training {} → {}", info.model, info.run_dir.display()),
            );
            if let Some(c) = &info.embedding_init {
                app.message(Level::Info, c.clone());
            }
            app.run.info = Some(*info);
            if matches!(app.run.phase, Phase::Starting | Phase::Idle) {
                app.run.phase = Phase::Running;
            }
            // Periodic samples follow the user's settings from the start.
            let req = app.sampling.request();
            app.send(Command::SetSampling(req));
        }
        Event::Step(m) => step(app, m),
        Event::Sample(s) => {
            let sm = &mut app.sampling;
            for c in sm
                .checkpoints
                .iter_mut()
                .filter(|c| c.step == s.step && c.sample.is_none())
            {
                c.sample = Some((*s).clone());
            }
            if sm.samples.len() == SAMPLES_KEPT {
                sm.samples.pop_back();
            }
            sm.samples.push_front(*s);
            sm.scroll = 0;
        }
        Event::Probe(r) => app.probes.latest = Some(*r),
        Event::Checkpointed { path, step, best } => checkpointed(app, path, step, best),
        Event::Paused => {
            if app.run.phase == Phase::Running {
                app.run.phase = Phase::Paused;
                // The pause that follows a divergence: say so, and how to go on.
                if app.run.diverged {
                    let lr = app
                        .base_lr()
                        .map_or(String::new(), |lr| format!(" ({lr:.3e} → {:.3e})", lr / 2.0));
                    if let Some(e) = &mut app.error {
                        e.push_str(&format!(
                            " Paused. Press L to halve the learning rate{lr} and resume, or Esc, \
                             then [ / ] and space."
                        ));
                    }
                }
            }
        }
        Event::Resumed => {
            if app.run.phase == Phase::Paused {
                app.run.phase = Phase::Running;
            }
        }
        Event::Warning(w) => app.message(Level::Warn, w),
        // `what` says where the trainer rolled back to; what follows says whether the run goes
        // on: `Paused` (it waits for commands), or the channel closing (nothing good to roll
        // back to: the run ended without saving).
        Event::Diverged { step, what } => {
            app.run.diverged = true;
            app.error = Some(format!("training diverged at step {step}: {what}."));
        }
        Event::Failed(e) => {
            app.run.phase = Phase::Failed;
            app.error = Some(format!("training failed: {e}"));
            ended(app);
        }
        Event::Finished { step } => {
            app.run.phase = Phase::Finished;
            app.run.saved_step = step;
            app.message(Level::Info, format!("run finished at step {step}; checkpoint saved"));
            ended(app);
            if !app.quit && app.run.restart_after_stop {
                app.run.restart_after_stop = false;
                start(app, None);
            }
        }
    }
}

/// The trainer's channel closed without a last event.
pub(super) fn trainer_gone(app: &mut App) {
    if app.run.phase.active() {
        app.run.phase = Phase::Failed;
        // After a divergence with nothing good to roll back to, the trainer ends on its own.
        if std::mem::take(&mut app.run.diverged) {
            if let Some(e) = &mut app.error {
                e.push_str(" The run ended; nothing more was saved.");
            }
        } else {
            app.message(Level::Warn, "the trainer thread ended without finishing");
        }
    }
    ended(app);
}

/// The run is over: drop its channels, and quit if the user was waiting for that.
fn ended(app: &mut App) {
    app.run.diverged = false;
    app.effect(Effect::Detach);
    if app.quit_wait.is_some() {
        app.do_quit();
    }
}

/// A run directory or checkpoint was read for inspection: show its experiment and history,
/// and start the inspector (its `Started` says the checkpoint's step).
pub(super) fn inspected(app: &mut App, i: Inspection) {
    if app.run.phase.active() {
        app.message(Level::Warn, "a run is active: stop it first (x on the training screen)");
        return;
    }
    app.use_experiment(i.experiment);
    let mut run = RunState::new();
    run.phase = Phase::Inspecting;
    if let Some(entry) = i.run {
        run.best_val = entry.best_val;
        run.last_val = entry.val.last().map(|p| p.value);
        run.train = entry.train;
        run.val = entry.val;
    }
    run.last = i.last;
    run.last_task = i.last_task;
    run.last_checkpoint = Some(i.checkpoint.clone());
    app.run = run;
    app.sampling.samples.clear();
    app.sampling.checkpoints.clear();
    app.probes.latest = None;
    app.screen = Screen::Train;
    app.focus = super::Pane::Loss;
    app.message(
        Level::Info,
        format!(
            "inspecting {}: g samples, p probes, v evaluates; space starts a new run, t on the runs screen continues this one",
            i.checkpoint.display()
        ),
    );
    app.effect(Effect::Inspect {
        checkpoint: i.checkpoint,
        command: None,
    });
}

/// An evaluation by a model that is not training (an inspector's answer to `v`): its
/// training figures are NaN, so only the validation side is taken.
fn checked(app: &mut App, m: Metrics) {
    let run = &mut app.run;
    record_validation(run, &m);
    run.checked = Some(m);
}

/// The validation side of `m`, as a trainer's step and an inspector's evaluation both record
/// it: the loss joins the validation history and the last and best figures, and task figures
/// replace the last ones. Returns the validation loss, if `m` has one.
fn record_validation(run: &mut RunState, m: &Metrics) -> Option<f64> {
    if let Some(v) = m.val_loss {
        run.val.push(Point {
            step: m.step,
            time_s: m.time_s,
            value: v,
        });
        run.last_val = Some(v);
        if v.is_finite() && run.best_val.is_none_or(|b| v < b) {
            run.best_val = Some(v);
        }
    }
    if m.task.is_some() {
        run.last_task.clone_from(&m.task);
    }
    m.val_loss
}

/// The message that answers `v`: the validation figures at that step.
fn evaluation_message(m: &Metrics) -> Option<String> {
    let v = m.val_loss?;
    Some(match &m.task {
        Some(t) => format!(
            "validation at step {}: {} (loss {v:.4})",
            m.step,
            crate::headless::task_metric(t)
        ),
        None => format!(
            "validation at step {}: {:.4} bits/token, perplexity {:.3} (loss {v:.4} nats)",
            m.step,
            m.bits_per_token,
            m.bits_per_token.exp2()
        ),
    })
}

fn step(app: &mut App, m: Metrics) {
    // The answer to `v` (a trainer's, or any inspector's): say what it found.
    if m.val_loss.is_some() && (app.run.eval_pending || !app.run.phase.active()) {
        app.run.eval_pending = false;
        if let Some(text) = evaluation_message(&m) {
            app.message(Level::Info, text);
        }
    }
    if !app.run.phase.active() {
        checked(app, m);
        return;
    }
    let run = &mut app.run;
    run.train.push(Point {
        step: m.step,
        time_s: m.time_s,
        value: m.train_loss,
    });
    if let Some(v) = record_validation(run, &m) {
        run.gap = (v.is_finite() && m.train_loss.is_finite()).then_some(v - m.train_loss);
    }
    run.last = Some(m);
}

fn checkpointed(app: &mut App, path: PathBuf, step: u64, best: bool) {
    app.run.saved_step = step;
    let tag = if best { " (best)" } else { "" };
    app.message(
        Level::Info,
        format!("checkpoint at step {step}{tag} → {}", path.display()),
    );
    app.run.last_checkpoint = Some(path);
    let sm = &mut app.sampling;
    if sm.checkpoints.len() == CHECKPOINT_SAMPLES_KEPT {
        sm.checkpoints.pop_back();
    }
    sm.checkpoints.push_front(CheckpointSample {
        step,
        best,
        sample: None,
    });
    // The checkpoint takes the sample of its own step when one is scheduled there (it follows
    // this event). Asking for one here gave a second sample a step later (200 and 201).
}
