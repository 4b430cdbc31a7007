//! One time step of a cell, forward and backward, over a block of B rows.
//!
//! Every cell computes its gate pre-activations from the concatenation [a⟨t−1⟩; x⟨t⟩]
//! with one weight matrix W = [W_aa; W_ax] stored input-major as `[H + X, G·H]`
//! (rows 0..H act on a⟨t−1⟩, rows H.. on x⟨t⟩; column block k is gate k). The x⟨t⟩ part
//! plus the bias is computed for all time steps at once by the layer (`xw`); a step only
//! does the recurrent product a⟨t−1⟩ · W_aa, one fused product for all gates.
//!
//! Buffers are flat row-major slices: `[B, G·H]` for gates, `[B, H]` for states.

use ndarray::{s, ArrayView2, ArrayViewMut2};

use super::gemm::{with_simd, Panels, NR};
use super::scalar::Scalar;
use super::spec::{CellKind, GruVariant};

/// The cell kinds with their equations (GRU split by variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// a⟨t⟩ = tanh(W_a[a⟨t−1⟩; x⟨t⟩] + b_a).
    Rnn,
    /// GRU, course form; gate blocks [u, r, c].
    Gru,
    /// GRU, PyTorch form; gate blocks [r, z, n].
    GruTorch,
    /// LSTM; gate blocks [u, f, o, c].
    Lstm,
}

impl Cell {
    /// The cell for a spec's cell kind and GRU variant.
    pub fn of(kind: CellKind, variant: GruVariant) -> Cell {
        match (kind, variant) {
            (CellKind::Rnn, _) => Cell::Rnn,
            (CellKind::Gru, GruVariant::Course) => Cell::Gru,
            (CellKind::Gru, GruVariant::Pytorch) => Cell::GruTorch,
            (CellKind::Lstm, _) => Cell::Lstm,
        }
    }

    /// Number of gate blocks G.
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru | Cell::GruTorch => 3,
            Cell::Lstm => 4,
        }
    }

    /// Checkpoint names of the gate blocks, in column order (`w_{name}`, `b_{name}`).
    pub fn block_names(self) -> &'static [&'static str] {
        match self {
            Cell::Rnn => &["a"],
            Cell::Gru => &["u", "r", "c"],
            Cell::GruTorch => &["r", "z", "n"],
            Cell::Lstm => &["u", "f", "o", "c"],
        }
    }

    /// Gates shown by the probe views: (block index, display name). The candidate is not a gate.
    pub fn probe_gates(self) -> &'static [(usize, &'static str)] {
        match self {
            Cell::Rnn => &[],
            Cell::Gru => &[(0, "update"), (1, "relevance")],
            Cell::GruTorch => &[(1, "update_z"), (0, "reset")],
            Cell::Lstm => &[(0, "update"), (1, "forget"), (2, "output")],
        }
    }

    /// Whether the cell keeps a memory c⟨t⟩ separate from a⟨t⟩ (LSTM).
    pub fn has_memory(self) -> bool {
        self == Cell::Lstm
    }
}

/// Inputs and outputs of one forward step over B rows.
pub struct Fwd<'a, F> {
    /// Rows B.
    pub b: usize,
    /// Hidden size H.
    pub h_size: usize,
    /// Recurrent weights W_aa `[H, G·H]`.
    pub w_h: ArrayView2<'a, F>,
    /// W_aa packed by [`Scalar::pack_panels`] (empty: not packed, read in place).
    pub w_hp: &'a [F],
    /// PyTorch GRU only: b_hn `[H]`.
    pub b_hn: &'a [F],
    /// x⟨t⟩ · W_ax + b, `[B, G·H]`.
    pub xw: &'a [F],
    /// a⟨t−1⟩ `[B, H]`.
    pub h_prev: &'a [F],
    /// LSTM: c⟨t−1⟩ `[B, H]`.
    pub c_prev: &'a [F],
    /// Out: activated gates `[B, G·H]`.
    pub gates: &'a mut [F],
    /// Out: LSTM c⟨t⟩; course GRU Γr ∗ c⟨t−1⟩; PyTorch GRU W_hn h + b_hn. `[B, H]`.
    pub aux: &'a mut [F],
    /// Out: a⟨t⟩ `[B, H]`.
    pub h: &'a mut [F],
    /// Scratch `[B, G·H]`.
    pub rec: &'a mut [F],
}

