//! A word2vec experiment run: the engine driven by an experiment file, in a run directory
//! (`config.toml`, `metrics.jsonl`, `latest.safetensors`, `vectors.txt`), with periodic
//! snapshots (watched words' neighbours, analogy and similarity scores, a PCA map) and
//! checkpoints. The headless command and the TUI consume the same [`Event`]s; the TUI sends
//! [`Command`]s back. One thread owns the [`Session`] (and with it the model); others only
//! see messages.
//!
//! metrics.jsonl holds one JSON object per line, told apart by `kind`: `"step"` (every
//! `log_every` steps: the step's loss per example, learning rate, words/s), `"epoch"` (every
//! epoch: its loss per example over all its examples) and `"eval"` (every evaluation: the
//! analogy accuracy and coverage, each similarity file's Spearman ρ and coverage, the watched
//! words' neighbours).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::corpus::{Corpus, CorpusOptions};
use super::engine::{Report, Trainer};
use super::eval::{self, AnalogySet, Matching, PairSet};
use super::experiment::W2vExperiment;
use super::formats::{self, Format};
use super::pca::Projection;
use super::settings::Settings;
use super::vectors::Embeddings;
use super::{model_file, W2vError};

mod messages;
pub use messages::{AnalogyScore, Command, Event, Info, Line, PairScore, Snapshot, Summary, Watched};

/// How to run (from the command line or the TUI).
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// Stop after this many steps in all (overrides `[training] steps`).
    pub steps: Option<u64>,
    /// Continue from this model file (`latest.safetensors` of a run).
    pub resume: Option<PathBuf>,
    /// Folder of run directories; `None` with `resume`: continue the checkpoint's own run
    /// directory; `None` otherwise: `runs`.
    pub out: Option<PathBuf>,
    /// Override the experiment's seed (a fresh run only).
    pub seed: Option<u64>,
    /// Threads (default: all cores); 1 is deterministic.
    pub threads: Option<usize>,
    /// Stop after this much training time.
    pub time_limit: Option<Duration>,
    /// Compute the PCA map at each snapshot (the TUI wants it; headless does not).
    pub projection: bool,
}

/// A prepared run: the trainer, its run directory and what to evaluate.
pub struct Session {
    exp: W2vExperiment,
    trainer: Trainer,
    run_dir: PathBuf,
    metrics: BufWriter<File>,
    analogies: Option<AnalogySet>,
    pairs: Vec<(String, PairSet)>,
    watch: Vec<String>,
    threads: usize,
    until: u64,
    time_limit: Option<Duration>,
    projection: bool,
    axes: Option<[Vec<f32>; 2]>,
    /// The last scored snapshot (its scores are reused by quick looks).
    last: Option<Snapshot>,
}

/// How often a session driven with commands (the TUI) looks at the vectors between evaluations.
pub const QUICK_LOOK: Duration = Duration::from_millis(500);

/// Corpus options implied by settings.
pub fn corpus_options(s: &Settings) -> CorpusOptions {
    CorpusOptions {
        level: s.level,
        min_count: s.min_count,
        max_sentence: s.max_sentence,
        step_words: s.step_words,
    }
}

/// The fields where two settings differ, as "dim 100 ≠ 50" items.
fn differences(a: &Settings, b: &Settings) -> Vec<String> {
    let (Ok(serde_json::Value::Object(x)), Ok(serde_json::Value::Object(y))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return vec![];
    };
    x.iter()
        .filter(|(k, v)| y.get(*k) != Some(v))
        .map(|(k, v)| format!("{k} {v} ≠ {}", y.get(k).map_or_else(String::new, ToString::to_string)))
        .collect()
}

/// Keep the metrics lines of steps ≤ `step` (lines without a step are dropped).
fn metrics_until(path: &Path, step: u64) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut kept = String::new();
    for l in text.lines() {
        let s = serde_json::from_str::<serde_json::Value>(l)
            .ok()
            .and_then(|v| v.get("step").and_then(serde_json::Value::as_u64));
        if s.is_some_and(|s| s <= step) {
            kept.push_str(l);
            kept.push('\n');
        }
    }
    kept
}

