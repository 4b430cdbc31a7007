//! From an experiment and the command line's options to a ready [`Trainer`]: load the data,
//! build the model or restore it from a checkpoint (checking that it fits), create the run
//! directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::checkpoint::{self, CheckpointError};
use super::data::{Batches, RunData};
use super::divergence::{LossWindow, OnDivergence};
use super::protocol::SampleRequest;
use super::rundir::{self, RunFiles};
use super::trainer::{Trainer, Window};
use crate::config::Experiment;
use crate::data::{load_dataset, DataError, Vocab};
use crate::nn::error::NnError;
use crate::nn::{Model, Sharded};
use crate::optim::Optimizer;
use crate::task::batcher::TaskBatcher;
use crate::task::data::TaskInfo;
use crate::task::evaluate::EvalScratch;
use crate::task::load::load_task;
use crate::task::seqset::empty_batch;
use crate::task::TaskError;

/// Options of a run beyond the experiment file.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Override `[training] steps`.
    pub steps: Option<u64>,
    /// Continue from this checkpoint.
    pub resume: Option<PathBuf>,
    /// Folder that holds run directories (default `runs`).
    pub out: Option<PathBuf>,
    /// Override the seed.
    pub seed: Option<u64>,
    /// Set from outside (Ctrl-C, SIGTERM): save and finish at the next step boundary.
    pub stop: Option<Arc<AtomicBool>>,
    /// Threads (batch row shards); default: the machine's available parallelism.
    pub threads: Option<usize>,
    /// Stop after this much training time (evaluation, sampling and pauses not counted).
    pub time_limit: Option<Duration>,
    /// What the run does when training diverges (default: pause, as the TUI wants).
    pub on_divergence: OnDivergence,
}

