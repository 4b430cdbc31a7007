//! `rnn-lab sweep` through the real binary: bad sweep files (one located line, exit 2), a local
//! sweep end to end (points, table, skipped on a second run), Ctrl-C and resume from the
//! checkpoint, the Slurm dry run, and sbatch missing or refusing.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli::{bin, run, stderr, stdout};

/// A corpus, a tiny experiment `tiny.toml` and the sweep file `sw.toml` in a temporary folder.
fn setup(sweep: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(40);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("corpus");
    let exp = "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 8\n\
               [training]\nbatch_size = 4\nseq_len = 8\nsteps = 12\nlog_every = 4\neval_every = 4\ncheckpoint_every = 4\nsample_every = 0\nprobe_every = 0\n";
    std::fs::create_dir_all(dir.path().join("exp")).expect("mkdir");
    std::fs::write(
        dir.path().join("exp/tiny.toml"),
        exp.replace("corpus.txt", "../corpus.txt"),
    )
    .expect("experiment");
    std::fs::write(dir.path().join("sw.toml"), sweep).expect("sweep");
    dir
}

const GOOD: &str = "[sweep]\nbase = \"exp/tiny.toml\"\ntrials = 2\nseed = 5\n\n[axes]\n\"model.cell\" = [\"rnn\", \"gru\"]\n\"training.lr\" = { log_uniform = [1e-3, 1e-2] }\n";

/// (sweep file, line, col, a fragment of the message).
const BAD: &[(&str, usize, usize, &str)] = &[
    // An unknown key: the experiment checker's did-you-mean, at the axis's line.
    (
        "[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hiden\" = [8, 16]\n",
        4,
        1,
        "unknown key `hiden` in [model], did you mean `hidden`?",
    ),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"modle.hidden\" = [8]\n", 4, 1, "did you mean [model]?"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hidden\" = []\n", 4, 18, "is empty"),
    (
        "[sweep]\nbase = \"exp/tiny.toml\"\ntrials = 3\n[axes]\n\"training.lr\" = { log_uniform = [1e-2, 1e-4] }\n",
        5,
        33,
        "low 0.01 is above high 0.0001",
    ),
    (
        "[sweep]\nbase = \"exp/nope.toml\"\n[axes]\n\"model.hidden\" = [8]\n",
        2,
        8,
        "base experiment \"exp/nope.toml\" not found",
    ),
    (
        "[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hidden\" = [8]\n\"training.lr\" = { uniform = [0.001, 0.01] }\n",
        5,
        1,
        "needs `trials`",
    ),
    (
        "[sweep]\nbase = \"exp/tiny.toml\"\ntrials = 2\n[axes]\n\"training.lr\" = { log_uniforn = [0.001, 0.01] }\n",
        5,
        19,
        "did you mean `log_uniform`?",
    ),
    // A value the experiment checker refuses: at the axis, with the point.
    (
        "[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hidden\" = [8, 0]\n",
        4,
        1,
        "point p001 (model.hidden = 0): `hidden` = 0 in [model]: must be at least 1",
    ),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axis]\n\"model.hidden\" = [8]\n", 3, 2, "did you mean [axes]?"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n", 1, 1, "no axes"),
    ("[axes]\n\"model.hidden\" = [8]\n", 1, 1, "missing [sweep]"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\ntrials = 2\n[axes]\n\"model.hidden\" = [8]\n", 3, 1, "`trials`"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hidden\" = 8\n", 4, 18, "to fix a key for every point, put it under [set]"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\n\"model.hidden\" = [8\n", 4, 20, "invalid TOML"),
    ("[sweep]\nbase = \"exp/tiny.toml\"\n[axes]\nhidden = [8]\n", 4, 1, "needs its section: write \"model.hidden\""),
];

