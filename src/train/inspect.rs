//! A model that is not training — a run that has finished, or a checkpoint opened for
//! inspection — answering the commands that need no training (`Sample`, `Probe`, `Evaluate`)
//! with the trainer's own events, on a thread of its own. The TUI talks to it exactly as to a
//! trainer, so `g`, `p` and `v` work the same before, during and after a run.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};

use super::checkpoint;
use super::protocol::{Command, Event, Metrics, RunInfo, SampleEvent};
use super::task_ops::{probe_sequence, probe_task_sequence, task_scores};
use super::trainer::{describe, mean_loss};
use super::worker::NO_VALIDATION;
use crate::config::{Experiment, Mode};
use crate::data::{load_dataset, Vocab};
use crate::infer::probe::{probe, ProbeReport};
use crate::infer::sample::{sample_seed, sample_text, SampleOpts};
use crate::nn::{Batch, HeadKind, Model};
use crate::task::data::{TaskData, TaskInfo};
use crate::task::evaluate::EvalScratch;
use crate::task::load::load_task;

/// Start a thread holding the checkpoint `path`. It sends `Event::Failed` (and ends) when the
/// checkpoint cannot be read, else `Event::Started` (the step of the checkpoint as
/// `start_step`, its run directory, the model); then answers `Sample` (each one a new draw,
/// seeded by the step and how many came before), `Probe` (the text given, else the last text
/// probed, else the run's `probe.json` beside the checkpoint) and `Evaluate` (see
/// [`Command::Evaluate`]: the validation data of the experiment, read on the first request
/// from the run's `config.toml` beside the checkpoint, else from the checkpoint's own config;
/// an `Event::Step` whose training figures — loss, learning rate, gradient norm, epoch — are
/// NaN, as nothing trained) until `Stop` or the command channel closes. Training commands get
/// a `Warning` saying the model is not training. Nothing is written.
///
/// # Errors
/// Only when the operating system cannot start a thread.
pub fn spawn(path: PathBuf) -> std::io::Result<(Sender<Command>, Receiver<Event>)> {
    let (commands, crx) = mpsc::channel();
    let (etx, events) = mpsc::channel();
    std::thread::Builder::new()
        .name("inspector".into())
        .spawn(move || match Inspector::open(&path) {
            Ok(i) => {
                if etx.send(Event::Started(Box::new(i.info()))).is_ok() {
                    i.serve(&crx, &etx);
                }
            }
            Err(e) => {
                let _ = etx.send(Event::Failed(e));
            }
        })?;
    Ok((commands, events))
}

struct Inspector {
    path: PathBuf,
    model: Model<f32>,
    vocab: Vocab,
    /// The experiment as the checkpoint holds it.
    exp: Experiment,
    /// The checkpoint's task metadata (tasks).
    task_json: Option<String>,
    step: u64,
    probe_tokens: Vec<u32>,
    draws: u64,
    /// The validation data, read on the first `Evaluate`.
    val: Option<Validation>,
    /// Generated tasks: training sequences seen when the solved test first passed (unknown
    /// here: set by the first evaluation that passes).
    solved_at: Option<u64>,
    /// Tasks: a sequence typed with `P`, probed instead of the first validation sequence.
    task_probe: Option<crate::task::seqset::SeqSet>,
}

/// What `Evaluate` scores the model on.
enum Validation {
    /// A language model's validation batches.
    Text(Vec<(Batch, bool)>),
    /// A task, with the buffers of its evaluation.
    Task(Box<TaskData>, Box<EvalScratch<f32>>),
}

