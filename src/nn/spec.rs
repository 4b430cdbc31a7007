//! The shape of a model: everything needed to build its parameters, and nothing else.
//!
//! A `ModelSpec` is the validated, resolved form of an experiment's `[model]` section plus the
//! sizes that come from the data (vocabulary size, number of outputs).

use serde::{Deserialize, Serialize};

use crate::nn::error::NnError;

/// Which recurrent cell every layer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Vanilla RNN: a⟨t⟩ = tanh(W_a[a⟨t−1⟩; x⟨t⟩] + b_a).
    Rnn,
    /// Gated recurrent unit (update gate Γu, relevance gate Γr).
    Gru,
    /// Long short-term memory (update Γu, forget Γf, output Γo gates).
    Lstm,
}

impl CellKind {
    /// Number of gate blocks computed by the fused product `[a⟨t−1⟩; x⟨t⟩] · W`.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }

    /// Lower-case name as used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => "rnn",
            CellKind::Gru => "gru",
            CellKind::Lstm => "lstm",
        }
    }
}

/// Which GRU equations to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GruVariant {
    /// Course form (Cho et al. 2014 v3): Γr multiplies c⟨t−1⟩ before the recurrent product.
    #[default]
    Course,
    /// PyTorch / cuDNN form: r multiplies (W_hn h + b_hn) after the recurrent product.
    Pytorch,
}

/// How tokens enter layer 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// One-hot column of size |V| (computed as a row gather of W_ax, never a dense product).
    OneHot,
    /// Learned embedding table `embed.weight` [|V|, E]; the value is E.
    Embedding(usize),
}

/// What the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Softmax over `outputs` classes at every time step (language model, tagging).
    PerStep,
    /// One softmax over `outputs` classes per sequence, read after the last valid step.
    SeqClassify,
    /// One real vector of size `outputs` per sequence, mean squared error.
    SeqRegress,
}

/// Parameter initialisation of the weight matrices (biases start at zero, the LSTM forget-gate
/// block at `forget_bias`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Uniform in ±k for every weight matrix, the embedding included (char-rnn's ±0.08).
    Uniform(f64),
    /// Xavier/Glorot uniform: ±sqrt(6 / (fan_in + fan_out)) per matrix (a gate block's fan-out
    /// is H).
    Xavier,
    /// PyTorch's defaults: recurrent layers U(±1/√H) (nn.RNN/GRU/LSTM), the head
    /// U(±1/√fan_in) (nn.Linear), the embedding N(0, 1) (nn.Embedding; a tied embedding is the
    /// head and starts as the head does).
    Pytorch,
}

/// How the recurrent blocks W_aa start (the input blocks W_ax always follow [`Init`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurrentInit {
    /// As every other weight ([`Init`]).
    #[default]
    Same,
    /// Each gate's `[H, H]` block a random orthogonal matrix (Saxe et al. 2014): the QR
    /// factor Q of a Gaussian matrix, column signs fixed by R's diagonal.
    Orthogonal,
}

/// A complete model description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Cell used in every layer.
    pub cell: CellKind,
    /// GRU equations (ignored for other cells). Default: course.
    pub gru_variant: GruVariant,
    /// Input vocabulary size |V| (> 0).
    pub vocab: usize,
    /// One-hot or embedding input.
    pub input: InputKind,
    /// Hidden size H of every layer and direction (> 0).
    pub hidden: usize,
    /// Number of stacked layers L (> 0).
    pub layers: usize,
    /// Forward and backward pass per layer, outputs concatenated.
    pub bidirectional: bool,
    /// Output head.
    pub head: HeadKind,
    /// Output size |Y|: classes for softmax heads, values for regression (> 0).
    pub outputs: usize,
    /// Initialisation of weights.
    pub init: Init,
    /// Initial LSTM forget-gate bias (default 1.0).
    pub forget_bias: f64,
    /// Recurrent blocks' initialisation. Default (absent in older checkpoints): same as `init`.
    #[serde(default)]
    pub init_recurrent: RecurrentInit,
    /// Tie the head to the embedding (Press & Wolf 2017; Inan et al. 2017): one tensor
    /// `embed.weight` `[|V|, E]` is both the input table and the head's W_y (logits = a⟨t⟩ ·
    /// embed.weightᵀ + b_y). Needs an embedding with E = H·dirs and a per-step head over the
    /// input vocabulary. Default (absent in older checkpoints): false.
    #[serde(default)]
    pub tie_weights: bool,
}

