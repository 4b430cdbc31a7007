//! Validated optimizer settings (the `[training]` section's optimizer part).

use serde::{Deserialize, Serialize};

/// Update rule and its own hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerKind {
    /// θ ← θ − lr·v, v ← μ·v + g (μ = 0: plain SGD).
    Sgd {
        /// Momentum μ in [0, 1).
        momentum: f64,
    },
    /// G ← G + g²; θ ← θ − lr·g / (√G + ε).
    Adagrad {
        /// ε > 0.
        eps: f64,
    },
    /// S ← ρ·S + (1 − ρ)·g²; θ ← θ − lr·g / (√S + ε).
    Rmsprop {
        /// Decay ρ in [0, 1).
        decay: f64,
        /// ε > 0.
        eps: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// β1 in [0, 1).
        beta1: f64,
        /// β2 in [0, 1).
        beta2: f64,
        /// ε > 0.
        eps: f64,
    },
}

/// Learning-rate schedule: lr(step) = base_lr · factor(step).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    /// factor = 1.
    Constant,
    /// factor = gamma^⌊step / every⌋.
    Step {
        /// Steps between decays (> 0).
        every: u64,
        /// Multiplier per decay, in (0, 1].
        gamma: f64,
    },
    /// Per-epoch step decay (Zaremba et al. 2014): factor = gamma^max(0, e + 1 − after), e the
    /// epochs completed = ⌊step / steps_per_epoch⌋ — the rate is kept for `after` epochs, then
    /// multiplied by gamma at the end of every further epoch.
    EpochStep {
        /// Epochs at the full rate (≥ 1).
        after: u64,
        /// Multiplier per epoch after that, in (0, 1].
        gamma: f64,
        /// Optimizer steps per pass over the training data, filled in once the data is loaded
        /// (`Experiment::resolve_epochs`); 0 until then (treated as 1).
        steps_per_epoch: u64,
    },
    /// Cosine from 1 down to min_factor over total steps, then min_factor.
    Cosine {
        /// Steps of the decay (> 0).
        total: u64,
        /// Final factor in [0, 1].
        min_factor: f64,
    },
}

/// Everything the optimizer needs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimSpec {
    /// Update rule.
    pub kind: OptimizerKind,
    /// Base learning rate (> 0).
    pub lr: f64,
    /// Schedule on top of the base rate.
    pub schedule: Schedule,
    /// Clip the global gradient norm to this (None = no clipping).
    pub clip_norm: Option<f64>,
    /// Clip each gradient element to ±this (None = no clipping).
    pub clip_value: Option<f64>,
    /// Decoupled weight decay λ ≥ 0 (Loshchilov & Hutter's AdamW, for every update rule):
    /// θ ← θ − lr_t·λ·θ before the update, on weight matrices only. Default (absent in older
    /// checkpoints): 0.
    #[serde(default)]
    pub weight_decay: f64,
    /// Linear learning-rate warm-up over the first `warmup` updates: factor (t + 1) / warmup for
    /// update t < warmup (0-based), on top of the schedule. Default (absent in older
    /// checkpoints): 0 = none.
    #[serde(default)]
    pub warmup: u64,
}
