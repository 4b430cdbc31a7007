//! The GRU cell in PyTorch's form (`gru_variant = "pytorch"`), one time step over B rows. It
//! differs from the course form ([`super::gru`]) in where the reset gate acts: after the
//! recurrent product, on W_hn a⟨t−1⟩ + b_hn, and in which way the update gate z points.
//!
//! ```text
//! r = σ(W_ir x⟨t⟩ + b_ir + W_hr a⟨t−1⟩ + b_hr)          reset gate
//! z = σ(W_iz x⟨t⟩ + b_iz + W_hz a⟨t−1⟩ + b_hz)          update gate (z = 1 keeps)
//! n = tanh(W_in x⟨t⟩ + b_in + r ∗ (W_hn a⟨t−1⟩ + b_hn)) candidate
//! a⟨t⟩ = (1 − z) ∗ n + z ∗ a⟨t−1⟩
//! ```
//!
//! Gate blocks in column order [r, z, n]; the bias `b` holds b_ir + b_hr, b_iz + b_hz and b_in,
//! and b_hn is its own tensor because r multiplies it. One recurrent product a⟨t−1⟩ · W_aa
//! serves all three blocks.

use super::cell::{view, view_mut, Bwd, Fwd};
use super::rows::{blocks, blocks_mut, fit, row, row_mut};
use super::scalar::Scalar;

/// Forward: r, z, n, hn = W_hn a⟨t−1⟩ + b_hn and a⟨t⟩ of every row.
#[inline(always)]
pub(super) fn forward<F: Scalar>(s: Fwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 3 * h;
    // [r z n] recurrent parts = a⟨t−1⟩ · W_aa (W_hr, W_hz, W_hn side by side).
    let pw = s.packed_from(0);
    F::small_mat_mul(&view(b, h, s.a_prev), &s.w_aa, pw, false, &mut view_mut(b, gh, s.rec));
    let b_hn = &s.b_hn[..h];
    for r in 0..b {
        let x = blocks::<3, _>(row(s.xw, r, gh), h);
        let rec = blocks::<3, _>(row(s.rec, r, gh), h);
        let g = blocks_mut::<3, _>(row_mut(s.gates, r, gh), h);
        fwd_row(
            g,
            row_mut(s.hn, r, h),
            row_mut(s.a, r, h),
            x,
            rec,
            b_hn,
            row(s.a_prev, r, h),
        );
    }
}

/// Forward over one row: input parts `x`, recurrent parts `rec`, out gates `[r, z, n]`.
#[inline(always)]
fn fwd_row<F: Scalar>(
    [gr, gz, gn]: [&mut [F]; 3],
    hn: &mut [F],
    a: &mut [F],
    [xr, xz, xn]: [&[F]; 3],
    [rr, rz, rn]: [&[F]; 3],
    b_hn: &[F],
    a_prev: &[F],
) {
    let one = F::one();
    let h = a.len();
    fit!(h; gr, gz, gn, hn, xr, xz, xn, rr, rz, rn, b_hn, a_prev);
    for j in 0..h {
        let r = (xr[j] + rr[j]).sigmoid(); // r = σ(W_ir x + b_ir + W_hr a⟨t−1⟩ + b_hr)
        let z = (xz[j] + rz[j]).sigmoid(); // z = σ(W_iz x + b_iz + W_hz a⟨t−1⟩ + b_hz)
        let hnj = rn[j] + b_hn[j]; // W_hn a⟨t−1⟩ + b_hn
        let n = (xn[j] + r * hnj).tanh_fast(); // n = tanh(W_in x + b_in + r ∗ hn)
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
        hn[j] = hnj;
        a[j] = (one - z) * n + z * a_prev[j]; // a⟨t⟩ = (1 − z) ∗ n + z ∗ a⟨t−1⟩
    }
}

/// Backward: ∂ of the input-side pre-activations (`dpre`) and of the recurrent-side ones
/// (`drec`: they differ in the n block, where r sits between), then
/// ∂a⟨t−1⟩ = ∂a⟨t⟩ ∗ z + drec · W_aaᵀ.
#[inline(always)]
pub(super) fn backward<F: Scalar>(s: Bwd<'_, F>) {
    let (b, h) = (s.b, s.hidden);
    let gh = 3 * h;
    for r in 0..b {
        let g = blocks::<3, _>(row(s.gates, r, gh), h);
        let dpre = blocks_mut::<3, _>(row_mut(s.dpre, r, gh), h);
        let drec = blocks_mut::<3, _>(row_mut(s.drec, r, gh), h);
        let (a_prev, da, hn) = (row(s.a_prev, r, h), row(s.da, r, h), row(s.hn, r, h));
        bwd_row(dpre, drec, row_mut(s.tmp, r, h), g, da, a_prev, hn);
    }
    s.da.copy_from_slice(s.tmp);
    let pt = s.packed_t_from(0);
    F::small_mat_mul(&view(b, gh, s.drec), &s.w_aa.t(), pt, true, &mut view_mut(b, h, s.da));
}

/// Backward over one row. `direct` gets the path of ∂a⟨t−1⟩ that skips the products, ∂a ∗ z.
#[inline(always)]
fn bwd_row<F: Scalar>(
    [dpr, dpz, dpn]: [&mut [F]; 3],
    [drr, drz, drn]: [&mut [F]; 3],
    direct: &mut [F],
    [gr, gz, gn]: [&[F]; 3],
    da: &[F],
    a_prev: &[F],
    hn: &[F],
) {
    let one = F::one();
    let h = direct.len();
    fit!(h; dpr, dpz, dpn, drr, drz, drn, gr, gz, gn, da, a_prev, hn);
    for j in 0..h {
        let (r, z, n) = (gr[j], gz[j], gn[j]);
        let dz = da[j] * (a_prev[j] - n); // ∂z = ∂a ∗ (a⟨t−1⟩ − n)
        let dn = da[j] * (one - z) * (one - n * n); // ∂n = ∂a ∗ (1 − z), through tanh'
        let dr = dn * hn[j] * r * (one - r); // ∂r = ∂n ∗ hn, through σ'
        dpr[j] = dr;
        dpz[j] = dz * z * (one - z); // through σ'
        dpn[j] = dn;
        drr[j] = dr;
        drz[j] = dz * z * (one - z);
        drn[j] = dn * r; // ∂hn = ∂n ∗ r
        direct[j] = da[j] * z; // ∂a⟨t−1⟩ = ∂a ∗ z + ∂rec · W_aaᵀ
    }
}
