//! The sweep folder, `sweeps/<name>/`:
//!
//! ```text
//! sweep.toml            copy of the sweep file as last run
//! sweep.json            the manifest: axes and every point's values
//! points/p003.toml      each point's experiment file
//! runs/p003/<run>/      its run directories (a resumed point gets a new one, history copied)
//! status/p003.json      its state: running, finished, diverged, interrupted, failed
//! logs/p003.log         what its `rnn-lab train` printed
//! slurm/sweep.sbatch    the batch script and slurm/job.json, the job it was submitted as
//! results.md/.csv/.json the results table
//! ```
//!
//! Status files are the only state: a point is done when its file says finished (or
//! diverged), and resumes from its newest `latest.safetensors` otherwise. They are written
//! atomically (temporary file, rename), by whoever runs the point (this process or a Slurm task).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SweepError;

/// The manifest, `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// The sweep file (absolute).
    pub sweep_file: String,
    /// The base experiment (absolute).
    pub base: String,
    /// Axis keys, in the sweep file's order.
    pub axes: Vec<String>,
    /// Every point.
    pub points: Vec<ManifestPoint>,
}

/// One point in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestPoint {
    /// `p003`.
    pub id: String,
    /// Axis values, aligned with [`Manifest::axes`].
    pub values: Vec<serde_json::Value>,
}

/// Where a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointState {
    /// Being trained (or was, by a process that died without a word: then it resumes).
    Running,
    /// Trained to the last step.
    Finished,
    /// Training diverged (non-finite loss); a result, not retried.
    Diverged,
    /// Stopped by Ctrl-C, SIGTERM or scancel; resumes from its latest checkpoint.
    Interrupted,
    /// `rnn-lab train` failed; retried on the next run of the sweep.
    Failed,
}

impl PointState {
    /// Done for good: finished or diverged.
    pub fn is_final(self) -> bool {
        matches!(self, PointState::Finished | PointState::Diverged)
    }

    /// Lower-case name, as in status files and tables.
    pub fn name(self) -> &'static str {
        match self {
            PointState::Running => "running",
            PointState::Finished => "finished",
            PointState::Diverged => "diverged",
            PointState::Interrupted => "interrupted",
            PointState::Failed => "failed",
        }
    }
}

/// `status/<id>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointStatus {
    /// Where the point is.
    pub state: PointState,
    /// Times it was started (1 + resumes).
    pub attempts: u32,
    /// Wall time of the attempts that ended, seconds.
    pub wall_s: f64,
    /// When the current attempt started (seconds since 1970), while running.
    pub started: Option<f64>,
    /// Host of the current or last attempt.
    pub host: String,
    /// Process id of its `rnn-lab train`, while running.
    pub pid: Option<u32>,
    /// Slurm `JOB_TASK` of the current or last attempt.
    pub slurm: Option<String>,
    /// Why it failed (the trainer's one-line error).
    pub message: Option<String>,
}

/// Seconds since 1970.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's host name.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// Write `bytes` to `path` atomically: a temporary file beside it, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// A sweep's folder.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepDir {
    /// `sweeps/<name>`.
    pub root: PathBuf,
}

impl SweepDir {
    /// The folder of sweep `name` under `out`.
    pub fn new(out: &Path, name: &str) -> Self {
        SweepDir { root: out.join(name) }
    }

    /// `sweep.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("sweep.json")
    }
    /// `points/<id>.toml`.
    pub fn point_file(&self, id: &str) -> PathBuf {
        self.root.join("points").join(format!("{id}.toml"))
    }
    /// `runs/<id>`: the point's run directories.
    pub fn runs(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(id)
    }
    /// `status/<id>.json`.
    pub fn status_path(&self, id: &str) -> PathBuf {
        self.root.join("status").join(format!("{id}.json"))
    }
    /// `logs/<id>.log`.
    pub fn log(&self, id: &str) -> PathBuf {
        self.root.join("logs").join(format!("{id}.log"))
    }
    /// `slurm/`.
    pub fn slurm_dir(&self) -> PathBuf {
        self.root.join("slurm")
    }

    /// Create the folders.
    ///
    /// # Errors
    /// [`SweepError::System`] when they cannot be created.
    pub fn create(&self) -> Result<(), SweepError> {
        for d in ["points", "runs", "status", "logs"] {
            let p = self.root.join(d);
            fs::create_dir_all(&p).map_err(|e| SweepError::io(&p, &e))?;
        }
        Ok(())
    }

    /// The manifest, if the sweep has been set up.
    pub fn read_manifest(&self) -> Option<Manifest> {
        let s = fs::read_to_string(self.manifest_path()).ok()?;
        serde_json::from_str(&s).ok()
    }

    /// Write the manifest.
    ///
    /// # Errors
    /// [`SweepError::System`] when it cannot be written.
    pub fn write_manifest(&self, m: &Manifest) -> Result<(), SweepError> {
        let p = self.manifest_path();
        let s = serde_json::to_string_pretty(m).map_err(|e| SweepError::System(e.to_string()))?;
        write_atomic(&p, s.as_bytes()).map_err(|e| SweepError::io(&p, &e))
    }

    /// A point's status, if it has been started.
    pub fn read_status(&self, id: &str) -> Option<PointStatus> {
        let s = fs::read_to_string(self.status_path(id)).ok()?;
        serde_json::from_str(&s).ok()
    }

    /// Write a point's status atomically.
    ///
    /// # Errors
    /// The file-system error.
    pub fn write_status(&self, id: &str, st: &PointStatus) -> std::io::Result<()> {
        let p = self.status_path(id);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir)?;
        }
        let s = serde_json::to_string_pretty(st).map_err(std::io::Error::other)?;
        write_atomic(&p, s.as_bytes())
    }

    /// The point's run directories, oldest first (names end in a sortable timestamp).
    pub fn run_dirs(&self, id: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.runs(id))
            .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The newest run directory that has metrics (it holds the whole history: a resumed run
    /// copies the earlier metrics).
    pub fn latest_run(&self, id: &str) -> Option<PathBuf> {
        self.run_dirs(id)
            .into_iter()
            .rev()
            .find(|d| d.join("metrics.jsonl").is_file())
    }

    /// The newest `latest.safetensors` of the point, to resume from.
    pub fn latest_checkpoint(&self, id: &str) -> Option<PathBuf> {
        self.run_dirs(id)
            .into_iter()
            .map(|d| d.join("latest.safetensors"))
            .filter_map(|p| {
                let t = fs::metadata(&p).and_then(|m| m.modified()).ok()?;
                Some((t, p))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
            .map(|(_, p)| p)
    }

    /// Hold the sweep's lock (`.lock`, flock) so that two drivers never run one sweep.
    ///
    /// # Errors
    /// [`SweepError::Input`] when another process holds it.
    pub fn lock(&self) -> Result<Lock, SweepError> {
        let p = self.root.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&p)
            .map_err(|e| SweepError::io(&p, &e))?;
        // SAFETY: flock on a descriptor this function owns; non-blocking.
        let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            let holder = fs::read_to_string(&p).unwrap_or_default();
            return Err(SweepError::Input(format!(
                "{}: another rnn-lab is running this sweep{}; wait for it or stop it first",
                self.root.display(),
                match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (pid {pid})"),
                }
            )));
        }
        let _ = f.set_len(0);
        let _ = (&f).write_all(std::process::id().to_string().as_bytes());
        Ok(Lock { _file: f })
    }
}

/// Held while a driver runs a sweep; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    _file: fs::File,
}
