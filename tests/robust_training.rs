//! Training when things go wrong (issue 14): a loss blow-up caught before it turns into NaN,
//! the lower-learning-rate retry, a checkpoint write that fails (full disk, read-only folder),
//! run directories of runs started in the same second, and determinism.
//!
//! Faults are injected through `RNN_LAB_FAULT` (see `src/train/fault.rs`) in child processes,
//! or directly on a [`Trainer`] in this process.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::mpsc;
use std::time::Duration;

use cli::{bin, stderr};
use rnn_lab::train::protocol::{Command as Cmd, Event};
use rnn_lab::train::{checkpoint, rundir, worker, Blowup, RunEnd};
use tiny_run::{run_dir, trainer};

fn run_with(args: &[&str], dir: &Path, fault: &str) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .env("RNN_LAB_FAULT", fault)
        .output()
        .expect("run rnn-lab")
}

/// A small corpus and experiment in a temporary folder; `training` is added to `[training]`.
fn setup(training: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(60);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("write corpus");
    let exp = format!(
        "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 8\n\
         [training]\nbatch_size = 4\nseq_len = 16\nlog_every = 1\nsample_every = 0\nprobe_every = 0\neval_every = 0\n{training}\n"
    );
    std::fs::write(dir.path().join("tiny.toml"), exp).expect("write experiment");
    dir
}

fn only_run_dir(out: &Path) -> PathBuf {
    run_dir(out)
}

fn metrics(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .expect("metrics")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn a_loss_blow_up_is_caught_before_the_update_and_rolled_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t = trainer(dir.path(), "steps = 100\ncheckpoint_every = 0");
    for _ in 0..15 {
        t.train_step().expect("a sane step");
    }
    t.save(false).expect("save");
    let saved = t.model.params.clone();
    for _ in 0..3 {
        t.train_step().expect("a sane step");
    }
    // The injected blow-up: every weight × 1000. The loss jumps but stays finite.
    for v in &mut t.model.params.values {
        v.mapv_inplace(|x| x * 1000.0);
    }
    let blown = t.model.params.clone();
    let err = t.train_step().expect_err("the blow-up was not caught");
    let Blowup::LossSpike {
        loss, median, factor, ..
    } = &err
    else {
        panic!("expected a loss spike, got {err}")
    };
    assert!(loss.is_finite() && *loss > factor * median, "{err}");
    assert_eq!(t.model.params, blown, "the step's update was applied");
    assert_eq!(t.step, 18);
    let d = t.recover(err);
    assert_eq!(d.step, 19);
    assert!(d.recovered);
    assert!(
        d.what.contains("loss blow-up") && d.what.contains("rolled back to the checkpoint of step 15"),
        "{}",
        d.what
    );
    assert_eq!(t.step, 15);
    assert_eq!(t.model.params, saved);
    t.train_step().expect("training goes on from the checkpoint");
}

#[test]
fn the_loss_check_can_be_turned_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t = trainer(dir.path(), "steps = 100\ncheckpoint_every = 0\ndivergence_factor = 0");
    for _ in 0..15 {
        t.train_step().expect("a sane step");
    }
    for v in &mut t.model.params.values {
        v.mapv_inplace(|x| x * 1000.0);
    }
    // Only a non-finite value stops it now (or nothing: the loss may stay finite).
    match t.train_step() {
        Ok(()) | Err(Blowup::NonFinite(_)) => {}
        Err(e) => panic!("the check is off, yet: {e}"),
    }
}

#[test]
fn headless_spike_rolls_back_and_exits_3() {
    let d = setup("steps = 30\ncheckpoint_every = 5");
    let o = run_with(
        &["train", "tiny.toml", "--out", "r", "--threads", "1"],
        d.path(),
        "spike@13",
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        e.contains("rnn-lab: error: training diverged at step 13: loss blow-up")
            && e.contains("rolled back to the checkpoint of step 10"),
        "{e}"
    );
    let rd = only_run_dir(&d.path().join("r"));
    let c = checkpoint::load(&rd.join("latest.safetensors")).expect("the last good checkpoint loads");
    assert_eq!(c.step, 10);
}

#[test]
fn headless_lower_lr_retries_with_half_the_learning_rate_and_finishes() {
    let d = setup("steps = 30\ncheckpoint_every = 5\nlr = 0.002");
    let o = run_with(
        &[
            "train",
            "tiny.toml",
            "--out",
            "r",
            "--threads",
            "1",
            "--on-divergence",
            "lower-lr",
        ],
        d.path(),
        "spike@13",
    );
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains("retrying with the learning rate halved to 1.000e-3 (retry 1 of 3)"),
        "{e}"
    );
    let rd = only_run_dir(&d.path().join("r"));
    let m = metrics(&rd);
    let lr_at = |s: u64| m.iter().find(|x| x["step"] == s).map(|x| x["lr"].as_f64().expect("lr"));
    assert_eq!(lr_at(12), Some(0.002));
    assert_eq!(lr_at(11 + 5), Some(0.001), "{m:?}");
    assert_eq!(m.last().map(|x| x["step"].as_u64()), Some(Some(30)));
    let c = checkpoint::load(&rd.join("latest.safetensors")).expect("load");
    assert_eq!(c.step, 30);
}