/// Inputs and outputs of one backward step over B rows.
pub struct Bwd<'a, F> {
    /// Rows B.
    pub b: usize,
    /// Hidden size H.
    pub h_size: usize,
    /// Recurrent weights W_aa `[H, G·H]`.
    pub w_h: ArrayView2<'a, F>,
    /// W_aaᵀ `[G·H, H]` packed by [`Scalar::pack_panels`] (empty: not packed).
    pub w_ht: &'a [F],
    /// a⟨t−1⟩ `[B, H]`.
    pub h_prev: &'a [F],
    /// LSTM: c⟨t−1⟩ `[B, H]`.
    pub c_prev: &'a [F],
    /// Activated gates of this step `[B, G·H]`.
    pub gates: &'a [F],
    /// The step's `aux` (see [`Fwd::aux`]).
    pub aux: &'a [F],
    /// a⟨t⟩ `[B, H]`.
    pub h: &'a [F],
    /// In: ∂L/∂a⟨t⟩. Out: ∂L/∂a⟨t−1⟩ through this step. `[B, H]`.
    pub da: &'a mut [F],
    /// LSTM. In: ∂L/∂c⟨t⟩ from step t+1. Out: ∂L/∂c⟨t−1⟩. `[B, H]`.
    pub dc: &'a mut [F],
    /// Out: ∂L/∂(input-side pre-activations) `[B, G·H]`.
    pub dpre: &'a mut [F],
    /// Out, PyTorch GRU only: ∂L/∂(recurrent-side pre-activations) `[B, G·H]`.
    pub drec: &'a mut [F],
    /// Scratch `[B, H]`.
    pub tmp: &'a mut [F],
}

fn view<F>(rows: usize, cols: usize, x: &[F]) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), x).expect("cell buffer sized rows × cols")
}

fn view_mut<F>(rows: usize, cols: usize, x: &mut [F]) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), x).expect("cell buffer sized rows × cols")
}

impl Cell {
    /// Forward one step (elementwise loops compiled for AVX2 where the CPU has it).
    pub fn forward<F: Scalar>(self, s: Fwd<'_, F>) {
        with_simd(|| self.forward_body(s));
    }

    /// Backward one step: from ∂L/∂a⟨t⟩ (and ∂L/∂c⟨t⟩) to the pre-activation gradients and
    /// ∂L/∂a⟨t−1⟩ (and ∂L/∂c⟨t−1⟩).
    pub fn backward<F: Scalar>(self, s: Bwd<'_, F>) {
        with_simd(|| self.backward_body(s));
    }