impl Session {
    /// Read the corpus and evaluation files, build or resume the model, and make (or reopen)
    /// the run directory.
    ///
    /// # Errors
    /// A one-line [`W2vError`] naming the file (input errors: exit 2), or a write error.
    pub fn prepare(exp: W2vExperiment, opts: &SessionOptions) -> Result<Session, W2vError> {
        let files = exp.corpus_files()?;
        let analogies = match &exp.analogies {
            Some(f) => Some(eval::read_analogies(&exp.resolve(f))?),
            None => None,
        };
        let pairs = exp
            .pairs
            .iter()
            .map(|f| eval::read_pairs(&exp.resolve(f)).map(|p| (f.clone(), p)))
            .collect::<Result<Vec<_>, _>>()?;
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let mut settings = exp.settings.clone();
        if let Some(seed) = opts.seed {
            settings.seed = seed;
        }
        let trainer = match &opts.resume {
            Some(ckpt) => {
                let saved = model_file::load(ckpt)?;
                let file = ckpt.display().to_string();
                // The model's own seed goes on (its random numbers are a function of it).
                let diff: Vec<String> = differences(&saved.settings, &settings)
                    .into_iter()
                    .filter(|d| !d.starts_with("seed "))
                    .collect();
                if !diff.is_empty() {
                    return Err(W2vError::file(
                        &file,
                        format!(
                            "trained with other settings than {} ({}); resume with the experiment it was trained with",
                            exp.path.display(),
                            diff.join(", ")
                        ),
                    ));
                }
                let corpus = Corpus::from_files(&paths, corpus_options(&saved.settings))?;
                saved.resume(corpus, &file)?
            }
            None => {
                let corpus = Corpus::from_files(&paths, corpus_options(&settings))?;
                Trainer::new(settings, corpus)?
            }
        };
        let start = trainer.progress().step;
        let run_dir = match (&opts.resume, &opts.out) {
            (Some(ckpt), None) => ckpt
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            (_, out) => {
                let out = out.clone().unwrap_or_else(|| PathBuf::from("runs"));
                crate::train::rundir::create(&out, &exp.name).map_err(|e| W2vError::write(&out, &e))?
            }
        };
        let metrics_path = run_dir.join("metrics.jsonl");
        if let Some(ckpt) = &opts.resume {
            // Lines after the checkpoint's step are from a run that went on past it: drop them.
            let old = ckpt.parent().map(|d| d.join("metrics.jsonl"));
            let kept = old.map(|p| metrics_until(&p, start)).unwrap_or_default();
            fs::write(&metrics_path, kept).map_err(|e| W2vError::write(&metrics_path, &e))?;
        }
        let config = run_dir.join("config.toml");
        if opts.resume.is_none() || !config.exists() {
            fs::copy(&exp.path, &config).map_err(|e| W2vError::write(&config, &e))?;
        }
        let metrics = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| W2vError::write(&metrics_path, &e))?;
        let total = trainer.total_steps();
        let cap = opts.steps.or((exp.steps > 0).then_some(exp.steps)).unwrap_or(total);
        let threads = opts
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        Ok(Session {
            watch: exp.watch.clone(),
            exp,
            until: cap.min(total),
            trainer,
            run_dir,
            metrics: BufWriter::new(metrics),
            analogies,
            pairs,
            threads,
            time_limit: opts.time_limit,
            projection: opts.projection,
            axes: None,
            last: None,
        })
    }

    /// The facts sent at the start.
    pub fn info(&self) -> Info {
        let c = self.trainer.corpus();
        Info {
            name: self.exp.name.clone(),
            run_dir: self.run_dir.clone(),
            model: self.trainer.settings().describe(),
            corpus_words: c.words(),
            sentences: c.sentences(),
            vocab: c.vocab.len(),
            raw_types: c.raw_types,
            epochs: self.trainer.settings().epochs,
            total_steps: self.trainer.total_steps(),
            until: self.until,
            start_step: self.trainer.progress().step,
            threads: self.threads,
            unknown_watch: self.watch.iter().filter(|w| c.vocab.id(w).is_none()).cloned().collect(),
        }
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The trainer (for tests and queries between runs).
    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// Look at the vectors now: neighbours of the watched words, the evaluation sets, the map.
    pub fn snapshot(&mut self) -> Snapshot {
        self.look(true)
    }

    /// A snapshot; with `score` false the analogy and similarity scores are the last ones
    /// computed (they take the longest), the neighbours and the map are new.
    fn look(&mut self, score: bool) -> Snapshot {
        let emb = self.trainer.embeddings();
        let spe = self.trainer.corpus().steps_per_epoch().max(1);
        let step = self.trainer.progress().step;
        let neighbours = self
            .watch
            .iter()
            .map(|w| match emb.id(w) {
                Some(i) => Watched {
                    word: w.clone(),
                    known: true,
                    neighbours: emb
                        .neighbours(i, self.exp.neighbours)
                        .into_iter()
                        .map(|(j, c)| (emb.word(j).to_string(), c))
                        .collect(),
                },
                None => Watched {
                    word: w.clone(),
                    known: false,
                    neighbours: vec![],
                },
            })
            .collect();
        let m = Matching {
            restrict: Some(self.exp.restrict_vocab),
            case_sensitive: false,
        };
        if !score {
            if let Some(last) = &self.last {
                let (analogy, pairs) = (last.analogy, last.pairs.clone());
                let projection = if self.projection { self.project(&emb) } else { vec![] };
                return Snapshot {
                    step,
                    epoch: step as f64 / spe as f64,
                    neighbours,
                    analogy,
                    pairs,
                    projection,
                };
            }
        }
        let analogy = self.analogies.as_ref().map(|set| {
            let r = eval::evaluate_analogies(&emb, set, m);
            AnalogyScore {
                accuracy: r.total.accuracy(),
                semantic: r.semantic.accuracy(),
                syntactic: r.syntactic.accuracy(),
                coverage: r.total.coverage(),
                answered: r.total.answered,
            }
        });
        let pairs = self
            .pairs
            .iter()
            .map(|(f, set)| {
                let r = eval::evaluate_pairs(&emb, set, m);
                PairScore {
                    file: f.clone(),
                    spearman: r.spearman,
                    coverage: r.coverage(),
                }
            })
            .collect();
        let projection = if self.projection { self.project(&emb) } else { vec![] };
        let snap = Snapshot {
            step,
            epoch: step as f64 / spe as f64,
            neighbours,
            analogy,
            pairs,
            projection,
        };
        self.last = Some(Snapshot {
            projection: vec![],
            ..snap.clone()
        });
        snap
    }

    fn project(&mut self, emb: &Embeddings) -> Vec<(String, f32, f32)> {
        let n = self.exp.projection.min(emb.len());
        if n < 2 {
            return vec![];
        }
        let dim = emb.dim();
        let p = Projection::new(&emb.unit_data()[..n * dim], dim, self.axes.as_ref());
        let out = p
            .points
            .iter()
            .enumerate()
            .map(|(i, q)| (emb.word(i as u32).to_string(), q[0], q[1]))
            .collect();
        self.axes = Some(p.axes);
        out
    }

    fn write_line(&mut self, line: &Line<'_>) -> Result<(), W2vError> {
        let path = self.run_dir.join("metrics.jsonl");
        let s = serde_json::to_string(line).map_err(|e| W2vError::Write {
            file: path.display().to_string(),
            why: e.to_string(),
        })?;
        writeln!(self.metrics, "{s}")
            .and_then(|()| self.metrics.flush())
            .map_err(|e| W2vError::write(&path, &e))
    }

    fn save(&mut self) -> Result<PathBuf, W2vError> {
        let path = self.run_dir.join("latest.safetensors");
        let exp = serde_json::to_string(&self.exp).unwrap_or_default();
        model_file::save(&path, &self.trainer, &[("experiment", exp.as_str())])?;
        Ok(path)
    }

    fn evaluate(&mut self, on: &mut dyn FnMut(Event)) -> Result<(), W2vError> {
        let snap = self.snapshot();
        self.write_line(&Line::Eval(&snap))?;
        on(Event::Snapshot(snap));
        Ok(())
    }

    fn handle(&mut self, c: Command, on: &mut dyn FnMut(Event)) {
        let c_scores = c == Command::Snapshot;
        match c {
            Command::Watch(w) => {
                if !self.watch.contains(&w) {
                    self.watch.push(w);
                }
            }
            Command::Unwatch(w) => self.watch.retain(|x| *x != w),
            Command::Snapshot => {}
        }
        // Every command changes what a snapshot shows (not written to metrics.jsonl: the
        // file's evaluations stay at their steps); `Snapshot` asks for fresh scores too.
        let snap = self.look(c_scores);
        on(Event::Snapshot(snap));
    }

    /// Train until the end (or `[training] steps`, `--steps`, the time limit, or `stop`):
    /// metrics lines as it goes, a snapshot at the start and at every evaluation, checkpoints,
    /// then the model (`latest.safetensors`) and the vectors (`vectors.txt`) saved.
    ///
    /// # Errors
    /// A write error (metrics, checkpoint, vectors).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        commands: Option<&Receiver<Command>>,
        on: &mut dyn FnMut(Event),
    ) -> Result<Summary, W2vError> {
        on(Event::Started(self.info()));
        let spe = self.trainer.corpus().steps_per_epoch().max(1);
        let (log_every, eval_every, ckpt_every) = (self.exp.log_every, self.exp.eval_every, self.exp.checkpoint_every);
        let start = self.trainer.progress().step;
        if start == 0 || commands.is_some() {
            self.evaluate(on)?;
        }
        // Training time only (evaluations and checkpoints not counted): for words/s and the
        // time limit.
        let mut trained = Duration::ZERO;
        let mut last_look = Instant::now();
        let mut words = 0u64;
        let mut err: Option<W2vError> = None;
        while self.trainer.progress().step < self.until && !stop.load(Ordering::Relaxed) {
            let step = self.trainer.progress().step;
            // The next step where something happens: an evaluation (every eval_every steps, or
            // each epoch's end), a checkpoint, the end. Commands are read between chunks too,
            // so a chunk is at most a few steps when someone sends them.
            let next = |every: u64| (step / every + 1) * every;
            let mut to = self.until.min(next(if eval_every > 0 { eval_every } else { spe }));
            if ckpt_every > 0 {
                to = to.min(next(ckpt_every));
            }
            if commands.is_some() {
                to = to.min(step + 4);
            }
            let limit = self.time_limit;
            let chunk_start = Instant::now();
            let (metrics, run_dir) = (&mut self.metrics, &self.run_dir);
            let mut cb = |r: &Report| {
                let line = match r {
                    Report::Step(s) => {
                        words += s.words;
                        (s.step.is_multiple_of(log_every) || s.step == s.total_steps).then_some(Line::Step(s))
                    }
                    Report::Epoch(e) => Some(Line::Epoch {
                        step: u64::from(e.epoch) * spe,
                        e,
                    }),
                };
                if let Some(line) = line {
                    let path = run_dir.join("metrics.jsonl");
                    let res = serde_json::to_string(&line)
                        .map_err(std::io::Error::other)
                        .and_then(|s| writeln!(metrics, "{s}"))
                        .and_then(|()| metrics.flush());
                    if let (Err(e), None) = (res, &err) {
                        err = Some(W2vError::write(&path, &e));
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                on(match r {
                    Report::Step(s) => Event::Step(s.clone()),
                    Report::Epoch(e) => Event::Epoch(e.clone()),
                });
                if limit.is_some_and(|l| trained + chunk_start.elapsed() >= l) {
                    stop.store(true, Ordering::Relaxed);
                }
            };
            self.trainer.run(to, self.threads, stop, &mut cb);
            trained += chunk_start.elapsed();
            if let Some(e) = err.take() {
                return Err(e);
            }
            let now = self.trainer.progress().step;
            if let Some(rx) = commands {
                while let Ok(c) = rx.try_recv() {
                    self.handle(c, on);
                }
            }
            let due_eval = if eval_every > 0 {
                now.is_multiple_of(eval_every)
            } else {
                now.is_multiple_of(spe)
            };
            if now > step && (due_eval || now == self.until || stop.load(Ordering::Relaxed)) {
                self.evaluate(on)?;
                last_look = Instant::now();
            } else if commands.is_some() && last_look.elapsed() >= QUICK_LOOK {
                // Someone is watching: new neighbours and map a few times a second.
                let snap = self.look(false);
                on(Event::Snapshot(snap));
                last_look = Instant::now();
            }
            if ckpt_every > 0 && now.is_multiple_of(ckpt_every) && now > step && now < self.until {
                let path = self.save()?;
                on(Event::Saved { step: now, path });
            }
        }
        let seconds = trained.as_secs_f64();
        let step = self.trainer.progress().step;
        let path = self.save()?;
        on(Event::Saved { step, path });
        let vectors = self.run_dir.join("vectors.txt");
        let s = self.trainer.settings();
        formats::write(
            &vectors,
            self.trainer.corpus().vocab.words(),
            s.dim,
            self.trainer.syn0(),
            Format::Text,
        )?;
        Ok(Summary {
            step,
            total_steps: self.trainer.total_steps(),
            finished: step >= self.trainer.total_steps(),
            seconds,
            words_per_s: if seconds > 0.0 { words as f64 / seconds } else { 0.0 },
            epoch_losses: self.trainer.progress().epoch_losses.clone(),
            run_dir: self.run_dir.clone(),
            vectors,
        })
    }
}
