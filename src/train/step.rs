//! One training step: forward → zero_grad → backward → clip → update.

use std::time::Instant;

use super::divergence::Blowup;
use super::trainer::Trainer;
use crate::nn::dropout::step_key;
use crate::optim::clip;

impl Trainer {
    /// One optimizer step on the batch of the current step. On error (a non-finite loss,
    /// gradient, parameter or optimizer state, or a loss far above its running median) the step
    /// does not count: the caller hands the error to [`Trainer::recover`] (`divergence.rs`).
    pub fn train_step(&mut self) -> Result<(), Blowup> {
        super::fault::before_step(self);
        let t0 = Instant::now();
        // Batches are a pure function of the step (resuming at step k sees the same batches).
        let (batch, reset) = self.batcher.batch(self.step);
        // Throughput counts the tokens read (a many-to-one head scores one per sequence).
        let read = batch.real_steps();
        if reset {
            self.shards.reset_state(); // a new epoch or a new set of lines: a⟨0⟩ = c⟨0⟩ = 0
        }
        // Dropout masks of this step: a pure function of (seed, step), so a resumed run draws
        // the masks the uninterrupted one would have.
        let dropout = self.exp.model.dropout;
        self.shards
            .set_dropout(Some((dropout, step_key(self.exp.seed, self.step))));
        // forward → zero_grad → backward, per shard of batch rows: each shard runs the forward
        // pass (caching what backward needs), overwrites its gradient buffer (zero_grad) and
        // backpropagates through time; `grads` ← Σ_k (B_k / B) g_k = ∂(Σ loss / B)/∂θ.
        let loss = self.shards.forward_backward(&self.model, batch, &mut self.grads)?;
        // Loss blow-up: refuse the step (before its update) when the mean loss per token is far
        // above its running median (`divergence.rs`).
        let tr = &self.exp.training;
        let mean = loss.sum / loss.count.max(1) as f64;
        self.losses
            .check_and_push(mean, tr.divergence_factor, tr.divergence_window)?;
        // clip: each element to ±clip_value, then g ← g · clip_norm / ‖g‖ if ‖g‖ > clip_norm;
        // ‖g‖ before clipping is what the metrics report.
        let t = &self.exp.training.optim;
        let norm = clip(&mut self.grads, t.clip_norm, t.clip_value)?;
        // update: θ ← θ − lr · direction(g) (SGD, Adagrad, RMSprop or Adam).
        let lr = self.opt.step(&mut self.model.params, &self.grads);
        self.check_finite()?;
        // Truncated BPTT: the next chunk starts from this chunk's last a⟨t⟩, c⟨t⟩.
        self.shards.carry_state(&self.model);

        self.step += 1;
        self.last_norm = norm;
        self.last_lr = lr;
        let dt = t0.elapsed();
        self.active += dt;
        self.window.time += dt;
        self.window.loss += loss.sum;
        self.window.count += loss.count;
        self.window.tokens += read;
        Ok(())
    }
}