    // The loops below walk rows; inside a row every operand is re-sliced to exactly H
    // elements so the compiler drops the bounds checks and vectorises over j.
    #[inline(always)]
    fn forward_body<F: Scalar>(self, s: Fwd<'_, F>) {
        let (b, h) = (s.b, s.h_size);
        let gh = self.gates() * h;
        let hp = view(b, h, s.h_prev);
        // Packed W_aa from column `c0` on (a whole panel boundary, or not packed).
        let wp = |c0: usize| {
            if s.w_hp.is_empty() || !c0.is_multiple_of(NR) {
                Panels::none()
            } else {
                Panels {
                    data: &s.w_hp[c0 / NR * h * NR..],
                    k_total: h,
                    k0: 0,
                }
            }
        };
        match self {
            Cell::Rnn => {
                // a⟨t⟩ = tanh(x·W_ax + b_a + a⟨t−1⟩·W_aa)
                s.h.copy_from_slice(s.xw);
                F::small_mat_mul(&hp, &s.w_h, wp(0), true, &mut view_mut(b, h, s.h));
                s.h.iter_mut().for_each(|v| *v = v.tanh_fast());
            }
            Cell::Lstm => {
                // [Γu Γf Γo c̃] pre-activations = x·W_ax + b + a⟨t−1⟩·W_aa, one product.
                s.gates.copy_from_slice(s.xw);
                F::small_mat_mul(&hp, &s.w_h, wp(0), true, &mut view_mut(b, gh, s.gates));
                for r in 0..b {
                    let (gu, rest) = s.gates[r * gh..(r + 1) * gh].split_at_mut(h);
                    let (gf, rest) = rest.split_at_mut(h);
                    let (go, gc) = rest.split_at_mut(h);
                    let (gu, gf, go, gc) = (&mut gu[..h], &mut gf[..h], &mut go[..h], &mut gc[..h]);
                    let cp = &s.c_prev[r * h..(r + 1) * h];
                    let aux = &mut s.aux[r * h..(r + 1) * h];
                    let hh = &mut s.h[r * h..(r + 1) * h];
                    lstm_fwd_row(gu, gf, go, gc, cp, aux, hh);
                }
            }
            Cell::Gru => {
                // Γu, Γr = σ(x·W_ax + b + c⟨t−1⟩·W_aa) for the first two blocks.
                let mut rec = view_mut(b, gh, s.rec);
                F::small_mat_mul(
                    &hp,
                    &s.w_h.slice(s![.., ..2 * h]),
                    wp(0),
                    false,
                    &mut rec.slice_mut(s![.., ..2 * h]),
                );
                for r in 0..b {
                    let (xw, rec) = (&s.xw[r * gh..(r + 1) * gh], &s.rec[r * gh..(r + 1) * gh]);
                    let (xu, xr, ru, rr_) = (&xw[..h], &xw[h..2 * h], &rec[..h], &rec[h..2 * h]);
                    let (gu, gr) = s.gates[r * gh..r * gh + 2 * h].split_at_mut(h);
                    let (gu, gr) = (&mut gu[..h], &mut gr[..h]);
                    let cp = &s.h_prev[r * h..(r + 1) * h];
                    let aux = &mut s.aux[r * h..(r + 1) * h];
                    gru_fwd_gates_row(gu, gr, aux, xu, ru, xr, rr_, cp);
                }
                // c̃⟨t⟩ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c): the relevance gate acts before the product.
                let mut rec = view_mut(b, gh, s.rec);
                F::small_mat_mul(
                    &view(b, h, s.aux),
                    &s.w_h.slice(s![.., 2 * h..]),
                    wp(2 * h),
                    false,
                    &mut rec.slice_mut(s![.., 2 * h..]),
                );
                for r in 0..b {
                    let o = r * gh + 2 * h;
                    let (xc, rc) = (&s.xw[o..o + h], &s.rec[o..o + h]);
                    let (gu, gc) = s.gates[r * gh..(r + 1) * gh].split_at_mut(2 * h);
                    let (gu, gc) = (&gu[..h], &mut gc[..h]);
                    let cp = &s.h_prev[r * h..(r + 1) * h];
                    let hh = &mut s.h[r * h..(r + 1) * h];
                    gru_fwd_cand_row(gc, hh, xc, rc, gu, cp);
                }
            }
            Cell::GruTorch => {
                // [r z n] recurrent parts = h⟨t−1⟩·W_h, plus b_hn on the n block.
                F::small_mat_mul(&hp, &s.w_h, wp(0), false, &mut view_mut(b, gh, s.rec));
                let b_hn = &s.b_hn[..h];
                for r in 0..b {
                    let (xw, rec) = (&s.xw[r * gh..(r + 1) * gh], &s.rec[r * gh..(r + 1) * gh]);
                    let (xr, xz, xn) = (&xw[..h], &xw[h..2 * h], &xw[2 * h..3 * h]);
                    let (rr_, rz, rn) = (&rec[..h], &rec[h..2 * h], &rec[2 * h..3 * h]);
                    let (gr, rest) = s.gates[r * gh..(r + 1) * gh].split_at_mut(h);
                    let (gz, gn) = rest.split_at_mut(h);
                    let (gr, gz, gn) = (&mut gr[..h], &mut gz[..h], &mut gn[..h]);
                    let hp = &s.h_prev[r * h..(r + 1) * h];
                    let aux = &mut s.aux[r * h..(r + 1) * h];
                    let hh = &mut s.h[r * h..(r + 1) * h];
                    torch_fwd_row(gr, gz, gn, aux, hh, xr, rr_, xz, rz, rn, b_hn, xn, hp);
                }
            }
        }
    }

