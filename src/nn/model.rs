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
//! - head W_y `[H·dirs, |Y|]`, b_y `[1, |Y|]`; with tied weights the head reads the embedding
//!   table `[|V|, E]` (E = H·dirs) transposed instead, and has no W_y of its own.

mod backward;
mod forward;
mod loss;

use ndarray::s;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::cell::Cell;
use super::params::Params;
use super::scalar::Scalar;
use super::spec::{HeadKind, Init, InputKind, ModelSpec, RecurrentInit};
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

/// What the training objective divides the summed loss by. The reported statistics (nats per
/// token) do not depend on it; the gradient's size does, and with it what `clip_norm` means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossNorm {
    /// Σ over time steps, mean over sequences: objective = Σ L⟨t⟩ / B (char-rnn; Zaremba et
    /// al. 2014). The gradient is about T times a per-token mean's.
    #[default]
    Sum,
    /// Mean over scored tokens: objective = Σ L⟨t⟩ / N (PyTorch's `cross_entropy` default).
    Mean,
}

/// Loss of one forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LossStats {
    /// Σ cross-entropy in nats over scored positions (regression: Σ per-sequence MSE).
    pub sum: f64,
    /// Scored positions (tokens, or sequences for sequence heads).
    pub count: usize,
    /// The objective backward differentiates: `sum / B` (summed over steps, mean over
    /// sequences; [`LossNorm::Sum`]) or `sum / count` ([`LossNorm::Mean`]).
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
    /// `head.w_y` index `[H·dirs, |Y|]`; with tied weights (`spec.tie_weights`) the index of
    /// `embed.weight` `[|V|, E]`, which the head reads transposed.
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
        let head_w = match (spec.tie_weights, embed) {
            (true, Some(e)) => e, // one tensor: the embedding is the head (spec.check saw to the sizes)
            _ => params.push("head.w_y", h * dirs, spec.outputs),
        };
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

    /// Seeded initialisation; values are drawn in f64 so f32 and f64 models agree. The draws
    /// come in a fixed order (embedding, each layer-direction's W, head), so a spec and seed
    /// always give the same model.
    fn init(&mut self, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let h = self.spec.hidden;
        let init = self.spec.init;
        let tied = self.spec.tie_weights;
        // Range k of U(±k) for a matrix with these fans; `head` marks the output layer.
        let range = |fan_in: usize, fan_out: usize, layer: bool| match init {
            Init::Uniform(k) => k,
            Init::Xavier => (6.0 / (fan_in + fan_out) as f64).sqrt(),
            // nn.RNN/GRU/LSTM: U(±1/√H); nn.Linear: U(±1/√fan_in).
            Init::Pytorch if layer => 1.0 / (h as f64).sqrt(),
            Init::Pytorch => 1.0 / (fan_in as f64).sqrt(),
        };
        let fill = |rng: &mut ChaCha8Rng, w: &mut ndarray::Array2<F>, k: f64| {
            w.iter_mut().for_each(|x| *x = F::of(rng.random_range(-k..k)));
        };
        let hd = h * self.spec.dirs();
        if let Some(e) = self.embed {
            let (v, ew) = self.params.values[e].dim();
            if tied {
                // The embedding is the head: it starts as the head would.
                let k = range(hd, v, false);
                fill(&mut rng, &mut self.params.values[e], k);
            } else if init == Init::Pytorch {
                // nn.Embedding: N(0, 1).
                self.params.values[e]
                    .iter_mut()
                    .for_each(|x| *x = F::of(gaussian(&mut rng)));
            } else {
                let k = range(v, ew, false);
                fill(&mut rng, &mut self.params.values[e], k);
            }
        }
        for dp in self.dirs.clone() {
            let k = range(h + dp.x, h, true);
            fill(&mut rng, &mut self.params.values[dp.w], k);
            if self.spec.init_recurrent == RecurrentInit::Orthogonal {
                // Each gate's W_aa block (rows 0..H, columns k·H..(k+1)·H) orthogonal.
                for g in 0..self.cell.gates() {
                    let q = orthogonal(&mut rng, h);
                    let mut blk = self.params.values[dp.w].slice_mut(s![..h, g * h..(g + 1) * h]);
                    blk.iter_mut().zip(&q).for_each(|(x, &v)| *x = F::of(v));
                }
            }
            if self.cell == Cell::Lstm {
                // Forget-gate bias (block 1) starts at forget_bias so Γf ≈ σ(1) keeps memory early on.
                let fb = F::of(self.spec.forget_bias);
                self.params.values[dp.b].slice_mut(s![0, h..2 * h]).fill(fb);
            }
        }
        if !tied {
            let (hi, y) = self.params.values[self.head_w].dim();
            let k = range(hi, y, false);
            fill(&mut rng, &mut self.params.values[self.head_w], k);
        }
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

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A random orthogonal `[n, n]` matrix, row-major: Q of the QR factorisation of a matrix of
/// standard normal draws (modified Gram–Schmidt over its columns; R's diagonal comes out
/// positive, which makes Q Haar-distributed).
pub(crate) fn orthogonal(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    // Columns of A, each contiguous.
    let mut cols: Vec<Vec<f64>> = (0..n).map(|_| (0..n).map(|_| gaussian(rng)).collect()).collect();
    for j in 0..n {
        let (done, rest) = cols.split_at_mut(j);
        let v = &mut rest[0];
        for q in done.iter() {
            // v ← v − (q·v) q
            let d: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(q).for_each(|(x, &qi)| *x -= d * qi);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
    }
    let mut q = vec![0.0; n * n];
    for (j, c) in cols.iter().enumerate() {
        for (i, &v) in c.iter().enumerate() {
            q[i * n + j] = v;
        }
    }
    q
}

fn grow<F: Scalar>(v: &mut Vec<F>, n: usize) {
    if v.len() < n {
        v.resize(n, F::zero());
    }
}
