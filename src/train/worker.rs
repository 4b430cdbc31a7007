//! The trainer thread: [`start`] spawns it (for the TUI and headless alike) and [`run`] is its
//! loop. The thread owns the [`Trainer`]; the UI owns its state; they exchange owned messages:
//! [`Command`]s in, drained between steps with `try_recv` (blocking `recv` while paused), and
//! [`Event`]s out. A failed send or a closed command channel means the other side is gone: the
//! run saves what it trained and ends.
//!
//! The loop knows nothing of the task: it steps, logs, evaluates, checkpoints, samples and
//! probes through the trainer's methods, on the intervals of `[training]`.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use super::divergence::OnDivergence;
use super::prepare::{RunError, RunOptions};
use super::protocol::{Command, Event, SampleRequest};
use super::trainer::Trainer;
use crate::config::{is_due, Experiment};

/// The answer to `Command::Evaluate` when the experiment has no validation data.
pub const NO_VALIDATION: &str = "no validation data to evaluate on: the validation split is empty";

/// How a run ended (the trainer thread's result).
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    /// All steps done, the time limit reached, or stopped (`Command::Stop`, the stop flag):
    /// the final evaluation and checkpoint are done and `Event::Finished` was sent.
    Finished {
        /// Last step done.
        step: u64,
    },
    /// The other side hung up (a send failed, or the command channel closed): what was trained
    /// has been saved.
    Disconnected {
        /// Last step done.
        step: u64,
    },
    /// A checkpoint could not be written (a full disk, a read-only folder) and the run ended
    /// there (every policy but [`OnDivergence::Pause`], which pauses instead); the previous
    /// checkpoint is intact. `Event::Failed` was sent.
    SaveFailed {
        /// Last step done.
        step: u64,
        /// What failed, one line.
        what: String,
    },
    /// Training diverged and the run ended ([`OnDivergence::Stop`], or nothing good to roll
    /// back to); nothing more was saved.
    Diverged {
        /// The step that failed.
        step: u64,
        /// What went wrong and where the run rolled back to.
        what: String,
    },
}

/// A running trainer thread and its two channels.
pub struct Worker {
    /// Commands to the trainer.
    pub commands: Sender<Command>,
    /// Events from the trainer.
    pub events: Receiver<Event>,
    /// The thread: how the run ended, or why it could not start (also sent as `Event::Failed`).
    pub thread: JoinHandle<Result<RunEnd, RunError>>,
}

/// Start a run on a new thread: prepare it (data, model, run directory) there, so the caller
/// never waits, then [`run`] it. The one place a trainer thread is spawned.
///
/// # Errors
/// Only when the operating system cannot start a thread.
pub fn start(exp: Experiment, opts: RunOptions) -> std::io::Result<Worker> {
    let (commands, crx) = mpsc::channel();
    let (etx, events) = mpsc::channel();
    let thread =
        std::thread::Builder::new()
            .name("trainer".into())
            .spawn(move || match Trainer::prepare(exp, &opts) {
                Ok(t) => Ok(run(t, crx, etx)),
                Err(e) => {
                    let _ = etx.send(Event::Failed(e.to_string()));
                    Err(e)
                }
            })?;
    Ok(Worker {
        commands,
        events,
        thread,
    })
}

/// The trainer thread's loop: steps until done, stopped or disconnected, answering commands
/// between steps. Runs on the caller's thread (tests queue commands before calling it).
pub fn run(trainer: Trainer, commands: Receiver<Command>, events: Sender<Event>) -> RunEnd {
    Loop {
        t: trainer,
        commands,
        events,
        paused: false,
        step_once: false,
        gone: false,
        draws: 0,
        retries: 0,
        save_error: None,
    }
    .run()
}

/// What the command drain decided.
enum Next {
    /// Go on stepping.
    Step,
    /// `Command::Stop`: end the run.
    Stop,
    /// The other side is gone: end the run.
    Gone,
}

