//! Training that blows up: the checks of every step, the roll-back to the last good state, and
//! what the run does next ([`OnDivergence`]: pause, stop, or retry with a lower learning rate).
//! The worker only calls [`Trainer::recover`] and follows the policy.
//!
//! Two checks, both in the step:
//! - **non-finite**: a loss, gradient, parameter or optimizer state that is NaN or ±∞
//!   ([`NnError::Diverged`]);
//! - **loss blow-up**: the step's training loss (per token) above `divergence_factor` × the
//!   median of the last `divergence_window` step losses, and above the first loss of the run
//!   (a model is never expected to get worse than it started; this keeps tiny losses near 0,
//!   where ratios are noisy, from tripping it). Caught before the update is applied, so a loss
//!   on its way to NaN is stopped while everything is still finite.
//!
//! The invariant: the trainer's model and optimizer state are finite between steps. A step
//! that breaks it fails with a [`Blowup`]; `recover` then restores the newest good state, so
//! nothing broken can be sampled, probed or saved afterwards (and [`checkpoint::save`] refuses
//! non-finite tensors besides).

use std::collections::VecDeque;

use std::path::Path;

use super::checkpoint::{self, CheckpointData};
use super::trainer::{Trainer, Window};
use crate::nn::error::NnError;
use crate::nn::Model;
use crate::optim::Optimizer;

/// Why a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum Blowup {
    /// A loss, gradient, parameter or optimizer state became NaN or ±∞.
    #[error(transparent)]
    NonFinite(#[from] NnError),
    /// The loss jumped far above its recent level.
    #[error("loss blow-up: training loss {loss:.4} is above {factor} × its running median {median:.4} (last {window} steps)")]
    LossSpike {
        /// The step's mean training loss per token.
        loss: f64,
        /// Median of the recent step losses.
        median: f64,
        /// `divergence_factor`.
        factor: f64,
        /// Losses the median was taken over.
        window: usize,
    },
}

/// The recent step losses, for the blow-up check.
#[derive(Clone, Debug, Default)]
pub struct LossWindow {
    losses: VecDeque<f64>,
    first: Option<f64>,
}

impl LossWindow {
    /// Losses needed before the check starts (or the window, when smaller).
    pub const WARM_UP: usize = 10;

    /// Check `loss` against the window (`factor` 0 = off), then remember it when it passes.
    ///
    /// # Errors
    /// [`Blowup::LossSpike`] when `loss` > `factor` × median of the last `window` losses and
    /// `loss` > the first loss seen; the loss is then not remembered.
    pub fn check_and_push(&mut self, loss: f64, factor: f64, window: usize) -> Result<(), Blowup> {
        if !loss.is_finite() {
            return Ok(()); // the non-finite check reports it
        }
        let window = window.max(1);
        if factor > 0.0 && self.losses.len() >= Self::WARM_UP.min(window) {
            let median = self.median();
            let first = self.first.unwrap_or(f64::NEG_INFINITY);
            if loss > factor * median && loss > first {
                return Err(Blowup::LossSpike {
                    loss,
                    median,
                    factor,
                    window: self.losses.len(),
                });
            }
        }
        self.first.get_or_insert(loss);
        if self.losses.len() >= window {
            self.losses.pop_front();
        }
        self.losses.push_back(loss);
        Ok(())
    }

    /// Median of the losses in the window (NaN when empty). O(W log W), W ≤ a few hundred:
    /// nothing beside a training step.
    pub fn median(&self) -> f64 {
        let mut v: Vec<f64> = self.losses.iter().copied().collect();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

/// What a run does after a divergence, once it has rolled back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnDivergence {
    /// Send [`Event::Diverged`](super::protocol::Event::Diverged) and
    /// [`Event::Paused`](super::protocol::Event::Paused), then wait for commands (the TUI: lower
    /// the learning rate and resume).
    #[default]
    Pause,
    /// Send `Event::Diverged` and end the run without saving anything more
    /// ([`RunEnd::Diverged`](super::worker::RunEnd::Diverged); headless: exit status 3).
    Stop,
    /// Halve the learning rate and go on from the restored state, at most `max_retries` times
    /// in the run; then as [`OnDivergence::Stop`] (headless `--on-divergence lower-lr`).
    LowerLr {
        /// Retries allowed in the run.
        max_retries: u32,
    },
}

/// A divergence, after the roll-back.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The step that failed (1-based: the step being computed).
    pub step: u64,
    /// What went wrong and where the run went back to, one line.
    pub what: String,
    /// False when no good state could be restored: the run must end without saving.
    pub recovered: bool,
}

