//! The file as written: every key optional, unknown keys rejected. `check.rs` turns this into an
//! [`Experiment`](super::Experiment).

use serde::Deserialize;

use super::experiment::{Level, Mode};
use crate::nn::dropout::DropoutKind;
use crate::nn::spec::{CellKind, GruVariant, RecurrentInit};
use crate::nn::LossNorm;
use crate::task::encode::UnknownWords;
use crate::task::generators::FutureRule;
use crate::task::readers::Separator;
use crate::task::TaskKind;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub experiment: Option<RawExperiment>,
    pub data: Option<RawData>,
    pub model: Option<RawModel>,
    pub training: Option<RawTraining>,
    pub sampling: Option<RawSampling>,
    pub task: Option<RawTask>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExperiment {
    pub name: Option<String>,
    pub seed: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawData {
    pub files: Option<Vec<String>>,
    pub level: Option<Level>,
    pub mode: Option<Mode>,
    pub val_fraction: Option<f64>,
    pub min_count: Option<usize>,
    pub max_vocab: Option<usize>,
    pub lowercase: Option<bool>,
    pub split_punctuation: Option<bool>,
    pub train: Option<Vec<String>>,
    pub valid: Option<Vec<String>>,
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InitName {
    Uniform,
    Xavier,
    Pytorch,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub cell: Option<CellKind>,
    pub hidden: Option<usize>,
    pub layers: Option<usize>,
    pub bidirectional: Option<bool>,
    pub embedding: Option<usize>,
    pub embedding_init: Option<String>,
    pub embedding_freeze: Option<bool>,
    pub gru_variant: Option<GruVariant>,
    pub init: Option<InitName>,
    pub init_range: Option<f64>,
    pub init_recurrent: Option<RecurrentInit>,
    pub forget_bias: Option<f64>,
    pub tie_weights: Option<bool>,
    pub dropout: Option<f64>,
    pub dropout_kind: Option<DropoutKind>,
    pub dropout_input: Option<f64>,
    pub dropout_hidden: Option<f64>,
    pub dropout_output: Option<f64>,
    pub dropout_recurrent: Option<f64>,
    pub dropout_embedding: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OptimizerName {
    Sgd,
    Adagrad,
    Rmsprop,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ScheduleName {
    Constant,
    Step,
    #[serde(rename = "epoch_step")]
    EpochStep,
    Cosine,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTraining {
    pub optimizer: Option<OptimizerName>,
    pub lr: Option<f64>,
    pub momentum: Option<f64>,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    pub decay: Option<f64>,
    pub schedule: Option<ScheduleName>,
    pub step_every: Option<u64>,
    pub step_gamma: Option<f64>,
    pub decay_after_epochs: Option<u64>,
    pub min_lr_factor: Option<f64>,
    pub clip_norm: Option<f64>,
    pub clip_value: Option<f64>,
    pub weight_decay: Option<f64>,
    pub warmup_steps: Option<u64>,
    pub loss: Option<LossNorm>,
    pub batches: Option<Batches>,
    pub batch_size: Option<usize>,
    pub seq_len: Option<usize>,
    pub steps: Option<u64>,
    pub epochs: Option<f64>,
    pub log_every: Option<u64>,
    pub eval_every: Option<u64>,
    pub checkpoint_every: Option<u64>,
    pub sample_every: Option<u64>,
    pub probe_every: Option<u64>,
    pub max_val_tokens: Option<usize>,
    pub divergence_factor: Option<f64>,
    pub divergence_window: Option<usize>,
}

pub(crate) use super::experiment::Batches;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSampling {
    pub temperature: Option<f64>,
    pub top_k: Option<usize>,
    pub length: Option<usize>,
    pub prime: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GeneratorName {
    Adding,
    Reber,
    TemporalOrder,
    Copy,
    FutureTags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FormatName {
    Columns,
    Labelled,
    ClassFiles,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTask {
    pub kind: Option<TaskKind>,
    pub format: Option<FormatName>,
    pub token_column: Option<usize>,
    pub tag_column: Option<usize>,
    pub separator: Option<Separator>,
    pub unknown_words: Option<UnknownWords>,
    pub word_dropout: Option<f64>,
    pub generator: Option<GeneratorName>,
    pub length: Option<usize>,
    pub symbols: Option<usize>,
    pub embedded: Option<bool>,
    pub min_len: Option<usize>,
    pub max_len: Option<usize>,
    pub rule: Option<FutureRule>,
    pub distance: Option<usize>,
    pub val_size: Option<usize>,
    pub test_size: Option<usize>,
    pub max_wrong: Option<f64>,
}