impl ModelSpec {
    /// A character language model: one-hot input, per-step softmax over the same vocabulary.
    pub fn char_lm(cell: CellKind, vocab: usize, hidden: usize, layers: usize) -> Self {
        ModelSpec {
            cell,
            gru_variant: GruVariant::Course,
            vocab,
            input: InputKind::OneHot,
            hidden,
            layers,
            bidirectional: false,
            head: HeadKind::PerStep,
            outputs: vocab,
            init: Init::Uniform(0.08),
            forget_bias: 1.0,
            init_recurrent: RecurrentInit::Same,
            tie_weights: false,
        }
    }

    /// Number of directions (1 or 2).
    pub fn dirs(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// Width X of layer `l`'s input x⟨t⟩.
    pub fn input_width(&self, l: usize) -> usize {
        if l == 0 {
            match self.input {
                InputKind::OneHot => self.vocab,
                InputKind::Embedding(e) => e,
            }
        } else {
            self.hidden * self.dirs()
        }
    }

    /// Why the head cannot share the embedding's tensor, if it cannot: tying needs an embedding
    /// `[|V|, E]` with E = H·dirs (the head's input width) and a per-step head over the same
    /// vocabulary (|Y| = |V|).
    pub fn tie_problem(&self) -> Option<&'static str> {
        match self.input {
            InputKind::OneHot => Some("tying needs an embedding (set embedding = hidden)"),
            InputKind::Embedding(e) if e != self.hidden * self.dirs() => {
                Some("tying needs embedding = hidden (the head reads a⟨t⟩ of size H, the embedding has size E)")
            }
            _ if self.head != HeadKind::PerStep || self.outputs != self.vocab => {
                Some("tying needs a per-step head over the input vocabulary (a language model)")
            }
            _ => None,
        }
    }

    /// Check sizes and values; every model built from a spec has passed this.
    pub fn check(&self) -> Result<(), NnError> {
        let bad =
            |field: &'static str, value: String, why: &'static str| Err(NnError::InvalidSpec { field, value, why });
        if self.vocab == 0 {
            return bad("vocab", "0".into(), "the vocabulary must hold at least one token");
        }
        if self.hidden == 0 {
            return bad("hidden", "0".into(), "must be at least 1");
        }
        if self.layers == 0 {
            return bad("layers", "0".into(), "must be at least 1");
        }
        if self.outputs == 0 {
            return bad("outputs", "0".into(), "must be at least 1");
        }
        if let InputKind::Embedding(0) = self.input {
            return bad(
                "embedding",
                "0".into(),
                "must be at least 1 (or omit it for one-hot input)",
            );
        }
        // Sizes must fit in memory: every tensor below 2^32 elements, each size below 2^24.
        const MAX_DIM: usize = 1 << 24;
        const MAX_ELEMS: usize = 1 << 32;
        for (field, v) in [
            ("vocab", self.vocab),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("outputs", self.outputs),
        ] {
            if v > MAX_DIM {
                return bad(field, v.to_string(), "is too large (at most 16777216)");
            }
        }
        if let InputKind::Embedding(e) = self.input {
            if e > MAX_DIM || self.vocab.checked_mul(e).is_none_or(|n| n > MAX_ELEMS) {
                return bad("embedding", e.to_string(), "makes the embedding table too large");
            }
        }
        let gates = self.cell.gates();
        for l in 0..self.layers.min(2) {
            let x = self.input_width(l);
            let n = self
                .hidden
                .checked_add(x)
                .and_then(|r| r.checked_mul(gates))
                .and_then(|r| r.checked_mul(self.hidden));
            if n.is_none_or(|n| n > MAX_ELEMS) {
                return bad(
                    "hidden",
                    self.hidden.to_string(),
                    "makes a layer's weight matrix too large",
                );
            }
        }
        if self
            .hidden
            .checked_mul(self.dirs())
            .and_then(|r| r.checked_mul(self.outputs))
            .is_none_or(|n| n > MAX_ELEMS)
        {
            return bad("outputs", self.outputs.to_string(), "makes the output head too large");
        }
        match self.init {
            Init::Uniform(k) if !(k.is_finite() && k > 0.0) => {
                return bad("init", format!("{k}"), "uniform range must be a positive finite number")
            }
            _ => {}
        }
        if !self.forget_bias.is_finite() {
            return bad("forget_bias", format!("{}", self.forget_bias), "must be finite");
        }
        if self.tie_weights {
            if let Some(why) = self.tie_problem() {
                return bad("tie_weights", "true".into(), why);
            }
        }
        Ok(())
    }
}
