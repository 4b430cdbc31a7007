//! The loss of the head outputs: softmax cross-entropy per scored step or per sequence, or mean
//! squared error for regression heads, with ∂objective/∂outputs for backward.
//!
//! ```text
//! L = Σ_t L⟨t⟩(ŷ⟨t⟩, y⟨t⟩),  L⟨t⟩ = −log ŷ⟨t⟩_y⟨t⟩,  ŷ⟨t⟩ = softmax(z⟨t⟩)
//! ```
//!
//! The objective backward differentiates is L summed over steps and averaged over the B
//! sequences ([`LossNorm::Sum`], the default), or averaged over the N scored tokens
//! ([`LossNorm::Mean`]); the statistics report the mean per scored token either way.

use super::super::batch::{Batch, Targets};
use super::super::gemm::with_simd;
use super::super::scalar::Scalar;
use super::super::workspace::Workspace;
use super::{LossNorm, LossStats, Model, Score};

impl<F: Scalar> Model<F> {
    /// Loss of the head outputs against the batch targets; fills ∂objective/∂outputs.
    pub fn loss(&self, batch: &Batch, score: Score, ws: &mut Workspace<F>) -> LossStats {
        with_simd(|| self.loss_body(batch, score, ws))
    }

    #[inline(always)]
    fn loss_body(&self, batch: &Batch, score: Score, ws: &mut Workspace<F>) -> LossStats {
        let (y, b, steps) = (self.spec.outputs, batch.batch, batch.steps);
        let scored = match (&batch.targets, score) {
            (Targets::PerStep(_), Score::All) => batch.scored(),
            _ => b, // one scored position per sequence
        };
        let scale = match ws.loss_norm {
            LossNorm::Sum => 1.0 / b as f64, // objective = Σ over steps, mean over sequences
            LossNorm::Mean => 1.0 / scored.max(1) as f64, // objective = mean over scored tokens
        };
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
