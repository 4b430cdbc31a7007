//! Headless runs: the same trainer thread and events as the TUI, reported on stderr (progress)
//! and, with `--json`, one JSON object per logged step on stdout.

use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Experiment;
use crate::train::protocol::{Event, Metrics, TaskScores};
use crate::train::{self, OnDivergence, RunEnd, RunError, RunOptions};

/// How a headless run ended, when not well.
#[derive(Debug)]
pub enum HeadlessError {
    /// Could not start (bad data, checkpoint, settings) or could not write.
    Run(RunError),
    /// Training blew up (NaN/Inf) and was stopped; nothing broken was saved. One line.
    Diverged(String),
    /// The trainer thread failed otherwise.
    Failed(String),
}

fn fmt_duration(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Where a run stands, for its progress line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Steps done (the step of the last metrics line).
    pub step: u64,
    /// Step the run started from (non-zero when resumed).
    pub first: u64,
    /// Step the run ends at.
    pub total: u64,
    /// Wall-clock seconds since the run started.
    pub wall_s: f64,
    /// Training seconds so far (`Metrics::time_s`: the steps only, which `--minutes` counts).
    pub train_s: f64,
    /// `--minutes`, in seconds.
    pub limit_s: Option<f64>,
}

impl Progress {
    /// Seconds until the run ends: whichever of its limits comes first, the steps left at the
    /// rate so far, or the training time left under `--minutes` scaled by wall-clock per
    /// training second (evaluation, sampling and checkpoints take time too). NaN while there is
    /// nothing to estimate from.
    pub fn eta_s(&self) -> f64 {
        let done = self.step.saturating_sub(self.first);
        let by_steps = if done > 0 {
            self.total.saturating_sub(self.step) as f64 * self.wall_s / done as f64
        } else {
            f64::NAN
        };
        let by_time = match self.limit_s {
            Some(limit) if self.train_s > 0.0 => {
                (limit - self.train_s).max(0.0) * (self.wall_s / self.train_s).max(1.0)
            }
            Some(limit) => limit,
            None => f64::NAN,
        };
        // f64::min ignores a NaN side.
        by_steps.min(by_time)
    }

    /// How far along the run is, in [0, 1]: by steps, or by time under `--minutes` when that is
    /// further.
    pub fn fraction(&self) -> f64 {
        let by_steps = if self.total > 0 {
            self.step as f64 / self.total as f64
        } else {
            0.0
        };
        let by_time = self.limit_s.filter(|&l| l > 0.0).map_or(0.0, |l| self.train_s / l);
        by_steps.max(by_time).clamp(0.0, 1.0)
    }
}

/// A task's headline metric as the progress line shows it: "chunk F1 90.12", "accuracy
/// 93.61%", "MSE 0.00312", "error 0.12% (solved at 12,800 seq)".
pub fn task_metric(t: &TaskScores) -> String {
    let v = t.value;
    let mut s = match t.metric.as_str() {
        "chunk F1" => format!("chunk F1 {:.2}", 100.0 * v),
        "accuracy" => format!("accuracy {:.2}%", 100.0 * v),
        "error" => format!("error {:.2}%", 100.0 * v),
        name => format!("{name} {v:.5}"),
    };
    if let Some(at) = t.solved_at {
        s.push_str(&format!(" (solved at {at} seq)"));
    }
    s
}

/// What a run will train: `for 300 steps`, or resumed, `to step 600 (300 steps from step 300)`.
/// `--steps` is the step the run ends at, counted from the start of training, not a count of
/// steps from the checkpoint.
pub fn span(start: u64, total: u64) -> String {
    if start == 0 {
        format!("for {total} steps")
    } else if total > start {
        format!("to step {total} ({} steps from step {start})", total - start)
    } else {
        format!("from step {start}: nothing to do, --steps {total} is the step to reach, not a count")
    }
}

/// The progress line of one metrics line. `last_task`: a task's last scores (its headline
/// metric replaces bits per token); `words`: a word-level language model, whose usual figure is
/// the perplexity e^(nats per token) rather than bits per token.
fn progress_line(
    m: &Metrics,
    p: &Progress,
    last_val: Option<f64>,
    last_task: Option<&TaskScores>,
    words: bool,
) -> String {
    let width = 24usize;
    let filled = ((p.fraction() * width as f64).round() as usize).min(width);
    let bar: String = "█".repeat(filled) + &"·".repeat(width - filled);
    let val = last_val.map_or("  -   ".to_string(), |v| format!("{v:.4}"));
    let quality = match last_task {
        Some(t) => task_metric(t),
        // Validation figures once there is a validation loss, training ones before; the label
        // says which.
        None if words => format!(
            "ppl {:.2} ({})",
            last_val.unwrap_or(m.train_loss).exp(),
            if last_val.is_some() { "val" } else { "train" }
        ),
        None => format!(
            "{:.3} bits/tok ({})",
            last_val.map_or(m.bits_per_token, |v| v / std::f64::consts::LN_2),
            if last_val.is_some() { "val" } else { "train" }
        ),
    };
    format!(
        "step {:>6}/{} {bar} loss {:.4}  val {val}  {quality}  {:.1}k tok/s  ETA {}",
        m.step,
        p.total,
        m.train_loss,
        m.tokens_per_s / 1000.0,
        fmt_duration(p.eta_s())
    )
}

