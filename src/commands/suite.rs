//! `rnn-lab suite`: the long-memory suite. Runs cell × task × seed as ordinary run directories,
//! several at once (one trainer thread each, up to `--jobs`), each stopped at its first
//! evaluation that passes the task's solved test; prints a live table and writes suite.md,
//! suite.csv and suite.json. Resumable: a run whose result file exists is not run again.

pub mod plan;
pub mod table;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::CliError;
use crate::cli::SuiteArgs;
use crate::nn::spec::CellKind;
use crate::train::protocol::{Command, Event};
use crate::train::{OnDivergence, RunEnd, RunOptions};
use plan::{RunPlan, TASKS};
use table::{RunRow, RunState};

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::other(format!("{}: {e}", path.display()))
}

/// The runs the arguments ask for, in table order (task, then cell, then seed).
fn plans(a: &SuiteArgs) -> Result<Vec<RunPlan>, CliError> {
    let mut tasks = Vec::new();
    for name in &a.tasks {
        let t = plan::task(name).ok_or_else(|| {
            let names: Vec<&str> = TASKS.iter().map(|t| t.name).collect();
            CliError::input(format!(
                "--tasks: unknown task `{name}`; the suite's tasks: {}",
                names.join(", ")
            ))
        })?;
        tasks.push(t);
    }
    if tasks.is_empty() {
        tasks = TASKS.iter().collect();
    }
    let mut cells = Vec::new();
    for name in &a.cells {
        let c = [CellKind::Rnn, CellKind::Gru, CellKind::Lstm]
            .into_iter()
            .find(|c| c.name() == name.as_str())
            .ok_or_else(|| CliError::input(format!("--cells: unknown cell `{name}`; use rnn, gru, lstm")))?;
        cells.push(c);
    }
    if cells.is_empty() {
        cells = vec![CellKind::Rnn, CellKind::Gru, CellKind::Lstm];
    }
    if a.steps == Some(0) {
        return Err(CliError::input("--steps: must be at least 1"));
    }
    let seeds = a.seeds.unwrap_or(if a.quick { 1 } else { 3 });
    if seeds == 0 {
        return Err(CliError::input("--seeds: must be at least 1"));
    }
    let mut v = Vec::new();
    for &task in &tasks {
        for &cell in &cells {
            for seed in 1..=seeds {
                v.push(RunPlan {
                    task,
                    cell,
                    seed,
                    quick: a.quick,
                    steps: a.steps,
                });
            }
        }
    }
    Ok(v)
}

fn waiting(p: &RunPlan) -> RunRow {
    RunRow::waiting(p.name(), p.task.name.into(), p.cell.name().into(), p.seed, p.steps())
}

/// A run in progress.
struct Active {
    row: usize,
    commands: mpsc::Sender<Command>,
    thread: std::thread::JoinHandle<Result<RunEnd, crate::train::RunError>>,
    started: Instant,
    stop_sent: bool,
}