    #[inline(always)]
    fn backward_body<F: Scalar>(self, s: Bwd<'_, F>) {
        let (b, h) = (s.b, s.h_size);
        let gh = self.gates() * h;
        let one = F::one();
        // W_aaᵀ, packed once per backward call when the kernel wants it (rows k0.. of it).
        let wt = |k0: usize| Panels {
            data: s.w_ht,
            k_total: gh,
            k0,
        };
        match self {
            Cell::Rnn => {
                // ∂z = ∂a ∗ (1 − a²); ∂a⟨t−1⟩ = ∂z · W_aaᵀ
                for ((d, &da), &a) in s.dpre[..b * h].iter_mut().zip(&s.da[..b * h]).zip(&s.h[..b * h]) {
                    *d = da * (one - a * a);
                }
                F::small_mat_mul(
                    &view(b, gh, s.dpre),
                    &s.w_h.t(),
                    wt(0),
                    false,
                    &mut view_mut(b, h, s.da),
                );
            }
            Cell::Lstm => {
                for r in 0..b {
                    let g = &s.gates[r * gh..(r + 1) * gh];
                    let (u_, f_, o_, c_) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h], &g[3 * h..4 * h]);
                    let (du, rest) = s.dpre[r * gh..(r + 1) * gh].split_at_mut(h);
                    let (df, rest) = rest.split_at_mut(h);
                    let (d_o, dcc) = rest.split_at_mut(h);
                    let (du, df, d_o, dcc) = (&mut du[..h], &mut df[..h], &mut d_o[..h], &mut dcc[..h]);
                    let rows = r * h..(r + 1) * h;
                    let (aux, cp, dap) = (&s.aux[rows.clone()], &s.c_prev[rows.clone()], &s.da[rows.clone()]);
                    let dcr = &mut s.dc[rows];
                    lstm_bwd_row((u_, f_, o_, c_), aux, cp, dap, du, df, d_o, dcc, dcr);
                }
                F::small_mat_mul(
                    &view(b, gh, s.dpre),
                    &s.w_h.t(),
                    wt(0),
                    false,
                    &mut view_mut(b, h, s.da),
                );
            }
            Cell::Gru => {
                for r in 0..b {
                    let g = &s.gates[r * gh..(r + 1) * gh];
                    let (gu, gc) = (&g[..h], &g[2 * h..3 * h]);
                    let (du, rest) = s.dpre[r * gh..(r + 1) * gh].split_at_mut(h);
                    let dcc = &mut rest[h..2 * h];
                    let du = &mut du[..h];
                    let rows = r * h..(r + 1) * h;
                    let (cpv, dav) = (&s.h_prev[rows.clone()], &s.da[rows.clone()]);
                    let tmp = &mut s.tmp[rows];
                    gru_bwd_row(du, dcc, tmp, gu, gc, cpv, dav);
                }
                // ∂(Γr ∗ c⟨t−1⟩) = ∂pre_c · W_acᵀ, written into da (no longer needed).
                let dpre = view(b, gh, s.dpre);
                F::small_mat_mul(
                    &dpre.slice(s![.., 2 * h..]),
                    &s.w_h.slice(s![.., 2 * h..]).t(),
                    wt(2 * h),
                    false,
                    &mut view_mut(b, h, s.da),
                );
                for r in 0..b {
                    let gr = &s.gates[r * gh + h..r * gh + 2 * h];
                    let dr = &mut s.dpre[r * gh + h..r * gh + 2 * h];
                    let rows = r * h..(r + 1) * h;
                    let (cpv, drcv) = (&s.h_prev[rows.clone()], &s.da[rows.clone()]);
                    let tmp = &mut s.tmp[rows];
                    gru_bwd_relevance_row(dr, tmp, gr, drcv, cpv);
                }
                s.da.copy_from_slice(s.tmp);
                let dpre = view(b, gh, s.dpre);
                F::small_mat_mul(
                    &dpre.slice(s![.., ..2 * h]),
                    &s.w_h.slice(s![.., ..2 * h]).t(),
                    wt(0),
                    true,
                    &mut view_mut(b, h, s.da),
                );
            }
            Cell::GruTorch => {
                for r in 0..b {
                    let g = &s.gates[r * gh..(r + 1) * gh];
                    let (gr, gz, gn) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h]);
                    let (dpr, rest) = s.dpre[r * gh..(r + 1) * gh].split_at_mut(h);
                    let (dpz, dpn) = rest.split_at_mut(h);
                    let (dpr, dpz, dpn) = (&mut dpr[..h], &mut dpz[..h], &mut dpn[..h]);
                    let (drr, rest) = s.drec[r * gh..(r + 1) * gh].split_at_mut(h);
                    let (drz, drn) = rest.split_at_mut(h);
                    let (drr, drz, drn) = (&mut drr[..h], &mut drz[..h], &mut drn[..h]);
                    let rows = r * h..(r + 1) * h;
                    let (hpv, dav, auxv) = (&s.h_prev[rows.clone()], &s.da[rows.clone()], &s.aux[rows.clone()]);
                    let tmp = &mut s.tmp[rows];
                    torch_bwd_row(dpr, dpz, dpn, drr, drz, drn, tmp, gr, gz, gn, dav, hpv, auxv);
                }
                s.da.copy_from_slice(s.tmp);
                F::small_mat_mul(&view(b, gh, s.drec), &s.w_h.t(), wt(0), true, &mut view_mut(b, h, s.da));
            }
        }
    }
}

