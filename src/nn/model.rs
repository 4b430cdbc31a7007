//! A recurrent model: optional embedding, L stacked (optionally bidirectional) layers of one
//! cell kind, and an output head; forward, BPTT backward, and loss.
//!
//! Shapes (R = T·B rows, time-major, row t·B + b):
//! - layer input x⟨t⟩: one-hot token (a row gather of W_ax), embedding `[R, E]`, or the
//!   layer below's `[a→⟨t⟩; a←⟨t⟩]` `[R, H·dirs]`;
//! - layer weights W `[H + X, G·H]` (input-major: rows 0..H are W_aa, rows H.. are W_ax),
//!   bias `[1, G·H]`;
//! - head W_y `[H·dirs, |Y|]`, b_y `[1, |Y|]`.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, ArrayView2, ArrayViewMut2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::batch::{Batch, Targets, NO_INPUT};
use super::cell::{Bwd, Cell, Fwd};
use super::gemm::{with_simd, Panels};
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
        let gh = self.cell.gates() * h;
        if ws.dirs.len() != self.dirs.len() {
            ws.dirs = vec![DirCache::default(); self.dirs.len()];
        }
        // A new batch size, or a workspace last used by a model of another size: start from zero.
        if ws.batch != b || ws.dirs.iter().any(|d| d.h0.len() != b * h || d.c0.len() != b * h) {
            for d in &mut ws.dirs {
                d.h0 = vec![F::zero(); b * h];
                d.c0 = vec![F::zero(); b * h];
            }
            ws.batch = b;
        }
        let rows = steps * b;
        for d in &mut ws.dirs {
            d.ensure(rows, b, h, gh, self.cell == Cell::GruTorch);
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

    /// Run the recurrent layers over `inputs` (`[T·B]` tokens, time-major), starting from the
    /// workspace's carried state, filling every cache. `mask` may be empty (all real).
    pub fn forward_layers(&self, inputs: &[u32], steps: usize, b: usize, mask: &[u8], ws: &mut Workspace<F>) {
        with_simd(|| self.forward_layers_body(inputs, steps, b, mask, ws));
    }

    #[inline(always)]
    fn forward_layers_body(&self, inputs: &[u32], steps: usize, b: usize, mask: &[u8], ws: &mut Workspace<F>) {
        self.prepare(ws, steps, b);
        let (h, dirs) = (self.spec.hidden, self.spec.dirs());
        let gh = self.cell.gates() * h;
        let rows = steps * b;
        let one = F::one();
        if let (Some(e), InputKind::Embedding(ew)) = (self.embed, self.spec.input) {
            let table = &self.params.values[e];
            for (r, &tok) in inputs.iter().enumerate() {
                let dst = &mut ws.emb[r * ew..(r + 1) * ew];
                if tok == NO_INPUT {
                    dst.fill(F::zero());
                } else {
                    dst.iter_mut().zip(table.row(tok as usize)).for_each(|(d, &s)| *d = s);
                }
            }
        }
        for l in 0..self.spec.layers {
            let (below, here) = ws.dirs.split_at_mut(l * dirs);
            for (d, c) in here.iter_mut().take(dirs).enumerate() {
                let dp = self.dirs[l * dirs + d];
                let w = &self.params.values[dp.w];
                let bias = &self.params.values[dp.b];
                // xw = b + x⟨t⟩ · W_ax for all rows at once. One-hot x⟨t⟩: W_ax · x is column
                // `tok` of W_ax, row H + tok here, so xw = b + W[H + tok] (a row gather).
                let bias = bias.as_slice().expect("parameters are contiguous");
                let wflat = w.as_slice().expect("parameters are contiguous");
                let one_hot = l == 0 && self.spec.input == InputKind::OneHot;
                with_simd(|| {
                    for (r, xr) in c.xw[..rows * gh].chunks_exact_mut(gh).enumerate() {
                        let tok = inputs[r];
                        if one_hot && tok != NO_INPUT {
                            let src = &wflat[(h + tok as usize) * gh..(h + tok as usize + 1) * gh];
                            for ((x, &bb), &sv) in xr.iter_mut().zip(bias).zip(src) {
                                *x = bb + sv;
                            }
                        } else {
                            xr.copy_from_slice(bias);
                        }
                    }
                });
                let mut xw = view_mut(rows, gh, &mut c.xw);
                if l == 0 {
                    match self.spec.input {
                        InputKind::OneHot => {}
                        InputKind::Embedding(ew) => {
                            let emb = view(rows, ew, &ws.emb);
                            general_mat_mul(one, &emb, &w.slice(s![h.., ..]), one, &mut xw);
                        }
                    }
                } else {
                    for (p, part) in below[(l - 1) * dirs..].iter().enumerate() {
                        let x = view(rows, h, &part.h);
                        general_mat_mul(one, &x, &w.slice(s![h + p * h..h + (p + 1) * h, ..]), one, &mut xw);
                    }
                }
                let b_hn = dp.b_hn.map(|i| self.params.values[i].as_slice().unwrap_or(&[]));
                self.run_dir(c, w.slice(s![..h, ..]), b_hn.unwrap_or(&[]), steps, b, d == 0, mask);
            }
        }
    }

    /// The time loop of one direction.
    #[allow(clippy::too_many_arguments)]
    fn run_dir(
        &self,
        c: &mut DirCache<F>,
        w_h: ArrayView2<'_, F>,
        b_hn: &[F],
        steps: usize,
        b: usize,
        fwd: bool,
        mask: &[u8],
    ) {
        let h = self.spec.hidden;
        let gh = self.cell.gates() * h;
        let (bh, bgh) = (b * h, b * gh);
        let lstm = self.cell.has_memory();
        // W_aa packed once for all steps (a single step, as in sampling, reads it in place).
        if steps > 1 {
            F::pack_panels(&w_h, &mut c.wp);
        } else {
            c.wp.clear();
        }
        for k in 0..steps {
            let t = if fwd { k } else { steps - 1 - k };
            c.load_prev(k, t, bh, fwd, lstm);
            self.cell.forward(Fwd {
                b,
                h_size: h,
                w_h,
                w_hp: &c.wp,
                b_hn,
                xw: &c.xw[t * bgh..(t + 1) * bgh],
                h_prev: &c.hp[..bh],
                c_prev: &c.cp[..bh],
                gates: &mut c.gates[t * bgh..(t + 1) * bgh],
                aux: &mut c.aux[t * bh..(t + 1) * bh],
                h: &mut c.h[t * bh..(t + 1) * bh],
                rec: &mut c.rec[..bgh],
            });
            if !mask.is_empty() {
                // Padding step: the state passes through unchanged, a⟨t⟩ = a⟨t−1⟩.
                for r in 0..b {
                    if mask[t * b + r] == 0 {
                        let o = t * bh + r * h;
                        c.h[o..o + h].copy_from_slice(&c.hp[r * h..(r + 1) * h]);
                        if lstm {
                            c.aux[o..o + h].copy_from_slice(&c.cp[r * h..(r + 1) * h]);
                        }
                    }
                }
            }
        }
    }

    /// Compute the head outputs (logits or regression values) from the top layer.
    pub fn forward_head(&self, ws: &mut Workspace<F>) {
        let (h, dirs, y) = (self.spec.hidden, self.spec.dirs(), self.spec.outputs);
        let (steps, b) = (ws.steps, ws.batch);
        let top = &ws.dirs[(self.spec.layers - 1) * dirs..];
        let w = &self.params.values[self.head_w];
        let bias = &self.params.values[self.head_b];
        let rows = if self.spec.head == HeadKind::PerStep {
            steps * b
        } else {
            b
        };
        for r in 0..rows {
            ws.logits[r * y..(r + 1) * y]
                .iter_mut()
                .zip(bias.iter())
                .for_each(|(x, &bb)| *x = bb);
        }
        let mut out = view_mut(rows, y, &mut ws.logits);
        let one = F::one();
        if self.spec.head == HeadKind::PerStep {
            // ŷ⟨t⟩ logits = [a→⟨t⟩; a←⟨t⟩] · W_y + b_y, all rows in one product per direction.
            // (Batch-1 sampling takes the small-product kernel; training rows go to general_mat_mul.)
            for (p, part) in top.iter().enumerate() {
                F::small_mat_mul(
                    &view(rows, h, &part.h),
                    &w.slice(s![p * h..(p + 1) * h, ..]),
                    Panels::none(),
                    true,
                    &mut out,
                );
            }
        } else {
            // Many-to-one: read a→ after the last real step (padding carries it to t = T) and a← at t = 1.
            let hd = h * dirs;
            for (p, part) in top.iter().enumerate() {
                let t = if p == 0 { steps - 1 } else { 0 };
                for r in 0..b {
                    ws.head_in[r * hd + p * h..r * hd + (p + 1) * h]
                        .copy_from_slice(&part.h[(t * b + r) * h..(t * b + r + 1) * h]);
                }
            }
            general_mat_mul(one, &view(b, hd, &ws.head_in), w, one, &mut out);
        }
    }

    /// Loss of the head outputs against the batch targets; fills ∂objective/∂outputs.
    pub fn loss(&self, batch: &Batch, score: Score, ws: &mut Workspace<F>) -> LossStats {
        with_simd(|| self.loss_body(batch, score, ws))
    }

    #[inline(always)]
    fn loss_body(&self, batch: &Batch, score: Score, ws: &mut Workspace<F>) -> LossStats {
        let (y, b, steps) = (self.spec.outputs, batch.batch, batch.steps);
        let scale = 1.0 / b as f64; // objective = Σ over steps, mean over sequences
        let mut st = LossStats::default();
        let last_real = |r: usize| -> usize {
            // Last real step of sequence r.
            (0..steps).rev().find(|&t| batch.is_real(t * b + r)).unwrap_or(0)
        };
        match &batch.targets {
            Targets::PerStep(tg) => {
                for (i, &target) in tg.iter().enumerate().take(steps * b) {
                    let (t, r) = (i / b, i % b);
                    let scored = batch.is_real(i) && (score == Score::All || t == last_real(r));
                    let d = &mut ws.dlogits[i * y..(i + 1) * y];
                    if !scored {
                        d.fill(F::zero());
                        continue;
                    }
                    let z = &ws.logits[i * y..(i + 1) * y];
                    st.sum += softmax_ce(z, target as usize, d, scale);
                    st.count += 1;
                }
            }
            Targets::Class(tg) => {
                for (r, &class) in tg.iter().enumerate().take(b) {
                    let z = &ws.logits[r * y..(r + 1) * y];
                    st.sum += softmax_ce(z, class as usize, &mut ws.dlogits[r * y..(r + 1) * y], scale);
                    st.count += 1;
                }
            }
            Targets::Real(tg) => {
                // Per sequence: mean over outputs of (ŷ − y)²; ∂/∂ŷ = 2(ŷ − y) / |Y|, scaled by 1/B.
                for r in 0..b {
                    let mut se = 0.0;
                    for k in 0..y {
                        let diff = ws.logits[r * y + k].f64() - tg[r * y + k];
                        se += diff * diff;
                        ws.dlogits[r * y + k] = F::of(2.0 * diff / y as f64 * scale);
                    }
                    st.sum += se / y as f64;
                    st.count += 1;
                }
            }
        }
        st.objective = st.sum * scale;
        st
    }

    /// Forward pass with loss: layers, head, loss. Starts from the workspace's carried state.
    pub fn forward(&self, batch: &Batch, score: Score, ws: &mut Workspace<F>) -> Result<LossStats, NnError> {
        batch.check(self.spec.vocab, self.spec.outputs)?;
        let per_step = matches!(batch.targets, Targets::PerStep(_));
        if per_step != (self.spec.head == HeadKind::PerStep)
            || matches!(batch.targets, Targets::Real(_)) != (self.spec.head == HeadKind::SeqRegress)
        {
            return Err(NnError::Shape {
                what: "batch targets for this head".into(),
                expected: format!("{:?}", self.spec.head),
                got: match batch.targets {
                    Targets::PerStep(_) => "per-step classes",
                    Targets::Class(_) => "one class per sequence",
                    Targets::Real(_) => "real values per sequence",
                }
                .into(),
            });
        }
        self.forward_layers(&batch.inputs, batch.steps, batch.batch, &batch.mask, ws);
        self.forward_head(ws);
        let st = self.loss(batch, score, ws);
        if !st.sum.is_finite() {
            return Err(NnError::Diverged {
                what: "loss".into(),
                value: format!("{}", st.sum),
            });
        }
        Ok(st)
    }

    /// Backpropagation through time of the last `forward`; adds ∂objective/∂θ into `grads`.
    pub fn backward(&self, batch: &Batch, ws: &mut Workspace<F>, grads: &mut Params<F>) {
        with_simd(|| self.backward_body(batch, ws, grads));
    }

    #[inline(always)]
    fn backward_body(&self, batch: &Batch, ws: &mut Workspace<F>, grads: &mut Params<F>) {
        let (h, dirs, y) = (self.spec.hidden, self.spec.dirs(), self.spec.outputs);
        let gh = self.cell.gates() * h;
        let (steps, b) = (batch.steps, batch.batch);
        let rows = steps * b;
        let one = F::one();
        let zero = F::zero();
        let top0 = (self.spec.layers - 1) * dirs;
        // Head: ∂W_y = inputᵀ · ∂z; ∂b_y = Σ rows ∂z; ∂input = ∂z · W_yᵀ.
        {
            let w = &self.params.values[self.head_w];
            let out_rows = if self.spec.head == HeadKind::PerStep { rows } else { b };
            let dz = view(out_rows, y, &ws.dlogits);
            add_col_sums(&dz, &mut grads.values[self.head_b]);
            for c in ws.dirs.iter_mut() {
                c.dh[..rows * h].fill(zero);
            }
            if self.spec.head == HeadKind::PerStep {
                for p in 0..dirs {
                    let c = &mut ws.dirs[top0 + p];
                    let x = view(rows, h, &c.h);
                    general_mat_mul(
                        one,
                        &x.t(),
                        &dz,
                        one,
                        &mut grads.values[self.head_w].slice_mut(s![p * h..(p + 1) * h, ..]),
                    );
                    general_mat_mul(
                        one,
                        &dz,
                        &w.slice(s![p * h..(p + 1) * h, ..]).t(),
                        zero,
                        &mut view_mut(rows, h, &mut c.dh),
                    );
                }
            } else {
                let hd = h * dirs;
                let x = view(b, hd, &ws.head_in);
                general_mat_mul(one, &x.t(), &dz, one, &mut grads.values[self.head_w]);
                for p in 0..dirs {
                    let t = if p == 0 { steps - 1 } else { 0 };
                    let c = &mut ws.dirs[top0 + p];
                    let mut dst = view_mut(b, h, &mut c.dh[t * b * h..(t + 1) * b * h]);
                    general_mat_mul(one, &dz, &w.slice(s![p * h..(p + 1) * h, ..]).t(), zero, &mut dst);
                }
            }
        }
        for l in (0..self.spec.layers).rev() {
            let (below, here) = ws.dirs.split_at_mut(l * dirs);
            for (d, c) in here.iter_mut().take(dirs).enumerate() {
                let dp = self.dirs[l * dirs + d];
                let w = &self.params.values[dp.w];
                let record = ws.record_grad_norms;
                self.back_dir(c, w.slice(s![..h, ..]), steps, b, d == 0, &batch.mask, record);
                // Recurrent weights: ∂W_aa = Σ_t a⟨t−1⟩ᵀ · ∂pre⟨t⟩, one product over all steps.
                let gw = &mut grads.values[dp.w];
                let dpre = view(rows, gh, &c.dpre);
                let drec_src = if self.cell == Cell::GruTorch {
                    view(rows, gh, &c.drec)
                } else {
                    dpre.view()
                };
                let hall = view(rows, h, &c.h);
                let h0 = view(b, h, &c.h0);
                let cols = if self.cell == Cell::Gru { 2 * h } else { gh };
                {
                    let mut gwh = gw.slice_mut(s![..h, ..cols]);
                    let dr = drec_src.slice(s![.., ..cols]);
                    let (first, rest_prev, rest_d) = if d == 0 {
                        (
                            dr.slice(s![..b, ..]),
                            hall.slice(s![..rows - b, ..]),
                            dr.slice(s![b.., ..]),
                        )
                    } else {
                        (
                            dr.slice(s![rows - b.., ..]),
                            hall.slice(s![b.., ..]),
                            dr.slice(s![..rows - b, ..]),
                        )
                    };
                    general_mat_mul(one, &h0.t(), &first, one, &mut gwh);
                    general_mat_mul(one, &rest_prev.t(), &rest_d, one, &mut gwh);
                }
                if self.cell == Cell::Gru {
                    // Candidate block acts on Γr ∗ c⟨t−1⟩ (stored in aux).
                    let rc = view(rows, h, &c.aux);
                    general_mat_mul(
                        one,
                        &rc.t(),
                        &dpre.slice(s![.., 2 * h..]),
                        one,
                        &mut gw.slice_mut(s![..h, 2 * h..]),
                    );
                }
                add_col_sums(&dpre, &mut grads.values[dp.b]);
                if let Some(i) = dp.b_hn {
                    add_col_sums(&drec_src.slice(s![.., 2 * h..]), &mut grads.values[i]);
                }
                // Input side: ∂W_ax = xᵀ · ∂pre; ∂x = ∂pre · W_axᵀ.
                if l == 0 {
                    match self.spec.input {
                        InputKind::OneHot => {
                            // ∂W_ax row H + tok += ∂pre row (scatter-add of the gather).
                            let gflat = grads.values[dp.w].as_slice_mut().expect("gradients are contiguous");
                            for (&tok, dr) in batch.inputs.iter().zip(c.dpre[..rows * gh].chunks_exact(gh)) {
                                if tok != NO_INPUT {
                                    let o = (h + tok as usize) * gh;
                                    for (g, &v) in gflat[o..o + gh].iter_mut().zip(dr) {
                                        *g += v;
                                    }
                                }
                            }
                        }
                        InputKind::Embedding(ew) => {
                            let emb = view(rows, ew, &ws.emb);
                            general_mat_mul(
                                one,
                                &emb.t(),
                                &dpre,
                                one,
                                &mut grads.values[dp.w].slice_mut(s![h.., ..]),
                            );
                            let beta = if d == 0 { zero } else { one };
                            general_mat_mul(
                                one,
                                &dpre,
                                &w.slice(s![h.., ..]).t(),
                                beta,
                                &mut view_mut(rows, ew, &mut ws.demb),
                            );
                        }
                    }
                } else {
                    for (p, part) in below[(l - 1) * dirs..].iter_mut().enumerate() {
                        let rows_w = s![h + p * h..h + (p + 1) * h, ..];
                        general_mat_mul(
                            one,
                            &view(rows, h, &part.h).t(),
                            &dpre,
                            one,
                            &mut grads.values[dp.w].slice_mut(rows_w),
                        );
                        general_mat_mul(
                            one,
                            &dpre,
                            &w.slice(rows_w).t(),
                            one,
                            &mut view_mut(rows, h, &mut part.dh),
                        );
                    }
                }
            }
        }
        if let (Some(e), InputKind::Embedding(ew)) = (self.embed, self.spec.input) {
            // Scatter-add ∂x rows into the embedding table rows of their tokens.
            let gflat = grads.values[e].as_slice_mut().expect("gradients are contiguous");
            for (&tok, dr) in batch.inputs.iter().zip(ws.demb.chunks_exact(ew)) {
                if tok != NO_INPUT {
                    let o = tok as usize * ew;
                    for (g, &v) in gflat[o..o + ew].iter_mut().zip(dr) {
                        *g += v;
                    }
                }
            }
        }
    }

    /// The backward time loop of one direction: fills `dpre` (and `drec`) for every step.
    #[allow(clippy::too_many_arguments)]
    fn back_dir(
        &self,
        c: &mut DirCache<F>,
        w_h: ArrayView2<'_, F>,
        steps: usize,
        b: usize,
        fwd: bool,
        mask: &[u8],
        record: bool,
    ) {
        let h = self.spec.hidden;
        let gh = self.cell.gates() * h;
        let (bh, bgh) = (b * h, b * gh);
        let lstm = self.cell.has_memory();
        c.da[..bh].fill(F::zero());
        c.dc[..bh].fill(F::zero());
        // W_aaᵀ packed once here, read by every step's ∂a⟨t−1⟩ = ∂pre · W_aaᵀ.
        F::pack_panels(&w_h.t(), &mut c.wt);
        c.grad_norm.clear();
        if record {
            c.grad_norm.resize(steps, 0.0);
        }
        for k in (0..steps).rev() {
            let t = if fwd { k } else { steps - 1 - k };
            c.load_prev(k, t, bh, fwd, lstm);
            // ∂L/∂a⟨t⟩ = from above (head or next layer) + from a⟨t+1⟩ through the recurrence.
            for (a, &d) in c.da[..bh].iter_mut().zip(&c.dh[t * bh..(t + 1) * bh]) {
                *a += d;
            }
            if record {
                c.grad_norm[t] = c.da[..h].iter().map(|x| x.f64() * x.f64()).sum::<f64>().sqrt();
            }
            let masked = !mask.is_empty() && (0..b).any(|r| mask[t * b + r] == 0);
            if masked {
                // Padding rows pass the whole gradient to t−1 and contribute none to the weights.
                for r in 0..b {
                    if mask[t * b + r] == 0 {
                        let rr = r * h..(r + 1) * h;
                        c.carry[rr.clone()].copy_from_slice(&c.da[rr.clone()]);
                        c.carry_c[rr.clone()].copy_from_slice(&c.dc[rr.clone()]);
                        c.da[rr.clone()].fill(F::zero());
                        c.dc[rr].fill(F::zero());
                    }
                }
            }
            self.cell.backward(Bwd {
                b,
                h_size: h,
                w_h,
                w_ht: &c.wt,
                h_prev: &c.hp[..bh],
                c_prev: &c.cp[..bh],
                gates: &c.gates[t * bgh..(t + 1) * bgh],
                aux: &c.aux[t * bh..(t + 1) * bh],
                h: &c.h[t * bh..(t + 1) * bh],
                da: &mut c.da[..bh],
                dc: &mut c.dc[..bh],
                dpre: &mut c.dpre[t * bgh..(t + 1) * bgh],
                drec: if self.cell == Cell::GruTorch {
                    &mut c.drec[t * bgh..(t + 1) * bgh]
                } else {
                    &mut []
                },
                tmp: &mut c.tmp[..bh],
            });
            if masked {
                for r in 0..b {
                    if mask[t * b + r] == 0 {
                        let rr = r * h..(r + 1) * h;
                        c.da[rr.clone()].copy_from_slice(&c.carry[rr.clone()]);
                        c.dc[rr.clone()].copy_from_slice(&c.carry_c[rr]);
                    }
                }
            }
        }
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
            c.h0[..bh].copy_from_slice(&c.h[t * bh..(t + 1) * bh]);
            if self.cell.has_memory() {
                c.c0[..bh].copy_from_slice(&c.aux[t * bh..(t + 1) * bh]);
            }
        }
    }
}

