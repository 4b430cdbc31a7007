//! Preallocated buffers for forward and backward passes, reused across steps.
//!
//! Per layer and direction a [`DirCache`] holds, for all T·B rows of a batch (row t·B + b):
//! the input projections, the activated gates, the per-cell values (LSTM c⟨t⟩, GRU Γr ∗ c⟨t−1⟩,
//! PyTorch GRU W_hn a⟨t−1⟩ + b_hn) and the hidden states a⟨t⟩ that backward needs, plus gradient buffers and small per-step scratch. Buffers only
//! grow; a step of the same or smaller size allocates nothing.

use super::cell::Cell;
use super::dropout::{DropoutBufs, DropoutPass};
use super::model::LossNorm;
use super::scalar::Scalar;

/// Buffers of one layer and direction. All flat, row-major; R = T·B rows, row t·B + b.
/// Per-cell buffers (`c`, `gamma_r_c`, `hn`) stay empty for the other cells.
#[derive(Clone, Debug, Default)]
pub struct DirCache<F> {
    /// W_ax x⟨t⟩ + b for every row `[R, G·H]`.
    pub xw: Vec<F>,
    /// Activated gates `[R, G·H]` in the cell's block order (unused by the vanilla RNN).
    pub gates: Vec<F>,
    /// LSTM: the memory c⟨t⟩ `[R, H]`.
    pub c: Vec<F>,
    /// Course GRU: Γr ∗ c⟨t−1⟩ `[R, H]`, the candidate's recurrent input.
    pub gamma_r_c: Vec<F>,
    /// PyTorch GRU: W_hn a⟨t−1⟩ + b_hn `[R, H]`.
    pub hn: Vec<F>,
    /// Hidden states a⟨t⟩ `[R, H]`, in time order for both directions.
    pub a: Vec<F>,
    /// ∂L/∂a⟨t⟩ arriving from above (head or next layer) `[R, H]`.
    pub da_above: Vec<F>,
    /// ∂L/∂(input-side pre-activations) `[R, G·H]`.
    pub dpre: Vec<F>,
    /// PyTorch GRU: ∂L/∂(recurrent-side pre-activations) `[R, G·H]`.
    pub drec: Vec<F>,
    /// Initial a⟨0⟩ `[B, H]` (carried across truncated-BPTT chunks).
    pub a0: Vec<F>,
    /// Initial c⟨0⟩ `[B, H]` (LSTM).
    pub c0: Vec<F>,
    /// Scratch: a⟨t−1⟩ `[B, H]`.
    pub a_prev: Vec<F>,
    /// Scratch: c⟨t−1⟩ `[B, H]`.
    pub c_prev: Vec<F>,
    /// Scratch: recurrent products `[B, G·H]`.
    pub rec: Vec<F>,
    /// W_aaᵀ packed for the backward time loop (f32 with AVX2; empty otherwise).
    pub w_aa_t_packed: Vec<F>,
    /// W_aa packed for the forward time loop (f32 with AVX2, T > 1 or `keep_packed`; empty
    /// otherwise).
    pub w_aa_packed: Vec<F>,
    /// Keep `w_aa_packed` from one forward call to the next instead of packing per call: set by
    /// [`Workspace::keep_packed_weights`] for a user whose weights cannot change while it holds
    /// the workspace (the batch-1 sampler borrows the model immutably).
    pub keep_packed: bool,
    /// Running ∂L/∂a carried backward in time `[B, H]`.
    pub da: Vec<F>,
    /// Running ∂L/∂c carried backward in time `[B, H]`.
    pub dc: Vec<F>,
    /// Scratch `[B, H]`.
    pub tmp: Vec<F>,
    /// Scratch for masked rows' ∂L/∂a `[B, H]`.
    pub carry: Vec<F>,
    /// Scratch for masked rows' ∂L/∂c `[B, H]`.
    pub carry_c: Vec<F>,
    /// ‖∂L/∂a⟨t⟩‖ per t of batch row 0, filled when requested.
    pub grad_norm: Vec<f64>,
}

fn grow<F: Scalar>(v: &mut Vec<F>, n: usize) {
    if v.len() < n {
        v.resize(n, F::zero());
    }
}

