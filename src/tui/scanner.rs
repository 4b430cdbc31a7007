//! The scanner thread: every disk read the UI asks for — listing and checking
//! `experiments/*.toml`, reading each run's `metrics.jsonl`, a run directory, a `probe.json`,
//! an experiment file — happens here, off the UI thread. The main loop sends [`Job`]s and
//! drains the answers, ready-made [`Action`]s, with `try_recv` once per frame: the UI never
//! waits on the disk.
//!
//! Latest request wins (as gitui's background jobs): before each job the thread takes every
//! job queued meanwhile and keeps only the newest of each kind ([`coalesce`]), so pressing `r`
//! ten times while a large `runs/` is being read costs one more scan, not ten.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;

use crate::config::Experiment;

use super::action::{Action, BrowserAction, RunsAction, SuiteAction};
use super::{files, suite, sweeps};
use crate::sweep::overview;

/// Reads and checks an experiment file (the backend's loader; one line "file:line:col: …" on
/// error).
pub type Loader = Arc<dyn Fn(&Path) -> Result<Experiment, String> + Send + Sync>;

/// A disk read for the scanner thread, and the action its answer becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// List and check `dir/*.toml`, with each one's best loss from `runs`
    /// → `BrowserAction::Scanned`.
    Experiments {
        /// `experiments/`.
        dir: PathBuf,
        /// `runs/`.
        runs: PathBuf,
    },
    /// Every run directory under this one → `RunsAction::Scanned`.
    Runs(PathBuf),
    /// One run directory → `RunsAction::Opened`.
    OpenRun(PathBuf),
    /// A run's `probe.json` → `RunsAction::CompareLoaded`.
    Probe(PathBuf),
    /// An experiment file → [`Action::ExperimentLoaded`].
    Experiment(PathBuf),
    /// A run directory's `config.toml`, to continue its `latest.safetensors`
    /// → [`Action::ResumeReady`] (or why not).
    Resume(PathBuf),
    /// A run directory or checkpoint to inspect → [`Action::Inspected`].
    Inspect(PathBuf),
    /// Every sweep folder under this one → `RunsAction::SweepsScanned`.
    Sweeps(PathBuf),
    /// Check a sweep file, then start `rnn_lab sweep FILE --out OUT` in the background
    /// → `RunsAction::SweepStarted`.
    StartSweep {
        /// The sweep file.
        file: PathBuf,
        /// `sweeps/`.
        out: PathBuf,
        /// `--executor slurm`.
        slurm: bool,
        /// The `rnn-lab` binary (`None`: this program cannot run sweeps, as in the demo).
        rnn_lab: Option<PathBuf>,
    },
    /// Stop the sweep in this folder → `RunsAction::SweepStopped`.
    StopSweep(PathBuf),
    /// A suite folder: its table and every run's curves → `SuiteAction::Loaded`.
    Suite(PathBuf),
}

