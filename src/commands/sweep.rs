//! `rnn-lab sweep` (check, lay out, run here or on Slurm, print the table) and the internal
//! `rnn-lab sweep-point` each Slurm array task runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::CliError;
use crate::cli::{ExecutorArg, SweepArgs, SweepPointArgs, TableFormat};
use crate::sweep::layout::{PointState, SweepDir};
use crate::sweep::local::{self, LocalPlan, Progress, Summary};
use crate::sweep::point::{self, Outcome, PointJob};
use crate::sweep::results::{self, duration};
use crate::sweep::slurm::{self, JobRecord};
use crate::sweep::{Plan, SweepError};
use crate::train::rundir;

/// How often the Slurm executor asks squeue.
const POLL: Duration = Duration::from_secs(2);

fn cli(e: SweepError) -> CliError {
    if e.is_input() {
        CliError::input(e)
    } else {
        CliError::other(e)
    }
}

fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    stop
}

fn exe() -> Result<PathBuf, CliError> {
    std::env::current_exe().map_err(|e| CliError::other(format!("cannot find the rnn-lab binary: {e}")))
}

/// Queue states of the sweep's last Slurm job, when it is still in the queue (empty when there
/// is none, or Slurm cannot be asked).
fn live_states(dir: &SweepDir) -> (Option<JobRecord>, BTreeMap<usize, String>) {
    match JobRecord::read(dir) {
        Some(rec) => match slurm::task_states(&rec.job) {
            Ok(s) if !s.is_empty() => (Some(rec), s),
            _ => (None, BTreeMap::new()),
        },
        None => (None, BTreeMap::new()),
    }
}

/// Print (and write into the sweep folder) the table of the points as they ran: the manifest on
/// disk when there is one, else the plan's (nothing run yet).
fn print_table(
    plan: &Plan,
    live: &BTreeMap<usize, String>,
    format: TableFormat,
) -> Result<Vec<results::Row>, CliError> {
    let on_disk = plan.dir.read_manifest();
    let m = on_disk.as_ref().unwrap_or(&plan.manifest);
    let rows = results::collect(&plan.dir, m, live);
    if on_disk.is_some() {
        results::write_all(&plan.dir, m, &rows)
            .map_err(|e| CliError::other(format!("{}: {e}", plan.dir.root.display())))?;
    }
    let text = match format {
        TableFormat::Markdown => results::markdown(m, &rows),
        TableFormat::Csv => results::csv(m, &rows),
        TableFormat::Json => results::json(m, &rows),
    };
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(rows)
}

/// One line per event on stderr: `[ 3/12] p002 finished: best val loss 1.2345 (step 300), 12.1 s`.
struct Printer<'a> {
    plan: &'a Plan,
    done: usize,
    total: usize,
}

impl Printer<'_> {
    fn show(&mut self, p: Progress) {
        let values = |id: &str| {
            self.plan
                .points
                .iter()
                .find(|x| x.id == id)
                .map(|x| self.plan.describe(x.index))
                .unwrap_or_default()
        };
        let w = self.total.to_string().len();
        let line = match p {
            Progress::Started { id, attempt, resume } => {
                let how = match (&resume, attempt) {
                    (Some(ck), _) => format!("resumed from {}", ck.display()),
                    (None, 1) => "started".to_string(),
                    (None, n) => format!("started (attempt {n})"),
                };
                format!("{id} {how}: {}", values(&id))
            }
            Progress::Ended { id, status } => {
                if status.state != PointState::Interrupted {
                    self.done += 1;
                }
                let best = self
                    .plan
                    .dir
                    .latest_run(&id)
                    .map(|d| rundir::read_metrics(&d))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| m.val_loss.map(|v| (v, m.step)))
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                let best = best.map_or("no validation loss".to_string(), |(v, s)| {
                    format!("best val loss {v:.4} (step {s})")
                });
                let why = status.message.map(|m| format!(": {m}")).unwrap_or_default();
                format!("{id} {}: {best}, {}{why}", status.state.name(), duration(status.wall_s))
            }
            Progress::Skipped { id, state } => {
                self.done += 1;
                format!("{id} already {}", state.name())
            }
            Progress::Submitted { job, tasks } => format!("submitted Slurm job {job} ({tasks} array tasks)"),
            Progress::Queue { id, state } => format!("{id} {}", state.to_lowercase()),
            Progress::Note(n) => n,
        };
        eprintln!("[{:>w$}/{}] {line}", self.done, self.total);
    }
}

