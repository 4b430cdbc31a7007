//! Data parallelism over the rows of a batch: the B sequences are split into contiguous row
//! shards, each shard runs forward and backward on its own thread with its own workspace and
//! gradient buffer, and the gradients are combined weighted by shard size. Sequences are
//! independent through time, so this is exact up to floating-point summation order, and the
//! order is fixed: results are deterministic for a given thread count.
//! Each shard always gets the same rows, so the carried truncated-BPTT state stays with them.
//!
//! The threads ([`Pool`]) and every shard's buffers (workspace, gradients, its sub-batch) live as
//! long as the `Sharded`: a step spawns no thread and, once the first step has sized the
//! buffers, allocates nothing.

use std::ops::Range;

use super::batch::{Batch, Targets};
use super::dropout::{Dropout, DropoutPass};
use super::model::{LossNorm, LossStats, Model, Score};
use super::params::Params;
use super::pool::Pool;
use super::scalar::Scalar;
use super::workspace::Workspace;
use crate::nn::error::NnError;

impl Batch {
    /// Make `self` the sub-batch of `src`'s sequences `rows` (time-major layout kept), reusing
    /// `self`'s allocations.
    pub fn copy_rows(&mut self, src: &Batch, rows: Range<usize>) {
        let b = src.batch;
        let pick = |dst: &mut Vec<u32>, v: &[u32]| {
            dst.clear();
            for t in 0..src.steps {
                dst.extend_from_slice(&v[t * b + rows.start..t * b + rows.end]);
            }
        };
        self.steps = src.steps;
        self.batch = rows.len();
        pick(&mut self.inputs, &src.inputs);
        self.features.clear();
        if !src.features.is_empty() {
            let w = src.features.len() / (src.steps * b).max(1);
            for t in 0..src.steps {
                self.features
                    .extend_from_slice(&src.features[(t * b + rows.start) * w..(t * b + rows.end) * w]);
            }
        }
        self.mask.clear();
        if !src.mask.is_empty() {
            for t in 0..src.steps {
                self.mask
                    .extend_from_slice(&src.mask[t * b + rows.start..t * b + rows.end]);
            }
        }
        if std::mem::discriminant(&self.targets) != std::mem::discriminant(&src.targets) {
            // Another kind of target than last time: start an empty one of the new kind.
            self.targets = match src.targets {
                Targets::PerStep(_) => Targets::PerStep(Vec::new()),
                Targets::Class(_) => Targets::Class(Vec::new()),
                Targets::Real(_) => Targets::Real(Vec::new()),
            };
        }
        match (&src.targets, &mut self.targets) {
            (Targets::PerStep(y), Targets::PerStep(d)) => pick(d, y),
            (Targets::Class(y), Targets::Class(d)) => {
                d.clear();
                d.extend_from_slice(&y[rows]);
            }
            (Targets::Real(y), Targets::Real(d)) => {
                let k = y.len() / b.max(1);
                d.clear();
                d.extend_from_slice(&y[rows.start * k..rows.end * k]);
            }
            _ => {} // same kind, made so just above
        }
    }
}

/// A carried truncated-BPTT state: B, and per layer and direction (a⟨0⟩, c⟨0⟩), each `[B, H]`.
pub type State<F> = (usize, Vec<(Vec<F>, Vec<F>)>);

/// One shard's buffers, kept across steps.
struct Shard<F> {
    ws: Workspace<F>,
    grads: Params<F>,
    /// This shard's rows of the current batch.
    sub: Batch,
    /// Loss of the last step (or its error).
    result: Result<LossStats, NnError>,
}

/// Per-thread workspaces and gradients, and the threads that run them.
pub struct Sharded<F> {
    pool: Pool,
    shards: Vec<Shard<F>>,
    /// Batch size the shards are cut for (0 = not yet).
    batch: usize,
    /// The row ranges of the shards for `batch`.
    cuts: Vec<Range<usize>>,
    /// Dropout of the next step and the key of its masks (none: the whole network).
    dropout: Option<(Dropout, u64)>,
    /// What the objective divides the summed loss by.
    loss_norm: LossNorm,
}

fn ranges(b: usize, n: usize) -> Vec<Range<usize>> {
    (0..n).map(|k| k * b / n..(k + 1) * b / n).collect()
}

