//! The trainer: the state of one run (model, optimizer, data, run directory) and what can be
//! done with it — evaluate, save, sample, probe, log. It is built in `prepare.rs`; the step
//! itself is in `step.rs`, what happens when it blows up in `divergence.rs`, and the thread
//! that drives it (commands in, events out) in `worker.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::checkpoint::{self, CheckpointData, CheckpointError};
use super::data::{Batches, RunData};
use super::divergence::{LossWindow, OnDivergence};
use super::protocol::{Metrics, RunInfo, SampleEvent, SampleRequest, TaskScores};
use super::rundir::RunFiles;
use crate::config::{Experiment, Mode};
use crate::infer::probe::{probe, ProbeReport};
use crate::infer::sample::{sample_seed, sample_text, SampleOpts};
use crate::nn::{Batch, InputKind, Model, ModelSpec, Params, Sharded};
use crate::optim::Optimizer;
use crate::task::evaluate::EvalScratch;

/// The state of one training run. Lives on the trainer thread.
pub struct Trainer {
    /// The experiment (steps resolved).
    pub exp: Experiment,
    /// Data and vocabulary: a language model's text, or a sequence task.
    pub data: RunData,
    pub(super) batcher: Batches,
    pub(super) val: Vec<(Batch, bool)>,
    /// The model.
    pub model: Model<f32>,
    pub(super) opt: Optimizer<f32>,
    pub(super) shards: Sharded<f32>,
    pub(super) grads: Params<f32>,
    /// Steps done.
    pub step: u64,
    /// Steps planned.
    pub total: u64,
    pub(super) best_val: Option<f64>,
    /// Run directory.
    pub run_dir: PathBuf,
    pub(super) files: RunFiles,
    pub(super) probe_tokens: Vec<u32>,
    pub(super) sampling: SampleRequest,
    pub(super) stop: Option<Arc<AtomicBool>>,
    pub(super) time_limit: Option<Duration>,
    pub(super) on_divergence: OnDivergence,
    /// The checkpoint the run started from (a place to roll back to).
    pub(super) resumed_from: Option<PathBuf>,
    pub(super) start_step: u64,
    /// Training time so far (the steps only).
    pub(super) active: Duration,
    /// Sums since the last metrics line.
    pub(super) window: Window,
    /// Recent step losses, for the loss blow-up check.
    pub(super) losses: LossWindow,
    /// Remarks for the user found while preparing (e.g. a resumed checkpoint without checksums).
    pub(super) notes: Vec<String>,
    pub(super) last_norm: f64,
    pub(super) last_lr: f64,
    pub(super) saved_step: Option<u64>,
    pub(super) last_train: f64,
    pub(super) last_tokens_per_s: f64,
    pub(super) last_eval_step: Option<u64>,
    /// Tasks: buffers of the evaluation.
    pub(super) task_eval: EvalScratch<f32>,
    /// Tasks: the scores of the last evaluation.
    pub(super) last_scores: Option<TaskScores>,
    /// Generated tasks: training sequences seen when the solved test first passed.
    pub(super) solved_at: Option<u64>,
    /// Tasks: which validation sequence the probe reads.
    pub(super) probe_seq: usize,
    /// Tasks: a probe sequence set from text (instead of a validation sequence).
    pub(super) probe_set: Option<crate::task::seqset::SeqSet>,
    /// `embedding_init`: the coverage line of a fresh run (`None` when resumed or without).
    pub(super) coverage: Option<String>,
}

/// Sums over the steps since the last metrics line.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Window {
    /// Σ per-token losses (nats).
    pub loss: f64,
    /// Scored tokens in `loss`.
    pub count: usize,
    /// Training tokens processed.
    pub tokens: usize,
    /// Time spent in steps.
    pub time: Duration,
}

impl Trainer {
    /// Facts shown at start.
    pub fn info(&self) -> RunInfo {
        let task = self.data.task().map(|t| (self.exp.task.kind.name(), t.outputs()));
        RunInfo {
            name: self.exp.name.clone(),
            run_dir: self.run_dir.clone(),
            total_steps: self.total,
            start_step: self.start_step,
            params: self.model.param_count(),
            vocab: self.data.vocab().len(),
            train_tokens: self.data.train_tokens(),
            model: format!(
                "{}{}",
                describe(&self.model.spec, task),
                if self.frozen_embedding().is_some() {
                    ", embedding frozen"
                } else {
                    ""
                }
            ),
            embedding_init: self.coverage.clone(),
        }
    }

    /// The embedding tensor's index when `embedding_freeze` keeps it as loaded.
    pub fn frozen_embedding(&self) -> Option<usize> {
        let m = &self.exp.model;
        if m.embedding_init.is_some() && m.embedding_freeze {
            self.model.embed
        } else {
            None
        }
    }