impl Trainer {
    /// Fail with [`NnError::Diverged`] if a parameter or the optimizer state holds NaN or ±∞.
    /// Called after every update; the scan is O(parameters), the step O(B · T · parameters).
    pub(super) fn check_finite(&self) -> Result<(), NnError> {
        let (p, o) = (&self.model.params, &self.opt);
        let found = [
            ("parameter", p),
            ("optimizer state of", &o.s1),
            ("optimizer state of", &o.s2),
        ]
        .into_iter()
        .find_map(|(kind, list)| list.first_non_finite().map(|(i, v)| (kind, &list.names[i], v)));
        match found {
            Some((kind, name, v)) => Err(NnError::Diverged {
                what: format!("{kind} {name}"),
                value: format!("{v}"),
            }),
            None => Ok(()),
        }
    }

    /// Handle `error` from [`Trainer::train_step`] (a [`Blowup`]): restore the newest good state — this run's
    /// `latest.safetensors`, else the checkpoint the run was resumed from, else the initial
    /// parameters from the seed — and say what happened. The optimizer keeps its settings
    /// (a learning rate set during the run stays); its state comes from the restored point.
    pub fn recover(&mut self, error: Blowup) -> Divergence {
        let step = self.step + 1;
        let mut what = error.to_string();
        let latest = self.run_dir.join("latest.safetensors");
        let restored = if let Some(c) = self.restore_from(&latest) {
            self.saved_step = Some(c);
            Some(format!("rolled back to the checkpoint of step {c}"))
        } else if let Some(c) = self.resumed_from.clone().and_then(|p| self.restore_from(&p)) {
            Some(format!(
                "rolled back to the checkpoint the run was resumed from (step {c})"
            ))
        } else {
            self.restore_initial()
                .then(|| "no checkpoint had been saved: rolled back to the initial parameters (step 0)".to_string())
        };
        self.window = Window::default();
        let recovered = restored.is_some();
        what.push_str("; ");
        what.push_str(&restored.unwrap_or_else(|| "no good state to roll back to".into()));
        Divergence { step, what, recovered }
    }

    /// Load model, optimizer state, step and carried state from a checkpoint of this run's
    /// model; the step restored.
    fn restore_from(&mut self, path: &Path) -> Option<u64> {
        let c: CheckpointData = checkpoint::load(path).ok()?;
        if c.model.spec != self.model.spec {
            return None;
        }
        self.model = c.model;
        match c.optim {
            Some(o) if o.s1.names == self.opt.s1.names && o.s2.names == self.opt.s2.names => {
                (self.opt.s1, self.opt.s2, self.opt.t) = (o.s1, o.s2, o.t);
            }
            _ => self.reset_optimizer_state(),
        }
        self.step = c.step;
        match c.carried {
            Some((b, st)) => self.shards.import_state(&self.model, b, &st),
            None => self.shards.reset_state(),
        }
        Some(c.step)
    }

    /// The parameters the run would start with from scratch (the seed decides them), step 0.
    fn restore_initial(&mut self) -> bool {
        let Ok(model) = Model::new(self.model.spec.clone(), self.exp.seed) else {
            return false;
        };
        self.model = model;
        self.reset_optimizer_state();
        self.step = 0;
        self.shards.reset_state();
        true
    }

    fn reset_optimizer_state(&mut self) {
        let spec = self.opt.spec;
        if let Ok(o) = Optimizer::new(spec, &self.model.params) {
            self.opt = o;
        }
    }
}
