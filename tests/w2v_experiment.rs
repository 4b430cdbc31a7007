//! `[task] kind = "word2vec"` experiments: the file's keys and errors, a session's run
//! directory (metrics lines, snapshots, checkpoint, vectors), exact resume, and `rnn-lab train`
//! on such a file through the real binary.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use rnn_lab::w2v::experiment::{self, is_word2vec};
use rnn_lab::w2v::session::{self, Event, Session, SessionOptions};
use rnn_lab::w2v::{formats, Arch, Level, Objective, W2vError};

/// Two topics: `sun`/`moon` share their contexts, `cat`/`dog` theirs.
fn corpus(dir: &Path) {
    let mut t = String::new();
    for i in 0..400 {
        let (a, ctx) = match i % 4 {
            0 => ("sun", "bright sky shines above"),
            1 => ("moon", "bright sky shines above"),
            2 => ("cat", "pet purrs on sofa"),
            _ => ("dog", "pet purrs on sofa"),
        };
        t.push_str(&format!("the {a} {ctx} today\n"));
    }
    std::fs::write(dir.join("c.txt"), t).unwrap();
    std::fs::write(
        dir.join("q.txt"),
        ": capital-common-countries\nsun moon cat dog\n: gram1-adjective-to-adverb\nsky bright pet purrs\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ws.txt"),
        "sun moon 9\r\ncat dog 8\r\nsun dog 1\r\nsky sofa 2\r\n",
    )
    .unwrap();
}

const EXP: &str = r#"
[experiment]
name = "tiny"
seed = 7

[data]
files = ["c.txt"]
level = "word"
min_count = 1

[task]
kind = "word2vec"
arch = "skipgram"
dim = 12
window = 3
sample = 0
table_size = 10000
step_words = 700
watch = ["sun", "cat", "zebra"]
neighbours = 3
analogies = "q.txt"
pairs = ["ws.txt"]

[training]
epochs = 4
log_every = 1
eval_every = 3
checkpoint_every = 5
"#;

fn write_exp(dir: &Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("tiny.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn opts(out: &Path) -> SessionOptions {
    SessionOptions {
        out: Some(out.to_path_buf()),
        threads: Some(1),
        projection: true,
        ..SessionOptions::default()
    }
}

#[test]
fn the_file_sets_every_key_and_defaults_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    assert!(is_word2vec(EXP));
    assert!(!is_word2vec("[task]\nkind = \"tagging\"\n"));
    assert!(!is_word2vec("[data]\nfiles = [\"a.txt\"]\n"));
    assert!(!is_word2vec("not toml ["));
    let e = experiment::parse_str(EXP, &dir.path().join("tiny.toml")).unwrap();
    assert_eq!(e.name, "tiny");
    let s = &e.settings;
    assert_eq!(
        (s.arch, s.objective, s.level),
        (Arch::Skipgram, Objective::Ns, Level::Word)
    );
    assert_eq!(
        (s.dim, s.window, s.negative, s.min_count, s.epochs, s.seed),
        (12, 3, 5, 1, 4, 7)
    );
    assert_eq!(s.sample, 0.0);
    // The original tool's defaults: 0.025 for skip-gram, floor lr × 1e-4.
    assert_eq!((s.lr, s.min_lr), (0.025, 0.025e-4));
    assert_eq!(e.watch, ["sun", "cat", "zebra"]);
    assert_eq!(
        (e.neighbours, e.eval_every, e.checkpoint_every, e.log_every),
        (3, 3, 5, 1)
    );
    let cbow = experiment::parse_str(
        "[data]\nfiles = [\"c.txt\"]\n[task]\nkind = \"word2vec\"\narch = \"cbow\"\nobjective = \"hs\"\n",
        &dir.path().join("cbow.toml"),
    )
    .unwrap();
    assert_eq!(cbow.name, "cbow");
    assert_eq!(
        (cbow.settings.arch, cbow.settings.objective, cbow.settings.lr),
        (Arch::Cbow, Objective::Hs, 0.05)
    );
    assert_eq!(
        (cbow.neighbours, cbow.restrict_vocab, cbow.projection),
        (8, 30_000, 300)
    );
}

#[track_caller]
fn bad(text: &str, want: &str) {
    let e = experiment::parse_str(text, Path::new("x/e.toml")).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, W2vError::At { .. }), "{msg}");
    assert!(msg.starts_with(want), "`{msg}` does not start with `{want}`");
    assert_eq!(msg.lines().count(), 1, "{msg}");
}