struct Loop {
    t: Trainer,
    commands: Receiver<Command>,
    events: Sender<Event>,
    paused: bool,
    /// `StepOnce` while paused: one step, then paused again.
    step_once: bool,
    /// A send failed: the receiver is gone.
    gone: bool,
    /// Samples asked for by hand so far: each draws anew (its seed counts them).
    draws: u64,
    /// Divergences retried with a lower learning rate ([`OnDivergence::LowerLr`]).
    retries: u32,
    /// A periodic checkpoint failed to save: what failed (handled after the step's work).
    save_error: Option<String>,
}

impl Loop {
    fn send(&mut self, e: Event) {
        if self.events.send(e).is_err() {
            self.gone = true;
        }
    }

    fn run(mut self) -> RunEnd {
        self.send(Event::Started(Box::new(self.t.info())));
        for note in std::mem::take(&mut self.t.notes) {
            self.send(Event::Warning(note));
        }
        if self.gone {
            return RunEnd::Disconnected { step: self.t.step }; // nothing trained, nothing to save
        }
        if self.t.exp.training.probe_every.is_some() {
            self.probe();
        }
        loop {
            match self.drain() {
                Next::Step if !self.gone => {}
                Next::Stop => return self.finish(),
                Next::Step | Next::Gone => {
                    self.gone = true;
                    return self.finish();
                }
            }
            if self.t.done() {
                return self.finish();
            }
            if let Err(e) = self.t.train_step() {
                let d = self.t.recover(e);
                let (step, what) = (d.step, d.what.clone());
                self.send(Event::Diverged { step, what });
                let retry = match self.t.on_divergence {
                    OnDivergence::LowerLr { max_retries } if d.recovered && self.retries < max_retries => {
                        self.retries += 1;
                        Some(max_retries)
                    }
                    _ => None,
                };
                if let Some(max) = retry {
                    let lr = self.t.base_lr() / 2.0;
                    let _ = self.t.set_lr(lr);
                    self.send(Event::Warning(format!(
                        "training diverged at step {}: {}; retrying with the learning rate halved to {lr:.3e} (retry {} of {max})",
                        d.step, d.what, self.retries
                    )));
                    continue;
                }
                if !d.recovered || self.t.on_divergence != OnDivergence::Pause {
                    let what = if self.retries > 0 {
                        format!(
                            "{} (after {} retries with a halved learning rate)",
                            d.what, self.retries
                        )
                    } else {
                        d.what
                    };
                    return RunEnd::Diverged { step: d.step, what };
                }
                self.paused = true;
                self.step_once = false;
                self.send(Event::Paused);
                continue;
            }
            let forced = std::mem::take(&mut self.step_once);
            self.periodic(forced);
            if let Some(what) = self.save_error.take() {
                if self.t.on_divergence != OnDivergence::Pause {
                    return self.end_save_failed(what);
                }
                // Interactive: keep the model in memory and let the user fix the disk.
                self.send(Event::Warning(format!(
                    "{what}; training paused: free some space or fix the folder, then S saves again and space goes on"
                )));
                self.paused = true;
                self.step_once = false;
                self.send(Event::Paused);
            }
        }
    }

    /// Answer the pending commands (waiting for one while paused).
    fn drain(&mut self) -> Next {
        while !self.step_once {
            let cmd = if self.paused {
                match self.commands.recv() {
                    Ok(c) => c,
                    Err(_) => return Next::Gone,
                }
            } else {
                match self.commands.try_recv() {
                    Ok(c) => c,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Next::Gone,
                }
            };
            match cmd {
                Command::Pause => {
                    self.paused = true;
                    self.send(Event::Paused);
                }
                Command::Resume => {
                    self.paused = false;
                    self.send(Event::Resumed);
                }
                Command::StepOnce => self.step_once = true,
                Command::SaveNow => {
                    if let Err(what) = self.checkpoint(false) {
                        self.send(Event::Warning(what));
                    }
                }
                Command::SetLr(lr) => {
                    if let Err(w) = self.t.set_lr(lr) {
                        self.send(Event::Warning(w));
                    }
                }
                Command::Sample(req) => {
                    self.draws += 1;
                    self.sample(&req, self.draws);
                }
                Command::SetSampling(req) => self.t.set_sampling(req),
                Command::Probe(text) => {
                    for w in text.map(|t| self.t.set_probe_text(&t)).unwrap_or_default() {
                        self.send(Event::Warning(w));
                    }
                    self.probe();
                }
                Command::Evaluate => {
                    if self.t.has_validation() {
                        self.log(true);
                    } else {
                        self.send(Event::Warning(NO_VALIDATION.into()));
                    }
                }
                Command::Stop => return Next::Stop,
            }
            if self.gone {
                return Next::Gone;
            }
        }
        Next::Step
    }

