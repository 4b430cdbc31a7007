//! A recurrent model: optional embedding, L stacked (optionally bidirectional) layers of one
//! cell kind, and an output head. This file holds the model's layout, construction and carried
//! state; the passes are beside it: [`forward`] (input projection, time loops, head), [`loss`]
//! (cross-entropy / squared error and their gradient) and [`backward`] (BPTT and the weight
//! gradients). The cells' equations are in `rnn.rs`, `gru.rs`, `gru_torch.rs` and `lstm.rs`.
//!
//! Shapes (R = T·B rows, time-major, row t·B + b):
//! - layer input x⟨t⟩: one-hot token (a row gather of W_ax), embedding `[R, E]`, or the
//!   layer below's `[a→⟨t⟩; a←⟨t⟩]` `[R, H·dirs]`;
//! - layer weights W `[H + X, G·H]` (input-major: rows 0..H are W_aa, rows H.. are W_ax),
//!   bias `[1, G·H]`;
//! - head W_y `[H·dirs, |Y|]`, b_y `[1, |Y|]`.

mod backward;
mod forward;
mod loss;

use ndarray::s;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cell::Cell;
use super::params::Params;
use super::scalar::Scalar;
use super::spec::{HeadKind, Init, InputKind, ModelSpec};
use super::workspace::{DirCache, Workspace};
use crate::nn::error::NnError;

/// Parameter indices of one layer and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirParams {
    /// W `[H + X, G·H]`.
    pub w: usize,
    /// b `[1, G·H]`.
    pub b: usize,
    /// PyTorch GRU: b_hn `[1, H]`.
    pub b_hn: Option<usize>,
    /// Input width X.
    pub x: usize,
}

/// Which positions a forward pass scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Score {
    /// Every real position (training, evaluation).
    #[default]
    All,
    /// Only the last real step of each sequence (probes: how far back the end reaches).
    LastStep,
}

/// Loss of one forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LossStats {
    /// Σ cross-entropy in nats over scored positions (regression: Σ per-sequence MSE).
    pub sum: f64,
    /// Scored positions (tokens, or sequences for sequence heads).
    pub count: usize,
    /// The objective backward differentiates: `sum / B` (summed over steps, mean over sequences).
    pub objective: f64,
}

impl LossStats {
    /// Mean loss per scored position (nats per token for softmax heads).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// A model: spec, cell, parameter list and its layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<F> {
    /// The shape of the model.
    pub spec: ModelSpec,
    /// Cell equations used by every layer.
    pub cell: Cell,
    /// Every parameter tensor.
    pub params: Params<F>,
    /// `embed.weight` index.
    pub embed: Option<usize>,
    /// Per layer and direction (`l · dirs + d`).
    pub dirs: Vec<DirParams>,
    /// `head.w_y` index.
    pub head_w: usize,
    /// `head.b_y` index.
    pub head_b: usize,
}

fn dir_name(d: usize) -> &'static str {
    if d == 0 {
        "fwd"
    } else {
        "bwd"
    }
}

impl<F: Scalar> Model<F> {
    /// Build a model with seeded initial weights.
    pub fn new(spec: ModelSpec, seed: u64) -> Result<Self, NnError> {
        spec.check()?;
        let cell = Cell::of(spec.cell, spec.gru_variant);
        let (h, g, dirs) = (spec.hidden, cell.gates(), spec.dirs());
        let mut params = Params::new();
        let embed = match spec.input {
            InputKind::Embedding(e) => Some(params.push("embed.weight", spec.vocab, e)),
            InputKind::OneHot => None,
        };
        let mut dps = Vec::new();
        for l in 0..spec.layers {
            let x = spec.input_width(l);
            for d in 0..dirs {
                let p = format!("layers.{l}.{}", dir_name(d));
                let w = params.push(format!("{p}.w"), h + x, g * h);
                let b = params.push(format!("{p}.b"), 1, g * h);
                let b_hn = (cell == Cell::GruTorch).then(|| params.push(format!("{p}.b_hn"), 1, h));
                dps.push(DirParams { w, b, b_hn, x });
            }
        }
        let head_w = params.push("head.w_y", h * dirs, spec.outputs);
        let head_b = params.push("head.b_y", 1, spec.outputs);
        let mut m = Model {
            spec,
            cell,
            params,
            embed,
            dirs: dps,
            head_w,
            head_b,
        };
        m.init(seed);
        Ok(m)
    }

