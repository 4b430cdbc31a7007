//! Sweeps as the TUI's runs screen shows them: every `sweeps/*/sweep.json` with its points
//! sorted by result, whether an `rnn-lab sweep` is driving it right now (the holder of its
//! `.lock`), and the Slurm states of its points while its job is in the queue. Also starting a
//! sweep in the background (checked first, so a bad sweep file is one located line, as on the
//! command line) and interrupting one.
//!
//! Everything here reads the sweep folder or asks Slurm, so it runs on the TUI's scanner
//! thread, never on the UI thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::layout::{Manifest, SweepDir};
use super::plan::Plan;
use super::results::{self, Row};
use super::slurm::{self, JobRecord};
use super::SweepError;

/// squeue's time-out when the TUI asks (it asks again a few seconds later).
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One sweep folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Overview {
    /// The folder.
    pub dir: SweepDir,
    /// Its manifest: name, axes, points.
    pub manifest: Manifest,
    /// One row per point, best validation loss first (as the results table).
    pub rows: Vec<Row>,
    /// Process id of the `rnn-lab sweep` running it now.
    pub driver: Option<u32>,
    /// The Slurm job still in the queue, with its tasks' states (index → `RUNNING`, …).
    pub job: Option<(String, BTreeMap<usize, String>)>,
}

impl Overview {
    /// Whether anything is still happening: a driver running it or a job in the queue.
    pub fn active(&self) -> bool {
        self.driver.is_some() || self.job.is_some()
    }

    /// Points whose status is `s` (finished, running, queued, …).
    pub fn count(&self, s: &str) -> usize {
        self.rows.iter().filter(|r| r.status == s).count()
    }

    /// `model.hidden=128 training.lr=0.002` for a row.
    pub fn describe(&self, row: &Row) -> String {
        self.manifest
            .axes
            .iter()
            .zip(&row.values)
            .map(|(k, v)| format!("{}={}", short_key(k), results::cell(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The last part of a dotted key (`training.lr` → `lr`), for narrow rows.
fn short_key(k: &str) -> &str {
    k.rsplit('.').next().unwrap_or(k)
}

/// Every sweep folder under `out` (`sweeps/`), the most recently changed first. Folders
/// without a readable `sweep.json` are skipped.
pub fn scan(out: &Path) -> Vec<Overview> {
    let mut found: Vec<(std::time::SystemTime, Overview)> = std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let ov = read(&e.path())?;
                    Some((changed(&ov.dir), ov))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.manifest.name.cmp(&b.1.manifest.name)));
    found.into_iter().map(|(_, o)| o).collect()
}

/// Newest change of the manifest or a status file.
fn changed(dir: &SweepDir) -> std::time::SystemTime {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let status = std::fs::read_dir(dir.root.join("status"))
        .map(|rd| rd.flatten().filter_map(|e| mtime(&e.path())).max())
        .ok()
        .flatten();
    mtime(&dir.manifest_path())
        .into_iter()
        .chain(status)
        .max()
        .unwrap_or(std::time::UNIX_EPOCH)
}

/// One sweep folder, if it holds a readable manifest.
pub fn read(root: &Path) -> Option<Overview> {
    let dir = SweepDir {
        root: root.to_path_buf(),
    };
    let manifest = dir.read_manifest()?;
    let driver = driver(&dir);
    let job = queued_job(&dir, &manifest);
    let live = job.as_ref().map(|j| j.1.clone()).unwrap_or_default();
    let rows = results::collect(&dir, &manifest, &live);
    Some(Overview {
        dir,
        manifest,
        rows,
        driver,
        job,
    })
}

/// The sweep's last Slurm job, when it is still in the queue. Slurm is only asked while some
/// point of that job is not done, so a finished sweep costs no squeue.
fn queued_job(dir: &SweepDir, m: &Manifest) -> Option<(String, BTreeMap<usize, String>)> {
    let rec = JobRecord::read(dir)?;
    let open = rec.indices.iter().any(|&i| {
        m.points
            .get(i)
            .is_some_and(|p| !dir.read_status(&p.id).is_some_and(|s| s.state.is_final()))
    });
    if !open {
        return None;
    }
    match slurm::task_states_within(&rec.job, QUERY_TIMEOUT) {
        Ok(s) if !s.is_empty() => Some((rec.job, s)),
        _ => None,
    }
}

/// The process holding the sweep's `.lock` (an `rnn-lab sweep` driving it), from `/proc/locks`:
/// looking, not locking, so a driver starting meanwhile is never refused.
pub fn driver(dir: &SweepDir) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(dir.root.join(".lock")).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    lock_holder(&locks, inode)
}

/// In `/proc/locks` text (`1: FLOCK  ADVISORY  WRITE 4242 fe:00:5554330 0 EOF`), the pid
/// holding a flock on `inode` (waiters, `1: -> FLOCK …`, do not count).
fn lock_holder(locks: &str, inode: u64) -> Option<u32> {
    locks.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 || f[1] != "FLOCK" {
            return None;
        }
        let ino: u64 = f[5].rsplit(':').next()?.parse().ok()?;
        if ino != inode {
            return None;
        }
        f[4].parse().ok()
    })
}