impl<F: Scalar> DirCache<F> {
    /// Copy a⟨t−1⟩ (and c⟨t−1⟩ for the LSTM) of the `k`-th step in this direction's order, which
    /// is time step `t`, into the scratch `a_prev` / `c_prev`: the initial state for the first
    /// step, otherwise the previous step's stored state (t − 1 forward, t + 1 backward).
    #[inline]
    pub fn load_prev(&mut self, k: usize, t: usize, bh: usize, fwd: bool, lstm: bool) {
        if k == 0 {
            self.a_prev[..bh].copy_from_slice(&self.a0[..bh]);
            self.c_prev[..bh].copy_from_slice(&self.c0[..bh]);
        } else {
            let tp = if fwd { t - 1 } else { t + 1 };
            self.a_prev[..bh].copy_from_slice(&self.a[tp * bh..(tp + 1) * bh]);
            if lstm {
                self.c_prev[..bh].copy_from_slice(&self.c[tp * bh..(tp + 1) * bh]);
            }
        }
    }

    /// Make room for `rows` = T·B rows of batch `b` of `cell` with hidden size `h`.
    pub fn ensure(&mut self, rows: usize, b: usize, h: usize, cell: Cell) {
        let gh = cell.gates() * h;
        grow(&mut self.xw, rows * gh);
        grow(&mut self.gates, rows * gh);
        match cell {
            Cell::Lstm => grow(&mut self.c, rows * h),
            Cell::Gru => grow(&mut self.gamma_r_c, rows * h),
            Cell::GruTorch => {
                grow(&mut self.hn, rows * h);
                grow(&mut self.drec, rows * gh);
            }
            Cell::Rnn => {}
        }
        grow(&mut self.a, rows * h);
        grow(&mut self.da_above, rows * h);
        grow(&mut self.dpre, rows * gh);
        for v in [
            &mut self.a_prev,
            &mut self.c_prev,
            &mut self.da,
            &mut self.dc,
            &mut self.tmp,
            &mut self.carry,
            &mut self.carry_c,
        ] {
            grow(v, b * h);
        }
        grow(&mut self.rec, b * gh);
    }
}

/// Everything a model needs besides its parameters to run a batch.
#[derive(Clone, Debug, Default)]
pub struct Workspace<F> {
    /// Per layer and direction, index `l · dirs + d`.
    pub dirs: Vec<DirCache<F>>,
    /// Embedded inputs `[R, E]` (embedding input only).
    pub emb: Vec<F>,
    /// ∂L/∂embedded inputs `[R, E]`.
    pub demb: Vec<F>,
    /// Head input for sequence heads `[B, H·dirs]`.
    pub head_in: Vec<F>,
    /// Logits (or regression outputs) `[R, |Y|]` for per-step heads, `[B, |Y|]` otherwise.
    pub logits: Vec<F>,
    /// ∂L/∂logits, same shape.
    pub dlogits: Vec<F>,
    /// Batch size the carried state belongs to (0 = none yet).
    pub batch: usize,
    /// Time steps of the last forward pass.
    pub steps: usize,
    /// Record ‖∂L/∂a⟨t⟩‖ in backward (for probes).
    pub record_grad_norms: bool,
    /// Dropout of the next forward pass (training only; `None` everywhere else: evaluation,
    /// sampling and probes run the whole network).
    pub dropout: Option<DropoutPass>,
    /// The masks of the last forward pass.
    pub drop: DropoutBufs<F>,
    /// What the objective divides the summed loss by (training; statistics do not depend on it).
    pub loss_norm: LossNorm,
}

impl<F: Scalar> Workspace<F> {
    /// Pack each layer's W_aa on the first forward call and reuse the panels on every later one
    /// (a single step otherwise reads W_aa in place, row by row, a stride of G·H floats apart).
    /// Only for a holder of the workspace during whose use the weights do not change.
    pub fn keep_packed_weights(&mut self) {
        for d in &mut self.dirs {
            d.keep_packed = true;
            d.w_aa_packed.clear();
        }
    }

    /// Zero the carried state a⟨0⟩, c⟨0⟩ (start of a new sequence or epoch).
    pub fn reset_state(&mut self) {
        for d in &mut self.dirs {
            d.a0.iter_mut().for_each(|x| *x = F::zero());
            d.c0.iter_mut().for_each(|x| *x = F::zero());
        }
    }
}
