//! Data parallelism over the rows of a batch: the B sequences are split into contiguous row
//! shards, each shard runs forward and backward on its own thread with its own workspace and
//! gradient buffer, and the gradients are combined weighted by shard size. Sequences are
//! independent through time, so this is exact up to floating-point summation order.
//! Each shard always gets the same rows, so the carried truncated-BPTT state stays with them.

use std::ops::Range;

use super::batch::{Batch, Targets};
use super::model::{LossStats, Model, Score};
use super::params::Params;
use super::scalar::Scalar;
use super::workspace::Workspace;
use crate::nn::error::NnError;

impl Batch {
    /// The sub-batch of sequences `rows` (time-major layout kept).
    pub fn rows(&self, rows: Range<usize>) -> Batch {
        let (b, n) = (self.batch, rows.len());
        let pick = |v: &[u32]| -> Vec<u32> {
            (0..self.steps)
                .flat_map(|t| v[t * b + rows.start..t * b + rows.end].iter().copied())
                .collect()
        };
        let mask = if self.mask.is_empty() {
            Vec::new()
        } else {
            (0..self.steps)
                .flat_map(|t| self.mask[t * b + rows.start..t * b + rows.end].iter().copied())
                .collect()
        };
        let targets = match &self.targets {
            Targets::PerStep(y) => Targets::PerStep(pick(y)),
            Targets::Class(y) => Targets::Class(y[rows.clone()].to_vec()),
            Targets::Real(y) => {
                let k = y.len() / b.max(1);
                Targets::Real(y[rows.start * k..rows.end * k].to_vec())
            }
        };
        Batch {
            steps: self.steps,
            batch: n,
            inputs: pick(&self.inputs),
            targets,
            mask,
        }
    }
}

/// A carried truncated-BPTT state: B, and per layer and direction (a⟨0⟩, c⟨0⟩), each `[B, H]`.
pub type State<F> = (usize, Vec<(Vec<F>, Vec<F>)>);

/// Per-thread workspaces and gradients.
pub struct Sharded<F> {
    threads: usize,
    shards: Vec<(Workspace<F>, Params<F>)>,
    /// Batch size the shards are cut for (0 = not yet).
    batch: usize,
}

fn ranges(b: usize, n: usize) -> Vec<Range<usize>> {
    (0..n).map(|k| k * b / n..(k + 1) * b / n).collect()
}

impl<F: Scalar> Sharded<F> {
    /// Up to `threads` shards (at least 1).
    pub fn new(model: &Model<F>, threads: usize) -> Self {
        let threads = threads.max(1);
        Sharded {
            threads,
            shards: (0..threads)
                .map(|_| (model.workspace(), model.params.zeros_like()))
                .collect(),
            batch: 0,
        }
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.threads
    }

    fn cut(&self, b: usize) -> Vec<Range<usize>> {
        ranges(b, self.threads.min(b).max(1))
    }

    /// Zero every shard's carried state.
    pub fn reset_state(&mut self) {
        for (ws, _) in &mut self.shards {
            ws.reset_state();
        }
    }

    /// Forward and backward of `batch`; `grads` is overwritten with ∂objective/∂θ of the whole
    /// batch (objective = Σ loss / B).
    pub fn forward_backward(
        &mut self,
        model: &Model<F>,
        batch: &Batch,
        grads: &mut Params<F>,
    ) -> Result<LossStats, NnError> {
        batch.check(model.spec.vocab, model.spec.outputs)?;
        let cuts = self.cut(batch.batch);
        if self.batch != batch.batch {
            self.batch = batch.batch;
            self.reset_state();
        }
        let n = cuts.len();
        let results: Vec<Result<LossStats, NnError>> = if n == 1 {
            let (ws, g) = &mut self.shards[0];
            vec![run_shard(model, batch, ws, g)]
        } else {
            let subs: Vec<Batch> = cuts.iter().map(|r| batch.rows(r.clone())).collect();
            std::thread::scope(|s| {
                let handles: Vec<_> = self.shards[..n]
                    .iter_mut()
                    .zip(&subs)
                    .map(|((ws, g), sb)| s.spawn(move || run_shard(model, sb, ws, g)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err(shard_panic())))
                    .collect()
            })
        };
        let mut total = LossStats::default();
        for r in results {
            let st = r?;
            total.sum += st.sum;
            total.count += st.count;
        }
        total.objective = total.sum / batch.batch as f64;
        // ∂(Σ_k sum_k / B) = Σ_k (B_k / B) · ∂(sum_k / B_k)
        for (i, g) in grads.values.iter_mut().enumerate() {
            for (k, r) in cuts.iter().enumerate() {
                let w = F::of(r.len() as f64 / batch.batch as f64);
                let src = &self.shards[k].1.values[i];
                if k == 0 {
                    g.zip_mut_with(src, |d, &s| *d = w * s);
                } else {
                    g.zip_mut_with(src, |d, &s| *d += w * s);
                }
            }
        }
        Ok(total)
    }

    /// Carry every shard's final state into its next chunk.
    pub fn carry_state(&mut self, model: &Model<F>) {
        for (ws, _) in &mut self.shards {
            if ws.batch > 0 {
                model.carry_state(ws);
            }
        }
    }

    /// The carried state as whole-batch rows: B and per layer and direction (a⟨0⟩, c⟨0⟩) `[B, H]`.
    pub fn export_state(&self, model: &Model<F>) -> Option<State<F>> {
        if self.batch == 0 {
            return None;
        }
        let h = model.spec.hidden;
        let cuts = self.cut(self.batch);
        let mut out = vec![(Vec::new(), Vec::new()); model.dirs.len()];
        for (k, r) in cuts.iter().enumerate() {
            let ws = &self.shards[k].0;
            for (i, (a, c)) in out.iter_mut().enumerate() {
                let d = ws.dirs.get(i)?;
                a.extend_from_slice(d.h0.get(..r.len() * h)?);
                c.extend_from_slice(d.c0.get(..r.len() * h)?);
            }
        }
        Some((self.batch, out))
    }

    /// Restore a carried state saved by [`Self::export_state`].
    pub fn import_state(&mut self, model: &Model<F>, b: usize, states: &[(Vec<F>, Vec<F>)]) {
        let h = model.spec.hidden;
        self.batch = b;
        for (k, r) in self.cut(b).into_iter().enumerate() {
            let ws = &mut self.shards[k].0;
            ws.batch = r.len();
            if ws.dirs.len() != states.len() {
                *ws = model.workspace();
                ws.batch = r.len();
            }
            for (d, (a, c)) in ws.dirs.iter_mut().zip(states) {
                d.h0 = a[r.start * h..r.end * h].to_vec();
                d.c0 = c[r.start * h..r.end * h].to_vec();
            }
        }
    }
}

fn shard_panic() -> NnError {
    NnError::Diverged {
        what: "a worker thread".into(),
        value: "panicked".into(),
    }
}

fn run_shard<F: Scalar>(
    model: &Model<F>,
    b: &Batch,
    ws: &mut Workspace<F>,
    g: &mut Params<F>,
) -> Result<LossStats, NnError> {
    let st = model.forward(b, Score::All, ws)?;
    g.fill_zero();
    model.backward(b, ws, g);
    Ok(st)
}