/// Run the suite.
pub fn run(a: &SuiteArgs) -> Result<(), CliError> {
    let plans = plans(a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(if a.quick { "runs/suite-quick" } else { "runs/suite" }));
    let results = out.join("results");
    let experiments = out.join("experiments");
    for d in [&results, &experiments] {
        std::fs::create_dir_all(d).map_err(io_err(d))?;
    }
    let mut rows: Vec<RunRow> = plans.iter().map(waiting).collect();
    let mut queue = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let file = results.join(format!("{}.json", p.name()));
        match std::fs::read_to_string(&file)
            .ok()
            .and_then(|s| serde_json::from_str::<RunRow>(&s).ok())
        {
            Some(done) => rows[i] = done, // finished in an earlier sitting: not run again
            None => queue.push(i),
        }
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let skipped = plans.len() - queue.len();
    eprintln!(
        "rnn-lab: suite{}: {} runs ({} done before, {} to run, {} at a time) → {}",
        if a.quick { " --quick" } else { "" },
        plans.len(),
        skipped,
        queue.len(),
        jobs,
        out.display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    let (tx, rx) = mpsc::channel::<(usize, Option<Event>)>();
    let mut active: Vec<Active> = Vec::new();
    let mut queue = queue.into_iter();
    let tty = std::io::stderr().is_terminal();
    let mut drawn = 0usize;
    let mut last_draw = Instant::now();
    loop {
        // Start runs up to `jobs`.
        while active.len() < jobs && !stop.load(Ordering::Relaxed) {
            let Some(i) = queue.next() else { break };
            let p = &plans[i];
            let path = experiments.join(format!("{}.toml", p.name()));
            std::fs::write(&path, p.toml()).map_err(io_err(&path))?;
            let exp = crate::config::load(&path).map_err(CliError::other)?;
            let opts = RunOptions {
                out: Some(out.join("runs")),
                threads: Some(1),
                // A loss blow-up (the vanilla RNN's exploding gradient) is rolled back and the
                // run goes on with its learning rate halved; it fails after the third.
                on_divergence: OnDivergence::LowerLr { max_retries: 3 },
                ..RunOptions::default()
            };
            let w = crate::train::start(exp, opts)
                .map_err(|e| CliError::other(format!("cannot start a trainer thread: {e}")))?;
            let events = w.events;
            let tx = tx.clone();
            // Forward this run's events, tagged with its row, then say it ended.
            std::thread::spawn(move || {
                for ev in events {
                    if tx.send((i, Some(ev))).is_err() {
                        return;
                    }
                }
                let _ = tx.send((i, None));
            });
            rows[i].state = RunState::Running;
            active.push(Active {
                row: i,
                commands: w.commands,
                thread: w.thread,
                started: Instant::now(),
                stop_sent: false,
            });
        }
        if active.is_empty() {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            for r in active.iter_mut().filter(|r| !r.stop_sent) {
                let _ = r.commands.send(Command::Stop);
                r.stop_sent = true;
            }
        }
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok((i, Some(ev))) => on_event(&mut rows[i], &mut active, i, ev),
            Ok((i, None)) => {
                let k = active.iter().position(|r| r.row == i).expect("an active run");
                let r = active.swap_remove(k);
                let row = &mut rows[i];
                row.wall_s = r.started.elapsed().as_secs_f64();
                match r.thread.join() {
                    Ok(Ok(RunEnd::Finished { step } | RunEnd::Disconnected { step })) => {
                        row.step = step;
                        row.state = RunState::Done;
                    }
                    Ok(Ok(RunEnd::SaveFailed { step, what })) => {
                        row.step = step;
                        row.state = RunState::Failed;
                        row.failure = Some(format!("could not save at step {step}: {what}"));
                    }
                    Ok(Ok(RunEnd::Diverged { step, what })) => {
                        row.step = step;
                        row.state = RunState::Failed;
                        row.failure = Some(format!("diverged at step {step}: {what}"));
                    }
                    Ok(Err(e)) => {
                        row.state = RunState::Failed;
                        row.failure = Some(e.to_string());
                    }
                    Err(_) => {
                        row.state = RunState::Failed;
                        row.failure = Some("the trainer thread panicked".into());
                    }
                }
                // A run cut short by Ctrl-C is not a result: it runs again next time.
                let interrupted = stop.load(Ordering::Relaxed) && !row.solved && row.step < row.steps;
                if !interrupted {
                    let file = results.join(format!("{}.json", row.name));
                    let text = serde_json::to_string_pretty(&*row).map_err(CliError::other)?;
                    std::fs::write(&file, text + "\n").map_err(io_err(&file))?;
                }
                if !tty {
                    eprintln!("{}", one_line(row));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if tty && last_draw.elapsed() > Duration::from_millis(500) {
            for r in &active {
                rows[r.row].wall_s = r.started.elapsed().as_secs_f64();
            }
            drawn = redraw(&rows, drawn);
            last_draw = Instant::now();
        }
    }
    if tty {
        redraw(&rows, drawn);
    }
    let title = format!("rnn-lab suite{}", if a.quick { " --quick" } else { "" });
    for (name, text) in [
        ("suite.md", table::markdown(&rows, &title)),
        ("suite.csv", table::csv(&rows)),
        (
            "suite.json",
            serde_json::to_string_pretty(&rows).map_err(CliError::other)? + "\n",
        ),
    ] {
        let f = out.join(name);
        std::fs::write(&f, text).map_err(io_err(&f))?;
    }
    if !tty {
        print!("{}", table::text(&rows));
    }
    eprintln!("rnn-lab: suite tables in {}/suite.{{md,csv,json}}", out.display());
    if stop.load(Ordering::Relaxed) {
        return Err(CliError::other("interrupted: unfinished runs run again next time"));
    }
    Ok(())
}

fn on_event(row: &mut RunRow, active: &mut [Active], i: usize, ev: Event) {
    match ev {
        Event::Started(info) => row.run_dir = info.run_dir.display().to_string(),
        Event::Step(m) => {
            row.step = m.step;
            let Some(t) = m.task else { return };
            let scored = t.test.as_ref().unwrap_or(&t.valid);
            row.error = scored.error_rate;
            row.accuracy = scored.accuracy;
            row.mse = scored.mse;
            if let Some(at) = t.solved_at {
                row.solved = true;
                row.solved_at = Some(at);
                // Solved: no need to train on.
                if let Some(r) = active.iter_mut().find(|r| r.row == i && !r.stop_sent) {
                    let _ = r.commands.send(Command::Stop);
                    r.stop_sent = true;
                }
            }
        }
        Event::Failed(e) => row.failure = Some(e),
        Event::Diverged { .. } => row.divergences += 1,
        _ => {}
    }
}

/// "adding lstm s1: solved at 57,600 sequences (61 s)".
fn one_line(r: &RunRow) -> String {
    let what = match (&r.failure, r.solved_at) {
        (Some(f), _) => format!("failed: {f}"),
        (None, Some(at)) => format!("solved at {at} sequences"),
        (None, None) => format!(
            "not solved in {} steps (test error {})",
            r.step,
            r.error.map_or("–".into(), |e| format!("{:.2}%", 100.0 * e))
        ),
    };
    format!("rnn-lab: {} {} s{}: {what} ({:.0} s)", r.task, r.cell, r.seed, r.wall_s)
}

/// Redraw the live table over the previous one (`drawn` lines); the number of lines drawn.
fn redraw(rows: &[RunRow], drawn: usize) -> usize {
    let t = table::text(rows);
    let mut err = std::io::stderr();
    if drawn > 0 {
        let _ = write!(err, "\x1b[{drawn}A\x1b[J");
    }
    let _ = write!(err, "{t}");
    let _ = err.flush();
    t.lines().count()
}
