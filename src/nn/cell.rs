//! One time step of a cell, forward and backward, over a block of B rows.
//!
//! Every cell computes its gate pre-activations from the concatenation [a⟨t−1⟩; x⟨t⟩]
//! with one weight matrix W = [W_aa; W_ax] stored input-major as `[H + X, G·H]`
//! (rows 0..H act on a⟨t−1⟩, rows H.. on x⟨t⟩; column block k is gate k). The x⟨t⟩ part
//! plus the bias is computed for all time steps at once by the layer (`xw`); a step only
//! does the recurrent product a⟨t−1⟩ · W_aa, one fused product for all gates.
//!
//! Buffers are flat row-major slices: `[B, G·H]` for gates, `[B, H]` for states.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, ArrayView2, ArrayViewMut2};

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
    /// Forward one step.
    pub fn forward<F: Scalar>(self, s: Fwd<'_, F>) {
        let (b, h) = (s.b, s.h_size);
        let gh = self.gates() * h;
        let one = F::one();
        let hp = view(b, h, s.h_prev);
        match self {
            Cell::Rnn => {
                // a⟨t⟩ = tanh(x·W_ax + b_a + a⟨t−1⟩·W_aa)
                s.h.copy_from_slice(s.xw);
                general_mat_mul(one, &hp, &s.w_h, one, &mut view_mut(b, h, s.h));
                s.h.iter_mut().for_each(|v| *v = v.tanh_fast());
            }
            Cell::Lstm => {
                // [Γu Γf Γo c̃] pre-activations = x·W_ax + b + a⟨t−1⟩·W_aa, one product.
                s.gates.copy_from_slice(s.xw);
                general_mat_mul(one, &hp, &s.w_h, one, &mut view_mut(b, gh, s.gates));
                for r in 0..b {
                    let g = &mut s.gates[r * gh..(r + 1) * gh];
                    for j in 0..h {
                        let u = g[j].sigmoid(); // Γu = σ(·)
                        let f = g[h + j].sigmoid(); // Γf = σ(·)
                        let o = g[2 * h + j].sigmoid(); // Γo = σ(·)
                        let cc = g[3 * h + j].tanh_fast(); // c̃⟨t⟩ = tanh(·)
                        g[j] = u;
                        g[h + j] = f;
                        g[2 * h + j] = o;
                        g[3 * h + j] = cc;
                        let c = u * cc + f * s.c_prev[r * h + j]; // c⟨t⟩ = Γu∗c̃ + Γf∗c⟨t−1⟩
                        s.aux[r * h + j] = c;
                        s.h[r * h + j] = o * c.tanh_fast(); // a⟨t⟩ = Γo ∗ tanh(c⟨t⟩)
                    }
                }
            }
            Cell::Gru => {
                // Γu, Γr = σ(x·W_ax + b + c⟨t−1⟩·W_aa) for the first two blocks.
                let mut rec = view_mut(b, gh, s.rec);
                general_mat_mul(one, &hp, &s.w_h.slice(s![.., ..2 * h]), F::zero(), &mut rec.slice_mut(s![.., ..2 * h]));
                for r in 0..b {
                    for j in 0..h {
                        let u = (s.xw[r * gh + j] + s.rec[r * gh + j]).sigmoid();
                        let rr = (s.xw[r * gh + h + j] + s.rec[r * gh + h + j]).sigmoid();
                        s.gates[r * gh + j] = u;
                        s.gates[r * gh + h + j] = rr;
                        s.aux[r * h + j] = rr * s.h_prev[r * h + j]; // Γr ∗ c⟨t−1⟩
                    }
                }
                // c̃⟨t⟩ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c): the relevance gate acts before the product.
                let mut rec = view_mut(b, gh, s.rec);
                general_mat_mul(one, &view(b, h, s.aux), &s.w_h.slice(s![.., 2 * h..]), F::zero(), &mut rec.slice_mut(s![.., 2 * h..]));
                for r in 0..b {
                    for j in 0..h {
                        let k = r * gh + 2 * h + j;
                        let cc = (s.xw[k] + s.rec[k]).tanh_fast();
                        s.gates[k] = cc;
                        let u = s.gates[r * gh + j];
                        let cp = s.h_prev[r * h + j];
                        // c⟨t⟩ = Γu ∗ c̃⟨t⟩ + (1 − Γu) ∗ c⟨t−1⟩ (the notes' c̃⟨t−1⟩ is a typo); a⟨t⟩ = c⟨t⟩.
                        s.h[r * h + j] = u * cc + (one - u) * cp;
                    }
                }
            }
            Cell::GruTorch => {
                // [r z n] recurrent parts = h⟨t−1⟩·W_h, plus b_hn on the n block.
                general_mat_mul(one, &hp, &s.w_h, F::zero(), &mut view_mut(b, gh, s.rec));
                for r in 0..b {
                    for j in 0..h {
                        let rr = (s.xw[r * gh + j] + s.rec[r * gh + j]).sigmoid();
                        let z = (s.xw[r * gh + h + j] + s.rec[r * gh + h + j]).sigmoid();
                        let hn = s.rec[r * gh + 2 * h + j] + s.b_hn[j]; // W_hn h + b_hn
                        let n = (s.xw[r * gh + 2 * h + j] + rr * hn).tanh_fast(); // n = tanh(W_in x + b_in + r ∗ hn)
                        s.gates[r * gh + j] = rr;
                        s.gates[r * gh + h + j] = z;
                        s.gates[r * gh + 2 * h + j] = n;
                        s.aux[r * h + j] = hn;
                        s.h[r * h + j] = (one - z) * n + z * s.h_prev[r * h + j]; // h = (1 − z) ∗ n + z ∗ h⟨t−1⟩
                    }
                }
            }
        }
    }

    /// Backward one step: from ∂L/∂a⟨t⟩ (and ∂L/∂c⟨t⟩) to the pre-activation gradients and
    /// ∂L/∂a⟨t−1⟩ (and ∂L/∂c⟨t−1⟩).
    pub fn backward<F: Scalar>(self, s: Bwd<'_, F>) {
        let (b, h) = (s.b, s.h_size);
        let gh = self.gates() * h;
        let one = F::one();
        match self {
            Cell::Rnn => {
                // ∂z = ∂a ∗ (1 − a²); ∂a⟨t−1⟩ = ∂z · W_aaᵀ
                for i in 0..b * h {
                    s.dpre[i] = s.da[i] * (one - s.h[i] * s.h[i]);
                }
                general_mat_mul(one, &view(b, gh, s.dpre), &s.w_h.t(), F::zero(), &mut view_mut(b, h, s.da));
            }
            Cell::Lstm => {
                for r in 0..b {
                    let g = &s.gates[r * gh..(r + 1) * gh];
                    let d = &mut s.dpre[r * gh..(r + 1) * gh];
                    for j in 0..h {
                        let (u, f, o, cc) = (g[j], g[h + j], g[2 * h + j], g[3 * h + j]);
                        let k = r * h + j;
                        let tc = s.aux[k].tanh_fast();
                        let da = s.da[k];
                        let d_o = da * tc; // ∂Γo = ∂a ∗ tanh(c)
                        let dc = s.dc[k] + da * o * (one - tc * tc); // ∂c += ∂a ∗ Γo ∗ (1 − tanh²c)
                        d[j] = dc * cc * u * (one - u); // ∂Γu = ∂c ∗ c̃, through σ'
                        d[h + j] = dc * s.c_prev[k] * f * (one - f); // ∂Γf = ∂c ∗ c⟨t−1⟩
                        d[2 * h + j] = d_o * o * (one - o);
                        d[3 * h + j] = dc * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu, through tanh'
                        s.dc[k] = dc * f; // ∂c⟨t−1⟩ = ∂c ∗ Γf
                    }
                }
                general_mat_mul(one, &view(b, gh, s.dpre), &s.w_h.t(), F::zero(), &mut view_mut(b, h, s.da));
            }
            Cell::Gru => {
                for r in 0..b {
                    for j in 0..h {
                        let k = r * h + j;
                        let (u, cc) = (s.gates[r * gh + j], s.gates[r * gh + 2 * h + j]);
                        let cp = s.h_prev[k];
                        let da = s.da[k];
                        s.dpre[r * gh + j] = da * (cc - cp) * u * (one - u); // ∂Γu = ∂c ∗ (c̃ − c⟨t−1⟩)
                        s.dpre[r * gh + 2 * h + j] = da * u * (one - cc * cc); // ∂c̃ = ∂c ∗ Γu
                        s.tmp[k] = da * (one - u); // direct path ∂c⟨t−1⟩ = ∂c ∗ (1 − Γu)
                    }
                }
                // ∂(Γr ∗ c⟨t−1⟩) = ∂pre_c · W_acᵀ, written into da (no longer needed).
                let dpre = view(b, gh, s.dpre);
                general_mat_mul(one, &dpre.slice(s![.., 2 * h..]), &s.w_h.slice(s![.., 2 * h..]).t(), F::zero(), &mut view_mut(b, h, s.da));
                for r in 0..b {
                    for j in 0..h {
                        let k = r * h + j;
                        let rr = s.gates[r * gh + h + j];
                        let drc = s.da[k];
                        s.dpre[r * gh + h + j] = drc * s.h_prev[k] * rr * (one - rr); // ∂Γr = ∂(Γr∗c) ∗ c⟨t−1⟩
                        s.tmp[k] += drc * rr; // ∂c⟨t−1⟩ += ∂(Γr∗c) ∗ Γr
                    }
                }
                s.da.copy_from_slice(s.tmp);
                let dpre = view(b, gh, s.dpre);
                general_mat_mul(one, &dpre.slice(s![.., ..2 * h]), &s.w_h.slice(s![.., ..2 * h]).t(), one, &mut view_mut(b, h, s.da));
            }
            Cell::GruTorch => {
                for r in 0..b {
                    for j in 0..h {
                        let k = r * h + j;
                        let (rr, z, n) = (s.gates[r * gh + j], s.gates[r * gh + h + j], s.gates[r * gh + 2 * h + j]);
                        let da = s.da[k];
                        let dz = da * (s.h_prev[k] - n); // ∂z = ∂h ∗ (h⟨t−1⟩ − n)
                        let dn = da * (one - z) * (one - n * n); // through tanh'
                        let dr = dn * s.aux[k] * rr * (one - rr); // ∂r = ∂n ∗ hn, through σ'
                        s.dpre[r * gh + j] = dr;
                        s.dpre[r * gh + h + j] = dz * z * (one - z);
                        s.dpre[r * gh + 2 * h + j] = dn;
                        s.drec[r * gh + j] = dr;
                        s.drec[r * gh + h + j] = dz * z * (one - z);
                        s.drec[r * gh + 2 * h + j] = dn * rr; // ∂hn = ∂n ∗ r
                        s.tmp[k] = da * z; // ∂h⟨t−1⟩ = ∂h ∗ z + ∂rec · W_hᵀ
                    }
                }
                s.da.copy_from_slice(s.tmp);
                general_mat_mul(one, &view(b, gh, s.drec), &s.w_h.t(), one, &mut view_mut(b, h, s.da));
            }
        }
    }
}