#[test]
fn headless_lower_lr_gives_up_after_max_retries() {
    // An infinite learning rate diverges whatever is halved.
    let d = setup("steps = 30\ncheckpoint_every = 2\noptimizer = \"sgd\"\nlr = 1e300\nclip_norm = 0");
    let o = run_with(
        &[
            "train",
            "tiny.toml",
            "--out",
            "r",
            "--on-divergence",
            "lower-lr",
            "--max-retries",
            "2",
        ],
        d.path(),
        "",
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("(retry 2 of 2)") && e.contains("after 2 retries"), "{e}");
}

#[test]
fn a_full_disk_keeps_the_previous_checkpoint_and_ends_the_headless_run_cleanly() {
    let d = setup("steps = 30\ncheckpoint_every = 5");
    // The first checkpoint write works, the second finds the disk full.
    let o = run_with(
        &["train", "tiny.toml", "--out", "r", "--threads", "1"],
        d.path(),
        "save-error=ENOSPC@2",
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("rnn-lab: error: checkpoint not saved:")
            && e.contains("latest.safetensors")
            && e.contains("No space left on device")
            && e.contains("the run stopped at step 10 (the previous checkpoint is intact)"),
        "{e}"
    );
    assert!(!e.contains("panicked"));
    assert_eq!(e.matches("checkpoint not saved").count(), 1, "said once: {e}");
    let rd = only_run_dir(&d.path().join("r"));
    assert_eq!(checkpoint::load(&rd.join("latest.safetensors")).expect("load").step, 5);
    let leftovers: Vec<_> = std::fs::read_dir(&rd)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_failed_checkpoint_pauses_an_interactive_run_and_save_works_again_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = trainer(
        dir.path(),
        "steps = 50\nlog_every = 1\ncheckpoint_every = 4\neval_every = 0\nsample_every = 0\nprobe_every = 0",
    );
    let rd = t.run_dir.clone();
    // A folder where the checkpoint should go: the rename fails, as on a read-only folder.
    std::fs::create_dir(rd.join("latest.safetensors")).expect("mkdir");
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    let h = std::thread::spawn(move || worker::run(t, crx, etx));
    let next = || erx.recv_timeout(Duration::from_secs(120)).expect("an event");
    let warning = loop {
        match next() {
            Event::Warning(w) => break w,
            Event::Checkpointed { .. } => panic!("saved into a folder?"),
            _ => {}
        }
    };
    assert!(
        warning.contains("checkpoint not saved") && warning.contains("latest.safetensors"),
        "{warning}"
    );
    let paused = loop {
        match next() {
            Event::Warning(w) => assert!(w.contains("training paused"), "{w}"),
            Event::Paused => break true,
            Event::Step(m) => panic!("stepped on after a failed save: {}", m.step),
            _ => {}
        }
    };
    assert!(paused);
    // The user fixes the folder and saves.
    std::fs::remove_dir(rd.join("latest.safetensors")).expect("rmdir");
    ctx.send(Cmd::SaveNow).expect("send");
    assert!(matches!(next(), Event::Checkpointed { step: 4, .. }));
    ctx.send(Cmd::Stop).expect("send");
    let end = h.join().expect("worker");
    assert_eq!(end, RunEnd::Finished { step: 4 });
}

#[test]
fn runs_started_in_the_same_second_get_distinct_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_path_buf();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let out = out.clone();
            std::thread::spawn(move || rundir::create(&out, "same").expect("create"))
        })
        .collect();
    let mut dirs: Vec<PathBuf> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), 8, "{dirs:?}");
    // And two real runs started together.
    let d = setup("steps = 3");
    let spawn = || {
        bin()
            .args(["train", "tiny.toml", "--out", "r", "--threads", "1"])
            .current_dir(d.path())
            .output()
            .expect("spawn")
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().expect("a"), b.join().expect("b"))
    });
    assert!(
        a.status.success() && b.status.success(),
        "{} {}",
        stderr(&a),
        stderr(&b)
    );
    let n = std::fs::read_dir(d.path().join("r")).expect("runs").count();
    assert_eq!(n, 2);
}

/// metrics.jsonl without its wall-clock fields (`time_s`, `tokens_per_s`).
fn deterministic_metrics(rd: &Path) -> Vec<serde_json::Value> {
    metrics(rd)
        .into_iter()
        .map(|mut m| {
            let o = m.as_object_mut().expect("object");
            o.remove("time_s");
            o.remove("tokens_per_s");
            m
        })
        .collect()
}

#[test]
fn the_same_seed_and_threads_give_bit_identical_metrics_and_checkpoints() {
    let d = setup("steps = 24\ncheckpoint_every = 8");
    let exp = d.path().join("tiny.toml");
    let text = std::fs::read_to_string(&exp)
        .expect("read")
        .replace("eval_every = 0", "eval_every = 8");
    std::fs::write(&exp, text).expect("write");
    for out in ["a", "b"] {
        let o = run_with(&["train", "tiny.toml", "--out", out, "--threads", "2"], d.path(), "");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (a, b) = (only_run_dir(&d.path().join("a")), only_run_dir(&d.path().join("b")));
    assert_eq!(deterministic_metrics(&a), deterministic_metrics(&b));
    for f in ["latest.safetensors", "best.safetensors"] {
        let (x, y) = (
            std::fs::read(a.join(f)).expect("a"),
            std::fs::read(b.join(f)).expect("b"),
        );
        assert!(x == y, "{f} differs between two identical runs");
    }
}