#[test]
fn bad_sweep_files_get_one_located_line_and_exit_2() {
    for (text, line, col, want) in BAD {
        let d = setup(text);
        let o = run(&["sweep", "sw.toml", "--dry-run"], d.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}\n{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        let place = format!("rnn-lab: error: sw.toml:{line}:{col}: ");
        assert!(err.starts_with(&place), "want {place} in\n{err}\nfor\n{text}");
        assert!(err.contains(want), "want {want:?} in\n{err}");
        assert!(!d.path().join("sweeps").exists(), "a bad sweep must write nothing");
    }
}

#[test]
fn a_bad_base_experiment_is_reported_at_its_own_line() {
    let d = setup(GOOD);
    std::fs::write(
        d.path().join("exp/tiny.toml"),
        "[data]\nfiles = [\"../corpus.txt\"]\n[model]\nhidden = 0\n",
    )
    .unwrap();
    let o = run(&["sweep", "sw.toml"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("exp/tiny.toml:4:1: `hidden` = 0"), "{}", stderr(&o));
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .expect("results.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn a_local_sweep_runs_every_point_and_sorts_the_table() {
    let d = setup(GOOD);
    let o = run(&["sweep", "sw.toml", "--parallel", "2", "--format", "json"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json table");
    assert_eq!(doc["axes"], serde_json::json!(["model.cell", "training.lr"]));
    let rows = doc["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let losses: Vec<f64> = rows
        .iter()
        .map(|r| r["best_val_loss"].as_f64().expect("loss"))
        .collect();
    assert!(losses.windows(2).all(|w| w[0] <= w[1]), "not sorted: {losses:?}");
    for r in rows {
        assert_eq!(r["status"], "finished");
        assert_eq!(r["steps"], 12);
        let lr = r["values"]["training.lr"].as_f64().expect("lr");
        assert!((1e-3..=1e-2).contains(&lr), "{lr}");
    }
    let root = d.path().join("sweeps/sw");
    // Every point is an ordinary experiment file, with the point's values.
    for i in 0..4 {
        let file = root.join(format!("points/p00{i}.toml"));
        let c = run(&["check", file.to_str().unwrap()], d.path());
        assert!(c.status.success(), "{}", stderr(&c));
        let resolved = stdout(&c);
        let cell = rows.iter().find(|r| r["point"] == format!("p00{i}")).unwrap()["values"]["model.cell"].clone();
        assert!(
            resolved.contains(&format!("cell = \"{}\"", cell.as_str().unwrap())),
            "{resolved}"
        );
        assert!(resolved.contains(&format!("name = \"sw-p00{i}\"")), "{resolved}");
    }
    // Grid × draws: both cells with the same two learning rates.
    let mut by_cell: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["values"]["model.cell"].to_string(),
                r["values"]["training.lr"].to_string(),
            )
        })
        .collect();
    by_cell.sort();
    let lrs_gru: Vec<&String> = by_cell.iter().filter(|x| x.0.contains("gru")).map(|x| &x.1).collect();
    let lrs_rnn: Vec<&String> = by_cell.iter().filter(|x| x.0.contains("rnn")).map(|x| &x.1).collect();
    assert_eq!(lrs_gru, lrs_rnn);
    for f in ["results.md", "results.csv", "results.json", "sweep.json", "sweep.toml"] {
        assert!(root.join(f).is_file(), "missing {f}");
    }
    let md = std::fs::read_to_string(root.join("results.md")).unwrap();
    assert!(
        md.starts_with("| rank | point | `model.cell` | `training.lr` | best val loss |"),
        "{md}"
    );
    assert_eq!(csv_rows(&root.join("results.csv")).len(), 4);

    // A second run skips every point and starts nothing.
    let runs_before: Vec<PathBuf> = (0..4)
        .flat_map(|i| {
            std::fs::read_dir(root.join(format!("runs/p00{i}")))
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    let o = run(&["sweep", "sw.toml"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("already finished").count(), 4, "{}", stderr(&o));
    let runs_after: Vec<PathBuf> = (0..4)
        .flat_map(|i| {
            std::fs::read_dir(root.join(format!("runs/p00{i}")))
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    assert_eq!(runs_before.len(), runs_after.len());

    // --results prints the same table without running anything.
    let o = run(&["sweep", "sw.toml", "--results", "--format", "csv"], d.path());
    assert!(o.status.success());
    assert_eq!(stdout(&o), std::fs::read_to_string(root.join("results.csv")).unwrap());

    // Changing what a finished point ran is refused, naming the key.
    std::fs::write(
        d.path().join("sw.toml"),
        GOOD.replace("[axes]", "[set]\n\"training.steps\" = 13\n[axes]"),
    )
    .unwrap();
    let o = run(&["sweep", "sw.toml"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("training.steps = 12, now 13"), "{}", stderr(&o));
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_leaves_points_resumable_and_a_second_run_resumes_them() {
    let sweep = "[sweep]\nbase = \"exp/tiny.toml\"\n[set]\n\"training.steps\" = 400\n\"training.log_every\" = 2\n\"training.eval_every\" = 50\n\"training.checkpoint_every\" = 5\n[axes]\n\"model.hidden\" = [4, 6]\n";
    let d = setup(sweep);
    let child = bin()
        .args(["sweep", "sw.toml", "--parallel", "2"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let root = d.path().join("sweeps/sw");
    let has_checkpoint = |id: &str| {
        std::fs::read_dir(root.join("runs").join(id))
            .map(|rd| rd.flatten().any(|e| e.path().join("latest.safetensors").exists()))
            .unwrap_or(false)
    };
    wait_for("a checkpoint of each point", Duration::from_secs(60), || {
        has_checkpoint("p000") && has_checkpoint("p001")
    });
    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let t = Instant::now();
    let o = child.wait_with_output().expect("wait");
    assert!(t.elapsed() < Duration::from_secs(30), "slow to stop");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    for id in ["p000", "p001"] {
        let st: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(format!("status/{id}.json"))).unwrap()).unwrap();
        // A point that happened to finish before the signal is fine too.
        assert!(st["state"] == "interrupted" || st["state"] == "finished", "{st}");
    }
    // No trainer is left behind.
    std::thread::sleep(Duration::from_millis(200));
    let o = run(&["sweep", "sw.toml", "--format", "csv"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read_to_string(root.join("logs/p000.log")).unwrap();
    assert!(log.contains("--resume"), "{log}");
    for r in csv_rows(&root.join("results.csv")) {
        assert_eq!(r[r.len() - 2], "finished");
        assert_eq!(r[4], "400", "{r:?}");
    }
    // The resumed run holds the whole history: its first logged step is the first of all.
    let runs: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("runs/p000"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    assert!(runs.len() >= 2, "{runs:?}");
    let metrics = std::fs::read_to_string(runs[runs.len() - 1].join("metrics.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
    assert_eq!(first["step"], 2);
}

#[test]
fn slurm_dry_run_prints_the_batch_script_and_writes_nothing() {
    let d = setup(&format!(
        "{GOOD}\n[slurm]\ncpus = 2\nmem = \"1G\"\ntime = \"00:10:00\"\npartition = \"short\"\nmax_running = 3\nsbatch = [\"--account=proj\"]\n"
    ));
    let o = run(&["sweep", "sw.toml", "--executor", "slurm", "--dry-run"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    for want in [
        "#!/bin/bash\n",
        "#SBATCH --array=0-3%3\n",
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --mem=1G\n",
        "#SBATCH --time=00:10:00\n",
        "#SBATCH --partition=short\n",
        "#SBATCH --account=proj\n",
        "/sweeps/sw/logs/slurm-%A_%a.out\n",
        " sweep-point ",
        "\"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"",
    ] {
        assert!(s.contains(want), "{want:?} not in\n{s}");
    }
    assert!(!d.path().join("sweeps").exists());
}

/// A folder holding a fake `sbatch` (and nothing else), for PATH.
fn fake_bin(script: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(s) = script {
        let p = dir.path().join("sbatch");
        std::fs::write(&p, format!("#!/bin/sh\n{s}\n")).unwrap();
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&p, perm).unwrap();
    }
    dir
}

#[test]
fn sbatch_missing_or_refusing_is_one_clear_line() {
    let d = setup(GOOD);
    let empty = fake_bin(None);
    let t = Instant::now();
    let o = bin()
        .args(["sweep", "sw.toml", "--executor", "slurm"])
        .current_dir(d.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("sbatch not found"), "{err}");

    let refusing = fake_bin(Some(
        "echo 'sbatch: error: invalid partition specified: nope' >&2; exit 1",
    ));
    let path = format!("{}:/usr/bin:/bin", refusing.path().display());
    let o = bin()
        .args(["sweep", "sw.toml", "--executor", "slurm"])
        .current_dir(d.path())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim_end(),
        "rnn-lab: error: sbatch refused the job: invalid partition specified: nope"
    );

    let unreachable = fake_bin(Some(
        "echo 'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)' >&2; exit 1",
    ));
    let path = format!("{}:/usr/bin:/bin", unreachable.path().display());
    let o = bin()
        .args(["sweep", "sw.toml", "--executor", "slurm"])
        .current_dir(d.path())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("could not reach Slurm"), "{}", stderr(&o));
    assert!(t.elapsed() < Duration::from_secs(60));
}

#[test]
fn shipped_sweep_files_check_for_both_executors() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo.join("experiments/sweeps"))
        .expect("experiments/sweeps")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let out = tempfile::tempdir().unwrap();
    for f in files {
        for executor in ["local", "slurm"] {
            let o = run(
                &[
                    "sweep",
                    f.to_str().unwrap(),
                    "--dry-run",
                    "--executor",
                    executor,
                    "--out",
                    out.path().to_str().unwrap(),
                ],
                repo,
            );
            assert!(o.status.success(), "{}: {}", f.display(), stderr(&o));
        }
    }
}
