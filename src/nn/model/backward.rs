//! Backpropagation through time: the head's gradient, then every layer and direction from the
//! top down, each walking time in reverse and carrying ∂L/∂a (and ∂L/∂c) to the step before;
//! the weight gradients are then one product over all time steps per weight block.
//!
//! Dropout (when the forward pass had masks): a masked value's gradient is the gradient of what
//! it fed, times the same mask — at each layer's output before its time loop, on ∂a⟨t−1⟩ after
//! each recurrent step, and on the input rows before the scatter into the tables. Weight
//! gradients read the masked values the forward pass used. Tied weights: the head's gradient
//! ∂W_yᵀ = ∂zᵀ · a is added into the embedding's gradient, beside the input side's scatter-add.

use ndarray::{s, ArrayView2};

use super::super::batch::{Batch, NO_INPUT};
use super::super::cell::{view, view_mut, Bwd, Cell};
use super::super::dropout::mul_in_place;
use super::super::gemm::with_simd;
use super::super::params::Params;
use super::super::scalar::Scalar;
use super::super::spec::{HeadKind, InputKind};
use super::super::workspace::{DirCache, Workspace};
use super::Model;

impl<F: Scalar> Model<F> {
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
        let zero = F::zero();
        let top0 = (self.spec.layers - 1) * dirs;
        // Head: ∂W_y = inputᵀ · ∂z; ∂b_y = Σ rows ∂z; ∂input = ∂z · W_yᵀ.
        {
            let w = &self.params.values[self.head_w];
            let out_rows = if self.spec.head == HeadKind::PerStep { rows } else { b };
            let dz = view(out_rows, y, &ws.dlogits);
            add_col_sums(&dz, &mut grads.values[self.head_b]);
            for c in ws.dirs.iter_mut() {
                c.da_above[..rows * h].fill(zero);
            }
            if self.spec.head == HeadKind::PerStep {
                for p in 0..dirs {
                    let c = &mut ws.dirs[top0 + p];
                    let x = view(rows, h, ws.drop.output(top0 + p, &c.a));
                    if self.spec.tie_weights {
                        // W_y = Eᵀ: ∂E[:, block p] += ∂zᵀ · x; ∂x = ∂z · E[:, block p].
                        let cols = s![.., p * h..(p + 1) * h];
                        F::mat_mul(&dz.t(), &x, true, &mut grads.values[self.head_w].slice_mut(cols));
                        F::mat_mul(&dz, &w.slice(cols), false, &mut view_mut(rows, h, &mut c.da_above));
                    } else {
                        F::mat_mul(
                            &x.t(),
                            &dz,
                            true,
                            &mut grads.values[self.head_w].slice_mut(s![p * h..(p + 1) * h, ..]),
                        );
                        F::mat_mul(
                            &dz,
                            &w.slice(s![p * h..(p + 1) * h, ..]).t(),
                            false,
                            &mut view_mut(rows, h, &mut c.da_above),
                        );
                    }
                }
            } else {
                let hd = h * dirs;
                let x = view(b, hd, &ws.head_in);
                F::mat_mul(&x.t(), &dz, true, &mut grads.values[self.head_w].view_mut());
                for p in 0..dirs {
                    let t = if p == 0 { steps - 1 } else { 0 };
                    let c = &mut ws.dirs[top0 + p];
                    let mut dst = view_mut(b, h, &mut c.da_above[t * b * h..(t + 1) * b * h]);
                    F::mat_mul(&dz, &w.slice(s![p * h..(p + 1) * h, ..]).t(), false, &mut dst);
                }
            }
        }
        for l in (0..self.spec.layers).rev() {
            let (below, here) = ws.dirs.split_at_mut(l * dirs);
            for (d, c) in here.iter_mut().take(dirs).enumerate() {
                let i = l * dirs + d;
                let dp = self.dirs[i];
                let w = &self.params.values[dp.w];
                let record = ws.record_grad_norms;
                if let Some(m) = ws.drop.out_mask(i) {
                    // This layer's output was masked on its way up: ∂a⟨t⟩ = ∂(a⟨t⟩ ∗ m) ∗ m.
                    mul_in_place(&mut c.da_above, m, rows * h);
                }
                let rec = ws.drop.has_rec(i).then(|| &ws.drop.dirs[i]);
                let rec_mask = rec.map(|r| r.rec_mask.as_slice());
                self.back_dir(c, w.slice(s![..h, ..]), steps, b, d == 0, &batch.mask, record, rec_mask);
                // Recurrent weights: ∂W_aa = Σ_t a⟨t−1⟩ᵀ · ∂pre⟨t⟩, one product over all steps.
                let gw = &mut grads.values[dp.w];
                let dpre = view(rows, gh, &c.dpre);
                let drec_src = if self.cell == Cell::GruTorch {
                    view(rows, gh, &c.drec)
                } else {
                    dpre.view()
                };
                let a_all = view(rows, h, &c.a);
                let a0 = view(b, h, &c.a0);
                let cols = if self.cell == Cell::Gru { 2 * h } else { gh };
                if let Some(r) = rec {
                    // The product read rec_mask ∗ a⟨t−1⟩, kept per step: one product over all rows.
                    let a_in = view(rows, h, &r.rec_in);
                    F::mat_mul(
                        &a_in.t(),
                        &drec_src.slice(s![.., ..cols]),
                        true,
                        &mut gw.slice_mut(s![..h, ..cols]),
                    );
                } else {
                    let mut gwh = gw.slice_mut(s![..h, ..cols]);
                    let dr = drec_src.slice(s![.., ..cols]);
                    let (first, rest_prev, rest_d) = if d == 0 {
                        (
                            dr.slice(s![..b, ..]),
                            a_all.slice(s![..rows - b, ..]),
                            dr.slice(s![b.., ..]),
                        )
                    } else {
                        (
                            dr.slice(s![rows - b.., ..]),
                            a_all.slice(s![b.., ..]),
                            dr.slice(s![..rows - b, ..]),
                        )
                    };
                    F::mat_mul(&a0.t(), &first, true, &mut gwh);
                    F::mat_mul(&rest_prev.t(), &rest_d, true, &mut gwh);
                }
                if self.cell == Cell::Gru {
                    // The candidate block acts on Γr ∗ c⟨t−1⟩, not on c⟨t−1⟩.
                    let rc = view(rows, h, &c.gamma_r_c);
                    F::mat_mul(
                        &rc.t(),
                        &dpre.slice(s![.., 2 * h..]),
                        true,
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
                        InputKind::OneHot if !batch.features.is_empty() => {
                            // Real-valued inputs: ∂W[H + j] += x_j · ∂pre row, for every row.
                            let v = self.spec.vocab;
                            let gflat = grads.values[dp.w].as_slice_mut().expect("gradients are contiguous");
                            for (x, dr) in batch.features.chunks_exact(v).zip(c.dpre[..rows * gh].chunks_exact(gh)) {
                                for (j, &xj) in x.iter().enumerate() {
                                    if xj != 0.0 {
                                        let xj = F::from_f32(xj).unwrap_or_else(F::zero);
                                        let o = (h + j) * gh;
                                        for (g, &d) in gflat[o..o + gh].iter_mut().zip(dr) {
                                            *g += xj * d;
                                        }
                                    }
                                }
                            }
                        }
                        InputKind::OneHot => {
                            // ∂W_ax row H + tok += f · ∂pre row (scatter-add of the gather; f is
                            // the row's dropout factor, 1 without dropout).
                            let gflat = grads.values[dp.w].as_slice_mut().expect("gradients are contiguous");
                            let tokf = ws.drop.token();
                            for (r, (&tok, dr)) in batch
                                .inputs
                                .iter()
                                .zip(c.dpre[..rows * gh].chunks_exact(gh))
                                .enumerate()
                            {
                                if tok != NO_INPUT {
                                    let o = (h + tok as usize) * gh;
                                    match tokf {
                                        None => gflat[o..o + gh].iter_mut().zip(dr).for_each(|(g, &v)| *g += v),
                                        Some(t) => {
                                            let f = t[r];
                                            gflat[o..o + gh].iter_mut().zip(dr).for_each(|(g, &v)| *g += f * v);
                                        }
                                    }
                                }
                            }
                        }
                        InputKind::Embedding(ew) => {
                            let emb = view(rows, ew, &ws.emb);
                            F::mat_mul(&emb.t(), &dpre, true, &mut grads.values[dp.w].slice_mut(s![h.., ..]));
                            let acc = d != 0; // the first direction overwrites ∂x, the second adds
                            F::mat_mul(
                                &dpre,
                                &w.slice(s![h.., ..]).t(),
                                acc,
                                &mut view_mut(rows, ew, &mut ws.demb),
                            );
                        }
                    }
                } else {
                    for (p, part) in below[(l - 1) * dirs..].iter_mut().enumerate() {
                        let rows_w = s![h + p * h..h + (p + 1) * h, ..];
                        F::mat_mul(
                            &view(rows, h, ws.drop.output((l - 1) * dirs + p, &part.a)).t(),
                            &dpre,
                            true,
                            &mut grads.values[dp.w].slice_mut(rows_w),
                        );
                        F::mat_mul(
                            &dpre,
                            &w.slice(rows_w).t(),
                            true,
                            &mut view_mut(rows, h, &mut part.da_above),
                        );
                    }
                }
            }
        }
        if let (Some(e), InputKind::Embedding(ew)) = (self.embed, self.spec.input) {
            // Scatter-add ∂x rows into the embedding table rows of their tokens (through the
            // dropout factors the gather applied: ∂row = f · m ∗ ∂x). With tied weights the
            // head's gradient is already in this tensor: the two add up.
            let gflat = grads.values[e].as_slice_mut().expect("gradients are contiguous");
            let (tokf, in_mask) = (ws.drop.token(), ws.drop.input());
            for (r, (&tok, dr)) in batch
                .inputs
                .iter()
                .zip(ws.demb.chunks_exact_mut(ew))
                .enumerate()
                .take(rows)
            {
                if tok != NO_INPUT {
                    if let Some(m) = in_mask {
                        mul_in_place(dr, &m[r * ew..(r + 1) * ew], ew);
                    }
                    let f = tokf.map_or(F::one(), |t| t[r]);
                    let o = tok as usize * ew;
                    for (g, &v) in gflat[o..o + ew].iter_mut().zip(dr.iter()) {
                        *g += f * v;
                    }
                }
            }
        }
    }

    /// The backward time loop of one direction: fills `dpre` (and `drec`) for every step.
    /// `rec_mask`: the variational recurrent mask `[B, H]` the forward pass put on a⟨t−1⟩.
    #[allow(clippy::too_many_arguments)]
    fn back_dir(
        &self,
        c: &mut DirCache<F>,
        w_aa: ArrayView2<'_, F>,
        steps: usize,
        b: usize,
        fwd: bool,
        mask: &[u8],
        record: bool,
        rec_mask: Option<&[F]>,
    ) {
        let h = self.spec.hidden;
        let gh = self.cell.gates() * h;
        let (bh, bgh) = (b * h, b * gh);
        let lstm = self.cell.has_memory();
        c.da[..bh].fill(F::zero());
        c.dc[..bh].fill(F::zero());
        // W_aaᵀ packed once here, read by every step's ∂a⟨t−1⟩ = ∂pre · W_aaᵀ.
        F::pack_panels(&w_aa.t(), &mut c.w_aa_t_packed);
        c.grad_norm.clear();
        if record {
            c.grad_norm.resize(steps, 0.0);
        }
        for k in (0..steps).rev() {
            let t = if fwd { k } else { steps - 1 - k };
            c.load_prev(k, t, bh, fwd, lstm);
            // ∂L/∂a⟨t⟩ = from above (head or next layer) + from a⟨t+1⟩ through the recurrence.
            for (a, &d) in c.da[..bh].iter_mut().zip(&c.da_above[t * bh..(t + 1) * bh]) {
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
                hidden: h,
                w_aa,
                w_aa_t_packed: &c.w_aa_t_packed,
                a_prev: &c.a_prev[..bh],
                c_prev: &c.c_prev[..bh],
                gates: &c.gates[t * bgh..(t + 1) * bgh],
                c: c.c.get(t * bh..(t + 1) * bh).unwrap_or(&[]),
                hn: c.hn.get(t * bh..(t + 1) * bh).unwrap_or(&[]),
                a: &c.a[t * bh..(t + 1) * bh],
                da: &mut c.da[..bh],
                dc: &mut c.dc[..bh],
                dpre: &mut c.dpre[t * bgh..(t + 1) * bgh],
                drec: c.drec.get_mut(t * bgh..(t + 1) * bgh).unwrap_or(&mut []),
                tmp: &mut c.tmp[..bh],
            });
            if let Some(m) = rec_mask {
                // The cell's ∂a⟨t−1⟩ is ∂(m ∗ a⟨t−1⟩): ∂a⟨t−1⟩ = m ∗ that.
                mul_in_place(&mut c.da, m, bh);
            }
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