/// Train `exp` to the end (or until Ctrl-C / SIGTERM / SIGHUP, which save a checkpoint first).
/// A divergence ends the run with [`HeadlessError::Diverged`] after rolling back
/// ([`OnDivergence::Stop`]; `Pause`, which needs someone to answer, is treated as `Stop`), or
/// first retries with a halved learning rate ([`OnDivergence::LowerLr`]).
///
/// Returns the run directory when the run reached its end (its step or time budget), `None`
/// when a signal stopped it.
pub fn run(exp: Experiment, mut opts: RunOptions, json: bool) -> Result<Option<std::path::PathBuf>, HeadlessError> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    opts.stop = Some(Arc::clone(&stop));
    if opts.on_divergence == OnDivergence::Pause {
        opts.on_divergence = OnDivergence::Stop;
    }
    let words = exp.task.is_language_model() && exp.data.level == crate::config::Level::Word;
    let limit_s = opts.time_limit.map(|d: Duration| d.as_secs_f64());
    let worker =
        train::start(exp, opts).map_err(|e| HeadlessError::Failed(format!("cannot start the trainer thread: {e}")))?;
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let (mut total, mut first) = (0u64, 0u64);
    let mut last_val: Option<f64> = None;
    let mut last_task: Option<TaskScores> = None;
    let mut run_dir: Option<std::path::PathBuf> = None;
    let mut err = std::io::stderr();
    // The commands channel stays open until the run ends: closing it would end the run.
    let _commands = worker.commands;
    for ev in worker.events {
        match ev {
            Event::Started(info) => {
                total = info.total_steps;
                first = info.start_step;
                let _ = writeln!(
                    err,
                    "rnn-lab: training {} ({}, {} parameters, vocabulary {}, {} training tokens) {} → {}",
                    info.name,
                    info.model,
                    info.params,
                    info.vocab,
                    info.train_tokens,
                    span(info.start_step, info.total_steps),
                    info.run_dir.display()
                );
                if let Some(c) = &info.embedding_init {
                    let _ = writeln!(err, "rnn-lab: {c}");
                }
                run_dir = Some(info.run_dir.clone());
            }
            Event::Step(m) => {
                if m.val_loss.is_some() {
                    last_val = m.val_loss;
                }
                if m.task.is_some() {
                    last_task.clone_from(&m.task);
                }
                if json {
                    if let Ok(s) = serde_json::to_string(&m) {
                        println!("{s}");
                    }
                }
                let p = Progress {
                    step: m.step,
                    first,
                    total,
                    wall_s: started.elapsed().as_secs_f64(),
                    train_s: m.time_s,
                    limit_s,
                };
                let line = progress_line(&m, &p, last_val, last_task.as_ref(), words);
                if tty {
                    let _ = write!(err, "\r\x1b[2K{line}");
                } else {
                    let _ = writeln!(err, "{line}");
                }
                let _ = err.flush();
            }
            Event::Sample(s) => {
                if !tty {
                    let _ = writeln!(
                        err,
                        "sample at step {} (T={}): {}",
                        s.step,
                        s.request.temperature,
                        crate::data::token::visible_text(&s.text)
                    );
                }
            }
            Event::Warning(w) => {
                let _ = writeln!(err, "{}rnn-lab: warning: {w}", if tty { "\n" } else { "" });
            }
            Event::Finished { step } => {
                if tty {
                    let _ = writeln!(err);
                }
                let _ = writeln!(
                    err,
                    "rnn-lab: finished at step {step}; checkpoints in {}",
                    run_dir
                        .as_ref()
                        .map_or("the run directory".into(), |d| format!("{}/", d.display()))
                );
            }
            // Reported from the thread's result below: a divergence or a failure to start.
            Event::Diverged { .. } | Event::Failed(_) => {
                if tty {
                    let _ = writeln!(err);
                }
            }
            Event::Checkpointed { .. } | Event::Probe(_) | Event::Paused | Event::Resumed => {}
        }
    }
    match worker.thread.join() {
        Ok(Ok(RunEnd::Finished { .. })) if !stop.load(std::sync::atomic::Ordering::Relaxed) => Ok(run_dir),
        Ok(Ok(RunEnd::Finished { .. } | RunEnd::Disconnected { .. })) => Ok(None),
        Ok(Ok(RunEnd::SaveFailed { what, .. })) => Err(HeadlessError::Failed(what)),
        Ok(Ok(RunEnd::Diverged { step, what })) => Err(HeadlessError::Diverged(format!(
            "training diverged at step {step}: {what}; lower [training] lr or clip the gradients (clip_norm)"
        ))),
        Ok(Err(e)) => Err(HeadlessError::Run(e)),
        Err(_) => Err(HeadlessError::Failed("the trainer thread panicked".into())),
    }
}