    /// Whether the run should end before another step: all steps done, the time limit reached,
    /// or the outside stop flag (Ctrl-C, SIGTERM) set.
    pub fn done(&self) -> bool {
        self.step >= self.total
            || self.time_limit.is_some_and(|l| self.active >= l)
            || self.stop.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Whether there are steps not yet in a metrics line.
    pub fn has_unlogged_steps(&self) -> bool {
        self.window.count > 0
    }

    /// Whether the last evaluation was at the current step.
    pub fn evaluated_now(&self) -> bool {
        self.last_eval_step == Some(self.step)
    }

    /// Whether there is validation data to evaluate on (a task always has some).
    pub fn has_validation(&self) -> bool {
        self.data.task().is_some() || !self.val.is_empty()
    }

    /// Mean validation loss per token (nats), or `None` without validation data. For a task,
    /// its metrics are computed too (`last_scores`).
    pub fn evaluate(&mut self) -> Option<f64> {
        if self.data.task().is_some() {
            return self.evaluate_task();
        }
        super::fault::in_eval();
        mean_loss(&self.model, &self.val, self.shards.threads())
    }

    /// The metrics line for the steps since the last one (evaluating first when `evaluate`),
    /// appended to `metrics.jsonl`, and whether its evaluation is the best so far (the caller
    /// then saves the best checkpoint). `None` when there is nothing to report: no step since
    /// the last line, and no evaluation.
    pub fn log(&mut self, evaluate: bool) -> Option<(Metrics, bool)> {
        let val = if evaluate { self.evaluate() } else { None };
        let m = self.metrics(val);
        if !m.train_loss.is_finite() && val.is_none() {
            return None;
        }
        let _ = self.files.metrics(&m);
        // The best checkpoint is chosen by the task's metric (as a loss: lower is better), by the
        // validation loss for language models.
        let score = match &m.task {
            Some(t) => val.and(Some(if t.higher_is_better { 1.0 - t.value } else { t.value })),
            None => val,
        };
        let best = score.is_some_and(|v| v.is_finite() && self.best_val.is_none_or(|b| v < b));
        if best {
            self.best_val = score;
        }
        Some((m, best))
    }

    fn metrics(&mut self, val: Option<f64>) -> Metrics {
        let w = std::mem::take(&mut self.window);
        // An evaluation-only line (no steps since the last one) repeats the last training loss.
        let train = if w.count > 0 {
            w.loss / w.count as f64
        } else {
            self.last_train
        };
        self.last_train = train;
        if val.is_some() {
            self.last_eval_step = Some(self.step);
        }
        let secs = w.time.as_secs_f64();
        if secs > 0.0 {
            self.last_tokens_per_s = w.tokens as f64 / secs;
        }
        Metrics {
            step: self.step,
            // Generated tasks have no epochs (`steps_per_epoch` is u64::MAX): 0.
            epoch: match self.batcher.steps_per_epoch() {
                u64::MAX => 0.0,
                spe => self.step as f64 / spe.max(1) as f64,
            },
            time_s: self.active.as_secs_f64(),
            train_loss: train,
            val_loss: val,
            bits_per_token: val.unwrap_or(train) / std::f64::consts::LN_2,
            lr: self.last_lr,
            grad_norm: self.last_norm,
            tokens_per_s: self.last_tokens_per_s,
            task: if val.is_some() { self.last_scores.clone() } else { None },
        }
    }

    /// Write `latest.safetensors` (and `best.safetensors` when `best`); the path written
    /// (`best.safetensors` when `best`).
    pub fn save(&mut self, best: bool) -> Result<PathBuf, CheckpointError> {
        let data = CheckpointData {
            config_toml: self.exp.to_toml(),
            vocab_json: self.data.vocab().to_json(),
            task_json: self.data.task().map(|t| t.info().to_json()),
            step: self.step,
            best_val: self.best_val,
            model: self.model.clone(),
            optim: Some(self.opt.clone()),
            carried: self.shards.export_state(&self.model),
            note: None,
        };
        let latest = self.run_dir.join("latest.safetensors");
        checkpoint::save(&latest, &data)?;
        self.saved_step = Some(self.step);
        if best {
            let path = self.run_dir.join("best.safetensors");
            checkpoint::save(&path, &data)?;
            return Ok(path);
        }
        Ok(latest)
    }

    /// Whether everything trained has been saved.
    pub fn is_saved(&self) -> bool {
        self.saved_step == Some(self.step)
    }

    /// Replace the base learning rate from now on (the schedule still applies on top).
    pub fn set_lr(&mut self, lr: f64) -> Result<(), String> {
        if lr.is_finite() && lr > 0.0 {
            self.opt.spec.lr = lr;
            Ok(())
        } else {
            Err(format!("learning rate {lr} ignored: it must be a positive number"))
        }
    }

    /// The base learning rate (before the schedule).
    pub fn base_lr(&self) -> f64 {
        self.opt.spec.lr
    }

    /// Settings of the periodic samples.
    pub fn set_sampling(&mut self, req: SampleRequest) {
        self.sampling = req;
    }

    /// The settings of the periodic samples.
    pub fn sampling(&self) -> &SampleRequest {
        &self.sampling
    }

    /// Generate a sample with `req` from zero state: the text and how many tokens of the prime
    /// text were not in the vocabulary.
    pub fn sample(&self, req: &SampleRequest, seed: u64) -> (String, usize) {
        let Some(data) = self.data.text() else {
            return (String::new(), 0);
        };
        let opts = SampleOpts {
            temperature: req.temperature,
            top_k: req.top_k,
            length: req.length,
            stop: None,
        };
        let lines = data.mode == Mode::Lines;
        sample_text(&self.model, &data.vocab, lines, &opts, &req.prime, seed)
    }

    /// A sample at the current step, appended to `samples.txt`, seeded by the run's seed, the
    /// step and `draw` (0 for the scheduled sample, n for the n-th asked for by hand); and a
    /// warning when the prime text had tokens outside the vocabulary. A task model does not
    /// generate text: the warning says so.
    pub fn sample_now(&mut self, req: &SampleRequest, draw: u64) -> (SampleEvent, Option<String>) {
        if self.data.task().is_some() {
            let ev = SampleEvent {
                step: self.step,
                request: req.clone(),
                text: String::new(),
            };
            let why = format!(
                "this is a {} model: it does not generate text",
                self.exp.task.kind.name()
            );
            return (ev, Some(why));
        }
        let (text, unknown) = self.sample(req, sample_seed(self.exp.seed, self.step, draw));
        let _ = self.files.sample(self.step, req.temperature, &text);
        let warning = (unknown > 0).then(|| {
            let v = self.data.vocab();
            format!(
                "{unknown} token(s) of the prime text are not in the vocabulary ({}) and were {}",
                v.name_unknown(&req.prime),
                v.unknown_fate()
            )
        });
        let ev = SampleEvent {
            step: self.step,
            request: req.clone(),
            text,
        };
        (ev, warning)
    }

    /// Probe on `text` from now on; warnings when it is too short or partly unknown.
    pub fn set_probe_text(&mut self, text: &str) -> Vec<String> {
        if self.data.task().is_some() {
            return self.set_probe_sequence(text);
        }
        let mut warnings = Vec::new();
        let (ids, unknown) = self.data.vocab().encode(text);
        if unknown > 0 {
            let v = self.data.vocab();
            warnings.push(format!(
                "{unknown} token(s) of the probe text are not in the vocabulary ({}) and were {}",
                v.name_unknown(text),
                v.unknown_fate()
            ));
        }
        if ids.len() >= 2 {
            self.probe_tokens = ids;
        } else {
            warnings.push("probe text needs at least 2 known tokens".into());
        }
        warnings
    }

    /// Probe the model on the current probe text.
    pub fn probe(&self) -> Option<ProbeReport> {
        if self.data.task().is_some() {
            return self.probe_task();
        }
        let vocab = self.data.vocab();
        probe(&self.model, &self.probe_tokens, self.step, &|t| vocab.display(t)).ok()
    }

    /// [`Self::probe`], also written to the run's `probe.json`.
    pub fn probe_now(&self) -> Option<ProbeReport> {
        let p = self.probe()?;
        if let Ok(s) = serde_json::to_vec(&p) {
            let _ = checkpoint::write_atomic(&self.run_dir.join("probe.json"), &s);
        }
        Some(p)
    }
}

/// Mean cross-entropy per scored token (nats) of `model` over `batches` (validation batches:
/// the carried state is reset where a batch says so, carried otherwise); NaN when the model
/// gives non-finite outputs, `None` when nothing was scored. The evaluation of a run
/// ([`Trainer::evaluate`]) and of a checkpoint opened for inspection (`inspect.rs`).
///
/// The batches' rows are split over `threads` threads as in training ([`Sharded::forward`]):
/// the figure is deterministic for a given thread count (one thread: one workspace).
pub fn mean_loss(model: &Model<f32>, batches: &[(Batch, bool)], threads: usize) -> Option<f64> {
    let mut shards = Sharded::new(model, threads);
    let (mut sum, mut count) = (0.0, 0usize);
    for (b, reset) in batches {
        if *reset {
            shards.reset_state();
        }
        let Ok(st) = shards.forward(model, b) else {
            return Some(f64::NAN);
        };
        sum += st.sum;
        count += st.count;
        shards.carry_state(model);
    }
    (count > 0).then(|| sum / count as f64)
}

/// A model in a few words, as the TUI's header shows it: `lstm 2×256, one-hot 65`, with a
/// task's kind and outputs (`, tagging → 23 outputs`) when `task` gives them.
pub fn describe(s: &ModelSpec, task: Option<(&str, usize)>) -> String {
    let input = match s.input {
        InputKind::OneHot => format!("one-hot {}", s.vocab),
        InputKind::Embedding(e) => format!("embedding {}×{e}", s.vocab),
    };
    let task = task.map_or(String::new(), |(kind, outputs)| format!(", {kind} → {outputs} outputs"));
    format!(
        "{}{} {}×{}, {input}{task}",
        if s.bidirectional { "bi-" } else { "" },
        s.cell.name(),
        s.layers,
        s.hidden
    )
}
