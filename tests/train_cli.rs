//! End-to-end tests of the headless commands through the real binary: train, resume, sample,
//! eval, probe, and the exit status and one-line messages of bad input.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use cli::{bin, run, stderr};
use rnn_lab::headless::Progress;

/// A small corpus and experiment in a temporary folder.
fn setup(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(60);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("write corpus");
    let exp = format!(
        "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 16\n\
         [training]\nbatch_size = 4\nseq_len = 16\nsteps = 20\nlog_every = 5\neval_every = 10\ncheckpoint_every = 10\nsample_every = 10\nprobe_every = 10\n{extra}"
    );
    std::fs::write(dir.path().join("tiny.toml"), exp).expect("write experiment");
    dir
}

fn metrics(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .expect("metrics.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

#[test]
fn train_writes_a_run_directory_and_the_loss_falls() {
    let d = setup("");
    let o = run(
        &["train", "tiny.toml", "--json", "--out", "a", "--threads", "2"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout json"))
        .collect();
    assert!(lines.len() >= 4);
    let dirs = run_dirs(&d.path().join("a"));
    assert_eq!(dirs.len(), 1);
    for f in [
        "config.toml",
        "metrics.jsonl",
        "samples.txt",
        "latest.safetensors",
        "best.safetensors",
        "probe.json",
    ] {
        assert!(dirs[0].join(f).exists(), "missing {f}");
    }
    let m = metrics(&dirs[0]);
    let first = m[0]["train_loss"].as_f64().expect("loss");
    let last = m[m.len() - 1]["train_loss"].as_f64().expect("loss");
    assert!(last < first, "loss did not fall: {first} → {last}");
    for k in [
        "step",
        "time_s",
        "train_loss",
        "val_loss",
        "bits_per_token",
        "lr",
        "grad_norm",
        "tokens_per_s",
    ] {
        assert!(m[0].get(k).is_some(), "metrics line lacks {k}");
    }
}

#[test]
fn resumed_run_matches_uninterrupted_run() {
    let d = setup("");
    let full = run(&["train", "tiny.toml", "--out", "full", "--threads", "2"], d.path());
    assert!(full.status.success(), "{}", stderr(&full));
    let half = run(
        &["train", "tiny.toml", "--steps", "10", "--out", "half", "--threads", "2"],
        d.path(),
    );
    assert!(half.status.success(), "{}", stderr(&half));
    let ck = run_dirs(&d.path().join("half"))[0].join("latest.safetensors");
    let ck = ck.to_str().expect("utf-8 path");
    let resumed = run(
        &[
            "train",
            "tiny.toml",
            "--resume",
            ck,
            "--out",
            "resumed",
            "--threads",
            "2",
        ],
        d.path(),
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let a = metrics(&run_dirs(&d.path().join("full"))[0]);
    let b = metrics(&run_dirs(&d.path().join("resumed"))[0]);
    let pick = |m: &[serde_json::Value]| -> Vec<(u64, String, String)> {
        m.iter()
            .filter(|x| x["step"].as_u64().unwrap_or(0) > 10)
            .map(|x| {
                (
                    x["step"].as_u64().unwrap_or(0),
                    x["train_loss"].to_string(),
                    x["val_loss"].to_string(),
                )
            })
            .collect()
    };
    assert!(!pick(&a).is_empty());
    assert_eq!(pick(&a), pick(&b), "resumed metrics differ from the uninterrupted run");
}

#[test]
fn sample_eval_and_probe_work_on_a_checkpoint() {
    let d = setup("");
    let o = run(&["train", "tiny.toml", "--out", "r"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = run_dirs(&d.path().join("r"))[0].join("best.safetensors");
    let ck = ck.to_str().expect("utf-8 path");
    let s1 = run(
        &["sample", ck, "--prime", "the ", "--length", "40", "--seed", "5"],
        d.path(),
    );
    let s2 = run(
        &["sample", ck, "--prime", "the ", "--length", "40", "--seed", "5"],
        d.path(),
    );
    assert!(s1.status.success(), "{}", stderr(&s1));
    assert_eq!(s1.stdout, s2.stdout, "same seed, different text");
    assert!(String::from_utf8_lossy(&s1.stdout).starts_with("the "));
    let g = run(&["sample", ck, "--temperature", "0", "--length", "20"], d.path());
    assert!(g.status.success());
    let e = run(&["eval", ck, "corpus.txt", "--json"], d.path());
    assert!(e.status.success(), "{}", stderr(&e));
    let v: serde_json::Value = serde_json::from_slice(&e.stdout).expect("eval json");
    let nats = v["nats_per_token"].as_f64().expect("nats");
    assert!((v["bits_per_token"].as_f64().expect("bits") - nats / std::f64::consts::LN_2).abs() < 1e-9);
    assert!((v["perplexity"].as_f64().expect("ppl") - nats.exp()).abs() < 1e-6);
    // Stream mode scores every token after the first.
    assert_eq!(v["tokens"].as_u64(), Some(45 * 60 - 1));
    let p = run(&["probe", ck, "--text", "the lazy dog", "--json"], d.path());
    assert!(p.status.success(), "{}", stderr(&p));
    let pv: serde_json::Value = serde_json::from_slice(&p.stdout).expect("probe json");
    assert!(pv.to_string().contains("grad_norm"));
    // A language model without --text: told to give one, exit 2.
    let p = run(&["probe", ck], d.path());
    assert_eq!(p.status.code(), Some(2), "{}", stderr(&p));
    assert!(stderr(&p).contains("give --text"), "{}", stderr(&p));
}

#[test]
fn bad_checkpoints_are_rejected_with_exit_2_and_a_one_line_message() {
    let d = setup("");
    let o = run(&["train", "tiny.toml", "--steps", "5", "--out", "r"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = run_dirs(&d.path().join("r"))[0].join("latest.safetensors");
    let bytes = std::fs::read(&ck).expect("read checkpoint");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.safetensors",
            bytes[..bytes.len() / 2].to_vec(),
            "not a valid safetensors checkpoint",
        ),
        (
            "garbage.safetensors",
            b"this is not a checkpoint at all".to_vec(),
            "not a valid safetensors checkpoint",
        ),
        ("empty.safetensors", Vec::new(), "not a valid safetensors checkpoint"),
    ];
    for (name, data, expect) in cases {
        std::fs::write(d.path().join(name), data).expect("write");
        for args in [
            vec!["sample", name],
            vec!["eval", name, "corpus.txt"],
            vec!["train", "tiny.toml", "--resume", name],
        ] {
            let o = run(&args, d.path());
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
            assert!(e.contains(expect) && e.contains(name), "{args:?}: {e}");
            assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: not one line: {e}");
            assert!(!e.contains("panicked"));
        }
    }
    // A safetensors file written by someone else.
    let foreign = safetensors::serialize(
        vec![(
            "x",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0u8; 4]).expect("view"),
        )],
        None,
    )
    .expect("serialize");
    std::fs::write(d.path().join("foreign.safetensors"), foreign).expect("write");
    let o = run(&["sample", "foreign.safetensors"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not an rnn-lab checkpoint"), "{}", stderr(&o));
    // The original checkpoint is untouched by all of this.
    assert_eq!(std::fs::read(&ck).expect("read"), bytes);
    let missing = run(&["sample", "nope.safetensors"], d.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.safetensors"));
}

#[test]
fn bad_experiment_input_exits_2() {
    let d = setup("");
    std::fs::write(d.path().join("broken.toml"), "[model\nhidden = 3\n").expect("write");
    let o = run(&["train", "broken.toml"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.toml:1:"), "{}", stderr(&o));
    let o = run(&["train", "missing.toml"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.toml"));
    std::fs::write(d.path().join("nodata.toml"), "[data]\nfiles = [\"absent.txt\"]\n").expect("write");
    let o = run(&["train", "nodata.toml"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("absent.txt"), "{}", stderr(&o));
    let o = run(&["--headless"], d.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn probe_text_that_is_too_short_is_bad_input() {
    let d = setup("");
    let o = run(&["train", "tiny.toml", "--steps", "2", "--out", "r"], d.path());
    assert!(o.status.success());
    let ck = run_dirs(&d.path().join("r"))[0].join("latest.safetensors");
    let o = run(&["probe", ck.to_str().expect("utf-8"), "--text", "t"], d.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_exits_cleanly() {
    let d = setup("");
    let child = bin()
        .args([
            "train",
            "tiny.toml",
            "--steps",
            "100000",
            "--out",
            "r",
            "--threads",
            "1",
        ])
        .current_dir(d.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until training is under way (a metrics line exists).
    let start = std::time::Instant::now();
    let metrics_file = loop {
        if let Some(dir) = std::fs::read_dir(d.path().join("r"))
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
        {
            let f = dir.path().join("metrics.jsonl");
            if std::fs::metadata(&f).map(|m| m.len() > 0).unwrap_or(false) {
                break f;
            }
        }
        assert!(start.elapsed().as_secs() < 60, "training never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // SAFETY: sending SIGINT to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {err}", out.status.code());
    let ck = metrics_file.parent().expect("run dir").join("latest.safetensors");
    assert!(ck.exists(), "no checkpoint after Ctrl-C: {err}");
    let s = run(&["sample", ck.to_str().expect("utf-8"), "--length", "5"], d.path());
    assert!(s.status.success(), "the saved checkpoint does not load: {}", stderr(&s));
}

#[test]
fn divergence_is_reported_rolled_back_and_exits_3() {
    let d = setup("");
    let exp = "[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"rnn\"\nhidden = 16\n\
               [training]\noptimizer = \"sgd\"\nlr = 1e9\nclip_norm = 0\nsteps = 50\nbatch_size = 4\nseq_len = 8\nlog_every = 1\ncheckpoint_every = 1\n";
    std::fs::write(d.path().join("wild.toml"), exp).expect("write");
    let o = run(&["train", "wild.toml", "--out", "r"], d.path());
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("diverged at step") && e.contains("rolled back"), "{e}");
    assert!(!e.contains("panicked"));
    // The checkpoint left behind is the last good one and loads.
    let ck = run_dirs(&d.path().join("r"))[0].join("latest.safetensors");
    let s = run(&["sample", ck.to_str().expect("utf-8"), "--length", "5"], d.path());
    assert!(s.status.success(), "{}", stderr(&s));
}

#[test]
fn divergence_at_step_1_exits_3_and_saves_nothing_broken() {
    let d = setup("");
    let exp = "[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 8\n\
               [training]\noptimizer = \"sgd\"\nlr = 1e300\nclip_norm = 0\nsteps = 50\nbatch_size = 4\nseq_len = 8\nlog_every = 1\n";
    std::fs::write(d.path().join("wild.toml"), exp).expect("write");
    let o = run(&["train", "wild.toml", "--out", "r"], d.path());
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("rnn-lab: error: training diverged at step 1"), "{e}");
    assert_eq!(
        e.lines().filter(|l| l.starts_with("rnn-lab: error:")).count(),
        1,
        "one error line: {e}"
    );
    assert!(!e.contains("panicked"));
    // Nothing broken on disk: every checkpoint there loads (and none is required).
    let rd = &run_dirs(&d.path().join("r"))[0];
    for f in ["latest.safetensors", "best.safetensors"] {
        let ck = rd.join(f);
        if ck.exists() {
            let s = run(&["sample", ck.to_str().expect("utf-8"), "--length", "5"], d.path());
            assert!(s.status.success(), "{f} is broken: {}", stderr(&s));
        }
    }
}

/// Seconds of an ETA printed as `m:ss` or `h:mm:ss`.
fn eta_seconds(line: &str) -> Option<u64> {
    let t = line.split("ETA ").nth(1)?.split_whitespace().next()?;
    t.split(':')
        .try_fold(0u64, |acc, p| p.parse::<u64>().ok().map(|v| acc * 60 + v))
}

#[test]
fn with_minutes_the_eta_is_that_of_the_time_limit() {
    let d = setup("");
    // Evaluate, checkpoint, sample and probe only at the end, so the run is all training.
    let exp = "[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"rnn\"\nhidden = 8\n\
               [training]\nbatch_size = 2\nseq_len = 8\nlog_every = 200\neval_every = 0\ncheckpoint_every = 0\n\
               sample_every = 0\nprobe_every = 0\n";
    std::fs::write(d.path().join("quiet.toml"), exp).expect("write");
    // 1.2 s of training against a hundred million steps: the time limit ends the run.
    let o = run(
        &[
            "train",
            "quiet.toml",
            "--minutes",
            "0.02",
            "--steps",
            "100000000",
            "--out",
            "r",
            "--threads",
            "1",
        ],
        d.path(),
    );
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    let etas: Vec<u64> = e
        .lines()
        .filter(|l| l.starts_with("step "))
        .filter_map(eta_seconds)
        .collect();
    assert!(!etas.is_empty(), "no progress lines: {e}");
    // Whatever the machine's speed, the run ends within its 1.2 s of training; an ETA from
    // --steps would be hours.
    assert!(
        etas.iter().all(|&s| s < 600),
        "ETA from --steps, not --minutes: {etas:?}\n{e}"
    );
}

fn progress(step: u64, total: u64, wall_s: f64, train_s: f64, limit_s: Option<f64>) -> Progress {
    Progress {
        step,
        first: 0,
        total,
        wall_s,
        train_s,
        limit_s,
    }
}

#[test]
fn eta_is_that_of_the_limit_that_ends_the_run_first() {
    // 100 of 1,000,000 steps in 10 s: 99,999 s left by steps.
    let by_steps = progress(100, 1_000_000, 10.0, 8.0, None);
    assert!((by_steps.eta_s() - 99_990.0).abs() < 1e-6, "{}", by_steps.eta_s());
    // A 10-minute limit with 8 s trained in 10 s of wall clock: (600 − 8) · 10 / 8 = 740 s.
    let by_time = progress(100, 1_000_000, 10.0, 8.0, Some(600.0));
    assert!((by_time.eta_s() - 740.0).abs() < 1e-9, "{}", by_time.eta_s());
    // The steps end first: 900 of 1,000 steps in 90 s, 10 s left; the limit is far.
    let steps_first = progress(900, 1000, 90.0, 80.0, Some(3600.0));
    assert!((steps_first.eta_s() - 10.0).abs() < 1e-9, "{}", steps_first.eta_s());
    // Resumed runs count only the steps of this run.
    let resumed = Progress {
        first: 800,
        ..progress(900, 1000, 10.0, 9.0, None)
    };
    assert!((resumed.eta_s() - 10.0).abs() < 1e-9);
    // Before the first step: the limit alone, or nothing known.
    assert!((progress(0, 1000, 0.0, 0.0, Some(60.0)).eta_s() - 60.0).abs() < 1e-9);
    assert!(progress(0, 1000, 0.0, 0.0, None).eta_s().is_nan());
    // Past the limit (the step in flight finishes): 0, never negative.
    assert_eq!(progress(10, 1_000_000, 5.0, 61.0, Some(60.0)).eta_s(), 0.0);
    // The bar: by steps, or by time when that is further along.
    assert!((by_steps.fraction() - 1e-4).abs() < 1e-12);
    assert!((by_time.fraction() - 8.0 / 600.0).abs() < 1e-12);
    assert_eq!(progress(10, 100, 1.0, 120.0, Some(60.0)).fraction(), 1.0);
}

#[test]
fn run_directories_and_the_latest_selector_name_checkpoints() {
    let d = setup("");
    for _ in 0..2 {
        let o = run(&["train", "tiny.toml", "--steps", "10"], d.path());
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let runs = run_dirs(&d.path().join("runs"));
    assert_eq!(runs.len(), 2);
    // A run directory is its best checkpoint; runs/NAME@latest the newest run's.
    let dir = runs[0].to_string_lossy().to_string();
    for arg in [dir.as_str(), "runs/tiny@latest", "runs/tiny@latest/latest.safetensors"] {
        let o = run(&["sample", arg, "--length", "5"], d.path());
        assert!(o.status.success(), "sample {arg}: {}", stderr(&o));
        assert!(!o.stdout.is_empty());
    }
    let o = run(&["sample", "runs/tiny@latest"], d.path());
    let newest = runs[1].file_name().expect("name").to_string_lossy().to_string();
    assert!(stderr(&o).contains(&newest), "{}", stderr(&o));
    // The folder of runs: what to pass instead, not "Is a directory".
    let o = run(&["sample", "runs"], d.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("runs/tiny@latest") && !e.contains("os error"), "{e}");
    // --resume takes the selector too; --steps is the step to reach.
    let o = run(
        &["train", "tiny.toml", "--resume", "runs/tiny@latest", "--steps", "15"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("to step 15 (5 steps from step 10)"),
        "{}",
        stderr(&o)
    );
    let last = metrics(&run_dirs(&d.path().join("runs"))[2]);
    assert_eq!(last.last().expect("a line")["step"], 15);
}

#[test]
fn resuming_another_experiments_checkpoint_says_so() {
    let d = setup("");
    let o = run(&["train", "tiny.toml", "--steps", "5"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(d.path().join("other.txt"), "zyxw vuts\n".repeat(40)).expect("write");
    std::fs::write(
        d.path().join("other.toml"),
        "[experiment]\nname = \"other\"\n[data]\nfiles = [\"other.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 16\n",
    )
    .expect("write");
    let o = run(&["train", "other.toml", "--resume", "runs/tiny@latest"], d.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("checkpoint of experiment `tiny`, not `other`") && !e.contains("data changed"),
        "{e}"
    );
}

#[test]
fn unknown_prime_tokens_are_named_and_an_empty_sample_is_visible() {
    let d = setup("");
    let o = run(&["train", "tiny.toml", "--steps", "5"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        &["sample", "runs/tiny@latest", "--prime", "the Zé", "--length", "3"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("\"Z\", \"é\""), "{e}");
    // Zero tokens to generate: the marker, not a blank line.
    let o = run(
        &["sample", "runs/tiny@latest", "--prime", "", "--length", "0"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        rnn_lab::infer::sample::EMPTY_SAMPLE
    );
}