/// Why a run could not start or go on. Display is one line.
#[derive(Debug, Error)]
pub enum RunError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Bad task data (a tagging, classification or regression file).
    #[error(transparent)]
    Task(#[from] TaskError),
    /// Bad checkpoint.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Bad model or training settings.
    #[error("{file}: {source}")]
    Model {
        /// Experiment file.
        file: String,
        /// Cause.
        source: NnError,
    },
    /// A checkpoint that does not fit the experiment.
    #[error("{0}")]
    Mismatch(String),
    /// File-system trouble writing the run directory.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl RunError {
    /// Whether this is the user's input (exit status 2) rather than the system's (1).
    pub fn is_input(&self) -> bool {
        !matches!(self, RunError::Io { .. })
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Trainer {
    /// Load data, build (or restore) the model, create the run directory.
    pub fn prepare(mut exp: Experiment, opts: &RunOptions) -> Result<Self, RunError> {
        let file = exp
            .path
            .as_ref()
            .map_or_else(|| exp.name.clone(), |p| p.display().to_string());
        if let Some(s) = opts.seed {
            exp.seed = s;
        }
        let (bsz, seq_len) = (exp.training.batch_size, exp.training.seq_len);
        let (data, batcher) = if exp.task.is_language_model() {
            let data = load_dataset(&exp)?;
            let batcher = data.batcher_with(bsz, seq_len, exp.seed, exp.training.batches);
            (
                RunData::Text(data),
                Batches::Text {
                    batcher,
                    current: empty_batch(),
                },
            )
        } else {
            let task = load_task(&exp)?;
            let (word_dropout, unknown_words) = match &exp.task.source {
                crate::config::TaskSource::Files {
                    word_dropout,
                    unknown_words,
                    ..
                } => (*word_dropout, *unknown_words),
                _ => (0.0, Default::default()),
            };
            let batcher = TaskBatcher::new(&task, bsz, exp.seed, word_dropout, unknown_words);
            (RunData::Task(Box::new(task)), Batches::Task(Box::new(batcher)))
        };
        exp.resolve_epochs(batcher.steps_per_epoch());
        if let Some(s) = opts.steps {
            exp.set_steps(s);
        }
        let spec = match data.task() {
            Some(t) => exp.task_model_spec(t),
            None => exp.model_spec(data.vocab().len()),
        };
        let model_err = |source| RunError::Model {
            file: file.clone(),
            source,
        };
        let mut model = Model::<f32>::new(spec.clone(), exp.seed).map_err(model_err)?;
        let (mut opt, mut step, mut best_val, mut carried) = (None, 0, None, None);
        let mut notes = data.notes();
        if let Some(ck) = &opts.resume {
            let c = checkpoint::load(ck)?;
            notes.extend(c.note.clone());
            let theirs = Vocab::from_json(&c.vocab_json)
                .map_err(|e| RunError::Mismatch(format!("{}: vocabulary: {e}", ck.display())))?;
            // A checkpoint of another experiment says so before any detail of what differs.
            let their_name = crate::config::parse_str(&c.config_toml, ck).ok().map(|e| e.name);
            let other = their_name
                .filter(|n| *n != exp.name)
                .map(|n| format!("it is a checkpoint of experiment `{n}`, not `{}`: ", exp.name))
                .unwrap_or_default();
            if theirs.tokens() != data.vocab().tokens() {
                return Err(RunError::Mismatch(format!(
                    "{}: {}its vocabulary ({} tokens) differs from the data of {file} ({} tokens){}",
                    ck.display(),
                    other,
                    theirs.len(),
                    data.vocab().len(),
                    if other.is_empty() {
                        "; the data changed since the checkpoint"
                    } else {
                        ""
                    }
                )));
            }
            if let Some(task) = data.task() {
                let labels = c
                    .task_json
                    .as_deref()
                    .and_then(|j| TaskInfo::from_json(j).ok())
                    .map(|i| i.labels);
                if labels.as_deref() != Some(task.labels.names()) {
                    return Err(RunError::Mismatch(format!(
                        "{}: {}its outputs differ from the {} of {file}; the data changed since the checkpoint, or it is another task's",
                        ck.display(),
                        other,
                        if task.kind == crate::task::TaskKind::Tagging { "tags" } else { "classes" }
                    )));
                }
            }
            if c.model.spec != spec {
                return Err(RunError::Mismatch(format!(
                    "{}: {}its model ({} H={} L={}) differs from [model] in {file} ({} H={} L={})",
                    ck.display(),
                    other,
                    c.model.spec.cell.name(),
                    c.model.spec.hidden,
                    c.model.spec.layers,
                    spec.cell.name(),
                    spec.hidden,
                    spec.layers
                )));
            }
            model = c.model;
            step = c.step;
            best_val = c.best_val;
            carried = c.carried;
            if let Some(mut o) = c.optim {
                o.spec = exp.training.optim; // the file may change lr or schedule; the state carries over
                opt = Some(o);
            }
        }
        let opt = match opt {
            Some(o) => o,
            None => Optimizer::new(exp.training.optim, &model.params).map_err(model_err)?,
        };
        let val = match data.text() {
            Some(d) => d.val_batches(bsz, seq_len, exp.training.max_val_tokens),
            None => Vec::new(),
        };
        let out = opts.out.clone().unwrap_or_else(|| PathBuf::from("runs"));
        let run_dir = rundir::create(&out, &exp.name).map_err(io_err(&out))?;
        let config = rundir::rebased_for(&exp, &run_dir).to_toml();
        std::fs::write(run_dir.join("config.toml"), config).map_err(io_err(&run_dir))?;
        if let Some(ck) = &opts.resume {
            if let Some(prev) = ck.parent() {
                rundir::copy_metrics_until(prev, &run_dir, step).map_err(io_err(&run_dir))?;
                // A killed run may have left a half-written checkpoint there.
                checkpoint::remove_stale_temporaries(prev, None);
            }
        }
        let files = RunFiles::open(&run_dir).map_err(io_err(&run_dir))?;
        let threads = opts
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut shards = Sharded::new(&model, threads);
        shards.set_loss_norm(exp.training.loss);
        if let Some((b, states)) = carried {
            shards.import_state(&model, b, &states);
        }
        let probe_tokens = data.text().map(|d| d.probe_tokens(100)).unwrap_or_default();
        let sampling = SampleRequest {
            temperature: exp.sampling.temperature,
            top_k: exp.sampling.top_k,
            prime: exp.sampling.prime.clone(),
            length: exp.sampling.length,
        };
        let total = exp.training.steps;
        let grads = model.params.zeros_like();
        Ok(Trainer {
            exp,
            data,
            batcher,
            val,
            model,
            opt,
            shards,
            grads,
            step,
            total,
            best_val,
            run_dir,
            files,
            probe_tokens,
            sampling,
            stop: opts.stop.clone(),
            time_limit: opts.time_limit,
            on_divergence: opts.on_divergence,
            resumed_from: opts.resume.clone(),
            start_step: step,
            active: Duration::ZERO,
            window: Window::default(),
            losses: LossWindow::default(),
            notes,
            last_norm: 0.0,
            last_lr: 0.0,
            saved_step: None,
            last_train: f64::NAN,
            last_tokens_per_s: 0.0,
            last_eval_step: None,
            task_eval: EvalScratch::default(),
            last_scores: None,
            solved_at: None,
            probe_seq: 0,
            probe_set: None,
        })
    }
}
