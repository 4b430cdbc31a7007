//! End-to-end tests of tasks through the real binary: a tagging experiment with separate train /
//! valid / test column files and a bidirectional LSTM, a classification experiment with a
//! held-out fraction, a generated regression task; `train`, `eval`, `predict`, and `sample`
//! refusing a model that is not a language model. Tiny models, few steps.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use cli::{run, stderr, stdout};

fn only_run_dir(out: &Path) -> PathBuf {
    let v: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

fn metrics(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .expect("metrics.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Sentences of a toy chunking language: determiners and nouns make NP chunks (B-NP I-NP),
/// verbs VP chunks, `.` is O. `seed` varies the sentences.
fn chunk_file(sentences: usize, seed: usize) -> String {
    let dets = ["the", "a", "this"];
    let nouns = ["cat", "dog", "idea", "house"];
    let verbs = ["sees", "likes", "eats"];
    let mut s = String::new();
    for i in 0..sentences {
        let k = i * 7 + seed * 13;
        s.push_str(&format!("{} DT B-NP\n", dets[k % 3]));
        s.push_str(&format!("{} NN I-NP\n", nouns[(k / 3) % 4]));
        s.push_str(&format!("{} VB B-VP\n", verbs[(k / 5) % 3]));
        s.push_str(&format!("{} NN B-NP\n", nouns[(k / 2) % 4]));
        s.push_str(". . O\n\n");
    }
    s
}

#[test]
fn tagging_trains_evaluates_and_predicts_with_a_bidirectional_model() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    std::fs::write(p.join("train.txt"), chunk_file(60, 1)).expect("write");
    std::fs::write(p.join("valid.txt"), chunk_file(10, 2)).expect("write");
    std::fs::write(p.join("test.txt"), chunk_file(10, 3)).expect("write");
    std::fs::write(
        p.join("chunk.toml"),
        "[task]\nkind = \"tagging\"\ntag_column = 3\n\
         [data]\ntrain = [\"train.txt\"]\nvalid = [\"valid.txt\"]\ntest = [\"test.txt\"]\n\
         [model]\ncell = \"lstm\"\nhidden = 12\nembedding = 8\nbidirectional = true\n\
         [training]\nlr = 0.02\nbatch_size = 8\nsteps = 60\nlog_every = 10\neval_every = 30\n",
    )
    .expect("write");
    let o = run(&["train", "chunk.toml", "--out", "runs", "--threads", "1"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = only_run_dir(&p.join("runs"));
    let m = metrics(&dir);
    let last = m.last().expect("metrics");
    assert_eq!(last["task"]["metric"], "chunk F1", "{last}");
    let f1 = last["task"]["value"].as_f64().expect("F1");
    assert!(f1 > 0.9, "chunk F1 {f1} on a trivial language");
    assert!(stderr(&o).contains("chunk F1"), "progress line: {}", stderr(&o));

    let ckpt = dir.join("best.safetensors");
    let ckpt = ckpt.to_str().expect("utf-8 path");
    let o = run(&["eval", ckpt, "test.txt", "--json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("eval json");
    assert_eq!(e["kind"], "tagging");
    assert!(e["accuracy"].as_f64().expect("accuracy") > 0.9, "{e}");
    assert!(e["chunk_f1"].as_f64().is_some(), "{e}");

    // predict: one token per line with its tag, a blank line between sentences.
    std::fs::write(p.join("new.txt"), "the X\ndog X\nsees X\ncat X\n. X\n\n").expect("write");
    let o = run(&["predict", ckpt, "new.txt"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let tags: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').nth(1).expect("a tag column"))
        .collect();
    assert_eq!(tags, ["B-NP", "I-NP", "B-VP", "B-NP", "O"], "{out}");

    // probe: the bidirectional model's states, gates and top tags for a sentence.
    let o = run(&["probe", ckpt, "--text", "the dog sees cat .", "--json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("probe json");
    assert_eq!(r["tokens"].as_array().expect("tokens").len(), 5, "{r}");
    assert_eq!(
        r["layers"].as_array().expect("layers").len(),
        2,
        "forward and backward: {r}"
    );
    assert_eq!(r["steps"][2]["top"][0]["token"], "B-VP", "{r}");

    // A tagging model generates no text: sample says so, exit 2.
    let o = run(&["sample", ckpt], p);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a language model"), "{}", stderr(&o));
}

#[test]
fn classification_holds_out_a_fraction_and_predicts_classes_with_probabilities() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    // The class is the first letter: a… → vowel, anything else → consonant.
    let mut text = String::new();
    for i in 0..120 {
        let (label, first) = if i % 2 == 0 {
            ("vowel", ["a", "e", "o"][i % 3])
        } else {
            ("consonant", ["k", "t", "m"][i % 3])
        };
        text.push_str(&format!("{label}\t{first}{}\n", ["xy", "yyz", "zx", "xzzy"][i % 4]));
    }
    std::fs::write(p.join("train.tsv"), text).expect("write");
    std::fs::write(
        p.join("cls.toml"),
        "[task]\nkind = \"classification\"\n\
         [data]\ntrain = [\"train.tsv\"]\nval_fraction = 0.2\n\
         [model]\ncell = \"gru\"\nhidden = 12\nbidirectional = true\n\
         [training]\nlr = 0.02\nbatch_size = 8\nsteps = 80\nlog_every = 10\neval_every = 40\n",
    )
    .expect("write");
    let o = run(&["train", "cls.toml", "--out", "runs", "--threads", "1"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = only_run_dir(&p.join("runs"));
    let last = metrics(&dir).pop().expect("metrics");
    assert_eq!(last["task"]["metric"], "accuracy", "{last}");
    assert_eq!(last["task"]["valid"]["sequences"], 24, "20% of 120 held out: {last}");
    let ckpt = dir.join("best.safetensors");
    let ckpt = ckpt.to_str().expect("utf-8 path");
    std::fs::write(p.join("new.txt"), "oxy\nmzx\n").expect("write");
    let o = run(&["predict", ckpt, "new.txt", "--json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["class"], "vowel", "{}", lines[0]);
    assert_eq!(lines[1]["class"], "consonant", "{}", lines[1]);
    let total: f64 = lines[0]["probs"]
        .as_object()
        .expect("probs")
        .values()
        .map(|v| v.as_f64().expect("p"))
        .sum();
    assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
}

#[test]
fn a_generated_regression_task_is_scored_on_fresh_sequences() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    std::fs::write(
        p.join("add.toml"),
        "[task]\ngenerator = \"adding\"\nlength = 10\nval_size = 50\ntest_size = 100\n\
         [model]\ncell = \"lstm\"\nhidden = 8\n\
         [training]\nbatch_size = 8\nsteps = 20\nlog_every = 10\neval_every = 10\n",
    )
    .expect("write");
    let o = run(&["train", "add.toml", "--out", "runs", "--threads", "1"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = only_run_dir(&p.join("runs"));
    let last = metrics(&dir).pop().expect("metrics");
    assert_eq!(last["task"]["test"]["sequences"], 100, "{last}");
    assert!(last["task"]["valid"]["mse"].as_f64().is_some(), "{last}");
    let ckpt = dir.join("latest.safetensors");
    let o = run(&["eval", ckpt.to_str().expect("utf-8"), "--json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("eval json");
    assert_eq!(e["kind"], "regression", "{e}");
    assert_eq!(e["sequences"], 100, "{e}");
    assert_eq!(e["solved"], false, "20 steps do not solve the adding problem: {e}");

    // probe without --text: a real-valued task is probed on a validation sequence, each step's
    // input shown as its (value, marker) pair; lengths are drawn from [T, T + T/10] = [10, 11].
    let ck = ckpt.to_str().expect("utf-8");
    let o = run(&["probe", ck, "--json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let first: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("probe json");
    let tokens = first["tokens"].as_array().expect("tokens");
    assert!((10..=11).contains(&tokens.len()), "{first}");
    assert!(
        tokens.iter().all(|t| t.as_str().is_some_and(|s| s.contains(','))),
        "{first}"
    );
    // --sequence 0 is that same first sequence; another index is another sequence.
    let o = run(&["probe", ck, "--sequence", "0", "--json"], p);
    assert_eq!(stdout(&o), stdout(&run(&["probe", ck, "--json"], p)));
    let o7 = run(&["probe", ck, "--sequence", "7", "--json"], p);
    assert!(o7.status.success(), "{}", stderr(&o7));
    assert_ne!(stdout(&o7), stdout(&o), "sequence 7 is not sequence 0");
    // Past the end of the 50 validation sequences: one line naming the checkpoint, exit 2.
    let o = run(&["probe", ck, "--sequence", "50"], p);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("latest.safetensors") && err.contains("has 50 sequence(s)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A text cannot give real values: exit 2, and the way to probe such a model.
    let o = run(&["probe", ck, "--text", "1 2 3"], p);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("leave --text out"), "{}", stderr(&o));
}

#[test]
fn a_bidirectional_language_model_is_refused_with_its_place() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("t.txt"), "abc\n".repeat(50)).expect("write");
    std::fs::write(
        d.path().join("lm.toml"),
        "[data]\nfiles = [\"t.txt\"]\n[model]\nbidirectional = true\n",
    )
    .expect("write");
    let o = run(&["train", "lm.toml", "--out", "runs"], d.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("lm.toml:4:1:") && e.contains("bidirectional"), "{e}");
    assert!(!d.path().join("runs").exists());
}

#[test]
fn the_suite_runs_its_table_and_skips_finished_runs_when_run_again() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    let args = [
        "suite",
        "--quick",
        "--tasks",
        "reber,future_tags",
        "--cells",
        "rnn",
        "--steps",
        "10",
        "--jobs",
        "2",
        "--out",
        "s",
    ];
    let o = run(&args, p);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(p.join("s/suite.md")).expect("suite.md");
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| reber") || l.starts_with("| future_tags"))
            .count(),
        2,
        "{md}"
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(p.join("s/suite.json")).expect("suite.json")).expect("json");
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["state"], "done", "{r}");
        assert_eq!(r["step"], 10, "{r}");
        assert!(r["error"].as_f64().is_some(), "{r}");
        assert!(p
            .join(r["run_dir"].as_str().expect("run_dir"))
            .join("metrics.jsonl")
            .exists());
    }
    let csv = std::fs::read_to_string(p.join("s/suite.csv")).expect("suite.csv");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(p.join("s/experiments/reber-rnn-s1.toml").exists());
    // Again: both results are there, nothing runs.
    let o = run(&args, p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 done before, 0 to run"), "{}", stderr(&o));
    let bad = run(&["suite", "--tasks", "adding,nope", "--out", "t"], p);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown task `nope`"), "{}", stderr(&bad));
}
