//! Headless runs: the same trainer thread and events as the TUI, reported on stderr (progress)
//! and, with `--json`, one JSON object per logged step on stdout.

use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Experiment;
use crate::train::protocol::{Command, Event};
use crate::train::{RunError, RunOptions, Trainer};

/// How a headless run ended.
#[derive(Debug)]
pub enum HeadlessError {
    /// Could not start (bad data, checkpoint, settings) or could not write.
    Run(RunError),
    /// Training blew up (NaN/Inf) and was stopped.
    Diverged(String),
    /// The trainer reported a fatal error.
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

/// Train `exp` to the end (or until Ctrl-C / SIGTERM, which save a checkpoint first).
pub fn run(exp: Experiment, mut opts: RunOptions, json: bool) -> Result<(), HeadlessError> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    opts.stop = Some(Arc::clone(&stop));
    let trainer = Trainer::prepare(exp, &opts).map_err(HeadlessError::Run)?;
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("trainer".into())
        .spawn(move || trainer.run(crx, etx))
        .map_err(|e| HeadlessError::Failed(format!("cannot start the trainer thread: {e}")))?;
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let (mut total, mut first) = (0u64, 0u64);
    let mut last_val: Option<f64> = None;
    let mut result = Ok(());
    let mut err = std::io::stderr();
    for ev in erx {
        match ev {
            Event::Started(info) => {
                total = info.total_steps;
                first = info.start_step;
                let _ =
                    writeln!(
                    err,
                    "rnn-lab: training {} ({}, {} parameters, vocabulary {}, {} training tokens) for {} steps{} → {}",
                    info.name,
                    info.model,
                    info.params,
                    info.vocab,
                    info.train_tokens,
                    info.total_steps,
                    if info.start_step > 0 { format!(" from step {}", info.start_step) } else { String::new() },
                    info.run_dir.display()
                );
            }
            Event::Step(m) => {
                if m.val_loss.is_some() {
                    last_val = m.val_loss;
                }
                if json {
                    if let Ok(s) = serde_json::to_string(&m) {
                        println!("{s}");
                    }
                }
                let done = m.step.saturating_sub(first) as f64;
                let rate = done / started.elapsed().as_secs_f64().max(1e-9);
                let eta = (total.saturating_sub(m.step)) as f64 / rate;
                let width = 24usize;
                let filled = if total > 0 {
                    (m.step as f64 / total as f64 * width as f64).round() as usize
                } else {
                    0
                }
                .min(width);
                let bar: String = "█".repeat(filled) + &"·".repeat(width - filled);
                let val = last_val.map_or("  -   ".to_string(), |v| format!("{v:.4}"));
                let line = format!(
                    "step {:>6}/{total} {bar} loss {:.4}  val {val}  {:.3} bits/tok  {:.1}k tok/s  ETA {}",
                    m.step,
                    m.train_loss,
                    // Validation bits once there is a validation loss, training bits before.
                    last_val.map_or(m.bits_per_token, |v| v / std::f64::consts::LN_2),
                    m.tokens_per_s / 1000.0,
                    fmt_duration(eta)
                );
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
            Event::Diverged { step, what } => {
                result = Err(HeadlessError::Diverged(format!(
                    "training diverged at step {step}: {what}"
                )));
                let _ = ctx.send(Command::Stop);
            }
            Event::Failed(e) => {
                result = Err(HeadlessError::Failed(e));
            }
            Event::Finished { step } => {
                if tty {
                    let _ = writeln!(err);
                }
                let _ = writeln!(
                    err,
                    "rnn-lab: finished at step {step}; checkpoints in the run directory"
                );
                break;
            }
            Event::Checkpointed { .. } | Event::Probe(_) | Event::Paused | Event::Resumed => {}
        }
    }
    drop(ctx);
    let _ = handle.join();
    result
}
