//! Run one point: `rnn-lab train points/<id>.toml --out runs/<id> --threads k`, resumed with
//! `--resume` from the point's newest checkpoint, its output appended to `logs/<id>.log`, its
//! state in `status/<id>.json` before and after. The same code runs a point for the local
//! executor (on a thread) and inside a Slurm array task (`rnn-lab sweep-point`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::layout::{hostname, now, PointState, PointStatus, SweepDir};
use super::SweepError;

/// How a call to [`run`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already finished or diverged: nothing run.
    Skipped(PointState),
    /// Trained (to the end or not); the status written.
    Ended {
        /// The status written.
        status: PointStatus,
        /// Exit code of `rnn-lab train` (None when killed by a signal).
        code: Option<i32>,
    },
}

/// What to run a point with.
#[derive(Clone, Debug)]
pub struct PointJob {
    /// Point id, `p003`.
    pub id: String,
    /// Training threads (`--threads`).
    pub threads: usize,
    /// The rnn-lab binary.
    pub exe: PathBuf,
    /// Slurm `JOB_TASK`, when run as an array task.
    pub slurm: Option<String>,
}

/// The trainer's one-line error from the end of a log (`rnn-lab: error: …`).
pub fn last_error(log: &Path) -> Option<String> {
    let text = fs::read(log).ok()?;
    let tail = &text[text.len().saturating_sub(64 * 1024)..];
    String::from_utf8_lossy(tail)
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("rnn-lab: error: ").map(str::to_string))
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// Train the point to the end, or until `stop` is set (then SIGTERM: the trainer saves a
/// checkpoint and ends; the point is `interrupted` and resumes next time).
///
/// # Errors
/// [`SweepError::Input`] when the point is being trained by a live process on this host;
/// [`SweepError::System`] when its files cannot be written or the trainer cannot start.
pub fn run(dir: &SweepDir, job: &PointJob, stop: &AtomicBool) -> Result<Outcome, SweepError> {
    let id = job.id.as_str();
    let prev = dir.read_status(id);
    if let Some(p) = &prev {
        if p.state.is_final() {
            return Ok(Outcome::Skipped(p.state));
        }
        if let (PointState::Running, Some(pid)) = (p.state, p.pid) {
            if p.host == hostname() && alive(pid) && running_point(pid, &dir.point_file(id)) {
                return Err(SweepError::Input(format!(
                    "{id} of {} is being trained by pid {pid}; wait for it or stop it first",
                    dir.root.display()
                )));
            }
        }
    }
    let resume = dir.latest_checkpoint(id);
    let mut status = PointStatus {
        state: PointState::Running,
        attempts: prev.as_ref().map_or(0, |p| p.attempts) + 1,
        wall_s: prev.as_ref().map_or(0.0, |p| p.wall_s),
        started: Some(now()),
        host: hostname(),
        pid: None,
        slurm: job.slurm.clone(),
        message: None,
    };
    let write = |st: &PointStatus| {
        dir.write_status(id, st)
            .map_err(|e| SweepError::io(&dir.status_path(id), &e))
    };
    write(&status)?;
    let runs = dir.runs(id);
    fs::create_dir_all(&runs).map_err(|e| SweepError::io(&runs, &e))?;
    let log_path = dir.log(id);
    if let Some(p) = log_path.parent() {
        fs::create_dir_all(p).map_err(|e| SweepError::io(p, &e))?;
    }
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| SweepError::io(&log_path, &e))?;
    let mut args: Vec<String> = vec![
        "train".into(),
        dir.point_file(id).display().to_string(),
        "--out".into(),
        runs.display().to_string(),
        "--threads".into(),
        job.threads.max(1).to_string(),
    ];
    if let Some(ck) = &resume {
        args.push("--resume".into());
        args.push(ck.display().to_string());
    }
    let _ = writeln!(
        log,
        "=== rnn-lab sweep: {id} attempt {} on {}{}: {} {}",
        status.attempts,
        status.host,
        job.slurm
            .as_deref()
            .map(|s| format!(" (Slurm {s})"))
            .unwrap_or_default(),
        job.exe.display(),
        args.join(" ")
    );
    let err_log = log.try_clone().map_err(|e| SweepError::io(&log_path, &e))?;
    let mut cmd = Command::new(&job.exe);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| SweepError::io(&log_path, &e))?)
        .stderr(err_log)
        // Its own process group: a terminal's Ctrl-C reaches the sweep, which stops its points.
        .process_group(0);
    // SAFETY: prctl in the child before exec: if this process dies, the trainer gets SIGTERM
    // (and saves a checkpoint) instead of training on unsupervised.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            status.state = PointState::Failed;
            status.started = None;
            status.message = Some(format!("cannot start {}: {e}", job.exe.display()));
            write(&status)?;
            return Err(SweepError::System(format!(
                "{id}: cannot start {}: {e}",
                job.exe.display()
            )));
        }
    };
    status.pid = Some(child.id());
    write(&status)?;
    let started = status.started.unwrap_or_else(now);
    let mut stopped = false;
    let exit = loop {
        if stop.load(Ordering::Relaxed) && !stopped {
            stopped = true;
            // SAFETY: signalling the child this function started.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
        }
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(SweepError::System(format!("{id}: waiting for the trainer: {e}"))),
        }
    };
    status.wall_s += (now() - started).max(0.0);
    status.started = None;
    status.pid = None;
    let code = exit.code();
    let error = last_error(&log_path);
    status.state = if stopped || stop.load(Ordering::Relaxed) {
        PointState::Interrupted
    } else if code == Some(0) {
        PointState::Finished
    } else if error.as_deref().is_some_and(|e| e.contains("diverged")) {
        PointState::Diverged
    } else {
        PointState::Failed
    };
    if status.state != PointState::Finished && status.state != PointState::Interrupted {
        status.message = Some(match (&error, code) {
            (Some(e), _) => e.clone(),
            (None, Some(c)) => format!("rnn-lab train exited with status {c}; see {}", log_path.display()),
            (None, None) => format!(
                "rnn-lab train was killed by signal {}",
                std::os::unix::process::ExitStatusExt::signal(&exit).unwrap_or(0)
            ),
        });
    }
    write(&status)?;
    Ok(Outcome::Ended { status, code })
}

/// Whether process `pid` is an `rnn-lab train` of this point file.
fn running_point(pid: u32, point_file: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let want = point_file.display().to_string();
    args.iter().any(|a| a == "train") && args.contains(&want)
}
