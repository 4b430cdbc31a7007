//! Training that blows up: the check after every update, the roll-back to the last good state,
//! and what the run does next. All of it lives here so that detection (say, a loss far above
//! its running median) and policies (say, retrying with a lower learning rate) can grow in one
//! place; the worker only calls [`Trainer::recover`] and follows [`OnDivergence`].
//!
//! The invariant: the trainer's model and optimizer state are finite between steps. A step
//! that breaks it fails with [`NnError::Diverged`]; `recover` then restores the newest good
//! state, so nothing broken can be sampled, probed or saved afterwards (and
//! [`checkpoint::save`] refuses non-finite tensors besides).

use std::path::Path;

use super::checkpoint::{self, CheckpointData};
use super::trainer::{Trainer, Window};
use crate::nn::error::NnError;
use crate::nn::Model;
use crate::optim::Optimizer;

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

    /// Handle `error` from [`Trainer::train_step`]: restore the newest good state — this run's
    /// `latest.safetensors`, else the checkpoint the run was resumed from, else the initial
    /// parameters from the seed — and say what happened. The optimizer keeps its settings
    /// (a learning rate set during the run stays); its state comes from the restored point.
    pub fn recover(&mut self, error: NnError) -> Divergence {
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
