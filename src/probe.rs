//! What the views see inside a network: per-time-step hidden states, gates, output entropy and
//! top candidates, and how far the loss gradient reaches back in time.
//!
//! A `ProbeReport` is an owned snapshot sent from the trainer thread to the UI (boxed inside
//! `Event::Probe`) and printed by `rnn-lab probe --json`. All matrices are time-major:
//! `values[t][unit]`.

use serde::{Deserialize, Serialize};

/// Direction of a recurrent pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right, t = 1 … T.
    Fwd,
    /// Right to left, t = T … 1 (bidirectional layers only).
    Bwd,
}

/// One gate's activations over time, values in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateTrace {
    /// Gate name in the course notation: "update", "relevance", "forget", "output"
    /// (pytorch GRU: "reset", "update_z").
    pub name: String,
    /// Activations `[T][H]`.
    pub values: Vec<Vec<f32>>,
}

/// Everything recorded for one layer and direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirProbe {
    /// Layer index, 0 = nearest the input.
    pub layer: usize,
    /// Direction of this pass.
    pub direction: Direction,
    /// Hidden states a⟨t⟩ `[T][H]` (in [−1, 1] for every cell here).
    pub hidden: Vec<Vec<f32>>,
    /// Gate activations (empty for the vanilla RNN).
    pub gates: Vec<GateTrace>,
    /// LSTM memory cell c⟨t⟩ `[T][H]` (unbounded); `None` for other cells.
    pub cell: Option<Vec<Vec<f32>>>,
    /// ‖∂L_T/∂a⟨t⟩‖ for each t, where L_T is the loss at the last scored step: how much the
    /// end of the probe reaches back to step t.
    pub grad_norm: Vec<f32>,
}

/// A probe of the model on one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Training step at which the probe ran.
    pub step: u64,
    /// The probe's tokens as display text, one per time step (the input x⟨t⟩).
    pub tokens: Vec<String>,
    /// Entropy of the predicted next-token distribution at each step, in nats.
    pub entropy: Vec<f32>,
    /// Top-5 next-token candidates with probabilities at each step.
    pub top: Vec<Vec<(String, f32)>>,
    /// Every layer and direction, ordered by layer then direction.
    pub dirs: Vec<DirProbe>,
}
