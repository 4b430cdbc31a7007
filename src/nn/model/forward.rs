//! The forward pass: input projection, the time loop of every layer and direction, the head.
//!
//! With a [`DropoutPass`](crate::nn::DropoutPass) in the workspace (training only) the masks are
//! applied at the layer boundaries: on x⟨t⟩ as it is gathered, on each layer's a⟨t⟩ as the layer
//! above (or the head) reads it, and — variational recurrent dropout — on a⟨t−1⟩ as the
//! recurrent product reads it; the cells themselves are unchanged.

use ndarray::{s, ArrayView2};

use super::super::batch::{Batch, Targets, NO_INPUT};
use super::super::cell::{view, view_mut, Fwd};
use super::super::dropout::Shape;
use super::super::gemm::{with_simd, Panels};
use super::super::scalar::Scalar;
use super::super::spec::{HeadKind, InputKind};
use super::super::workspace::{DirCache, Workspace};
use super::{LossStats, Model, Score};
use crate::nn::error::NnError;

impl<F: Scalar> Model<F> {
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
        self.forward_layers_with(
            &batch.inputs,
            &batch.features,
            batch.steps,
            batch.batch,
            &batch.mask,
            ws,
        );
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

    /// Run the recurrent layers over `inputs` (`[T·B]` tokens, time-major), starting from the
    /// workspace's carried state, filling every cache. `mask` may be empty (all real).
    pub fn forward_layers(&self, inputs: &[u32], steps: usize, b: usize, mask: &[u8], ws: &mut Workspace<F>) {
        self.forward_layers_with(inputs, &[], steps, b, mask, ws);
    }

    /// [`Self::forward_layers`] with real-valued inputs: `features` is `[T·B, V]` (see
    /// [`Batch::features`]); empty = the tokens of `inputs`.
    pub fn forward_layers_with(
        &self,
        inputs: &[u32],
        features: &[f32],
        steps: usize,
        b: usize,
        mask: &[u8],
        ws: &mut Workspace<F>,
    ) {
        with_simd(|| self.forward_layers_body(inputs, features, steps, b, mask, ws));
    }