fn summary_result(name: &str, s: &Summary) -> Result<(), CliError> {
    if !s.failed.is_empty() {
        let (id, msg) = &s.failed[0];
        return Err(CliError::other(format!(
            "sweep {name}: {} point(s) failed; {id}: {msg} (run the same command again to retry them)",
            s.failed.len()
        )));
    }
    if s.left > 0 {
        return Err(CliError::other(format!(
            "sweep {name}: {} point(s) did not finish; run the same command again to resume them",
            s.left
        )));
    }
    Ok(())
}

/// `rnn-lab sweep SWEEP.toml`.
pub fn run(a: &SweepArgs) -> Result<(), CliError> {
    if a.parallel == Some(0) {
        return Err(CliError::input("--parallel must be at least 1"));
    }
    let plan = Plan::new(&a.sweep, &a.out).map_err(cli)?;
    if a.results {
        let (_, live) = live_states(&plan.dir);
        print_table(&plan, &live, a.format)?;
        return Ok(());
    }
    let pending = plan.pending();
    if a.dry_run {
        plan.check_existing().map_err(cli)?;
        return dry_run(&plan, a, &pending);
    }
    plan.dir.create().map_err(cli)?;
    let _lock = plan.dir.lock().map_err(cli)?;
    plan.write().map_err(cli)?;
    let stop = stop_flag();
    let started = std::time::Instant::now();
    let mut printer = Printer {
        plan: &plan,
        done: 0,
        total: plan.points.len(),
    };
    let outcome = match a.executor {
        ExecutorArg::Local => {
            if let (Some(rec), _) = live_states(&plan.dir) {
                return Err(CliError::input(format!(
                    "Slurm job {} of sweep {} is still in the queue: follow it with --executor slurm, or cancel it (scancel {}) first",
                    rec.job, plan.spec.name, rec.job
                )));
            }
            let lp = LocalPlan::new(a.parallel.or(plan.spec.parallel), pending.len());
            eprintln!(
                "rnn-lab: sweep {}: {} points, {} to run, {} at a time with {} thread(s) each → {}",
                plan.spec.name,
                plan.points.len(),
                pending.len(),
                lp.parallel,
                lp.threads,
                plan.dir.root.display()
            );
            local::run(&plan.dir, &plan.manifest, lp, &exe()?, &stop, &mut |p| printer.show(p)).map(Some)
        }
        ExecutorArg::Slurm => run_slurm(&plan, a, &pending, &stop, &mut printer),
    };
    let (_, live) = if a.executor == ExecutorArg::Slurm {
        live_states(&plan.dir)
    } else {
        (None, BTreeMap::new())
    };
    match outcome {
        Ok(None) => Ok(()), // submitted without waiting
        Ok(Some(summary)) => {
            print_table(&plan, &live, a.format)?;
            eprintln!(
                "rnn-lab: sweep {}: {} finished, {} diverged, {} failed, {} left; {} here → {}",
                plan.spec.name,
                summary.finished,
                summary.diverged,
                summary.failed.len(),
                summary.left,
                duration(started.elapsed().as_secs_f64()),
                plan.dir.root.join("results.md").display()
            );
            summary_result(&plan.spec.name, &summary)
        }
        Err(e) => {
            // The table when anything has run (an interrupted sweep, a scheduler that stopped
            // answering); not for a sweep refused before it started.
            if plan.points.iter().any(|p| plan.dir.status_path(&p.id).exists()) {
                let _ = print_table(&plan, &live, a.format);
            }
            Err(cli(e))
        }
    }
}

fn run_slurm(
    plan: &Plan,
    a: &SweepArgs,
    pending: &[usize],
    stop: &AtomicBool,
    printer: &mut Printer<'_>,
) -> Result<Option<Summary>, SweepError> {
    let exe = slurm::exe(&plan.spec.slurm)?;
    let rec = match live_states(&plan.dir) {
        (Some(rec), _) => {
            printer.show(Progress::Note(format!(
                "following Slurm job {} submitted earlier",
                rec.job
            )));
            rec
        }
        (None, _) if pending.is_empty() => {
            let mut s = Summary::default();
            for p in &plan.points {
                if let Some(st) = plan.dir.read_status(&p.id) {
                    s.count(&p.id, &st);
                }
            }
            return Ok(Some(s));
        }
        (None, _) => {
            let rec = slurm::start(&plan.dir, &plan.manifest, pending, &plan.spec.slurm, &exe)?;
            printer.show(Progress::Submitted {
                job: rec.job.clone(),
                tasks: rec.indices.len(),
            });
            rec
        }
    };
    if a.no_wait {
        eprintln!(
            "rnn-lab: not waiting; `rnn-lab sweep {} --results` shows the table, `--executor slurm` follows the job again",
            a.sweep.display()
        );
        return Ok(None);
    }
    let mut summary = slurm::follow(&plan.dir, &plan.manifest, &rec, stop, POLL, &mut |p| printer.show(p))?;
    // Points done before this job count too.
    for p in &plan.points {
        if !rec.indices.contains(&p.index) {
            if let Some(st) = plan.dir.read_status(&p.id) {
                summary.count(&p.id, &st);
            }
        }
    }
    Ok(Some(summary))
}