/// A sweep started in the background by [`launch`].
#[derive(Debug)]
pub struct Launched {
    /// Sweep name.
    pub name: String,
    /// Its folder.
    pub root: PathBuf,
    /// Where its `rnn-lab sweep` writes what it prints.
    pub log: PathBuf,
    /// The `rnn-lab sweep` process.
    pub child: Child,
}

/// Check the sweep file (every point, as `rnn-lab sweep` does), then start
/// `exe sweep FILE --out OUT [--executor slurm]` in its own process group, printing into
/// `sweeps/<name>/logs/driver.log`. It goes on if the caller ends; [`interrupt`] stops it.
///
/// # Errors
/// The sweep file's located error; a Slurm job of the sweep still queued (for a local run);
/// the process could not be started.
pub fn launch(sweep_file: &Path, out: &Path, slurm: bool, exe: &Path) -> Result<Launched, SweepError> {
    let plan = Plan::new(sweep_file, out)?;
    plan.check_existing()?;
    let dir = &plan.dir;
    if let Some(pid) = dir.root.join(".lock").exists().then(|| driver(dir)).flatten() {
        return Err(SweepError::Input(format!(
            "sweep {} is already running (pid {pid})",
            plan.spec.name
        )));
    }
    let logs = dir.root.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| SweepError::io(&logs, &e))?;
    let log = logs.join("driver.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| SweepError::io(&log, &e))?;
    let err = file.try_clone().map_err(|e| SweepError::io(&log, &e))?;
    let mut cmd = Command::new(exe);
    cmd.arg("sweep").arg(sweep_file).arg("--out").arg(out);
    if slurm {
        cmd.args(["--executor", "slurm"]);
    }
    use std::os::unix::process::CommandExt;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| SweepError::System(format!("cannot start {}: {e}", exe.display())))?;
    Ok(Launched {
        name: plan.spec.name.clone(),
        root: dir.root.clone(),
        log,
        child,
    })
}

/// Stop a sweep: Ctrl-C to its driver (which stops its points, or cancels its Slurm job, and
/// keeps everything resumable); without a driver, `scancel` its queued job. What was done, in
/// a few words.
///
/// # Errors
/// Nothing is running it; the signal or scancel failed.
pub fn interrupt(ov: &Overview) -> Result<String, SweepError> {
    if let Some(pid) = ov.driver {
        // SAFETY: kill has no memory-safety preconditions; pid is the lock holder's.
        let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
        if r != 0 {
            return Err(SweepError::System(format!(
                "cannot interrupt pid {pid}: {}",
                std::io::Error::last_os_error()
            )));
        }
        return Ok(format!("interrupting sweep {} (pid {pid})", ov.manifest.name));
    }
    if let Some((job, _)) = &ov.job {
        slurm::cancel(job)?;
        return Ok(format!("cancelled Slurm job {job} of sweep {}", ov.manifest.name));
    }
    Err(SweepError::Input(format!("sweep {} is not running", ov.manifest.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flock_holder_is_found_and_waiters_are_not() {
        let locks = "1: POSIX  ADVISORY  WRITE 11 fe:00:77 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 4242 fe:00:5554330 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 5151 fe:00:5554330 0 EOF\n\
                     3: FLOCK  ADVISORY  READ 9 fe:00:12 0 EOF\n";
        assert_eq!(lock_holder(locks, 5_554_330), Some(4242));
        assert_eq!(lock_holder(locks, 77), None, "POSIX locks are not sweep locks");
        assert_eq!(lock_holder(locks, 13), None);
    }

    #[test]
    fn a_running_driver_is_seen_through_its_lock() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let dir = SweepDir {
            root: tmp.path().to_path_buf(),
        };
        assert_eq!(driver(&dir), None);
        let lock = dir.lock()?;
        assert_eq!(driver(&dir), Some(std::process::id()));
        drop(lock);
        assert_eq!(driver(&dir), None);
        Ok(())
    }
}