    #[inline(always)]
    fn forward_layers_body(
        &self,
        inputs: &[u32],
        features: &[f32],
        steps: usize,
        b: usize,
        mask: &[u8],
        ws: &mut Workspace<F>,
    ) {
        self.prepare(ws, steps, b);
        let (h, dirs) = (self.spec.hidden, self.spec.dirs());
        let gh = self.cell.gates() * h;
        let rows = steps * b;
        let one = F::one();
        let shape = Shape {
            inputs,
            steps,
            batch: b,
            hidden: h,
            layers: self.spec.layers,
            dirs,
            embedding: match self.spec.input {
                InputKind::Embedding(e) => Some(e),
                InputKind::OneHot => None,
            },
        };
        ws.drop.begin(ws.dropout.as_ref(), &shape);
        if let (Some(e), InputKind::Embedding(ew)) = (self.embed, self.spec.input) {
            // x⟨t⟩ = embed.weight[token] (zero for NO_INPUT); under dropout
            // x⟨t⟩ = embed.weight[token] · token factor ∗ input mask.
            let table = &self.params.values[e];
            let (tokf, in_mask) = (ws.drop.token(), ws.drop.input());
            for (r, &tok) in inputs.iter().enumerate() {
                let dst = &mut ws.emb[r * ew..(r + 1) * ew];
                if tok == NO_INPUT {
                    dst.fill(F::zero());
                    continue;
                }
                let src = table.row(tok as usize);
                let f = tokf.map_or(one, |t| t[r]);
                match in_mask {
                    Some(m) => dst
                        .iter_mut()
                        .zip(src)
                        .zip(&m[r * ew..(r + 1) * ew])
                        .for_each(|((d, &s), &k)| *d = s * f * k),
                    None => dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s * f),
                }
            }
        }
        for l in 0..self.spec.layers {
            let (below, here) = ws.dirs.split_at_mut(l * dirs);
            for (d, c) in here.iter_mut().take(dirs).enumerate() {
                let dp = self.dirs[l * dirs + d];
                let w = &self.params.values[dp.w];
                let bias = &self.params.values[dp.b];
                // xw = b + W_ax x⟨t⟩ for all rows at once. One-hot x⟨t⟩: W_ax x⟨t⟩ is column
                // `tok` of W_ax, row H + tok of the input-major W here, so xw = b + W[H + tok]
                // (a row gather, never a dense |V|-wide product).
                let bias = bias.as_slice().expect("parameters are contiguous");
                let wflat = w.as_slice().expect("parameters are contiguous");
                let one_hot = l == 0 && self.spec.input == InputKind::OneHot;
                // Dropout on a one-hot x⟨t⟩ scales its one non-zero unit: xw = b + f · W[H + tok].
                // (Real-valued inputs, the adding problem's, take no input dropout.)
                let tokf = if one_hot { ws.drop.token() } else { None };
                let v = self.spec.vocab;
                with_simd(|| {
                    for (r, xr) in c.xw[..rows * gh].chunks_exact_mut(gh).enumerate() {
                        let tok = inputs[r];
                        if one_hot && !features.is_empty() {
                            // Real-valued x⟨t⟩ ∈ ℝ^V: xw = b + Σ_j x_j · W[H + j].
                            xr.copy_from_slice(bias);
                            for (j, &xj) in features[r * v..(r + 1) * v].iter().enumerate() {
                                if xj != 0.0 {
                                    let xj = F::from_f32(xj).unwrap_or_else(F::zero);
                                    let src = &wflat[(h + j) * gh..(h + j + 1) * gh];
                                    for (x, &sv) in xr.iter_mut().zip(src) {
                                        *x += xj * sv;
                                    }
                                }
                            }
                        } else if one_hot && tok != NO_INPUT {
                            let src = &wflat[(h + tok as usize) * gh..(h + tok as usize + 1) * gh];
                            match tokf {
                                None => {
                                    for ((x, &bb), &sv) in xr.iter_mut().zip(bias).zip(src) {
                                        *x = bb + sv;
                                    }
                                }
                                Some(t) => {
                                    let f = t[r];
                                    for ((x, &bb), &sv) in xr.iter_mut().zip(bias).zip(src) {
                                        *x = bb + f * sv;
                                    }
                                }
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
                            // xw += x⟨t⟩ · W_ax for the embedded inputs.
                            let emb = view(rows, ew, &ws.emb);
                            F::mat_mul(&emb, &w.slice(s![h.., ..]), true, &mut xw);
                        }
                    }
                } else {
                    // x⟨t⟩ = [a→⟨t⟩; a←⟨t⟩] of the layer below (after its dropout mask): one
                    // product per direction below.
                    for (p, part) in below[(l - 1) * dirs..].iter().enumerate() {
                        let x = view(rows, h, ws.drop.output((l - 1) * dirs + p, &part.a));
                        F::mat_mul(&x, &w.slice(s![h + p * h..h + (p + 1) * h, ..]), true, &mut xw);
                    }
                }
                let b_hn = dp.b_hn.map(|i| self.params.values[i].as_slice().unwrap_or(&[]));
                let i = l * dirs + d;
                let rec = if ws.drop.has_rec(i) {
                    let dd = &mut ws.drop.dirs[i];
                    Some((dd.rec_mask.as_slice(), dd.rec_in.as_mut_slice()))
                } else {
                    None
                };
                self.run_dir(
                    c,
                    w.slice(s![..h, ..]),
                    b_hn.unwrap_or(&[]),
                    steps,
                    b,
                    d == 0,
                    mask,
                    rec,
                );
            }
            // This layer's output as the layer above (or the head) reads it: a⟨t⟩ ∗ mask.
            if ws.drop.active {
                for i in l * dirs..(l + 1) * dirs {
                    ws.drop.apply_out(i, &ws.dirs[i].a, rows * h);
                }
            }
        }
    }

    /// The time loop of one direction (forward in time for `fwd`, else from t = T down).
    /// `rec`: variational recurrent dropout, the mask `[B, H]` on a⟨t−1⟩ and where to keep the
    /// masked recurrent inputs `[R, H]` for backward (LSTM and RNN: a⟨t−1⟩ only enters the
    /// recurrent product, so the cell is handed the masked state).
    #[allow(clippy::too_many_arguments)]
    fn run_dir(
        &self,
        c: &mut DirCache<F>,
        w_aa: ArrayView2<'_, F>,
        b_hn: &[F],
        steps: usize,
        b: usize,
        fwd: bool,
        mask: &[u8],
        mut rec: Option<(&[F], &mut [F])>,
    ) {
        let h = self.spec.hidden;
        let gh = self.cell.gates() * h;
        let (bh, bgh) = (b * h, b * gh);
        let lstm = self.cell.has_memory();
        // W_aa packed once for all steps; a single step reads it in place, unless the workspace
        // keeps its panels from call to call (the sampler: packed on its first token).
        if c.keep_packed {
            if c.w_aa_packed.is_empty() {
                F::pack_panels(&w_aa, &mut c.w_aa_packed);
            }
        } else if steps > 1 {
            F::pack_panels(&w_aa, &mut c.w_aa_packed);
        } else {
            c.w_aa_packed.clear();
        }
        for k in 0..steps {
            let t = if fwd { k } else { steps - 1 - k };
            c.load_prev(k, t, bh, fwd, lstm);
            let a_in: &[F] = match rec.as_mut() {
                Some((m, rec_in)) => {
                    // The recurrent product reads m ∗ a⟨t−1⟩ (the same m at every step).
                    let dst = &mut rec_in[t * bh..(t + 1) * bh];
                    for ((o, &x), &k) in dst.iter_mut().zip(&c.a_prev[..bh]).zip(&m[..bh]) {
                        *o = x * k;
                    }
                    dst
                }
                None => &c.a_prev[..bh],
            };
            self.cell.forward(Fwd {
                b,
                hidden: h,
                w_aa,
                w_aa_packed: &c.w_aa_packed,
                b_hn,
                xw: &c.xw[t * bgh..(t + 1) * bgh],
                a_prev: a_in,
                c_prev: &c.c_prev[..bh],
                gates: &mut c.gates[t * bgh..(t + 1) * bgh],
                c: step_of(&mut c.c, t, bh),
                gamma_r_c: step_of(&mut c.gamma_r_c, t, bh),
                hn: step_of(&mut c.hn, t, bh),
                a: &mut c.a[t * bh..(t + 1) * bh],
                rec: &mut c.rec[..bgh],
            });
            if !mask.is_empty() {
                // Padding step: the state passes through unchanged, a⟨t⟩ = a⟨t−1⟩ (c⟨t⟩ = c⟨t−1⟩).
                for r in 0..b {
                    if mask[t * b + r] == 0 {
                        let o = t * bh + r * h;
                        c.a[o..o + h].copy_from_slice(&c.a_prev[r * h..(r + 1) * h]);
                        if lstm {
                            c.c[o..o + h].copy_from_slice(&c.c_prev[r * h..(r + 1) * h]);
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
        let top0 = (self.spec.layers - 1) * dirs;
        let top = &ws.dirs[top0..];
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
        if self.spec.head == HeadKind::PerStep {
            // ŷ⟨t⟩ logits = [a→⟨t⟩; a←⟨t⟩] · W_y + b_y, all rows in one product per direction.
            // (One product of all T·B rows in training, one row in batch-1 sampling.)
            // Tied weights: W_y = embed.weightᵀ, read in place as a transposed view.
            for (p, part) in top.iter().enumerate() {
                let x = view(rows, h, ws.drop.output(top0 + p, &part.a));
                if self.spec.tie_weights {
                    let wt = w.slice(s![.., p * h..(p + 1) * h]);
                    F::small_mat_mul(&x, &wt.t(), Panels::none(), true, &mut out);
                } else {
                    F::small_mat_mul(&x, &w.slice(s![p * h..(p + 1) * h, ..]), Panels::none(), true, &mut out);
                }
            }
        } else {
            // Many-to-one: read a→ after the last real step (padding carries it to t = T) and a← at t = 1.
            let hd = h * dirs;
            for (p, part) in top.iter().enumerate() {
                let t = if p == 0 { steps - 1 } else { 0 };
                let a = ws.drop.output(top0 + p, &part.a);
                for r in 0..b {
                    ws.head_in[r * hd + p * h..r * hd + (p + 1) * h]
                        .copy_from_slice(&a[(t * b + r) * h..(t * b + r + 1) * h]);
                }
            }
            F::mat_mul(&view(b, hd, &ws.head_in), &w.view(), true, &mut out);
        }
    }
}

/// Step t's `[B, H]` part of a per-cell buffer, or nothing for the cells that do not keep it.
fn step_of<F>(v: &mut [F], t: usize, bh: usize) -> &mut [F] {
    v.get_mut(t * bh..(t + 1) * bh).unwrap_or(&mut [])
}