    /// After a step: the metrics line, evaluation, checkpoint, sample and probe that are due
    /// (`forced`: a `StepOnce` step, always logged). The last step is evaluated here, so that
    /// the run's final line holds both losses.
    fn periodic(&mut self, forced: bool) {
        let last = self.t.done();
        let (step, tr) = (self.t.step, &self.t.exp.training);
        let log = forced || step.is_multiple_of(tr.log_every.get());
        let eval = last || is_due(tr.eval_every, step);
        let ckpt = is_due(tr.checkpoint_every, step);
        let sample = is_due(tr.sample_every, step);
        let probe = is_due(tr.probe_every, step);
        if log || eval {
            self.log(eval);
        }
        // A best checkpoint at this step has written latest.safetensors already.
        if ckpt && !self.t.is_saved() {
            if let Err(e) = self.checkpoint(false) {
                self.save_error.get_or_insert(e);
            }
        }
        if sample {
            let req = self.t.sampling().clone();
            self.sample(&req, 0);
        }
        if probe {
            self.probe();
        }
    }

    /// A metrics line (with an evaluation when `eval`); the best checkpoint when it improved.
    fn log(&mut self, eval: bool) {
        if let Some((m, best)) = self.t.log(eval) {
            self.send(Event::Step(m));
            if best {
                if let Err(e) = self.checkpoint(true) {
                    self.save_error.get_or_insert(e);
                }
            }
        }
    }

    /// Save; on failure the error (one line), which the caller reports once: as the run's end
    /// (headless), as the reason for the pause (interactive), or as a warning (`S`).
    fn checkpoint(&mut self, best: bool) -> Result<(), String> {
        match self.t.save(best) {
            Ok(path) => {
                let step = self.t.step;
                self.send(Event::Checkpointed { path, step, best });
                Ok(())
            }
            Err(e) => Err(format!("checkpoint not saved: {e}")),
        }
    }

    /// End the run after a failed save: what was trained since the last good checkpoint is
    /// lost, the checkpoint itself is intact.
    fn end_save_failed(mut self, what: String) -> RunEnd {
        if self.t.has_unlogged_steps() {
            let _ = self.t.log(false);
        }
        let step = self.t.step;
        let what = format!("{what}; the run stopped at step {step} (the previous checkpoint is intact)");
        self.send(Event::Failed(what.clone()));
        RunEnd::SaveFailed { step, what }
    }

    fn sample(&mut self, req: &SampleRequest, draw: u64) {
        let (ev, warning) = self.t.sample_now(req, draw);
        if let Some(w) = warning {
            self.send(Event::Warning(w));
        }
        self.send(Event::Sample(Box::new(ev)));
    }

    fn probe(&mut self) {
        if let Some(p) = self.t.probe_now() {
            self.send(Event::Probe(Box::new(p)));
        }
    }

    /// End the run: the last metrics line (with an evaluation unless the other side is gone or
    /// the last one is at this step), the best checkpoint if it improved, `latest.safetensors` if
    /// steps are unsaved, then `Event::Finished`.
    fn finish(mut self) -> RunEnd {
        let eval = !self.gone && !self.t.evaluated_now();
        if self.t.has_unlogged_steps() || eval {
            self.log(eval);
        }
        if !self.t.is_saved() {
            if let Err(e) = self.checkpoint(false) {
                if !self.gone {
                    return self.end_save_failed(e);
                }
            }
        }
        let step = self.t.step;
        self.send(Event::Finished { step });
        if self.gone {
            RunEnd::Disconnected { step }
        } else {
            RunEnd::Finished { step }
        }
    }
}