#[test]
fn errors_name_the_file_line_and_column() {
    let head = "[data]\nfiles = [\"c.txt\"]\n[task]\nkind = \"word2vec\"\n";
    bad(&format!("{head}windw = 3\n"), "x/e.toml:5:1: unknown field `windw`");
    bad(
        &format!("{head}window = 0\n"),
        "x/e.toml:5:10: window = 0: must be 1 to 1000",
    );
    bad(
        &format!("{head}arch = \"skipgrm\"\n"),
        "x/e.toml:5:8: unknown variant `skipgrm`",
    );
    bad(
        &format!("{head}[training]\nlr = 0.01\nmin_lr = 0.1\n"),
        "x/e.toml:7:10: min_lr = 0.1: must be between 0 and lr",
    );
    bad(
        &format!("{head}watch = [\"a b\"]\n"),
        "x/e.toml:5:9: watch: `a b` is not a single token",
    );
    bad(&format!("{head}dim = \"big\"\n"), "x/e.toml:5:7: invalid type");
    bad("[task]\nkind = \"word2vec\"\n", "x/e.toml:1:1: [data] files");
    bad(
        "[data]\nfiles = [\"c.txt\"]\n[task]\nkind = \"word2vec\"\n[model]\nhidden = 3\n",
        "x/e.toml:5:2: unknown field `model`",
    );
}

#[test]
fn a_session_writes_metrics_snapshots_checkpoint_and_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let exp = experiment::load(&write_exp(d, EXP)).unwrap();
    let mut s = Session::prepare(exp, &opts(&d.join("runs"))).unwrap();
    let info = s.info();
    assert_eq!(info.unknown_watch, ["zebra"]);
    let total = info.total_steps;
    assert_eq!(total % 4, 0, "the same steps each epoch");
    let mut events = Vec::new();
    let sum = s.run(&AtomicBool::new(false), None, &mut |e| events.push(e)).unwrap();
    assert!(sum.finished && sum.step == total, "{sum:?}");
    assert_eq!(sum.epoch_losses.len(), 4);
    assert!(sum.epoch_losses[3] < sum.epoch_losses[0], "{:?}", sum.epoch_losses);
    let run = sum.run_dir.clone();
    for f in ["config.toml", "metrics.jsonl", "latest.safetensors", "vectors.txt"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    // metrics.jsonl: a line per step, per epoch, per evaluation (the start, every 3 steps, each
    // epoch's end when eval_every does not fall on it, the end).
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kind = |k: &str| lines.iter().filter(|l| l["kind"] == k).collect::<Vec<_>>();
    assert_eq!(kind("step").len() as u64, total);
    assert_eq!(kind("epoch").len(), 4);
    let evals = kind("eval");
    assert_eq!(evals.first().unwrap()["step"], 0);
    assert_eq!(evals.last().unwrap()["step"], total);
    let want = 2 + (1..total).filter(|s| s % 3 == 0).count();
    assert_eq!(evals.len(), want, "{evals:?}");
    for l in kind("step") {
        assert!(l["loss"].as_f64().unwrap() > 0.0 && l["lr"].as_f64().unwrap() > 0.0 && l["words_per_s"].is_number());
    }
    // The epoch's loss is the mean over its examples: Σ loss·examples / Σ examples of its steps.
    let steps = kind("step");
    let per = total as usize / 4;
    let (num, den) = steps[..per].iter().fold((0.0, 0.0), |(n, d), l| {
        let ex = l["examples"].as_f64().unwrap();
        (n + l["loss"].as_f64().unwrap() * ex, d + ex)
    });
    let e1 = kind("epoch")[0]["loss"].as_f64().unwrap();
    assert!((num / den - e1).abs() < 1e-9 * e1, "{} vs {e1}", num / den);
    // The last snapshot: sun's nearest neighbour is moon, cat's is dog; zebra is unknown; the
    // analogy sun:moon::cat:dog is answered; ws.txt ranks sun–moon and cat–dog above the rest.
    let Some(Event::Snapshot(last)) = events.iter().rev().find(|e| matches!(e, Event::Snapshot(_))) else {
        panic!("no snapshot")
    };
    assert_eq!(last.neighbours[0].neighbours[0].0, "moon", "{:?}", last.neighbours);
    assert_eq!(last.neighbours[1].neighbours[0].0, "dog", "{:?}", last.neighbours);
    assert_eq!(last.neighbours[1].neighbours.len(), 3);
    assert!(!last.neighbours[2].known && last.neighbours[2].neighbours.is_empty());
    let a = last.analogy.unwrap();
    assert_eq!((a.answered, a.coverage), (2, 1.0));
    assert!(last.pairs[0].spearman.unwrap() > 0.5, "{:?}", last.pairs);
    // The map: the 14 words of the corpus (fewer than `projection`), sun near moon.
    assert_eq!(last.projection.len(), 14);
    let at = |w: &str| last.projection.iter().find(|p| p.0 == w).map(|p| (p.1, p.2)).unwrap();
    let dist = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    assert!(dist(at("sun"), at("moon")) < dist(at("sun"), at("dog")));
    // Checkpoints every 5 steps and one at the end.
    let saved: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Saved { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    let mut want: Vec<u64> = (1..total).filter(|s| s % 5 == 0).collect();
    want.push(total);
    assert_eq!(saved, want);
    // The vectors file reads back and agrees with the model.
    let emb = formats::read(&run.join("vectors.txt")).unwrap();
    assert_eq!((emb.len(), emb.dim()), (14, 12));
    assert_eq!(emb.data(), s.trainer().syn0());
}

#[test]
fn stopping_and_resuming_gives_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let path = write_exp(d, EXP);
    let whole = {
        let mut s = Session::prepare(experiment::load(&path).unwrap(), &opts(&d.join("a"))).unwrap();
        s.run(&AtomicBool::new(false), None, &mut |_| {}).unwrap()
    };
    let part = {
        let o = SessionOptions {
            steps: Some(4),
            ..opts(&d.join("b"))
        };
        let mut s = Session::prepare(experiment::load(&path).unwrap(), &o).unwrap();
        s.run(&AtomicBool::new(false), None, &mut |_| {}).unwrap()
    };
    assert_eq!(part.step, 4);
    assert!(!part.finished);
    let ckpt = part.run_dir.join("latest.safetensors");
    let resumed = {
        let o = SessionOptions {
            resume: Some(ckpt.clone()),
            out: None,
            threads: Some(1),
            ..SessionOptions::default()
        };
        let mut s = Session::prepare(experiment::load(&path).unwrap(), &o).unwrap();
        assert_eq!(s.info().start_step, 4);
        assert_eq!(s.run_dir(), part.run_dir.as_path(), "the checkpoint's run goes on");
        s.run(&AtomicBool::new(false), None, &mut |_| {}).unwrap()
    };
    assert!(resumed.finished);
    assert_eq!(resumed.epoch_losses, whole.epoch_losses);
    assert_eq!(
        std::fs::read(whole.run_dir.join("vectors.txt")).unwrap(),
        std::fs::read(resumed.run_dir.join("vectors.txt")).unwrap()
    );
    // The resumed run's metrics hold every step once.
    let steps: Vec<u64> = std::fs::read_to_string(resumed.run_dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "step")
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, (1..=whole.step).collect::<Vec<_>>());
    // Another experiment (dim 16) refuses the checkpoint.
    let other = write_exp(d, &EXP.replace("dim = 12", "dim = 16"));
    let o = SessionOptions {
        resume: Some(ckpt),
        ..opts(&d.join("c"))
    };
    let e = Session::prepare(experiment::load(&other).unwrap(), &o)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("latest.safetensors: trained with other settings") && e.contains("dim 12 ≠ 16"),
        "{e}"
    );
}