    /// Seeded initialisation; values are drawn in f64 so f32 and f64 models agree.
    fn init(&mut self, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let h = self.spec.hidden;
        let init = self.spec.init;
        let mut fill = |w: &mut ndarray::Array2<F>, fan_in: usize, fan_out: usize| {
            let k = match init {
                Init::Uniform(k) => k,
                Init::Xavier => (6.0 / (fan_in + fan_out) as f64).sqrt(),
            };
            w.iter_mut().for_each(|x| *x = F::of(rng.random_range(-k..k)));
        };
        if let Some(e) = self.embed {
            let (v, ew) = self.params.values[e].dim();
            fill(&mut self.params.values[e], v, ew);
        }
        for dp in self.dirs.clone() {
            fill(&mut self.params.values[dp.w], h + dp.x, h);
            if self.cell == Cell::Lstm {
                // Forget-gate bias (block 1) starts at forget_bias so Γf ≈ σ(1) keeps memory early on.
                let fb = F::of(self.spec.forget_bias);
                self.params.values[dp.b].slice_mut(s![0, h..2 * h]).fill(fb);
            }
        }
        let (hi, y) = self.params.values[self.head_w].dim();
        fill(&mut self.params.values[self.head_w], hi, y);
    }

    /// Number of scalar parameters.
    pub fn param_count(&self) -> usize {
        self.params.count()
    }

    /// A workspace sized for this model (buffers grow on first use).
    pub fn workspace(&self) -> Workspace<F> {
        Workspace {
            dirs: vec![DirCache::default(); self.dirs.len()],
            ..Workspace::default()
        }
    }

    fn prepare(&self, ws: &mut Workspace<F>, steps: usize, b: usize) {
        let h = self.spec.hidden;
        if ws.dirs.len() != self.dirs.len() {
            ws.dirs = vec![DirCache::default(); self.dirs.len()];
        }
        // A new batch size, or a workspace last used by a model of another size: start from zero.
        if ws.batch != b || ws.dirs.iter().any(|d| d.a0.len() != b * h || d.c0.len() != b * h) {
            for d in &mut ws.dirs {
                d.a0 = vec![F::zero(); b * h];
                d.c0 = vec![F::zero(); b * h];
            }
            ws.batch = b;
        }
        let rows = steps * b;
        for d in &mut ws.dirs {
            d.ensure(rows, b, h, self.cell);
        }
        if let InputKind::Embedding(e) = self.spec.input {
            grow(&mut ws.emb, rows * e);
            grow(&mut ws.demb, rows * e);
        }
        let y = self.spec.outputs;
        let out_rows = if self.spec.head == HeadKind::PerStep { rows } else { b };
        grow(&mut ws.logits, out_rows * y);
        grow(&mut ws.dlogits, out_rows * y);
        grow(&mut ws.head_in, b * h * self.spec.dirs());
        ws.steps = steps;
    }

    /// Copy the final states into the initial states: the next chunk of a stream continues
    /// from here (truncated BPTT carries state, not gradient).
    pub fn carry_state(&self, ws: &mut Workspace<F>) {
        let (h, b, steps) = (self.spec.hidden, ws.batch, ws.steps);
        let bh = b * h;
        if steps == 0 {
            return;
        }
        for (i, c) in ws.dirs.iter_mut().enumerate() {
            // Forward direction ends at t = T; the backward direction has no continuation.
            if i % self.spec.dirs() != 0 {
                continue;
            }
            let t = steps - 1;
            c.a0[..bh].copy_from_slice(&c.a[t * bh..(t + 1) * bh]);
            if self.cell.has_memory() {
                c.c0[..bh].copy_from_slice(&c.c[t * bh..(t + 1) * bh]);
            }
        }
    }
}

fn grow<F: Scalar>(v: &mut Vec<F>, n: usize) {
    if v.len() < n {
        v.resize(n, F::zero());
    }
}