// Row kernels. Separate functions because `&mut` slice arguments are known not to alias
// each other (locals from `split_at_mut` are not, and the vectoriser gives up when a loop
// needs more than a few run-time overlap checks). Inlined into the AVX2 copies above.

/// LSTM forward over one row: gate pre-activations in, activations, c⟨t⟩ and a⟨t⟩ out.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_fwd_row<F: Scalar>(
    gu: &mut [F],
    gf: &mut [F],
    go: &mut [F],
    gc: &mut [F],
    cp: &[F],
    aux: &mut [F],
    hh: &mut [F],
) {
    let h = hh.len();
    let (gu, gf, go, gc, cp, aux) = (
        &mut gu[..h],
        &mut gf[..h],
        &mut go[..h],
        &mut gc[..h],
        &cp[..h],
        &mut aux[..h],
    );
    for j in 0..h {
        let u = gu[j].sigmoid(); // Γu = σ(·)
        let f = gf[j].sigmoid(); // Γf = σ(·)
        let o = go[j].sigmoid(); // Γo = σ(·)
        let cc = gc[j].tanh_fast(); // c̃⟨t⟩ = tanh(·)
        gu[j] = u;
        gf[j] = f;
        go[j] = o;
        gc[j] = cc;
        let c = u * cc + f * cp[j]; // c⟨t⟩ = Γu∗c̃ + Γf∗c⟨t−1⟩
        aux[j] = c;
        hh[j] = o * c.tanh_fast(); // a⟨t⟩ = Γo ∗ tanh(c⟨t⟩)
    }
}

