//! The LSTM cell, one time step over B rows (notes: "Long Short-Term Memory (LSTM)").
//!
//! ```text
//! Γu = σ(W_u[a⟨t−1⟩; x⟨t⟩] + b_u)          update gate
//! Γf = σ(W_f[a⟨t−1⟩; x⟨t⟩] + b_f)          forget gate
//! Γo = σ(W_o[a⟨t−1⟩; x⟨t⟩] + b_o)          output gate
//! c̃⟨t⟩ = tanh(W_c[a⟨t−1⟩; x⟨t⟩] + b_c)     candidate (the notes' Γr ∗ c⟨t−1⟩ inside it is a typo)
//! c⟨t⟩ = Γu ∗ c̃⟨t⟩ + Γf ∗ c⟨t−1⟩
//! a⟨t⟩ = Γo ∗ tanh(c⟨t⟩)
//! ```
//!
//! Gate blocks in column order [u, f, o, c]; all four pre-activations come from one fused
//! product a⟨t−1⟩ · W_aa `[H, 4H]` added to the precomputed W_ax x⟨t⟩ + b.

use super::cell::{view, view_mut, Bwd, Fwd};
use super::rows::{blocks, blocks_mut, fit, row, row_mut};
use super::scalar::Scalar;

/// Forward: the gates, c⟨t⟩ and a⟨t⟩ of every row.
#[inline(always)]
pub(super) fn forward<F: Scalar>(s: Fwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 4 * h;
    // [Γu Γf Γo c̃] pre-activations = W_ax x⟨t⟩ + b + a⟨t−1⟩ · W_aa, one product.
    s.gates.copy_from_slice(s.xw);
    let pw = s.packed_from(0);
    F::small_mat_mul(&view(b, h, s.a_prev), &s.w_aa, pw, true, &mut view_mut(b, gh, s.gates));
    for r in 0..b {
        let [gu, gf, go, gc] = blocks_mut::<4, _>(row_mut(s.gates, r, gh), h);
        fwd_row(
            gu,
            gf,
            go,
            gc,
            row(s.c_prev, r, h),
            row_mut(s.c, r, h),
            row_mut(s.a, r, h),
        );
    }
}

/// Forward over one row: pre-activations in `gu, gf, go, gc` become the activated gates.
#[inline(always)]
fn fwd_row<F: Scalar>(gu: &mut [F], gf: &mut [F], go: &mut [F], gc: &mut [F], c_prev: &[F], c: &mut [F], a: &mut [F]) {
    let h = a.len();
    fit!(h; gu, gf, go, gc, c_prev, c);
    for j in 0..h {
        let u = gu[j].sigmoid(); // Γu = σ(·)
        let f = gf[j].sigmoid(); // Γf = σ(·)
        let o = go[j].sigmoid(); // Γo = σ(·)
        let cc = gc[j].tanh_fast(); // c̃⟨t⟩ = tanh(·)
        gu[j] = u;
        gf[j] = f;
        go[j] = o;
        gc[j] = cc;
        let ct = u * cc + f * c_prev[j]; // c⟨t⟩ = Γu ∗ c̃⟨t⟩ + Γf ∗ c⟨t−1⟩
        c[j] = ct;
        a[j] = o * ct.tanh_fast(); // a⟨t⟩ = Γo ∗ tanh(c⟨t⟩)
    }
}

/// Backward: ∂pre of the four blocks, ∂c⟨t−1⟩, then ∂a⟨t−1⟩ = ∂pre · W_aaᵀ.
#[inline(always)]
pub(super) fn backward<F: Scalar>(s: Bwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 4 * h;
    for r in 0..b {
        let gates = blocks::<4, _>(row(s.gates, r, gh), h);
        let [du, df, d_o, dcc] = blocks_mut::<4, _>(row_mut(s.dpre, r, gh), h);
        let (c, c_prev, da) = (row(s.c, r, h), row(s.c_prev, r, h), row(s.da, r, h));
        bwd_row(gates, c, c_prev, da, [du, df, d_o, dcc], row_mut(s.dc, r, h));
    }
    let pt = s.packed_t_from(0);
    F::small_mat_mul(&view(b, gh, s.dpre), &s.w_aa.t(), pt, false, &mut view_mut(b, h, s.da));
}

/// Backward over one row: ∂a⟨t⟩ and ∂c⟨t⟩ (in `dc`) in; ∂pre out; ∂c⟨t−1⟩ replaces ∂c⟨t⟩.
#[inline(always)]
fn bwd_row<F: Scalar>(
    [u_, f_, o_, c_]: [&[F]; 4],
    c: &[F],
    c_prev: &[F],
    da: &[F],
    [du, df, d_o, dcc]: [&mut [F]; 4],
    dc: &mut [F],
) {
    let one = F::one();
    let h = dc.len();
    fit!(h; u_, f_, o_, c_, c, c_prev, da, du, df, d_o, dcc);
    for j in 0..h {
        let (u, f, o, cc) = (u_[j], f_[j], o_[j], c_[j]);
        let tc = c[j].tanh_fast();
        let dov = da[j] * tc; // ∂Γo = ∂a ∗ tanh(c⟨t⟩)
        let dct = dc[j] + da[j] * o * (one - tc * tc); // ∂c⟨t⟩ += ∂a ∗ Γo ∗ (1 − tanh² c⟨t⟩)
        du[j] = dct * cc * u * (one - u); // ∂Γu = ∂c ∗ c̃, through σ' = Γu(1 − Γu)
        df[j] = dct * c_prev[j] * f * (one - f); // ∂Γf = ∂c ∗ c⟨t−1⟩, through σ'
        d_o[j] = dov * o * (one - o); // through σ'
        dcc[j] = dct * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu, through tanh' = 1 − c̃²
        dc[j] = dct * f; // ∂c⟨t−1⟩ = ∂c⟨t⟩ ∗ Γf
    }
}
