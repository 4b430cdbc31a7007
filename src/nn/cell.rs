//! One time step of a cell, forward and backward, over a block of B rows: what every cell
//! shares. The equations themselves live one file per cell: [`super::rnn`], [`super::gru`]
//! (course form), [`super::gru_torch`] (PyTorch form) and [`super::lstm`].
//!
//! Every cell computes its gate pre-activations from the concatenation [a⟨t−1⟩; x⟨t⟩]
//! with one weight matrix W = [W_aa; W_ax] stored input-major as `[H + X, G·H]`
//! (rows 0..H act on a⟨t−1⟩, rows H.. on x⟨t⟩; column block k is gate k). The x⟨t⟩ part
//! plus the bias is computed for all time steps at once by the layer (`xw`); a step only
//! does the recurrent product a⟨t−1⟩ · W_aa, one fused product for all gates.
//!
//! Buffers are flat row-major slices: `[B, G·H]` for gates, `[B, H]` for states.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::gemm::{with_simd, Panels, NR};
use super::scalar::Scalar;
use super::spec::{CellKind, GruVariant};
use super::{gru, gru_torch, lstm, rnn};

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

/// Inputs and outputs of one forward step over B rows. Buffers a cell does not use are empty.
pub struct Fwd<'a, F> {
    /// Rows B.
    pub b: usize,
    /// Hidden size H.
    pub hidden: usize,
    /// Recurrent weights W_aa `[H, G·H]`.
    pub w_aa: ArrayView2<'a, F>,
    /// W_aa packed by [`Scalar::pack_panels`] (empty: not packed, read in place).
    pub w_aa_packed: &'a [F],
    /// PyTorch GRU only: b_hn `[H]`.
    pub b_hn: &'a [F],
    /// W_ax x⟨t⟩ + b, `[B, G·H]`.
    pub xw: &'a [F],
    /// a⟨t−1⟩ `[B, H]`.
    pub a_prev: &'a [F],
    /// LSTM: c⟨t−1⟩ `[B, H]`.
    pub c_prev: &'a [F],
    /// Out: activated gates `[B, G·H]`, in the cell's block order.
    pub gates: &'a mut [F],
    /// Out, LSTM: the memory c⟨t⟩ `[B, H]`.
    pub c: &'a mut [F],
    /// Out, course GRU: Γr ∗ c⟨t−1⟩ `[B, H]`, the candidate's recurrent input.
    pub gamma_r_c: &'a mut [F],
    /// Out, PyTorch GRU: W_hn a⟨t−1⟩ + b_hn `[B, H]`, what the reset gate multiplies.
    pub hn: &'a mut [F],
    /// Out: a⟨t⟩ `[B, H]`.
    pub a: &'a mut [F],
    /// Scratch for the recurrent products `[B, G·H]`.
    pub rec: &'a mut [F],
}

/// Inputs and outputs of one backward step over B rows. Buffers a cell does not use are empty.
pub struct Bwd<'a, F> {
    /// Rows B.
    pub b: usize,
    /// Hidden size H.
    pub hidden: usize,
    /// Recurrent weights W_aa `[H, G·H]`.
    pub w_aa: ArrayView2<'a, F>,
    /// W_aaᵀ `[G·H, H]` packed by [`Scalar::pack_panels`] (empty: not packed).
    pub w_aa_t_packed: &'a [F],
    /// a⟨t−1⟩ `[B, H]`.
    pub a_prev: &'a [F],
    /// LSTM: c⟨t−1⟩ `[B, H]`.
    pub c_prev: &'a [F],
    /// Activated gates of this step `[B, G·H]`.
    pub gates: &'a [F],
    /// LSTM: c⟨t⟩ of this step `[B, H]`.
    pub c: &'a [F],
    /// PyTorch GRU: W_hn a⟨t−1⟩ + b_hn of this step `[B, H]`.
    pub hn: &'a [F],
    /// a⟨t⟩ `[B, H]`.
    pub a: &'a [F],
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

impl<'a, F> Fwd<'a, F> {
    /// Packed W_aa from column `c0` on (a whole panel boundary), or read in place.
    pub(crate) fn packed_from(&self, c0: usize) -> Panels<'a, F> {
        if self.w_aa_packed.is_empty() || !c0.is_multiple_of(NR) {
            Panels::none()
        } else {
            Panels {
                data: &self.w_aa_packed[c0 / NR * self.hidden * NR..],
                k_total: self.hidden,
                k0: 0,
            }
        }
    }
}

impl<'a, F> Bwd<'a, F> {
    /// Packed W_aaᵀ from row `k0` on (W_aaᵀ rows are the gate columns of W_aa).
    pub(crate) fn packed_t_from(&self, k0: usize) -> Panels<'a, F> {
        Panels {
            data: self.w_aa_t_packed,
            k_total: self.w_aa.ncols(),
            k0,
        }
    }
}

/// A `[rows, cols]` view of a flat cell buffer.
pub(crate) fn view<F>(rows: usize, cols: usize, x: &[F]) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &x[..rows * cols]).expect("cell buffer sized rows × cols")
}

/// A mutable `[rows, cols]` view of a flat cell buffer.
pub(crate) fn view_mut<F>(rows: usize, cols: usize, x: &mut [F]) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut x[..rows * cols]).expect("cell buffer sized rows × cols")
}

impl Cell {
    /// Forward one step (elementwise loops compiled for AVX2 where the CPU has it).
    pub fn forward<F: Scalar>(self, s: Fwd<'_, F>) {
        with_simd(|| match self {
            Cell::Rnn => rnn::forward(s),
            Cell::Gru => gru::forward(s),
            Cell::GruTorch => gru_torch::forward(s),
            Cell::Lstm => lstm::forward(s),
        });
    }

    /// Backward one step: from ∂L/∂a⟨t⟩ (and ∂L/∂c⟨t⟩) to the pre-activation gradients and
    /// ∂L/∂a⟨t−1⟩ (and ∂L/∂c⟨t−1⟩).
    pub fn backward<F: Scalar>(self, s: Bwd<'_, F>) {
        with_simd(|| match self {
            Cell::Rnn => rnn::backward(s),
            Cell::Gru => gru::backward(s),
            Cell::GruTorch => gru_torch::backward(s),
            Cell::Lstm => lstm::backward(s),
        });
    }
}