/// LSTM backward over one row: ∂a⟨t⟩, ∂c⟨t⟩ in; ∂pre out; ∂c⟨t−1⟩ replaces ∂c⟨t⟩.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_bwd_row<F: Scalar>(
    (u_, f_, o_, c_): (&[F], &[F], &[F], &[F]),
    aux: &[F],
    cp: &[F],
    dap: &[F],
    du: &mut [F],
    df: &mut [F],
    d_o: &mut [F],
    dcc: &mut [F],
    dcr: &mut [F],
) {
    let one = F::one();
    let h = dcr.len();
    let (u_, f_, o_, c_, aux, cp, dap) = (&u_[..h], &f_[..h], &o_[..h], &c_[..h], &aux[..h], &cp[..h], &dap[..h]);
    let (du, df, d_o, dcc) = (&mut du[..h], &mut df[..h], &mut d_o[..h], &mut dcc[..h]);
    for j in 0..h {
        let (u, f, o, cc) = (u_[j], f_[j], o_[j], c_[j]);
        let tc = aux[j].tanh_fast();
        let da = dap[j];
        let dov = da * tc; // ∂Γo = ∂a ∗ tanh(c)
        let dc = dcr[j] + da * o * (one - tc * tc); // ∂c += ∂a ∗ Γo ∗ (1 − tanh²c)
        du[j] = dc * cc * u * (one - u); // ∂Γu = ∂c ∗ c̃, through σ'
        df[j] = dc * cp[j] * f * (one - f); // ∂Γf = ∂c ∗ c⟨t−1⟩
        d_o[j] = dov * o * (one - o);
        dcc[j] = dc * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu, through tanh'
        dcr[j] = dc * f; // ∂c⟨t−1⟩ = ∂c ∗ Γf
    }
}

/// Course GRU, gates Γu, Γr and Γr ∗ c⟨t−1⟩ over one row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gru_fwd_gates_row<F: Scalar>(
    gu: &mut [F],
    gr: &mut [F],
    aux: &mut [F],
    xu: &[F],
    ru: &[F],
    xr: &[F],
    rr_: &[F],
    cp: &[F],
) {
    let h = gu.len();
    let gr = &mut gr[..h];
    let aux = &mut aux[..h];
    let xu = &xu[..h];
    let ru = &ru[..h];
    let xr = &xr[..h];
    let rr_ = &rr_[..h];
    let cp = &cp[..h];
    for j in 0..h {
        let u = (xu[j] + ru[j]).sigmoid();
        let rr = (xr[j] + rr_[j]).sigmoid();
        gu[j] = u;
        gr[j] = rr;
        aux[j] = rr * cp[j]; // Γr ∗ c⟨t−1⟩
    }
}

/// Course GRU, candidate c̃⟨t⟩ and c⟨t⟩ over one row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gru_fwd_cand_row<F: Scalar>(gc: &mut [F], hh: &mut [F], xc: &[F], rc: &[F], gu: &[F], cp: &[F]) {
    let one = F::one();
    let h = gc.len();
    let hh = &mut hh[..h];
    let xc = &xc[..h];
    let rc = &rc[..h];
    let gu = &gu[..h];
    let cp = &cp[..h];
    for j in 0..h {
        let cc = (xc[j] + rc[j]).tanh_fast();
        gc[j] = cc;
        let u = gu[j];
        // c⟨t⟩ = Γu ∗ c̃⟨t⟩ + (1 − Γu) ∗ c⟨t−1⟩ (the notes' c̃⟨t−1⟩ is a typo); a⟨t⟩ = c⟨t⟩.
        hh[j] = u * cc + (one - u) * cp[j];
    }
}

/// PyTorch GRU forward over one row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn torch_fwd_row<F: Scalar>(
    gr: &mut [F],
    gz: &mut [F],
    gn: &mut [F],
    aux: &mut [F],
    hh: &mut [F],
    xr: &[F],
    rr_: &[F],
    xz: &[F],
    rz: &[F],
    rn: &[F],
    b_hn: &[F],
    xn: &[F],
    hp: &[F],
) {
    let one = F::one();
    let h = gr.len();
    let gz = &mut gz[..h];
    let gn = &mut gn[..h];
    let aux = &mut aux[..h];
    let hh = &mut hh[..h];
    let xr = &xr[..h];
    let rr_ = &rr_[..h];
    let xz = &xz[..h];
    let rz = &rz[..h];
    let rn = &rn[..h];
    let b_hn = &b_hn[..h];
    let xn = &xn[..h];
    let hp = &hp[..h];
    for j in 0..h {
        let rr = (xr[j] + rr_[j]).sigmoid();
        let z = (xz[j] + rz[j]).sigmoid();
        let hn = rn[j] + b_hn[j]; // W_hn h + b_hn
        let n = (xn[j] + rr * hn).tanh_fast(); // n = tanh(W_in x + b_in + r ∗ hn)
        gr[j] = rr;
        gz[j] = z;
        gn[j] = n;
        aux[j] = hn;
        hh[j] = (one - z) * n + z * hp[j]; // h = (1 − z) ∗ n + z ∗ h⟨t−1⟩
    }
}

