//! A sweep on a real Slurm: a single-node cluster on localhost (munge, slurmctld, slurmd,
//! started by scripts/slurm-local.sh in a temporary folder, stopped at the end even when the
//! test fails), a 4-point sweep submitted as one job array, followed to the end, its table
//! checked; a second run submits nothing; a Ctrl-C cancels a running job (scancel) and leaves
//! its points resumable.
//!
//! Needs Debian's slurm-wlm and munge (.ci/run installs them) and root (slurmd). Without them the
//! test says why on stderr and passes — except in CI (`CI` set, as CI services do), where it
//! fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/slurm-local.sh");

/// Stops the daemons when dropped (also on panic).
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop", &self.dir.path().display().to_string()])
            .status();
    }
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false` (as the TUI's
/// end-to-end test reads it).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// Start the cluster, or say loudly why not (a failure in CI).
fn start() -> Option<Cluster> {
    let skip = |why: String| {
        if in_ci() {
            panic!("the Slurm sweep test must run in CI, but: {why}");
        }
        eprintln!("\n*** SKIPPING the Slurm sweep test: {why} ***\n");
        None
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip("slurmd needs root here (it runs jobs as their users); run the tests as root".into());
    }
    let dir = tempfile::Builder::new()
        .prefix("rnn-lab-slurm")
        .tempdir()
        .expect("tempdir");
    let o = Command::new("bash")
        .args([SCRIPT, "start", &dir.path().display().to_string()])
        .output()
        .expect("run scripts/slurm-local.sh");
    let cluster = Cluster { dir };
    match o.status.code() {
        Some(0) => Some(cluster),
        Some(3) => skip(format!(
            "Slurm is not installed ({}); .ci/run installs Debian's slurm-wlm and munge",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        _ => skip(format!(
            "the single-node cluster would not start: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
    }
}

fn rnn_lab(conf: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rnn-lab"));
    c.args(args).current_dir(dir).env("SLURM_CONF", conf);
    c
}

/// Wait for a child, killing it after `limit` (a test never hangs).
fn wait(mut child: Child, limit: Duration) -> Output {
    let t = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "rnn-lab sweep did not end within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn setup(dir: &Path, name: &str, steps: u64) {
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(40);
    std::fs::write(dir.join("corpus.txt"), text).expect("corpus");
    std::fs::write(
        dir.join("tiny.toml"),
        "[data]\nfiles = [\"corpus.txt\"]\n[model]\nhidden = 8\n[training]\nbatch_size = 4\nseq_len = 8\nsteps = 10\n\
         log_every = 2\neval_every = 5\ncheckpoint_every = 5\nsample_every = 0\nprobe_every = 0\n",
    )
    .expect("experiment");
    std::fs::write(
        dir.join(format!("{name}.toml")),
        format!(
            "[sweep]\nbase = \"tiny.toml\"\n[set]\n\"training.steps\" = {steps}\n[axes]\n\"model.cell\" = [\"rnn\", \"lstm\"]\n\"training.lr\" = [0.002, 0.01]\n\
             [slurm]\ncpus = 1\nmem = \"200M\"\ntime = \"00:05:00\"\nmax_running = 2\n"
        ),
    )
    .expect("sweep");
}

#[test]
fn a_sweep_runs_as_a_slurm_job_array() {
    let Some(cluster) = start() else { return };
    let conf = cluster.conf();
    let work = tempfile::tempdir().expect("tempdir");
    setup(work.path(), "grid", 10);

    let child = rnn_lab(
        &conf,
        work.path(),
        &["sweep", "grid.toml", "--executor", "slurm", "--format", "json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let o = wait(child, Duration::from_secs(180));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("submitted Slurm job"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json table");
    let rows = doc["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let losses: Vec<f64> = rows
        .iter()
        .map(|r| r["best_val_loss"].as_f64().expect("loss"))
        .collect();
    assert!(losses.windows(2).all(|w| w[0] <= w[1]), "{losses:?}");
    let root = work.path().join("sweeps/grid");
    for r in rows {
        assert_eq!(r["status"], "finished", "{r}");
        assert_eq!(r["steps"], 10);
        let id = r["point"].as_str().unwrap();
        let st: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(format!("status/{id}.json"))).unwrap()).unwrap();
        // Trained inside an array task of the job.
        assert!(st["slurm"].as_str().is_some_and(|s| s.contains('_')), "{st}");
    }
    let outs = std::fs::read_dir(root.join("logs"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("slurm-"))
        .count();
    assert_eq!(outs, 4, "one Slurm output file per task");
    assert!(std::fs::read_to_string(root.join("slurm/sweep.sbatch"))
        .unwrap()
        .contains("--array=0-3%2"));

    // Again: every point is finished, nothing is submitted.
    let o = wait(
        rnn_lab(&conf, work.path(), &["sweep", "grid.toml", "--executor", "slurm"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(60),
    );
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("submitted"));

    // Ctrl-C while a long sweep runs: the job is cancelled, its points keep their checkpoints.
    setup(work.path(), "long", 200_000);
    let child = rnn_lab(&conf, work.path(), &["sweep", "long.toml", "--executor", "slurm"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let long = work.path().join("sweeps/long");
    let t = Instant::now();
    let has_checkpoint = || {
        std::fs::read_dir(long.join("runs/p000"))
            .map(|rd| rd.flatten().any(|e| e.path().join("latest.safetensors").exists()))
            .unwrap_or(false)
    };
    while !has_checkpoint() {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "no checkpoint from the Slurm task"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let o = wait(child, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cancelled"), "{err}");
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(long.join("status/p000.json")).unwrap()).unwrap();
    assert_eq!(st["state"], "interrupted", "{st}");
    let q = Command::new("squeue")
        .args(["--noheader", "--format=%i"])
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&q.stdout).trim(), "", "jobs left in the queue");
}
