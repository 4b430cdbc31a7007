//! A fake `tui::Backend` for tests and the `tui_demo` example: its loader reads a small TOML
//! subset into an `Experiment` (with real file:line:col errors), and its trainer thread emits
//! plausible Started/Step/Sample/Probe/Checkpointed events, obeys every `Command`, and writes
//! a run directory like the real trainer (config.toml, metrics.jsonl, samples.txt, probe.json,
//! latest.safetensors as a placeholder).
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rnn_lab::config::experiment::{DataSection, Level, Mode, ModelSection, SamplingSection, TrainingSection};
use rnn_lab::config::{is_due, Experiment};
use rnn_lab::infer::probe::{DirProbe, Direction, GateTrace, ProbeReport};
use rnn_lab::nn::spec::{CellKind, GruVariant, Init};
use rnn_lab::optim::spec::{OptimSpec, OptimizerKind, Schedule};
use rnn_lab::train::protocol::{Command, Event, Metrics, RunInfo, SampleEvent, SampleRequest};
use rnn_lab::tui::Backend;

/// The fake.
#[derive(Clone, Debug)]
pub struct FakeBackend {
    /// Sleep per training step (a "model size").
    pub step_time: Duration,
    /// Where run directories go.
    pub runs_dir: PathBuf,
    /// Write the run directory.
    pub write_files: bool,
    /// While set, a training step does not finish (a step that takes as long as the test
    /// wants).
    pub hold_steps: Arc<AtomicBool>,
    /// While set, reading an experiment file does not finish (a slow disk).
    pub hold_loads: Arc<AtomicBool>,
}

