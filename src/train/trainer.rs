//! The trainer: owns model, optimizer, data and run directory; runs the step
//! forward → zero_grad → backward → clip → update, and the periodic evaluation, checkpoint,
//! sample and probe; answers commands between steps.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::checkpoint::{self, CheckpointData, CheckpointError};
use super::protocol::{Command, Event, Metrics, RunInfo, SampleEvent, SampleRequest};
use super::rundir::{self, RunFiles};
use crate::config::{Experiment, Mode};
use crate::data::{load_dataset, DataError, Dataset, TrainBatcher, Vocab};
use crate::infer::probe::{probe, ProbeReport};
use crate::infer::sample::{SampleOpts, Sampler};
use crate::nn::error::NnError;
use crate::nn::{Batch, InputKind, Model, Params, Score, Sharded};
use crate::optim::{clip, Optimizer};

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
}

/// Why a run could not start or go on. Display is one line.
#[derive(Debug, Error)]
pub enum RunError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] DataError),
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

/// The state of one training run. Lives on the trainer thread.
pub struct Trainer {
    /// The experiment (steps resolved).
    pub exp: Experiment,
    /// Data and vocabulary.
    pub data: Dataset,
    batcher: TrainBatcher,
    val: Vec<(Batch, bool)>,
    /// The model.
    pub model: Model<f32>,
    opt: Optimizer<f32>,
    shards: Sharded<f32>,
    grads: Params<f32>,
    /// Steps done.
    pub step: u64,
    /// Steps planned.
    pub total: u64,
    best_val: Option<f64>,
    /// Run directory.
    pub run_dir: PathBuf,
    files: RunFiles,
    probe_tokens: Vec<u32>,
    sampling: SampleRequest,
    stop: Option<Arc<AtomicBool>>,
    time_limit: Option<Duration>,
    start_step: u64,
    active: Duration,
    // Logging interval accumulators.
    acc_loss: f64,
    acc_count: usize,
    acc_tokens: usize,
    acc_time: Duration,
    last_norm: f64,
    last_lr: f64,
    saved_step: Option<u64>,
    last_train: f64,
    last_tokens_per_s: f64,
    last_eval_step: Option<u64>,
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
        let data = load_dataset(&exp)?;
        let (bsz, seq_len) = (exp.training.batch_size, exp.training.seq_len);
        let batcher = data.batcher(bsz, seq_len, exp.seed);
        exp.resolve_epochs(batcher.steps_per_epoch());
        if let Some(s) = opts.steps {
            exp.set_steps(s);
        }
        let spec = exp.model_spec(data.vocab.len());
        let model_err = |source| RunError::Model {
            file: file.clone(),
            source,
        };
        let mut model = Model::<f32>::new(spec.clone(), exp.seed).map_err(model_err)?;
        let (mut opt, mut step, mut best_val, mut carried) = (None, 0, None, None);
        if let Some(ck) = &opts.resume {
            let c = checkpoint::load(ck)?;
            let theirs = Vocab::from_json(&c.vocab_json)
                .map_err(|e| RunError::Mismatch(format!("{}: vocabulary: {e}", ck.display())))?;
            if theirs.tokens() != data.vocab.tokens() {
                return Err(RunError::Mismatch(format!(
                    "{}: its vocabulary ({} tokens) differs from the data of {file} ({} tokens); the data changed since the checkpoint",
                    ck.display(),
                    theirs.len(),
                    data.vocab.len()
                )));
            }
            if c.model.spec != spec {
                return Err(RunError::Mismatch(format!(
                    "{}: its model ({} H={} L={}) differs from [model] in {file} ({} H={} L={})",
                    ck.display(),
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
        let val = data.val_batches(bsz, seq_len, exp.training.max_val_tokens);
        let out = opts.out.clone().unwrap_or_else(|| PathBuf::from("runs"));
        let run_dir = rundir::create(&out, &exp.name).map_err(io_err(&out))?;
        std::fs::write(run_dir.join("config.toml"), exp.to_toml()).map_err(io_err(&run_dir))?;
        if let Some(ck) = &opts.resume {
            if let Some(prev) = ck.parent() {
                rundir::copy_metrics_until(prev, &run_dir, step).map_err(io_err(&run_dir))?;
            }
        }
        let files = RunFiles::open(&run_dir).map_err(io_err(&run_dir))?;
        let threads = opts
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut shards = Sharded::new(&model, threads);
        if let Some((b, states)) = carried {
            shards.import_state(&model, b, &states);
        }
        let probe_tokens = data.probe_tokens(100);
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
            start_step: step,
            active: Duration::ZERO,
            acc_loss: 0.0,
            acc_count: 0,
            acc_tokens: 0,
            acc_time: Duration::ZERO,
            last_norm: 0.0,
            last_lr: 0.0,
            saved_step: None,
            last_train: f64::NAN,
            last_tokens_per_s: 0.0,
            last_eval_step: None,
        })
    }

    /// Facts shown at start.
    pub fn info(&self) -> RunInfo {
        let s = &self.model.spec;
        let input = match s.input {
            InputKind::OneHot => format!("one-hot {}", s.vocab),
            InputKind::Embedding(e) => format!("embedding {}×{e}", s.vocab),
        };
        RunInfo {
            name: self.exp.name.clone(),
            run_dir: self.run_dir.clone(),
            total_steps: self.total,
            start_step: self.start_step,
            params: self.model.param_count(),
            vocab: self.data.vocab.len(),
            train_tokens: self.data.train_tokens(),
            model: format!("{} {}×{}, {input}", s.cell.name(), s.layers, s.hidden),
        }
    }

    /// One optimizer step: forward → zero_grad → backward → clip → update.
    pub fn train_step(&mut self) -> Result<(), NnError> {
        let t0 = Instant::now();
        let (batch, reset) = self.batcher.batch(self.step);
        if reset {
            self.shards.reset_state();
        }
        // zero_grad is part of forward_backward: each shard's gradient buffer is overwritten.
        let st = self.shards.forward_backward(&self.model, &batch, &mut self.grads)?;
        let t = &self.exp.training.optim;
        self.last_norm = clip(&mut self.grads, t.clip_norm, t.clip_value)?;
        self.last_lr = self.opt.step(&mut self.model.params, &self.grads);
        if let Some((i, v)) = self.model.params.first_non_finite() {
            // Never checkpoint a broken model: report before anything is saved.
            return Err(NnError::Diverged {
                what: format!("parameter {}", self.model.params.names[i]),
                value: format!("{v}"),
            });
        }
        self.shards.carry_state(&self.model);
        self.step += 1;
        let dt = t0.elapsed();
        self.active += dt;
        self.acc_time += dt;
        self.acc_loss += st.sum;
        self.acc_count += st.count;
        self.acc_tokens += batch.scored();
        Ok(())
    }

    /// Mean validation loss per token (nats), or `None` without validation data.
    pub fn evaluate(&mut self) -> Option<f64> {
        if self.val.is_empty() {
            return None;
        }
        let mut ws = self.model.workspace();
        let (mut sum, mut count) = (0.0, 0usize);
        for (b, reset) in &self.val {
            if *reset {
                ws.reset_state();
            }
            if let Ok(st) = self.model.forward(b, Score::All, &mut ws) {
                sum += st.sum;
                count += st.count;
            } else {
                return Some(f64::NAN);
            }
            self.model.carry_state(&mut ws);
        }
        (count > 0).then(|| sum / count as f64)
    }

    /// Write `latest.safetensors` (and `best.safetensors` when `best`).
    pub fn save(&mut self, best: bool) -> Result<PathBuf, CheckpointError> {
        let data = CheckpointData {
            config_toml: self.exp.to_toml(),
            vocab_json: self.data.vocab.to_json(),
            step: self.step,
            best_val: self.best_val,
            model: self.model.clone(),
            optim: Some(self.opt.clone()),
            carried: self.shards.export_state(&self.model),
        };
        let latest = self.run_dir.join("latest.safetensors");
        checkpoint::save(&latest, &data)?;
        if best {
            checkpoint::save(&self.run_dir.join("best.safetensors"), &data)?;
        }
        self.saved_step = Some(self.step);
        Ok(latest)
    }

    /// Whether everything trained has been saved.
    pub fn is_saved(&self) -> bool {
        self.saved_step == Some(self.step)
    }

    /// Generate a sample with `req` from zero state.
    pub fn sample(&self, req: &SampleRequest, seed: u64) -> (String, usize) {
        let vocab = &self.data.vocab;
        let mut s = Sampler::new(&self.model, seed);
        let (prime, unknown) = vocab.encode(&req.prime);
        s.prime(&prime);
        let stop = if self.data.mode == Mode::Lines {
            vocab.eos()
        } else {
            None
        };
        let ids = s.generate(&SampleOpts {
            temperature: req.temperature,
            top_k: req.top_k,
            length: req.length,
            stop,
        });
        (vocab.decode_after(prime.last().copied(), &ids), unknown)
    }

    /// Probe the model on the current probe text.
    pub fn probe(&self) -> Option<ProbeReport> {
        let vocab = &self.data.vocab;
        probe(&self.model, &self.probe_tokens, self.step, &|t| vocab.display(t)).ok()
    }

    fn metrics(&mut self, val: Option<f64>) -> Metrics {
        // An evaluation-only line (no steps since the last one) repeats the last training loss.
        let train = if self.acc_count > 0 {
            self.acc_loss / self.acc_count as f64
        } else {
            self.last_train
        };
        self.last_train = train;
        if val.is_some() {
            self.last_eval_step = Some(self.step);
        }
        let secs = self.acc_time.as_secs_f64();
        if secs > 0.0 {
            self.last_tokens_per_s = self.acc_tokens as f64 / secs;
        }
        let m = Metrics {
            step: self.step,
            epoch: self.step as f64 / self.batcher.steps_per_epoch().max(1) as f64,
            time_s: self.active.as_secs_f64(),
            train_loss: train,
            val_loss: val,
            bits_per_token: val.unwrap_or(train) / std::f64::consts::LN_2,
            lr: self.last_lr,
            grad_norm: self.last_norm,
            tokens_per_s: if secs > 0.0 {
                self.acc_tokens as f64 / secs
            } else {
                self.last_tokens_per_s
            },
        };
        self.acc_loss = 0.0;
        self.acc_count = 0;
        self.acc_tokens = 0;
        self.acc_time = Duration::ZERO;
        m
    }

    /// The loop: steps until done or stopped, answering commands between steps. Every event
    /// goes to `events`; when the receiver is gone the run saves and ends.
    pub fn run(mut self, commands: Receiver<Command>, events: Sender<Event>) {
        let send = |e: Event| events.send(e).is_ok();
        if !send(Event::Started(Box::new(self.info()))) {
            return;
        }
        if let Some(p) = self.probe() {
            self.write_probe(&p);
            send(Event::Probe(Box::new(p)));
        }
        let mut paused = false;
        let mut step_once = false;
        loop {
            // Drain commands; block while paused.
            loop {
                let cmd = if paused && !step_once {
                    match commands.recv() {
                        Ok(c) => c,
                        Err(_) => return self.finish(&send, false),
                    }
                } else {
                    match commands.try_recv() {
                        Ok(c) => c,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return self.finish(&send, false),
                    }
                };
                match cmd {
                    Command::Pause => {
                        paused = true;
                        send(Event::Paused);
                    }
                    Command::Resume => {
                        paused = false;
                        send(Event::Resumed);
                    }
                    Command::StepOnce => step_once = true,
                    Command::SaveNow => self.checkpoint(&send, false),
                    Command::SetLr(lr) => {
                        if lr.is_finite() && lr > 0.0 {
                            self.opt.spec.lr = lr;
                        } else {
                            send(Event::Warning(format!(
                                "learning rate {lr} ignored: it must be a positive number"
                            )));
                        }
                    }
                    Command::Sample(req) => self.emit_sample(&send, &req),
                    Command::SetSampling(req) => self.sampling = req,
                    Command::Probe(text) => {
                        if let Some(t) = text {
                            let (ids, unknown) = self.data.vocab.encode(&t);
                            if unknown > 0 {
                                send(Event::Warning(format!("{unknown} character(s) of the probe text are not in the vocabulary and were mapped to <unk> or dropped")));
                            }
                            if ids.len() >= 2 {
                                self.probe_tokens = ids;
                            } else {
                                send(Event::Warning("probe text needs at least 2 known tokens".into()));
                            }
                        }
                        if let Some(p) = self.probe() {
                            self.write_probe(&p);
                            send(Event::Probe(Box::new(p)));
                        }
                    }
                    Command::Stop => return self.finish(&send, true),
                }
                if step_once {
                    break;
                }
            }
            if self.stop.as_ref().is_some_and(|f| f.load(Ordering::Relaxed)) {
                return self.finish(&send, true);
            }
            if self.step >= self.total || self.time_limit.is_some_and(|l| self.active >= l) {
                return self.finish(&send, true);
            }
            if let Err(e) = self.train_step() {
                self.diverged(&send, e);
                paused = true;
                step_once = false;
                continue;
            }
            let forced = std::mem::take(&mut step_once);
            let tr = &self.exp.training;
            let (log, eval, ckpt, sample, probe_now) = (
                forced || self.step.is_multiple_of(tr.log_every.max(1)),
                self.step.is_multiple_of(tr.eval_every.max(1)),
                self.step.is_multiple_of(tr.checkpoint_every.max(1)),
                self.step.is_multiple_of(tr.sample_every.max(1)),
                self.step.is_multiple_of(tr.probe_every.max(1)),
            );
            if log || eval {
                let val = if eval { self.evaluate() } else { None };
                let m = self.metrics(val);
                let _ = self.files.metrics(&m);
                if !send(Event::Step(m)) {
                    return self.finish(&send, false);
                }
                if let Some(v) = val {
                    if v.is_finite() && self.best_val.is_none_or(|b| v < b) {
                        self.best_val = Some(v);
                        self.checkpoint(&send, true);
                    }
                }
            }
            if ckpt {
                self.checkpoint(&send, false);
            }
            if sample {
                let req = self.sampling.clone();
                self.emit_sample(&send, &req);
            }
            if probe_now {
                if let Some(p) = self.probe() {
                    self.write_probe(&p);
                    send(Event::Probe(Box::new(p)));
                }
            }
        }
    }

    fn write_probe(&self, p: &ProbeReport) {
        if let Ok(s) = serde_json::to_vec(p) {
            let _ = checkpoint::write_atomic(&self.run_dir.join("probe.json"), &s);
        }
    }

    fn emit_sample(&mut self, send: &dyn Fn(Event) -> bool, req: &SampleRequest) {
        let seed = self.exp.seed ^ self.step.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let (text, unknown) = self.sample(req, seed);
        if unknown > 0 {
            send(Event::Warning(format!("{unknown} character(s) of the prime text are not in the vocabulary and were mapped to <unk> or dropped")));
        }
        let _ = self.files.sample(self.step, req.temperature, &text);
        send(Event::Sample(Box::new(SampleEvent {
            step: self.step,
            request: req.clone(),
            text,
        })));
    }

    fn checkpoint(&mut self, send: &dyn Fn(Event) -> bool, best: bool) {
        match self.save(best) {
            Ok(path) => {
                send(Event::Checkpointed {
                    path: if best {
                        self.run_dir.join("best.safetensors")
                    } else {
                        path
                    },
                    step: self.step,
                    best,
                });
            }
            Err(e) => {
                send(Event::Warning(format!("checkpoint not saved: {e}")));
            }
        }
    }

    fn diverged(&mut self, send: &dyn Fn(Event) -> bool, e: NnError) {
        let step = self.step + 1; // the step that failed
                                  // Roll back to the last checkpoint of this run, if any: the model is not trustworthy.
        let latest = self.run_dir.join("latest.safetensors");
        let mut what = e.to_string();
        if let Ok(c) = checkpoint::load(&latest) {
            self.model = c.model;
            if let Some(o) = c.optim {
                self.opt.s1 = o.s1;
                self.opt.s2 = o.s2;
                self.opt.t = o.t;
            }
            self.step = c.step;
            match c.carried {
                Some((b, st)) => self.shards.import_state(&self.model, b, &st),
                None => self.shards.reset_state(),
            }
            what.push_str(&format!("; rolled back to the checkpoint of step {}", c.step));
        }
        send(Event::Diverged { step, what });
        send(Event::Paused);
    }

    fn finish(mut self, send: &dyn Fn(Event) -> bool, final_eval: bool) {
        let needs_eval = final_eval && self.last_eval_step != Some(self.step);
        if self.acc_count > 0 || needs_eval {
            let val = if needs_eval { self.evaluate() } else { None };
            let m = self.metrics(val);
            if m.train_loss.is_finite() || val.is_some() {
                let _ = self.files.metrics(&m);
                send(Event::Step(m));
            }
            if let Some(v) = val {
                if v.is_finite() && self.best_val.is_none_or(|b| v < b) {
                    self.best_val = Some(v);
                    self.checkpoint(send, true);
                }
            }
        }
        if !self.is_saved() {
            self.checkpoint(send, false);
        }
        send(Event::Finished { step: self.step });
    }
}

/// Start a run on a new thread. Preparation errors arrive as `Event::Failed`.
pub fn spawn(exp: Experiment, opts: RunOptions) -> (Sender<Command>, Receiver<Event>) {
    let (ctx, crx) = std::sync::mpsc::channel();
    let (etx, erx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("trainer".into())
        .spawn(move || match Trainer::prepare(exp, &opts) {
            Ok(t) => t.run(crx, etx),
            Err(e) => {
                let _ = etx.send(Event::Failed(e.to_string()));
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| {
            eprintln!("rnn-lab: cannot start the trainer thread: {e}");
        });
    (ctx, erx)
}
