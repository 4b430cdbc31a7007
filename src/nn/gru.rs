//! The GRU cell in the course's form (Cho et al. 2014 v3), one time step over B rows
//! (notes: "Gated Recurrent Unit (GRU)"). The memory is the hidden state, a⟨t⟩ = c⟨t⟩.
//!
//! ```text
//! Γu = σ(W_u[c⟨t−1⟩; x⟨t⟩] + b_u)                 update gate
//! Γr = σ(W_r[c⟨t−1⟩; x⟨t⟩] + b_r)                 relevance gate
//! c̃⟨t⟩ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c)       candidate
//! c⟨t⟩ = Γu ∗ c̃⟨t⟩ + (1 − Γu) ∗ c⟨t−1⟩             (the notes' c̃⟨t−1⟩ here is a typo)
//! a⟨t⟩ = c⟨t⟩
//! ```
//!
//! Gate blocks in column order [u, r, c]. Γr acts before the candidate's recurrent product, so a
//! step does two products: [Γu Γr] from c⟨t−1⟩ · W_aa[:, ..2H], then c̃ from (Γr ∗ c⟨t−1⟩) ·
//! W_aa[:, 2H..]. The PyTorch form is in [`super::gru_torch`].

use ndarray::s;

use super::cell::{view, view_mut, Bwd, Fwd};
use super::rows::{blocks, blocks_mut, fit, row, row_mut};
use super::scalar::Scalar;

/// Forward: Γu, Γr, Γr ∗ c⟨t−1⟩, then c̃⟨t⟩ and c⟨t⟩ = a⟨t⟩ of every row.
#[inline(always)]
pub(super) fn forward<F: Scalar>(s: Fwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 3 * h;
    // Recurrent parts of Γu, Γr: c⟨t−1⟩ · W_aa[:, ..2H].
    let pw = s.packed_from(0);
    let mut rec = view_mut(b, gh, s.rec);
    let (a_prev, w_ur) = (view(b, h, s.a_prev), s.w_aa.slice(s![.., ..2 * h]));
    F::small_mat_mul(&a_prev, &w_ur, pw, false, &mut rec.slice_mut(s![.., ..2 * h]));
    for r in 0..b {
        let [xu, xr, _] = blocks::<3, _>(row(s.xw, r, gh), h);
        let [ru, rr, _] = blocks::<3, _>(row(s.rec, r, gh), h);
        let [gu, gr, _] = blocks_mut::<3, _>(row_mut(s.gates, r, gh), h);
        gates_row(gu, gr, row_mut(s.gamma_r_c, r, h), xu, ru, xr, rr, row(s.a_prev, r, h));
    }
    // Recurrent part of c̃⟨t⟩: (Γr ∗ c⟨t−1⟩) · W_aa[:, 2H..] — the relevance gate acts before the product.
    let pw = s.packed_from(2 * h);
    let mut rec = view_mut(b, gh, s.rec);
    let (rc, w_c) = (view(b, h, s.gamma_r_c), s.w_aa.slice(s![.., 2 * h..]));
    F::small_mat_mul(&rc, &w_c, pw, false, &mut rec.slice_mut(s![.., 2 * h..]));
    for r in 0..b {
        let [_, _, xc] = blocks::<3, _>(row(s.xw, r, gh), h);
        let [_, _, rc] = blocks::<3, _>(row(s.rec, r, gh), h);
        let [gu, _, gc] = blocks_mut::<3, _>(row_mut(s.gates, r, gh), h);
        candidate_row(gc, row_mut(s.a, r, h), xc, rc, gu, row(s.a_prev, r, h));
    }
}

/// Γu, Γr and Γr ∗ c⟨t−1⟩ over one row (`x*`: input parts, `r*`: recurrent parts).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gates_row<F: Scalar>(
    gu: &mut [F],
    gr: &mut [F],
    gamma_r_c: &mut [F],
    xu: &[F],
    ru: &[F],
    xr: &[F],
    rr: &[F],
    c_prev: &[F],
) {
    let h = gu.len();
    fit!(h; gr, gamma_r_c, xu, ru, xr, rr, c_prev);
    for j in 0..h {
        let u = (xu[j] + ru[j]).sigmoid(); // Γu = σ(W_u[c⟨t−1⟩; x⟨t⟩] + b_u)
        let r = (xr[j] + rr[j]).sigmoid(); // Γr = σ(W_r[c⟨t−1⟩; x⟨t⟩] + b_r)
        gu[j] = u;
        gr[j] = r;
        gamma_r_c[j] = r * c_prev[j]; // Γr ∗ c⟨t−1⟩
    }
}

