//! The local executor: up to `parallel` points at once, each an `rnn-lab train --threads k`
//! child with k = cores / parallel; Ctrl-C (the `stop` flag) stops them all with a checkpoint.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::layout::{Manifest, PointState, PointStatus, SweepDir};
use super::point::{self, Outcome, PointJob};
use super::SweepError;

/// What an executor reports as it goes (the CLI prints it, the TUI shows it).
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// A point was started (`resume`: the checkpoint it continues from).
    Started {
        /// Point id.
        id: String,
        /// Attempt number (1 + resumes).
        attempt: u32,
        /// Checkpoint it resumes from.
        resume: Option<PathBuf>,
    },
    /// A point ended (finished, diverged, interrupted or failed).
    Ended {
        /// Point id.
        id: String,
        /// Its status.
        status: PointStatus,
    },
    /// A point was already done.
    Skipped {
        /// Point id.
        id: String,
        /// Finished or diverged.
        state: PointState,
    },
    /// Slurm: the job was submitted (or an earlier one is being followed).
    Submitted {
        /// Job id.
        job: String,
        /// Array indices in it.
        tasks: usize,
    },
    /// Slurm: a point's task changed state in the queue (`PENDING`, `RUNNING`, …).
    Queue {
        /// Point id.
        id: String,
        /// squeue's state.
        state: String,
    },
    /// Anything else worth a line.
    Note(String),
}

/// How many points at once and threads each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalPlan {
    /// Points at once.
    pub parallel: usize,
    /// `--threads` of each point.
    pub threads: usize,
}

impl LocalPlan {
    /// `parallel` points (default 1, at most the points left), the machine's cores shared out.
    pub fn new(parallel: Option<usize>, points_left: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parallel = parallel.unwrap_or(1).clamp(1, points_left.max(1));
        LocalPlan {
            parallel,
            threads: (cores / parallel).max(1),
        }
    }
}

/// Counts of how a run of the executor went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Points run to the end now or before.
    pub finished: usize,
    /// Points that diverged.
    pub diverged: usize,
    /// Points that failed: (id, message).
    pub failed: Vec<(String, String)>,
    /// Points left to run (interrupted or never started).
    pub left: usize,
}

impl Summary {
    pub(crate) fn count(&mut self, id: &str, st: &PointStatus) {
        match st.state {
            PointState::Finished => self.finished += 1,
            PointState::Diverged => self.diverged += 1,
            PointState::Failed => self
                .failed
                .push((id.to_string(), st.message.clone().unwrap_or_default())),
            PointState::Interrupted | PointState::Running => self.left += 1,
        }
    }
}

/// Run every point of `m` that is not done, `plan.parallel` at a time.
///
/// # Errors
/// [`SweepError::Input`] when a point's trainer refuses its input (exit 2: the others are
/// stopped, since they would fail alike); [`SweepError::Interrupted`] when `stop` was set;
/// [`SweepError::System`] for file-system trouble.
pub fn run(
    dir: &SweepDir,
    m: &Manifest,
    plan: LocalPlan,
    exe: &Path,
    stop: &Arc<AtomicBool>,
    on: &mut dyn FnMut(Progress),
) -> Result<Summary, SweepError> {
    let mut summary = Summary::default();
    let mut queue: VecDeque<String> = VecDeque::new();
    for p in &m.points {
        match dir.read_status(&p.id) {
            Some(s) if s.state.is_final() => {
                summary.count(&p.id, &s);
                on(Progress::Skipped {
                    id: p.id.clone(),
                    state: s.state,
                });
            }
            _ => queue.push_back(p.id.clone()),
        }
    }
    let (tx, rx) = mpsc::channel::<(String, Result<Outcome, SweepError>)>();
    let mut running = 0usize;
    let mut abort: Option<SweepError> = None;
    loop {
        while running < plan.parallel && abort.is_none() && !stop.load(Ordering::Relaxed) {
            let Some(id) = queue.pop_front() else { break };
            let job = PointJob {
                id: id.clone(),
                threads: plan.threads,
                exe: exe.to_path_buf(),
                slurm: None,
            };
            let attempt = dir.read_status(&id).map_or(0, |s| s.attempts) + 1;
            on(Progress::Started {
                id: id.clone(),
                attempt,
                resume: dir.latest_checkpoint(&id),
            });
            let (dir, stop, tx) = (dir.clone(), Arc::clone(stop), tx.clone());
            std::thread::Builder::new()
                .name(format!("sweep-{id}"))
                .spawn(move || {
                    let r = point::run(&dir, &job, &stop);
                    let _ = tx.send((job.id, r));
                })
                .map_err(|e| SweepError::System(format!("cannot start a thread for {id}: {e}")))?;
            running += 1;
        }
        if running == 0 {
            break;
        }
        let Ok((id, r)) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        running -= 1;
        match r {
            Ok(Outcome::Skipped(state)) => on(Progress::Skipped { id, state }),
            Ok(Outcome::Ended { status, code }) => {
                summary.count(&id, &status);
                if code == Some(2) && status.state == PointState::Failed && abort.is_none() {
                    // The trainer refused its input: every point would. Stop the others.
                    let msg = status.message.clone().unwrap_or_default();
                    abort = Some(SweepError::Input(format!("{id}: {msg}")));
                    stop.store(true, Ordering::Relaxed);
                }
                on(Progress::Ended { id, status });
            }
            Err(e) => {
                if abort.is_none() {
                    abort = Some(e);
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
    summary.left += queue.len();
    if let Some(e) = abort {
        return Err(e);
    }
    if stop.load(Ordering::Relaxed) && summary.left > 0 {
        return Err(SweepError::Interrupted(format!(
            "sweep {} interrupted: {} point(s) left; run the same command again to resume them",
            m.name, summary.left
        )));
    }
    Ok(summary)
}