impl Job {
    /// Jobs with equal slots answer the same question: only the newest is worth running.
    fn same_slot(&self, other: &Job) -> bool {
        match (self, other) {
            // Opening two different run directories is two questions.
            (Job::OpenRun(a), Job::OpenRun(b)) => a == b,
            // Starting or stopping a sweep is an order, not a question: never dropped.
            (Job::StartSweep { .. } | Job::StopSweep(_), _) | (_, Job::StartSweep { .. } | Job::StopSweep(_)) => false,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// Keep only the newest job of each slot, in the order the kept jobs were asked for.
pub fn coalesce(jobs: Vec<Job>) -> Vec<Job> {
    let mut kept: Vec<Job> = Vec::with_capacity(jobs.len());
    for job in jobs {
        kept.retain(|k| !k.same_slot(&job));
        kept.push(job);
    }
    kept
}

/// Do one job on the calling thread.
pub fn run_job(job: Job, load: &(dyn Fn(&Path) -> Result<Experiment, String> + Send + Sync)) -> Action {
    match job {
        Job::Experiments { dir, runs } => {
            Action::Browser(BrowserAction::Scanned(files::scan_experiments(&dir, &runs, load)))
        }
        Job::Runs(dir) => Action::Runs(RunsAction::Scanned(files::scan_runs(&dir))),
        Job::OpenRun(dir) => Action::Runs(RunsAction::Opened(files::load_run(&dir).map(Box::new))),
        Job::Probe(path) => Action::Runs(RunsAction::CompareLoaded(files::load_probe(&path))),
        Job::Experiment(path) => Action::ExperimentLoaded(load(&path)),
        Job::Inspect(arg) => Action::Inspected(files::load_inspection(&arg, load).map(Box::new)),
        Job::Sweeps(dir) => Action::Runs(RunsAction::SweepsScanned(sweeps::scan_sweeps(&dir))),
        Job::Suite(dir) => Action::Suite(SuiteAction::Loaded(suite::load_suite(&dir).map(Box::new))),
        Job::StartSweep {
            file,
            out,
            slurm,
            rnn_lab,
        } => Action::Runs(RunsAction::SweepStarted(start_sweep(
            &file,
            &out,
            slurm,
            rnn_lab.as_deref(),
        ))),
        Job::StopSweep(root) => Action::Runs(RunsAction::SweepStopped(match overview::read(&root) {
            Some(ov) => overview::interrupt(&ov).map_err(|e| e.to_string()),
            None => Err(format!("{}: not a sweep folder (no sweep.json)", root.display())),
        })),
        Job::Resume(dir) => {
            let checkpoint = dir.join("latest.safetensors");
            if !checkpoint.is_file() {
                return Action::StartFailed(format!("{}: no checkpoint to resume from", checkpoint.display()));
            }
            match load(&dir.join("config.toml")) {
                Ok(exp) => Action::ResumeReady(Box::new(exp), checkpoint),
                Err(e) => Action::ExperimentLoaded(Err(e)),
            }
        }
    }
}

/// Check and start a sweep; its process is waited for by a thread of its own (so it leaves no
/// zombie) and goes on if the TUI ends.
fn start_sweep(
    file: &Path,
    out: &Path,
    slurm: bool,
    rnn_lab: Option<&Path>,
) -> Result<(String, PathBuf, PathBuf), String> {
    let exe = rnn_lab.ok_or("this program cannot start sweeps: run `rnn-lab tui`")?;
    let overview::Launched {
        name,
        root,
        log,
        mut child,
    } = overview::launch(file, out, slurm, exe).map_err(|e| e.to_string())?;
    let _ = std::thread::Builder::new()
        .name("rnn-lab-sweep-wait".into())
        .spawn(move || child.wait());
    Ok((name, root, log))
}

/// The UI's end of the scanner thread.
pub struct Scanner {
    jobs: Sender<Job>,
    answers: Receiver<Action>,
}

impl Scanner {
    /// Start the thread. It ends when this `Scanner` is dropped (its job channel closes) or
    /// nobody takes its answers any more.
    ///
    /// # Errors
    /// The OS could not start a thread.
    pub fn spawn(load: Loader) -> std::io::Result<Self> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (answer_tx, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("rnn-lab-scanner".into())
            .spawn(move || work(&job_rx, &answer_tx, &*load))?;
        Ok(Scanner { jobs, answers })
    }

    /// Queue a job; gives it back when the thread is gone.
    ///
    /// # Errors
    /// The thread has ended (it only does when its answers are not taken).
    pub fn send(&self, job: Job) -> Result<(), Job> {
        self.jobs.send(job).map_err(|e| e.0)
    }

    /// The next answer, if one is ready (never blocks): `Empty` when none is,
    /// `Disconnected` when the thread is gone.
    ///
    /// # Errors
    /// No answer is ready, or the thread has ended.
    pub fn try_recv(&self) -> Result<Action, TryRecvError> {
        self.answers.try_recv()
    }
}

/// The thread's loop: newest jobs first coalesced, one at a time, answers sent back; a
/// failed send means the UI is gone.
fn work(
    jobs: &Receiver<Job>,
    answers: &Sender<Action>,
    load: &(dyn Fn(&Path) -> Result<Experiment, String> + Send + Sync),
) {
    let mut pending: Vec<Job> = Vec::new();
    loop {
        if pending.is_empty() {
            match jobs.recv() {
                Ok(j) => pending.push(j),
                Err(_) => return,
            }
        }
        pending.extend(jobs.try_iter());
        pending = coalesce(pending);
        let job = pending.remove(0);
        if answers.send(run_job(job, load)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_job_of_each_kind_wins_in_request_order() {
        let runs = || Job::Runs("runs".into());
        let exps = || Job::Experiments {
            dir: "experiments".into(),
            runs: "runs".into(),
        };
        let jobs = vec![
            runs(),
            exps(),
            Job::Probe("a/probe.json".into()),
            runs(),
            Job::OpenRun("runs/a".into()),
            Job::OpenRun("runs/b".into()),
            Job::OpenRun("runs/a".into()),
            Job::Probe("b/probe.json".into()),
        ];
        assert_eq!(
            coalesce(jobs),
            vec![
                exps(),
                runs(),
                Job::OpenRun("runs/b".into()),
                Job::OpenRun("runs/a".into()),
                Job::Probe("b/probe.json".into()),
            ]
        );
    }

    #[test]
    fn answers_come_back_as_actions() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let run = tmp.path().join("exp-20260101-000000");
        std::fs::create_dir_all(&run)?;
        std::fs::write(
            run.join("metrics.jsonl"),
            "{\"step\":10,\"epoch\":0.1,\"time_s\":1.0,\"train_loss\":2.5,\"val_loss\":null,\
             \"bits_per_token\":3.6,\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":100.0}\n",
        )?;
        let scanner = Scanner::spawn(Arc::new(|p: &Path| {
            Err(format!("{}: not read in this test", p.display()))
        }))?;
        scanner
            .send(Job::Runs(tmp.path().to_path_buf()))
            .map_err(|_| "scanner gone")?;
        scanner
            .send(Job::Experiment(tmp.path().join("x.toml")))
            .map_err(|_| "scanner gone")?;
        let mut answers = Vec::new();
        while answers.len() < 2 {
            // A blocking wait is fine here: this is the test, not the UI thread.
            answers.push(scanner.answers.recv()?);
        }
        match &answers[0] {
            Action::Runs(RunsAction::Scanned(runs)) => {
                assert_eq!(runs.len(), 1);
                assert_eq!(runs[0].steps, 10);
            }
            other => panic!("expected the runs, got {other:?}"),
        }
        assert!(matches!(&answers[1], Action::ExperimentLoaded(Err(e)) if e.contains("x.toml")));
        Ok(())
    }
}