/// Softmax cross-entropy of one row: returns −log p(target); writes ∂/∂z = (p − 1{target})·scale.
/// In f64: m = max z, e_k = exp(z_k − m) (kept in `d`), lse = m + ln Σ e, p_k = e_k / Σ e.
#[inline(always)]
fn softmax_ce<F: Scalar>(z: &[F], target: usize, d: &mut [F], scale: f64) -> f64 {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x.f64()));
    let mut sum = 0.0;
    for (dk, &zk) in d.iter_mut().zip(z) {
        let e = (zk.f64() - m).exp();
        sum += e;
        *dk = F::of(e);
    }
    let inv = scale / sum;
    for dk in d.iter_mut() {
        *dk = F::of(dk.f64() * inv); // p_k · scale
    }
    d[target] = F::of(d[target].f64() - scale); // − 1{target} · scale
                                                // −log p(target) = ln Σ e^(z_k − m) − (z_target − m), stable for huge logits.
    sum.ln() - (z[target].f64() - m)
}

/// out[0, j] += Σ_r m[r, j] (bias gradients).
#[inline(always)]
fn add_col_sums<F: Scalar>(m: &ArrayView2<'_, F>, out: &mut ndarray::Array2<F>) {
    let out = out.as_slice_mut().expect("gradients are contiguous");
    for row in m.rows() {
        match row.as_slice() {
            Some(r) => out.iter_mut().zip(r).for_each(|(o, &v)| *o += v),
            None => out.iter_mut().zip(row).for_each(|(o, &v)| *o += v),
        }
    }
}

fn grow<F: Scalar>(v: &mut Vec<F>, n: usize) {
    if v.len() < n {
        v.resize(n, F::zero());
    }
}

pub(crate) fn view<F>(rows: usize, cols: usize, x: &[F]) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &x[..rows * cols]).expect("buffer sized rows × cols")
}

pub(crate) fn view_mut<F>(rows: usize, cols: usize, x: &mut [F]) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut x[..rows * cols]).expect("buffer sized rows × cols")
}
