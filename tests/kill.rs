//! `kill -9` in the middle of a checkpoint write (the short version of
//! `bench/reliability/kill_trials.py`): the run directory keeps a loadable checkpoint at most one
//! checkpoint interval old, its metrics.jsonl is valid up to its last complete line, and
//! `--resume` ends with exactly the parameters and optimizer state of an uninterrupted run.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cli::{bin, run, stderr};
use rnn_lab::train::{checkpoint, rundir};

const EVERY: u64 = 5;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(60);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("write corpus");
    let exp = format!(
        "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"gru\"\nhidden = 8\n\
         [training]\nbatch_size = 4\nseq_len = 16\nsteps = 30\nlog_every = 1\neval_every = {EVERY}\ncheckpoint_every = {EVERY}\nsample_every = 7\nprobe_every = 0\n"
    );
    std::fs::write(dir.path().join("tiny.toml"), exp).expect("write experiment");
    dir
}

fn the_run(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out).ok()?.flatten().map(|e| e.path()).next()
}

fn temporaries(rd: &Path) -> usize {
    std::fs::read_dir(rd)
        .map(|r| {
            r.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn kill_9_during_a_checkpoint_write_loses_at_most_one_interval_and_resumes_exactly() {
    let d = setup();
    let full = run(&["train", "tiny.toml", "--out", "full", "--threads", "1"], d.path());
    assert!(full.status.success(), "{}", stderr(&full));

    // Every checkpoint write sleeps 1.5 s between writing the temporary file and the rename.
    let mut child = bin()
        .args(["train", "tiny.toml", "--out", "killed", "--threads", "1"])
        .current_dir(d.path())
        .env("RNN_LAB_FAULT", "slow-save=1500")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait for the second checkpoint write to be under way: latest.safetensors exists and a
    // temporary file is being written beside it.
    let start = Instant::now();
    let rd = loop {
        if let Some(rd) = the_run(&d.path().join("killed")) {
            if rd.join("latest.safetensors").exists() && temporaries(&rd) > 0 {
                break rd;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no second checkpoint write");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");

    // A loadable checkpoint, at most one interval behind the last logged step.
    let ck = rd.join("latest.safetensors");
    let c = checkpoint::load(&ck).unwrap_or_else(|e| panic!("{e}"));
    let logged = rundir::read_metrics(&rd);
    let last = logged.last().map_or(0, |m| m.step);
    assert!(
        c.step > 0 && last - c.step <= EVERY,
        "checkpoint {} last step {last}",
        c.step
    );
    // metrics.jsonl: every complete line parses.
    let text = std::fs::read_to_string(rd.join("metrics.jsonl")).expect("metrics");
    for l in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }

    // Resume to the end: the same parameters, optimizer state and carried state as the
    // uninterrupted run, bit for bit.
    let o = run(
        &[
            "train",
            "tiny.toml",
            "--resume",
            ck.to_str().expect("utf-8"),
            "--out",
            "resumed",
            "--threads",
            "1",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let resumed = the_run(&d.path().join("resumed")).expect("resumed run");
    let a = checkpoint::load(
        &the_run(&d.path().join("full"))
            .expect("full")
            .join("latest.safetensors"),
    )
    .expect("a");
    let b = checkpoint::load(&resumed.join("latest.safetensors")).expect("b");
    assert_eq!((a.step, b.step), (30, 30));
    assert!(a.model.params == b.model.params, "parameters differ");
    let (oa, ob) = (a.optim.expect("optim a"), b.optim.expect("optim b"));
    assert!(
        oa.s1 == ob.s1 && oa.s2 == ob.s2 && oa.t == ob.t,
        "optimizer state differs"
    );
    assert!(a.carried == b.carried, "carried state differs");
    // The killed write's temporary file is gone: resuming cleans the folder it resumes from.
    assert_eq!(temporaries(&rd), 0);
}
