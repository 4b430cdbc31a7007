//! Preallocated buffers for forward and backward passes, reused across steps.
//!
//! Per layer and direction a [`DirCache`] holds, for all T·B rows of a batch (row t·B + b):
//! the input projections, the activated gates, the auxiliary per-cell values and the hidden
//! states that backward needs, plus gradient buffers and small per-step scratch. Buffers only
//! grow; a step of the same or smaller size allocates nothing.

use super::scalar::Scalar;

/// Buffers of one layer and direction. All flat, row-major.
#[derive(Clone, Debug, Default)]
pub struct DirCache<F> {
    /// x⟨t⟩ · W_ax + b for every row `[R, G·H]`.
    pub xw: Vec<F>,
    /// Activated gates `[R, G·H]` (unused by the vanilla RNN).
    pub gates: Vec<F>,
    /// LSTM c⟨t⟩; course GRU Γr ∗ c⟨t−1⟩; PyTorch GRU W_hn h + b_hn. `[R, H]`.
    pub aux: Vec<F>,
    /// Hidden states a⟨t⟩ `[R, H]`, in time order for both directions.
    pub h: Vec<F>,
    /// ∂L/∂a⟨t⟩ arriving from above (head or next layer) `[R, H]`.
    pub dh: Vec<F>,
    /// ∂L/∂(input-side pre-activations) `[R, G·H]`.
    pub dpre: Vec<F>,
    /// PyTorch GRU: ∂L/∂(recurrent-side pre-activations) `[R, G·H]`.
    pub drec: Vec<F>,
    /// Initial a⟨0⟩ `[B, H]` (carried across truncated-BPTT chunks).
    pub h0: Vec<F>,
    /// Initial c⟨0⟩ `[B, H]` (LSTM).
    pub c0: Vec<F>,
    /// Scratch: a⟨t−1⟩ `[B, H]`.
    pub hp: Vec<F>,
    /// Scratch: c⟨t−1⟩ `[B, H]`.
    pub cp: Vec<F>,
    /// Scratch: recurrent products `[B, G·H]`.
    pub rec: Vec<F>,
    /// W_aaᵀ packed for the backward time loop (f32 with AVX2; empty otherwise).
    pub wt: Vec<F>,
    /// W_aa packed for the forward time loop (f32 with AVX2, T > 1; empty otherwise).
    pub wp: Vec<F>,
    /// Running ∂L/∂a carried backward in time `[B, H]`.
    pub da: Vec<F>,
    /// Running ∂L/∂c carried backward in time `[B, H]`.
    pub dc: Vec<F>,
    /// Scratch `[B, H]`.
    pub tmp: Vec<F>,
    /// Scratch for masked rows `[B, H]`.
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
    /// is time step `t`, into the scratch `hp` / `cp`: the initial state for the first step,
    /// otherwise the previous step's stored state (t − 1 forward, t + 1 backward).
    #[inline]
    pub fn load_prev(&mut self, k: usize, t: usize, bh: usize, fwd: bool, lstm: bool) {
        if k == 0 {
            self.hp[..bh].copy_from_slice(&self.h0[..bh]);
            self.cp[..bh].copy_from_slice(&self.c0[..bh]);
        } else {
            let tp = if fwd { t - 1 } else { t + 1 };
            self.hp[..bh].copy_from_slice(&self.h[tp * bh..(tp + 1) * bh]);
            if lstm {
                self.cp[..bh].copy_from_slice(&self.aux[tp * bh..(tp + 1) * bh]);
            }
        }
    }

    /// Make room for `rows` = T·B rows of batch `b`, hidden `h`, `gh` = G·H.
    pub fn ensure(&mut self, rows: usize, b: usize, h: usize, gh: usize, torch_gru: bool) {
        grow(&mut self.xw, rows * gh);
        grow(&mut self.gates, rows * gh);
        grow(&mut self.aux, rows * h);
        grow(&mut self.h, rows * h);
        grow(&mut self.dh, rows * h);
        grow(&mut self.dpre, rows * gh);
        if torch_gru {
            grow(&mut self.drec, rows * gh);
        }
        for v in [
            &mut self.hp,
            &mut self.cp,
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
}

impl<F: Scalar> Workspace<F> {
    /// Zero the carried state a⟨0⟩, c⟨0⟩ (start of a new sequence or epoch).
    pub fn reset_state(&mut self) {
        for d in &mut self.dirs {
            d.h0.iter_mut().for_each(|x| *x = F::zero());
            d.c0.iter_mut().for_each(|x| *x = F::zero());
        }
    }
}