/// c̃⟨t⟩ and c⟨t⟩ = a⟨t⟩ over one row.
#[inline(always)]
fn candidate_row<F: Scalar>(gc: &mut [F], a: &mut [F], xc: &[F], rc: &[F], gu: &[F], c_prev: &[F]) {
    let one = F::one();
    let h = gc.len();
    fit!(h; a, xc, rc, gu, c_prev);
    for j in 0..h {
        let cc = (xc[j] + rc[j]).tanh_fast(); // c̃⟨t⟩ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c)
        gc[j] = cc;
        let u = gu[j];
        a[j] = u * cc + (one - u) * c_prev[j]; // c⟨t⟩ = Γu ∗ c̃⟨t⟩ + (1 − Γu) ∗ c⟨t−1⟩; a⟨t⟩ = c⟨t⟩
    }
}

/// Backward: ∂pre of [u, r, c] and ∂c⟨t−1⟩ through the three paths (direct, through the
/// candidate's Γr ∗ c⟨t−1⟩, through the gates' recurrent products).
#[inline(always)]
pub(super) fn backward<F: Scalar>(s: Bwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 3 * h;
    for r in 0..b {
        let [gu, _, gc] = blocks::<3, _>(row(s.gates, r, gh), h);
        let [du, _, dcc] = blocks_mut::<3, _>(row_mut(s.dpre, r, gh), h);
        let (c_prev, da) = (row(s.a_prev, r, h), row(s.da, r, h));
        update_candidate_row(du, dcc, row_mut(s.tmp, r, h), gu, gc, c_prev, da);
    }
    // ∂(Γr ∗ c⟨t−1⟩) = ∂pre_c · W_cᵀ (the recurrent rows), written into da (no longer needed).
    let dpre = view(b, gh, s.dpre);
    F::small_mat_mul(
        &dpre.slice(s![.., 2 * h..]),
        &s.w_aa.slice(s![.., 2 * h..]).t(),
        s.packed_t_from(2 * h),
        false,
        &mut view_mut(b, h, s.da),
    );
    for r in 0..b {
        let gr = &row(s.gates, r, gh)[h..2 * h];
        let dr = &mut row_mut(s.dpre, r, gh)[h..2 * h];
        let (c_prev, d_rc) = (row(s.a_prev, r, h), row(s.da, r, h));
        relevance_row(dr, row_mut(s.tmp, r, h), gr, d_rc, c_prev);
    }
    // ∂c⟨t−1⟩ = direct and relevance paths (tmp) + ∂pre_[u r] · W_[u r]ᵀ.
    s.da.copy_from_slice(s.tmp);
    let dpre = view(b, gh, s.dpre);
    F::small_mat_mul(
        &dpre.slice(s![.., ..2 * h]),
        &s.w_aa.slice(s![.., ..2 * h]).t(),
        s.packed_t_from(0),
        true,
        &mut view_mut(b, h, s.da),
    );
}

/// One row: ∂Γu and ∂c̃ pre-activations, and the direct path of ∂c⟨t−1⟩ into `direct`.
#[inline(always)]
fn update_candidate_row<F: Scalar>(
    du: &mut [F],
    dcc: &mut [F],
    direct: &mut [F],
    gu: &[F],
    gc: &[F],
    c_prev: &[F],
    da: &[F],
) {
    let one = F::one();
    let h = du.len();
    fit!(h; dcc, direct, gu, gc, c_prev, da);
    for j in 0..h {
        let (u, cc) = (gu[j], gc[j]);
        du[j] = da[j] * (cc - c_prev[j]) * u * (one - u); // ∂Γu = ∂c ∗ (c̃ − c⟨t−1⟩), through σ'
        dcc[j] = da[j] * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu, through tanh'
        direct[j] = da[j] * (one - u); // direct path: ∂c⟨t−1⟩ = ∂c ∗ (1 − Γu)
    }
}

/// One row: ∂Γr pre-activation from ∂(Γr ∗ c⟨t−1⟩), and that product's path into ∂c⟨t−1⟩.
#[inline(always)]
fn relevance_row<F: Scalar>(dr: &mut [F], dc_prev: &mut [F], gr: &[F], d_rc: &[F], c_prev: &[F]) {
    let one = F::one();
    let h = dr.len();
    fit!(h; dc_prev, gr, d_rc, c_prev);
    for j in 0..h {
        let r = gr[j];
        dr[j] = d_rc[j] * c_prev[j] * r * (one - r); // ∂Γr = ∂(Γr ∗ c⟨t−1⟩) ∗ c⟨t−1⟩, through σ'
        dc_prev[j] += d_rc[j] * r; // ∂c⟨t−1⟩ += ∂(Γr ∗ c⟨t−1⟩) ∗ Γr
    }
}