/// Course GRU backward over one row: ∂Γu, ∂c̃ and the direct path to ∂c⟨t−1⟩.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gru_bwd_row<F: Scalar>(du: &mut [F], dcc: &mut [F], tmp: &mut [F], gu: &[F], gc: &[F], cpv: &[F], dav: &[F]) {
    let one = F::one();
    let h = du.len();
    let dcc = &mut dcc[..h];
    let tmp = &mut tmp[..h];
    let gu = &gu[..h];
    let gc = &gc[..h];
    let cpv = &cpv[..h];
    let dav = &dav[..h];
    for j in 0..h {
        let (u, cc) = (gu[j], gc[j]);
        let cp = cpv[j];
        let da = dav[j];
        du[j] = da * (cc - cp) * u * (one - u); // ∂Γu = ∂c ∗ (c̃ − c⟨t−1⟩)
        dcc[j] = da * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu
        tmp[j] = da * (one - u); // direct path ∂c⟨t−1⟩ = ∂c ∗ (1 − Γu)
    }
}

/// Course GRU backward over one row: ∂Γr and its path to ∂c⟨t−1⟩.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gru_bwd_relevance_row<F: Scalar>(dr: &mut [F], tmp: &mut [F], gr: &[F], drcv: &[F], cpv: &[F]) {
    let one = F::one();
    let h = dr.len();
    let tmp = &mut tmp[..h];
    let gr = &gr[..h];
    let drcv = &drcv[..h];
    let cpv = &cpv[..h];
    for j in 0..h {
        let rr = gr[j];
        let drc = drcv[j];
        dr[j] = drc * cpv[j] * rr * (one - rr); // ∂Γr = ∂(Γr∗c) ∗ c⟨t−1⟩
        tmp[j] += drc * rr; // ∂c⟨t−1⟩ += ∂(Γr∗c) ∗ Γr
    }
}

/// PyTorch GRU backward over one row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn torch_bwd_row<F: Scalar>(
    dpr: &mut [F],
    dpz: &mut [F],
    dpn: &mut [F],
    drr: &mut [F],
    drz: &mut [F],
    drn: &mut [F],
    tmp: &mut [F],
    gr: &[F],
    gz: &[F],
    gn: &[F],
    dav: &[F],
    hpv: &[F],
    auxv: &[F],
) {
    let one = F::one();
    let h = dpr.len();
    let dpz = &mut dpz[..h];
    let dpn = &mut dpn[..h];
    let drr = &mut drr[..h];
    let drz = &mut drz[..h];
    let drn = &mut drn[..h];
    let tmp = &mut tmp[..h];
    let gr = &gr[..h];
    let gz = &gz[..h];
    let gn = &gn[..h];
    let dav = &dav[..h];
    let hpv = &hpv[..h];
    let auxv = &auxv[..h];
    for j in 0..h {
        let (rr, z, n) = (gr[j], gz[j], gn[j]);
        let da = dav[j];
        let dz = da * (hpv[j] - n); // ∂z = ∂h ∗ (h⟨t−1⟩ − n)
        let dn = da * (one - z) * (one - n * n); // through tanh'
        let dr = dn * auxv[j] * rr * (one - rr); // ∂r = ∂n ∗ hn, through σ'
        dpr[j] = dr;
        dpz[j] = dz * z * (one - z);
        dpn[j] = dn;
        drr[j] = dr;
        drz[j] = dz * z * (one - z);
        drn[j] = dn * rr; // ∂hn = ∂n ∗ r
        tmp[j] = da * z; // ∂h⟨t−1⟩ = ∂h ∗ z + ∂rec · W_hᵀ
    }
}