#[test]
fn commands_add_watched_words_and_snapshot_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let exp = experiment::load(&write_exp(d, EXP)).unwrap();
    let mut s = Session::prepare(exp, &opts(&d.join("runs"))).unwrap();
    let (tx, rx) = mpsc::channel();
    tx.send(session::Command::Watch("dog".into())).unwrap();
    tx.send(session::Command::Unwatch("zebra".into())).unwrap();
    let mut snaps = Vec::new();
    s.run(&AtomicBool::new(false), Some(&rx), &mut |e| {
        if let Event::Snapshot(x) = e {
            snaps.push(x)
        }
    })
    .unwrap();
    let words = |x: &session::Snapshot| x.neighbours.iter().map(|w| w.word.clone()).collect::<Vec<_>>();
    assert_eq!(words(&snaps[0]), ["sun", "cat", "zebra"]);
    assert_eq!(words(snaps.last().unwrap()), ["sun", "cat", "dog"]);
}

fn rnn_lab(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rnn-lab"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rnn-lab")
}

#[test]
fn rnn_lab_train_runs_a_word2vec_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    write_exp(d, EXP);
    let o = rnn_lab(&["train", "tiny.toml", "--out", "r", "--json", "--threads", "1"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("word2vec tiny (skip-gram, negative sampling k=5, 12-d, window 3)"),
        "{err}"
    );
    assert!(err.contains("watched words not in the vocabulary: zebra"), "{err}");
    assert!(err.contains("sun: moon"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let kinds: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds.last().unwrap(), "done");
    assert!(kinds.iter().any(|k| k == "epoch") && kinds.iter().any(|k| k == "eval"));
    // Bad input: one line with file:line:col, exit 2.
    std::fs::write(d.join("bad.toml"), EXP.replace("window = 3", "window = -3")).unwrap();
    let o = rnn_lab(&["train", "bad.toml", "--out", "r"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml:15:10:"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    std::fs::write(d.join("nodata.toml"), EXP.replace("c.txt", "missing.txt")).unwrap();
    let o = rnn_lab(&["train", "nodata.toml", "--out", "r"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nodata.toml: data file `missing.txt` not found"), "{err}");
}

#[test]
fn check_prints_the_resolved_file_which_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    write_exp(d, EXP);
    let o = rnn_lab(&["check", "tiny.toml"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("tiny.toml is valid (word2vec); data: 1 file(s)"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("min_lr = 2.5e-6") || out.contains("min_lr = 0.0000025"),
        "{out}"
    );
    let again = experiment::parse_str(&out, &d.join("tiny.toml")).unwrap();
    assert_eq!(again, experiment::load(&d.join("tiny.toml")).unwrap());
}