impl<F: Scalar> Sharded<F> {
    /// Up to `threads` shards (at least 1); starts `threads − 1` worker threads.
    pub fn new(model: &Model<F>, threads: usize) -> Self {
        let threads = threads.max(1);
        Sharded {
            pool: Pool::new(threads),
            shards: (0..threads)
                .map(|_| Shard {
                    ws: model.workspace(),
                    grads: model.params.zeros_like(),
                    sub: Batch::dense(0, 0, Vec::new(), Targets::PerStep(Vec::new())),
                    result: Ok(LossStats::default()),
                })
                .collect(),
            batch: 0,
            cuts: Vec::new(),
            dropout: None,
            loss_norm: LossNorm::Sum,
        }
    }

    /// Dropout for the following steps: `dropout` with masks keyed by `key` (the trainer sets a
    /// new key, [`crate::nn::dropout::step_key`], every step); `None` or zero rates: none.
    pub fn set_dropout(&mut self, dropout: Option<(Dropout, u64)>) {
        self.dropout = dropout.filter(|(d, _)| d.is_active());
    }

    /// The objective's normalisation for the following steps (default [`LossNorm::Sum`]).
    pub fn set_loss_norm(&mut self, norm: LossNorm) {
        self.loss_norm = norm;
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    fn cut(&self, b: usize) -> Vec<Range<usize>> {
        ranges(b, self.threads().min(b).max(1))
    }

    /// Zero every shard's carried state.
    pub fn reset_state(&mut self) {
        for s in &mut self.shards {
            s.ws.reset_state();
        }
    }

    /// Forward and backward of `batch`; `grads` is overwritten with ∂objective/∂θ of the whole
    /// batch (objective = Σ loss / B, or Σ loss / N scored tokens with [`LossNorm::Mean`]), with
    /// the dropout set by [`Self::set_dropout`] (each shard's masks drawn for its rows' places in
    /// the whole batch, so the masks do not depend on the thread count).
    pub fn forward_backward(
        &mut self,
        model: &Model<F>,
        batch: &Batch,
        grads: &mut Params<F>,
    ) -> Result<LossStats, NnError> {
        let n = self.fit(model, batch)?;
        for (s, r) in self.shards.iter_mut().zip(&self.cuts) {
            s.ws.dropout = self.dropout.map(|(dropout, key)| DropoutPass {
                dropout,
                key,
                row0: r.start,
            });
            s.ws.loss_norm = self.loss_norm;
        }
        let mut total = self.run(batch, |b, s| run_shard(model, b, &mut s.ws, &mut s.grads))?;
        // Sum: ∂(Σ_k sum_k / B) = Σ_k (B_k / B) · ∂(sum_k / B_k);
        // Mean: ∂(Σ_k sum_k / N) = Σ_k (N_k / N) · ∂(sum_k / N_k).
        let weights: Vec<f64> = match self.loss_norm {
            LossNorm::Sum => {
                total.objective = total.sum / batch.batch as f64;
                self.cuts.iter().map(|r| r.len() as f64 / batch.batch as f64).collect()
            }
            LossNorm::Mean => {
                let n_all = total.count.max(1) as f64;
                total.objective = total.sum / n_all;
                self.shards[..n]
                    .iter()
                    .map(|s| s.result.as_ref().map_or(0.0, |st| st.count as f64 / n_all))
                    .collect()
            }
        };
        for (i, g) in grads.values.iter_mut().enumerate() {
            for (k, &wk) in weights.iter().enumerate() {
                let w = F::of(wk);
                let src = &self.shards[k].grads.values[i];
                if k == 0 {
                    g.zip_mut_with(src, |d, &s| *d = w * s);
                } else {
                    g.zip_mut_with(src, |d, &s| *d += w * s);
                }
            }
        }
        Ok(total)
    }

    /// Forward only of `batch` (evaluation: no dropout, no gradients), its rows split over the
    /// shards as in training, each shard's carried state its own rows'. Returns the loss sums of
    /// the whole batch, added in shard order: deterministic for a given thread count, and on one
    /// thread exactly `model.forward` on one workspace.
    pub fn forward(&mut self, model: &Model<F>, batch: &Batch) -> Result<LossStats, NnError> {
        let n = self.fit(model, batch)?;
        for s in &mut self.shards[..n] {
            s.ws.dropout = None;
        }
        let mut total = self.run(batch, |b, s| model.forward(b, Score::All, &mut s.ws))?;
        total.objective = match self.loss_norm {
            LossNorm::Sum => total.sum / batch.batch as f64,
            LossNorm::Mean => total.sum / total.count.max(1) as f64,
        };
        Ok(total)
    }

    /// Check `batch` and cut its rows into shards (a new batch size resets the carried state);
    /// the number of shards used.
    fn fit(&mut self, model: &Model<F>, batch: &Batch) -> Result<usize, NnError> {
        batch.check(model.spec.vocab, model.spec.outputs)?;
        if self.batch != batch.batch {
            self.batch = batch.batch;
            self.cuts = self.cut(batch.batch);
            self.reset_state();
        }
        Ok(self.cuts.len())
    }

    /// Run `job` on every shard's rows of `batch` (one shard: the whole batch, no copy), one
    /// shard per thread; the loss sums and counts added in shard order.
    fn run(
        &mut self,
        batch: &Batch,
        job: impl Fn(&Batch, &mut Shard<F>) -> Result<LossStats, NnError> + Sync,
    ) -> Result<LossStats, NnError> {
        let n = self.cuts.len();
        if n == 1 {
            let s = &mut self.shards[0];
            s.result = job(batch, s);
        } else {
            let cuts = &self.cuts;
            self.pool
                .for_each_mut(&mut self.shards[..n], |k, s| {
                    let mut sub =
                        std::mem::replace(&mut s.sub, Batch::dense(0, 0, Vec::new(), Targets::PerStep(Vec::new())));
                    sub.copy_rows(batch, cuts[k].clone());
                    s.result = job(&sub, s);
                    s.sub = sub;
                })
                .map_err(|_| shard_panic())?;
        }
        let mut total = LossStats::default();
        for s in &self.shards[..n] {
            let st = s.result.clone()?;
            total.sum += st.sum;
            total.count += st.count;
        }
        Ok(total)
    }

    /// Carry every shard's final state into its next chunk.
    pub fn carry_state(&mut self, model: &Model<F>) {
        for s in &mut self.shards {
            if s.ws.batch > 0 {
                model.carry_state(&mut s.ws);
            }
        }
    }

    /// The carried state as whole-batch rows: B and per layer and direction (a⟨0⟩, c⟨0⟩) `[B, H]`.
    pub fn export_state(&self, model: &Model<F>) -> Option<State<F>> {
        if self.batch == 0 {
            return None;
        }
        let h = model.spec.hidden;
        let mut out = vec![(Vec::new(), Vec::new()); model.dirs.len()];
        for (k, r) in self.cuts.iter().enumerate() {
            let ws = &self.shards[k].ws;
            for (i, (a, c)) in out.iter_mut().enumerate() {
                let d = ws.dirs.get(i)?;
                a.extend_from_slice(d.a0.get(..r.len() * h)?);
                c.extend_from_slice(d.c0.get(..r.len() * h)?);
            }
        }
        Some((self.batch, out))
    }

    /// Restore a carried state saved by [`Self::export_state`].
    pub fn import_state(&mut self, model: &Model<F>, b: usize, states: &[(Vec<F>, Vec<F>)]) {
        let h = model.spec.hidden;
        self.batch = b;
        self.cuts = self.cut(b);
        for (k, r) in self.cuts.iter().enumerate() {
            let ws = &mut self.shards[k].ws;
            ws.batch = r.len();
            if ws.dirs.len() != states.len() {
                *ws = model.workspace();
                ws.batch = r.len();
            }
            for (d, (a, c)) in ws.dirs.iter_mut().zip(states) {
                d.a0 = a[r.start * h..r.end * h].to_vec();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{CellKind, ModelSpec, NO_INPUT};

    fn batch(steps: usize, b: usize, seed: u32, masked: bool) -> Batch {
        let n = steps * b;
        let inputs = (0..n as u32).map(|i| (i * 7 + seed) % 5).collect();
        let targets = Targets::PerStep((0..n as u32).map(|i| (i * 3 + seed) % 5).collect());
        let mut bt = Batch::dense(steps, b, inputs, targets);
        if masked {
            // Row r is 1 + (r + seed) % steps steps long.
            bt.mask = (0..n)
                .map(|i| u8::from(i / b <= (i % b + seed as usize) % steps))
                .collect();
            for (i, x) in bt.inputs.iter_mut().enumerate() {
                if bt.mask[i] == 0 {
                    *x = NO_INPUT;
                }
            }
        }
        bt
    }

    #[test]
    fn copy_rows_picks_time_major_rows_and_reuses_buffers() {
        let src = batch(3, 4, 1, true);
        let mut sub = Batch::dense(0, 0, Vec::new(), Targets::Class(vec![]));
        sub.copy_rows(&src, 1..3);
        assert_eq!((sub.steps, sub.batch), (3, 2));
        for t in 0..3 {
            for r in 0..2 {
                assert_eq!(sub.inputs[t * 2 + r], src.inputs[t * 4 + 1 + r]);
                assert_eq!(sub.mask[t * 2 + r], src.mask[t * 4 + 1 + r]);
            }
        }
        let cap = sub.inputs.capacity();
        sub.copy_rows(&src, 2..4);
        assert_eq!(sub.inputs.capacity(), cap);
        assert_eq!(sub.inputs[0], src.inputs[2]);
    }

    /// Sharded gradients equal one whole-batch pass (up to summation order), and repeat
    /// exactly over steps with carried state, for 1, 2 and 3 threads.
    #[test]
    fn shards_match_the_whole_batch_and_are_deterministic() {
        for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            let model = Model::<f64>::new(ModelSpec::char_lm(cell, 5, 6, 2), 3).expect("model");
            for masked in [false, true] {
                let batches: Vec<Batch> = (0..3).map(|s| batch(4, 5, s, masked)).collect();
                let mut whole = model.workspace();
                let mut want = model.params.zeros_like();
                let mut runs: Vec<Vec<Params<f64>>> = Vec::new();
                for threads in [1, 2, 3, 2] {
                    let mut sh = Sharded::new(&model, threads);
                    let mut out = Vec::new();
                    for b in &batches {
                        let mut g = model.params.zeros_like();
                        sh.forward_backward(&model, b, &mut g).expect("step");
                        sh.carry_state(&model);
                        out.push(g);
                    }
                    runs.push(out);
                }
                for (i, b) in batches.iter().enumerate() {
                    want.fill_zero();
                    model.forward(b, Score::All, &mut whole).expect("forward");
                    model.backward(b, &mut whole, &mut want);
                    model.carry_state(&mut whole);
                    for run in &runs {
                        for (g, w) in run[i].values.iter().zip(&want.values) {
                            for (x, y) in g.iter().zip(w) {
                                assert!((x - y).abs() < 1e-12, "{cell:?} masked {masked} step {i}: {x} vs {y}");
                            }
                        }
                    }
                }
                // Same thread count, same bits.
                assert_eq!(runs[1], runs[3]);
            }
        }
    }

    /// Forward-only evaluation over shards gives the whole batch's loss sums (up to summation
    /// order; exactly on one thread) with the state carried per shard across batches, for
    /// unmasked and masked batches, and the same bits again with the same thread count.
    #[test]
    fn sharded_forward_matches_one_workspace() {
        for cell in [CellKind::Rnn, CellKind::Lstm] {
            let model = Model::<f64>::new(ModelSpec::char_lm(cell, 5, 6, 2), 4).expect("model");
            for masked in [false, true] {
                let batches: Vec<Batch> = (0..3).map(|s| batch(4, 5, s, masked)).collect();
                let mut whole = model.workspace();
                let want: Vec<(f64, usize)> = batches
                    .iter()
                    .map(|b| {
                        let st = model.forward(b, Score::All, &mut whole).expect("forward");
                        model.carry_state(&mut whole);
                        (st.sum, st.count)
                    })
                    .collect();
                let mut runs = Vec::new();
                for threads in [1, 2, 3, 2] {
                    let mut sh = Sharded::new(&model, threads);
                    let got: Vec<(f64, usize)> = batches
                        .iter()
                        .map(|b| {
                            let st = sh.forward(&model, b).expect("forward");
                            sh.carry_state(&model);
                            (st.sum, st.count)
                        })
                        .collect();
                    for ((gs, gc), (ws, wc)) in got.iter().zip(&want) {
                        assert_eq!(gc, wc);
                        let tol = if threads == 1 { 0.0 } else { 1e-12 };
                        assert!((gs - ws).abs() <= tol, "{cell:?} {threads} threads: {gs} vs {ws}");
                    }
                    runs.push(got);
                }
                assert_eq!(runs[1], runs[3]);
                // The carried state matters: a fresh evaluation of batch 2 alone differs.
                let mut fresh = model.workspace();
                let alone = model.forward(&batches[2], Score::All, &mut fresh).expect("forward").sum;
                assert!((alone - want[2].0).abs() > 1e-9, "state carried across batches");
            }
        }
    }
}