impl FakeBackend {
    /// Steps of `step_time`, runs under `runs_dir`.
    pub fn new(step_time: Duration, runs_dir: impl Into<PathBuf>) -> Self {
        FakeBackend {
            step_time,
            runs_dir: runs_dir.into(),
            write_files: true,
            hold_steps: Arc::new(AtomicBool::new(false)),
            hold_loads: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Wait while `hold` is set.
fn wait_while(hold: &AtomicBool) {
    while hold.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
}

/// The experiment every field of which the fake loader starts from.
pub fn default_experiment(name: &str) -> Experiment {
    Experiment {
        path: None,
        name: name.to_string(),
        seed: 1,
        data: DataSection {
            files: vec!["data/tiny.txt".into()],
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
            level: Level::Char,
            mode: Mode::Stream,
            val_fraction: 0.05,
            min_count: 1,
            max_vocab: 0,
            lowercase: false,
            split_punctuation: true,
        },
        model: ModelSection {
            cell: CellKind::Lstm,
            hidden: 128,
            layers: 1,
            bidirectional: false,
            embedding: 0,
            gru_variant: GruVariant::Course,
            init: Init::Uniform(0.08),
            forget_bias: 1.0,
            init_recurrent: rnn_lab::nn::RecurrentInit::Same,
            tie_weights: false,
            dropout: rnn_lab::nn::Dropout::NONE,
        },
        training: TrainingSection {
            optim: OptimSpec {
                kind: OptimizerKind::Adam {
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                },
                lr: 2e-3,
                schedule: Schedule::Constant,
                clip_norm: Some(5.0),
                clip_value: None,
                weight_decay: 0.0,
                warmup: 0,
            },
            batch_size: 32,
            seq_len: 64,
            steps: 2000,
            epochs: None,
            log_every: NonZeroU64::new(10).expect("non-zero"),
            eval_every: NonZeroU64::new(100),
            checkpoint_every: NonZeroU64::new(500),
            sample_every: NonZeroU64::new(200),
            probe_every: NonZeroU64::new(100),
            max_val_tokens: 100_000,
            loss: rnn_lab::nn::LossNorm::Sum,
            batches: rnn_lab::config::experiment::Batches::Contiguous,
            divergence_factor: 10.0,
            divergence_window: 100,
        },
        sampling: SamplingSection {
            temperature: 0.8,
            top_k: 0,
            length: 120,
            prime: String::new(),
        },
        task: Default::default(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Reads `[experiment] name`, `[model] cell/hidden/layers`, `[training] steps/lr/log_every…`,
/// `[sampling] temperature/prime`, `[data] files`; rejects bad TOML and bad values with
/// file:line:col.
pub fn load(path: &Path) -> Result<Experiment, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (l, c) = e.span().map_or((1, 1), |s| line_col(&text, s.start));
        format!("{}:{l}:{c}: {}", path.display(), e.message())
    })?;
    let at = |key: &str| -> String {
        let (l, c) = text
            .find(&format!("{key} ="))
            .or_else(|| text.find(key))
            .map_or((1, 1), |o| line_col(&text, o));
        format!("{}:{l}:{c}", path.display())
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let get = |sec: &str, key: &str| table.get(sec).and_then(|s| s.get(key)).cloned();
    let name = get("experiment", "name")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or(stem);
    let mut e = default_experiment(&name);
    e.path = Some(path.to_path_buf());
    if let Some(v) = get("model", "cell") {
        e.model.cell = match v.as_str() {
            Some("rnn") => CellKind::Rnn,
            Some("gru") => CellKind::Gru,
            Some("lstm") => CellKind::Lstm,
            _ => return Err(format!("{}: unknown cell {v}, expected rnn, gru or lstm", at("cell"))),
        };
    }
    let int = |sec: &str, key: &str, min: i64| -> Result<Option<i64>, String> {
        match get(sec, key) {
            None => Ok(None),
            Some(v) => match v.as_integer() {
                Some(i) if i >= min => Ok(Some(i)),
                _ => Err(format!("{}: `{key}` must be an integer ≥ {min}, got {v}", at(key))),
            },
        }
    };
    if let Some(h) = int("model", "hidden", 1)? {
        e.model.hidden = h as usize;
    }
    if let Some(l) = int("model", "layers", 1)? {
        e.model.layers = l as usize;
    }
    if let Some(s) = int("training", "steps", 1)? {
        e.training.steps = s as u64;
    }
    if let Some(v) = int("training", "log_every", 1)? {
        e.training.log_every = NonZeroU64::new(v as u64).unwrap_or(NonZeroU64::MIN);
    }
    for (key, field) in [
        ("eval_every", &mut e.training.eval_every),
        ("checkpoint_every", &mut e.training.checkpoint_every),
        ("sample_every", &mut e.training.sample_every),
        ("probe_every", &mut e.training.probe_every),
    ] {
        if let Some(v) = int("training", key, 1)? {
            *field = NonZeroU64::new(v as u64);
        }
    }
    if let Some(v) = get("training", "lr") {
        match v.as_float() {
            Some(lr) if lr > 0.0 => e.training.optim.lr = lr,
            _ => return Err(format!("{}: `lr` must be a positive number, got {v}", at("lr"))),
        }
    }
    if let Some(v) = get("sampling", "temperature") {
        e.sampling.temperature = v
            .as_float()
            .ok_or_else(|| format!("{}: `temperature` must be a number", at("temperature")))?;
    }
    if let Some(v) = get("sampling", "prime") {
        e.sampling.prime = v.as_str().unwrap_or_default().to_string();
    }
    if let Some(v) = get("data", "files").and_then(|v| v.as_array().cloned()) {
        e.data.files = v.iter().filter_map(|f| f.as_str().map(String::from)).collect();
    }
    Ok(e)
}

impl Backend for FakeBackend {
    fn load_experiment(&self, path: &Path) -> Result<Experiment, String> {
        wait_while(&self.hold_loads);
        load(path)
    }

    fn start(&self, exp: &Experiment, resume: Option<&Path>) -> Result<(Sender<Command>, Receiver<Event>), String> {
        let (ctx, crx) = mpsc::channel();
        let (etx, erx) = mpsc::channel();
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let run_dir = self.runs_dir.join(format!("{}-{ts}", exp.name));
        if self.write_files {
            fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
            if let Some(p) = &exp.path {
                let _ = fs::copy(p, run_dir.join("config.toml"));
            }
        }
        let trainer = FakeTrainer {
            exp: exp.clone(),
            run_dir,
            step_time: self.step_time,
            write_files: self.write_files,
            start_step: if resume.is_some() { 100 } else { 0 },
            hold: Arc::clone(&self.hold_steps),
        };
        thread::Builder::new()
            .name("fake-trainer".into())
            .spawn(move || trainer.run(&crx, &etx))
            .map_err(|e| e.to_string())?;
        Ok((ctx, erx))
    }
}

struct FakeTrainer {
    exp: Experiment,
    run_dir: PathBuf,
    step_time: Duration,
    write_files: bool,
    start_step: u64,
    hold: Arc<AtomicBool>,
}

const WORDS: [&str; 24] = [
    "the", "king", "and", "of", "to", "my", "lord", "thou", "art", "what", "is", "that", "with", "her", "love",
    "shall", "not", "be", "so", "good", "sir", "come", "here", "now",
];

/// Deterministic xorshift noise in [0, 1).
fn noise(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// A fake sample whose quality follows the loss: greedy repeats, high temperature garbles.
pub fn fake_text(req: &SampleRequest, step: u64, seed: &mut u64) -> String {
    let mut out = String::new();
    let skill = (step as f64 / 1500.0).min(1.0);
    while out.chars().count() < req.length.min(160) {
        if req.temperature <= 0.0 {
            out.push_str("the king and the ");
            continue;
        }
        let r = noise(seed);
        if r < req.temperature * (1.0 - skill) * 0.6 {
            let c = (b'a' + (noise(seed) * 26.0) as u8) as char;
            out.push(c);
            if noise(seed) < 0.2 {
                out.push(' ');
            }
        } else {
            let n = if req.top_k > 0 {
                req.top_k.min(WORDS.len())
            } else {
                WORDS.len()
            };
            out.push_str(WORDS[(noise(seed) * n as f64) as usize % n]);
            out.push(if noise(seed) < 0.1 { '\n' } else { ' ' });
        }
    }
    out.chars().take(req.length).collect()
}

fn fake_probe(step: u64, text: &str, exp: &Experiment, seed: &mut u64) -> ProbeReport {
    let tokens: Vec<String> = text.chars().take(48).map(|c| c.to_string()).collect();
    let t = tokens.len();
    let h = exp.model.hidden.min(32);
    let mut mat = |scale: f32| -> Vec<Vec<f32>> {
        (0..t)
            .map(|_| (0..h).map(|_| (noise(seed) as f32 * 2.0 - 1.0) * scale).collect())
            .collect()
    };
    let hidden = mat(1.0);
    let gates = ["update", "forget", "output"]
        .iter()
        .map(|n| GateTrace {
            name: (*n).into(),
            values: mat(0.5)
                .into_iter()
                .map(|r| r.into_iter().map(|v| v + 0.5).collect())
                .collect(),
        })
        .collect();
    ProbeReport {
        step,
        tokens,
        entropy: (0..t).map(|i| 2.0 / (1.0 + i as f32 * 0.1)).collect(),
        top: (0..t).map(|_| vec![("e".into(), 0.3), (" ".into(), 0.2)]).collect(),
        dirs: vec![DirProbe {
            layer: 0,
            direction: Direction::Fwd,
            hidden,
            gates,
            cell: Some(mat(2.0)),
            grad_norm: (0..t).map(|i| (i as f32 + 1.0) / t as f32).collect(),
        }],
    }
}

impl FakeTrainer {
    fn append(&self, file: &str, line: &str) {
        if !self.write_files {
            return;
        }
        if let Ok(mut f) = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_dir.join(file))
        {
            let _ = writeln!(f, "{line}");
        }
    }

    fn checkpoint(&self, step: u64, best: bool, tx: &Sender<Event>) -> bool {
        let path = self.run_dir.join("latest.safetensors");
        if self.write_files {
            let _ = fs::write(&path, format!("fake checkpoint at step {step}\n"));
            if best {
                let _ = fs::write(self.run_dir.join("best.safetensors"), format!("step {step}\n"));
            }
        }
        tx.send(Event::Checkpointed { path, step, best }).is_ok()
    }

    fn run(self, rx: &Receiver<Command>, tx: &Sender<Event>) {
        let exp = &self.exp;
        let tr = &exp.training;
        let total = tr.steps;
        let mut seed = exp.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let info = RunInfo {
            name: exp.name.clone(),
            run_dir: self.run_dir.clone(),
            total_steps: total,
            start_step: self.start_step,
            params: 4 * exp.model.hidden * (exp.model.hidden + 65) + 65 * exp.model.hidden,
            vocab: 65,
            train_tokens: 1_000_000,
            model: format!(
                "{} {}×{}, one-hot 65",
                exp.model.cell.name(),
                exp.model.layers,
                exp.model.hidden
            ),
        };
        if tx.send(Event::Started(Box::new(info))).is_err() {
            return;
        }
        let mut lr = tr.optim.lr;
        let mut sampling = SampleRequest {
            temperature: exp.sampling.temperature,
            top_k: exp.sampling.top_k,
            prime: exp.sampling.prime.clone(),
            length: exp.sampling.length,
        };
        let mut step = self.start_step;
        let mut paused = false;
        let mut best = f64::INFINITY;
        let mut run_time = Duration::ZERO;
        let mut interval_loss = 0.0;
        let mut interval_n = 0u32;
        let mut interval_start = Instant::now();
        loop {
            // Commands: drained between steps; blocking (with a timeout) while paused.
            let mut step_once = false;
            loop {
                let cmd = if paused && !step_once {
                    match rx.recv_timeout(Duration::from_millis(200)) {
                        Ok(c) => c,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                } else {
                    match rx.try_recv() {
                        Ok(c) => c,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                };
                let ok = match cmd {
                    Command::Pause => {
                        paused = true;
                        tx.send(Event::Paused).is_ok()
                    }
                    Command::Resume => {
                        paused = false;
                        interval_start = Instant::now();
                        tx.send(Event::Resumed).is_ok()
                    }
                    Command::StepOnce => {
                        step_once = true;
                        true
                    }
                    Command::SaveNow => self.checkpoint(step, false, tx),
                    Command::SetLr(x) => {
                        lr = x;
                        true
                    }
                    Command::Sample(req) => {
                        let text = fake_text(&req, step, &mut seed);
                        self.append(
                            "samples.txt",
                            &format!("--- step {step} T {} ---\n{text}", req.temperature),
                        );
                        tx.send(Event::Sample(Box::new(SampleEvent {
                            step,
                            request: req,
                            text,
                        })))
                        .is_ok()
                    }
                    Command::SetSampling(req) => {
                        sampling = req;
                        true
                    }
                    Command::Probe(text) => {
                        let text = text.unwrap_or_else(|| "to be, or not to be, that is the question".into());
                        let r = fake_probe(step, &text, exp, &mut seed);
                        if self.write_files {
                            if let Ok(j) = serde_json::to_string(&r) {
                                let _ = fs::write(self.run_dir.join("probe.json"), j);
                            }
                        }
                        tx.send(Event::Probe(Box::new(r))).is_ok()
                    }
                    Command::Stop => {
                        self.checkpoint(step, false, tx);
                        let _ = tx.send(Event::Finished { step });
                        return;
                    }
                };
                if !ok {
                    return;
                }
            }
            if paused && !step_once {
                continue;
            }
            // One "training step".
            let t0 = Instant::now();
            thread::sleep(self.step_time);
            wait_while(&self.hold);
            run_time += t0.elapsed();
            step += 1;
            let s = step as f64;
            let loss = 1.3 + 2.9 * (-s / 350.0).exp() + 0.25 * (noise(&mut seed) - 0.5);
            interval_loss += loss;
            interval_n += 1;
            if step.is_multiple_of(tr.log_every.get()) || step_once {
                let val = is_due(tr.eval_every, step).then(|| 1.4 + 2.8 * (-s / 380.0).exp());
                let train = interval_loss / f64::from(interval_n.max(1));
                let secs = interval_start.elapsed().as_secs_f64().max(1e-6);
                let m = Metrics {
                    step,
                    epoch: s * 32.0 * 64.0 / 1_000_000.0,
                    time_s: run_time.as_secs_f64(),
                    train_loss: train,
                    val_loss: val,
                    bits_per_token: val.unwrap_or(train) / std::f64::consts::LN_2,
                    lr,
                    grad_norm: 0.5 + 3.0 * (-s / 500.0).exp() + noise(&mut seed),
                    tokens_per_s: f64::from(interval_n) * 32.0 * 64.0 / secs,
                    task: None,
                };
                interval_loss = 0.0;
                interval_n = 0;
                interval_start = Instant::now();
                if let Ok(j) = serde_json::to_string(&m) {
                    self.append("metrics.jsonl", &j);
                }
                if tx.send(Event::Step(m)).is_err() {
                    return;
                }
                if let Some(v) = val {
                    if v < best {
                        best = v;
                    }
                }
            }
            if is_due(tr.sample_every, step) {
                let text = fake_text(&sampling, step, &mut seed);
                let ev = SampleEvent {
                    step,
                    request: sampling.clone(),
                    text,
                };
                if tx.send(Event::Sample(Box::new(ev))).is_err() {
                    return;
                }
            }
            if is_due(tr.probe_every, step) {
                let r = fake_probe(step, "to be, or not to be, that is the question", exp, &mut seed);
                if tx.send(Event::Probe(Box::new(r))).is_err() {
                    return;
                }
            }
            if is_due(tr.checkpoint_every, step) && !self.checkpoint(step, true, tx) {
                return;
            }
            if step >= total {
                self.checkpoint(step, false, tx);
                let _ = tx.send(Event::Finished { step });
                return;
            }
        }
    }
}

/// Write a few example experiments (one of them invalid) into `dir/experiments/`.
pub fn write_demo_experiments(dir: &Path) -> std::io::Result<()> {
    let exps = dir.join("experiments");
    fs::create_dir_all(&exps)?;
    fs::write(
        exps.join("char-lstm.toml"),
        "# The default: a character LSTM on a small corpus.\n[experiment]\nname = \"char-lstm\"\n\n\
         [data]\nfiles = [\"data/tiny.txt\"]\n\n[model]\ncell = \"lstm\"\nhidden = 128\nlayers = 2\n\n\
         [training]\nsteps = 2000\nlr = 0.002\nlog_every = 10\neval_every = 100\nsample_every = 200\n\
         checkpoint_every = 500\n\n[sampling]\ntemperature = 0.8\nprime = \"The \"\n",
    )?;
    fs::write(
        exps.join("gru-small.toml"),
        "[experiment]\nname = \"gru-small\"\n\n[model]\ncell = \"gru\"\nhidden = 64\n\n[training]\nsteps = 1000\n",
    )?;
    fs::write(
        exps.join("rnn-broken.toml"),
        "[experiment]\nname = \"rnn-broken\"\n\n[model]\ncell = \"rnn\"\nhidden = 0\n",
    )?;
    Ok(())
}
