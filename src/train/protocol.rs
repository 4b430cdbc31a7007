//! The messages between the UI (or the headless runner) and the trainer thread.
//!
//! The trainer owns model, optimizer and data; the UI owns its `App`. They share nothing
//! mutable. Commands go UI → trainer and are drained between steps with `try_recv` (blocking
//! `recv` while paused); events go trainer → UI and the UI drains them every frame. A failed
//! send means the other side is gone: the trainer saves and stops. The loop is in `worker.rs`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::infer::probe::ProbeReport;
use crate::task::evaluate::TaskMetrics;

/// UI → trainer.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Stop stepping; keep model and state. The trainer blocks on the next command.
    Pause,
    /// Continue stepping after a pause.
    Resume,
    /// While paused: run exactly one training step, then stay paused.
    StepOnce,
    /// Save a checkpoint (`latest.safetensors`) now.
    SaveNow,
    /// Replace the base learning rate from now on (the schedule still applies on top).
    SetLr(f64),
    /// Generate a sample now with these settings.
    Sample(SampleRequest),
    /// Change the settings used for the periodic samples.
    SetSampling(SampleRequest),
    /// Run a probe now; `None` text = the default probe snippet (from the validation data).
    Probe(Option<String>),
    /// Evaluate on the validation data now, at the current parameters, and answer as the
    /// scheduled evaluation does: an `Event::Step` with `val_loss` (and a task's scores). A
    /// trainer also logs it to `metrics.jsonl` (and saves the best checkpoint when it is one);
    /// an inspector only answers. Without validation data: a `Warning`.
    Evaluate,
    /// Save a checkpoint and end the run; the trainer answers with `Event::Finished`.
    Stop,
}

/// How to generate a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleRequest {
    /// Softmax temperature; 0 = greedy (argmax).
    pub temperature: f64,
    /// Keep only the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Text fed in before sampling starts (may be empty).
    pub prime: String,
    /// Maximum tokens to generate (line-mode models also stop at EOS).
    pub length: usize,
}

/// One logged training step (also one line of `metrics.jsonl`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Optimizer steps done so far.
    pub step: u64,
    /// Fractional epoch: tokens seen / training tokens.
    pub epoch: f64,
    /// Seconds since the run started (excluding paused time).
    pub time_s: f64,
    /// Mean training cross-entropy per token over the logged interval, nats.
    pub train_loss: f64,
    /// Validation cross-entropy per token, nats (only on evaluation steps).
    pub val_loss: Option<f64>,
    /// Validation bits per token = val_loss / ln 2 (or train when no validation yet).
    pub bits_per_token: f64,
    /// Learning rate used for this step.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Training throughput over the logged interval.
    pub tokens_per_s: f64,
    /// Tasks other than language models: the task's metrics at this evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskScores>,
}

/// A task's scores at one evaluation (in `metrics.jsonl` under `task`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskScores {
    /// The task's headline metric: "chunk F1", "accuracy", "MSE" or "error" (the share of the
    /// solved test's sequences processed wrongly, for generated tasks).
    pub metric: String,
    /// Its value (generated tasks: on the solved test's fresh sequences; otherwise on the
    /// validation data).
    pub value: f64,
    /// Whether larger values of `metric` are better.
    pub higher_is_better: bool,
    /// Every metric on the validation data.
    pub valid: TaskMetrics,
    /// Generated tasks: the metrics on the solved test's fresh sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TaskMetrics>,
    /// Training sequences seen so far.
    pub sequences: u64,
    /// Generated tasks: training sequences seen at the first evaluation that passed the solved
    /// test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solved_at: Option<u64>,
    /// The output labels (tags or classes), for the TUI's task pane; not in metrics.jsonl.
    #[serde(skip)]
    pub labels: Vec<String>,
    /// The model's outputs on the first validation sequences, for the TUI's task pane; not in
    /// metrics.jsonl.
    #[serde(skip)]
    pub examples: Examples,
}

/// What the model made of a few validation sequences at an evaluation, for the TUI.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Examples {
    /// Nothing to show (classification: the confusion matrix says it).
    #[default]
    None,
    /// Tagging: sentences with their gold and predicted tags.
    Tagged(Vec<TaggedSeq>),
    /// Regression: (target, prediction) of the first output, one pair per sequence.
    Regressed(Vec<(f64, f64)>),
}

/// One tagged validation sequence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaggedSeq {
    /// The tokens as the vocabulary shows them (unknown words as `<unk>` or their class).
    pub tokens: Vec<String>,
    /// The gold tag of each token (label ids).
    pub gold: Vec<u32>,
    /// The predicted tag of each token (the argmax).
    pub pred: Vec<u32>,
}

/// Static facts about the run, sent once at start.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// Experiment name.
    pub name: String,
    /// Run directory being written.
    pub run_dir: PathBuf,
    /// Total steps planned.
    pub total_steps: u64,
    /// Step the run starts from (non-zero when resumed).
    pub start_step: u64,
    /// Number of parameters.
    pub params: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Training tokens per epoch.
    pub train_tokens: usize,
    /// Short model description, e.g. "lstm 2×256, one-hot 65".
    pub model: String,
    /// `[model] embedding_init`: the coverage line, e.g. "embedding_init: 9,812 of 10,000
    /// tokens (98.1 %) from vectors.txt" (fresh runs only: a resumed run does not read the file).
    pub embedding_init: Option<String>,
}

/// A generated sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleEvent {
    /// Step of the model that produced it.
    pub step: u64,
    /// Settings used.
    pub request: SampleRequest,
    /// The generated text (prime not included).
    pub text: String,
}

/// Trainer → UI.
// A few events a second through a channel: a large `Step` (a task's scores) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The run has started (or resumed).
    Started(Box<RunInfo>),
    /// A logged step (throttled: every `log_every` steps).
    Step(Metrics),
    /// A sample was generated.
    Sample(Box<SampleEvent>),
    /// A probe ran.
    Probe(Box<ProbeReport>),
    /// A checkpoint was written.
    Checkpointed {
        /// File written.
        path: PathBuf,
        /// Step saved.
        step: u64,
        /// Whether it is the new best by validation loss.
        best: bool,
    },
    /// Training paused (by command, or automatically after a blow-up).
    Paused,
    /// Training resumed.
    Resumed,
    /// A non-fatal problem the user should see (e.g. prime text not in vocabulary).
    Warning(String),
    /// Loss, gradients, parameters or optimizer state became non-finite. The trainer has rolled
    /// back to the newest good state (its latest checkpoint, else the one it resumed from, else
    /// the initial parameters; `what` says which). Then, per
    /// [`OnDivergence`](super::OnDivergence): `Paused` follows and the trainer waits for
    /// commands, or the run ends here without saving (no `Finished`).
    Diverged {
        /// Step at which it happened.
        step: u64,
        /// What went wrong.
        what: String,
    },
    /// A fatal error; the trainer thread has ended.
    Failed(String),
    /// The run ended (all steps done or stopped); the final checkpoint is saved.
    Finished {
        /// Last step done.
        step: u64,
    },
}