impl Inspector {
    fn open(path: &Path) -> Result<Self, String> {
        let c = checkpoint::load(path).map_err(|e| e.to_string())?;
        let vocab = Vocab::from_json(&c.vocab_json).map_err(|e| format!("{}: vocabulary: {e}", path.display()))?;
        let exp = crate::config::parse_str(&c.config_toml, path)
            .map_err(|e| format!("{}: config metadata: {e}", path.display()))?;
        let probe_tokens = path
            .parent()
            .map(|d| d.join("probe.json"))
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<ProbeReport>(&b).ok())
            .map(|r| tokens_of(&vocab, &r.tokens))
            .unwrap_or_default();
        Ok(Inspector {
            path: path.to_path_buf(),
            model: c.model,
            vocab,
            exp,
            task_json: c.task_json,
            step: c.step,
            probe_tokens,
            draws: 0,
            val: None,
            solved_at: None,
            task_probe: None,
        })
    }

    /// The run as the TUI's header shows it: the checkpoint's step as the start step.
    fn info(&self) -> RunInfo {
        let task = (!self.exp.task.is_language_model()).then(|| (self.exp.task.kind.name(), self.model.spec.outputs));
        RunInfo {
            name: self.exp.name.clone(),
            run_dir: self.path.parent().map(Path::to_path_buf).unwrap_or_default(),
            total_steps: self.exp.training.steps,
            start_step: self.step,
            params: self.model.param_count(),
            vocab: self.vocab.len(),
            train_tokens: 0,
            model: describe(&self.model.spec, task),
            embedding_init: None,
        }
    }

    /// The experiment whose data to read: the run's `config.toml` beside the checkpoint (its
    /// data paths rebased onto the run directory) when it is the same experiment, else the
    /// checkpoint's own.
    fn data_experiment(&self) -> Experiment {
        super::rundir::experiment_beside(&self.path, &self.exp)
    }

    /// Read the validation data and check that it fits the checkpoint.
    fn load_validation(&self) -> Result<Validation, String> {
        let exp = self.data_experiment();
        let changed = |what: &str| {
            format!(
                "{}: cannot evaluate: the {what} of the experiment's data differs from the checkpoint's (the data changed since)",
                self.path.display()
            )
        };
        if exp.task.is_language_model() {
            let d = load_dataset(&exp).map_err(|e| format!("cannot evaluate: {e}"))?;
            if d.vocab.tokens() != self.vocab.tokens() {
                return Err(changed("vocabulary"));
            }
            let t = &exp.training;
            return Ok(Validation::Text(d.val_batches(
                t.batch_size,
                t.seq_len,
                t.max_val_tokens,
            )));
        }
        let task = load_task(&exp).map_err(|e| format!("cannot evaluate: {e}"))?;
        if task.vocab.tokens() != self.vocab.tokens() {
            return Err(changed("vocabulary"));
        }
        let labels = self
            .task_json
            .as_deref()
            .and_then(|j| TaskInfo::from_json(j).ok())
            .map(|i| i.labels);
        if labels.as_deref() != Some(task.labels.names()) {
            return Err(changed("outputs"));
        }
        Ok(Validation::Task(Box::new(task), Box::default()))
    }

    /// `Evaluate`: the validation loss (and a task's scores) at the checkpoint, as an
    /// `Event::Step`; a `Warning` when there is nothing to evaluate on.
    fn evaluate(&mut self) -> Event {
        let mut val = match self.val.take() {
            Some(v) => v,
            None => match self.load_validation() {
                Ok(v) => v,
                Err(e) => return Event::Warning(e),
            },
        };
        let sequences = self.step.saturating_mul(self.exp.training.batch_size as u64);
        let scored = match &mut val {
            Validation::Text(batches) => {
                // The trainer's default thread count: the same figure, bit for bit, as a run
                // trained without --threads.
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                mean_loss(&self.model, batches, threads).map(|v| (v, None))
            }
            Validation::Task(task, scratch) => {
                match task_scores(&self.model, task, sequences, &mut self.solved_at, scratch) {
                    Ok(s) => Some((s.valid.loss, Some(s))),
                    Err(e) => {
                        self.val = Some(val);
                        return Event::Warning(format!("{}: cannot evaluate: {e}", self.path.display()));
                    }
                }
            }
        };
        self.val = Some(val);
        let Some((loss, task)) = scored else {
            return Event::Warning(NO_VALIDATION.into());
        };
        Event::Step(Metrics {
            step: self.step,
            epoch: f64::NAN,
            time_s: 0.0,
            train_loss: f64::NAN,
            val_loss: Some(loss),
            bits_per_token: loss / std::f64::consts::LN_2,
            lr: f64::NAN,
            grad_norm: f64::NAN,
            tokens_per_s: 0.0,
            task,
        })
    }

    /// A task model's probe (as the trainer's): `text` from now on when given (read as
    /// `rnn-lab probe --text` reads it), else the text given before, else the first validation
    /// sequence with its labels. The event, and warnings about the text.
    fn probe_task(&mut self, text: Option<&str>) -> (Event, Vec<String>) {
        let val = match self.val.take() {
            Some(v) => v,
            None => match self.load_validation() {
                Ok(v) => v,
                Err(e) => return (Event::Warning(e.replacen("cannot evaluate", "cannot probe", 1)), vec![]),
            },
        };
        let mut warnings = Vec::new();
        let ev = match &val {
            Validation::Task(task, _) => {
                if let Some(t) = text {
                    let source = self.data_experiment().task.source;
                    let (set, w) = probe_sequence(&self.model, task, &source, t);
                    warnings = w;
                    if set.is_some() {
                        self.task_probe = set;
                    }
                }
                let (set, i) = match &self.task_probe {
                    Some(s) => (s, 0),
                    None => (&task.valid, 0),
                };
                if set.is_empty() {
                    Event::Warning("no validation sequence to probe".into())
                } else {
                    match probe_task_sequence(&self.model, task, set, i, self.step) {
                        Ok(r) => Event::Probe(Box::new(r)),
                        Err(e) => Event::Warning(format!("probe failed: {e}")),
                    }
                }
            }
            Validation::Text(_) => Event::Warning("probe failed: the data is a language model's".into()),
        };
        self.val = Some(val);
        (ev, warnings)
    }

    fn serve(mut self, commands: &Receiver<Command>, events: &Sender<Event>) {
        while let Ok(cmd) = commands.recv() {
            let ev = match cmd {
                Command::Sample(req) => {
                    if self.model.spec.head != HeadKind::PerStep || self.model.spec.bidirectional {
                        Event::Warning("this model is not a language model; it cannot generate text".into())
                    } else {
                        self.draws += 1;
                        let opts = SampleOpts {
                            temperature: req.temperature,
                            top_k: req.top_k,
                            length: req.length,
                            stop: None,
                        };
                        let lines = self.exp.data.mode == Mode::Lines;
                        let seed = sample_seed(self.exp.seed, self.step, self.draws);
                        let (text, _) = sample_text(&self.model, &self.vocab, lines, &opts, &req.prime, seed);
                        Event::Sample(Box::new(SampleEvent {
                            step: self.step,
                            request: req,
                            text,
                        }))
                    }
                }
                Command::Probe(text) if !self.exp.task.is_language_model() => {
                    let (ev, warnings) = self.probe_task(text.as_deref());
                    for w in warnings {
                        let _ = events.send(Event::Warning(w));
                    }
                    ev
                }
                Command::Probe(text) => {
                    if let Some(t) = text {
                        let (ids, _) = self.vocab.encode(&t);
                        if ids.len() >= 2 {
                            self.probe_tokens = ids;
                        } else {
                            let _ = events.send(Event::Warning("probe text needs at least 2 known tokens".into()));
                        }
                    }
                    if self.probe_tokens.len() < 2 {
                        Event::Warning("no probe text yet: P probes a text you type".into())
                    } else {
                        let vocab = &self.vocab;
                        match probe(&self.model, &self.probe_tokens, self.step, &|t| vocab.display(t)) {
                            Ok(r) => Event::Probe(Box::new(r)),
                            Err(e) => Event::Warning(format!("probe failed: {e}")),
                        }
                    }
                }
                Command::Evaluate => self.evaluate(),
                Command::SetSampling(_) => continue,
                Command::Stop => return,
                Command::Pause | Command::Resume | Command::StepOnce | Command::SaveNow | Command::SetLr(_) => {
                    Event::Warning("this model is not training (the run has ended); t continues it".into())
                }
            };
            if events.send(ev).is_err() {
                return;
            }
        }
    }
}

/// Token ids of a probe report's tokens, which are in their visible form
/// ([`Vocab::display`]: `␣`, `↵`, …): each vocabulary entry's visible form, looked up.
fn tokens_of(vocab: &Vocab, shown: &[String]) -> Vec<u32> {
    let by_shown: std::collections::HashMap<String, u32> =
        (0..vocab.len() as u32).map(|id| (vocab.display(id), id)).collect();
    shown.iter().filter_map(|t| by_shown.get(t).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_checkpoint_fails_with_its_path() {
        let (_tx, rx) = spawn(PathBuf::from("/nonexistent/latest.safetensors")).expect("thread");
        match rx.recv() {
            Ok(Event::Failed(m)) => assert!(m.contains("/nonexistent/latest.safetensors"), "{m}"),
            other => panic!("expected Failed, got {other:?}"),
        }
    }
}
