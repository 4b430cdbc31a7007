//! The vanilla RNN cell, one time step over B rows (notes: "Recurrent neural network model").
//!
//! ```text
//! a⟨t⟩ = tanh(W_aa a⟨t−1⟩ + W_ax x⟨t⟩ + b_a)
//! ```
//!
//! One gate block (G = 1): the pre-activation z⟨t⟩ itself. The output head ŷ⟨t⟩ = softmax(W_ya
//! a⟨t⟩ + b_y) is shared by every cell (see `model::forward`).

use super::cell::{view, view_mut, Bwd, Fwd};
use super::scalar::Scalar;

/// Forward: a⟨t⟩ = tanh(W_ax x⟨t⟩ + b_a + a⟨t−1⟩ · W_aa).
#[inline(always)]
pub(super) fn forward<F: Scalar>(s: Fwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let pw = s.packed_from(0);
    // z⟨t⟩ = xw + a⟨t−1⟩ · W_aa, accumulated straight into a⟨t⟩.
    s.a.copy_from_slice(s.xw);
    F::small_mat_mul(&view(b, h, s.a_prev), &s.w_aa, pw, true, &mut view_mut(b, h, s.a));
    // a⟨t⟩ = tanh(z⟨t⟩)
    s.a.iter_mut().for_each(|v| *v = v.tanh_fast());
}

/// Backward: ∂z = ∂a⟨t⟩ ∗ (1 − a⟨t⟩²); ∂a⟨t−1⟩ = ∂z · W_aaᵀ.
#[inline(always)]
pub(super) fn backward<F: Scalar>(s: Bwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let one = F::one();
    let bh = b * h;
    for ((dz, &da), &a) in s.dpre[..bh].iter_mut().zip(&s.da[..bh]).zip(&s.a[..bh]) {
        *dz = da * (one - a * a); // tanh'(z) = 1 − a²
    }
    let pt = s.packed_t_from(0);
    F::small_mat_mul(&view(b, h, s.dpre), &s.w_aa.t(), pt, false, &mut view_mut(b, h, s.da));
}