fn dry_run(plan: &Plan, a: &SweepArgs, pending: &[usize]) -> Result<(), CliError> {
    match a.executor {
        ExecutorArg::Slurm => {
            let exe = slurm::exe(&plan.spec.slurm).map_err(cli)?;
            let root = std::path::absolute(&plan.dir.root).unwrap_or_else(|_| plan.dir.root.clone());
            let indices: Vec<usize> = if pending.is_empty() {
                plan.points.iter().map(|p| p.index).collect()
            } else {
                pending.to_vec()
            };
            print!(
                "{}",
                slurm::script(
                    &plan.spec.name,
                    &plan.spec.path,
                    &root,
                    &indices,
                    &plan.spec.slurm,
                    &exe
                )
            );
            eprintln!(
                "rnn-lab: dry run: {} array task(s) for sweep {}; nothing submitted",
                indices.len(),
                plan.spec.name
            );
        }
        ExecutorArg::Local => {
            let lp = LocalPlan::new(a.parallel.or(plan.spec.parallel), pending.len());
            println!(
                "# sweep {}: {} points ({} to run), {} at a time with --threads {} → {}",
                plan.spec.name,
                plan.points.len(),
                pending.len(),
                lp.parallel,
                lp.threads,
                plan.dir.root.display()
            );
            for p in &plan.points {
                let todo = if pending.contains(&p.index) { "" } else { "  (done)" };
                println!(
                    "{}  {}  rnn-lab train {} --out {} --threads {}{todo}",
                    p.id,
                    plan.describe(p.index),
                    plan.dir.point_file(&p.id).display(),
                    plan.dir.runs(&p.id).display(),
                    lp.threads
                );
            }
            eprintln!("rnn-lab: dry run: every point checked; nothing run");
        }
    }
    Ok(())
}

/// `rnn-lab sweep-point DIR INDEX`: train one point (a Slurm array task).
pub fn point(a: &SweepPointArgs) -> Result<(), CliError> {
    let dir = SweepDir { root: a.dir.clone() };
    let m = dir.read_manifest().ok_or_else(|| {
        CliError::input(format!(
            "{}: no readable sweep.json: not a sweep folder",
            a.dir.display()
        ))
    })?;
    let p = m.points.get(a.index).ok_or_else(|| {
        CliError::input(format!(
            "{}: no point {} (the sweep has {})",
            a.dir.display(),
            a.index,
            m.points.len()
        ))
    })?;
    let slurm = match (
        std::env::var("SLURM_ARRAY_JOB_ID"),
        std::env::var("SLURM_ARRAY_TASK_ID"),
    ) {
        (Ok(j), Ok(t)) => Some(format!("{j}_{t}")),
        _ => std::env::var("SLURM_JOB_ID").ok(),
    };
    let job = PointJob {
        id: p.id.clone(),
        threads: a.threads.max(1),
        exe: exe()?,
        slurm,
    };
    let stop = stop_flag();
    match point::run(&dir, &job, &stop).map_err(cli)? {
        Outcome::Skipped(s) => {
            eprintln!("rnn-lab: {} already {}", p.id, s.name());
            Ok(())
        }
        Outcome::Ended { status, code } => match status.state {
            PointState::Finished | PointState::Diverged => Ok(()),
            PointState::Interrupted | PointState::Running => Err(CliError::other(format!(
                "{} interrupted; it resumes from its latest checkpoint when the sweep runs again",
                p.id
            ))),
            PointState::Failed => {
                let msg = format!("{}: {}", p.id, status.message.unwrap_or_default());
                Err(if code == Some(2) {
                    CliError::input(msg)
                } else {
                    CliError::other(msg)
                })
            }
        },
    }
}
