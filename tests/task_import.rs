//! `rnn-lab export` then `rnn-lab import` of task models through the real binary: a
//! bidirectional tagging model and a regression model with real-valued inputs (the adding
//! problem) come back with their task (`task.json`), score exactly as before, and import without
//! `config.toml` too (a generated `[task]` section); a `task.json` that disagrees with the model is
//! one line naming it, exit 2. Tiny models, few steps.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::Output;

use cli::{run, stderr, stdout};

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// Train `toml` (written to `name.toml`) into `runs/`; its best checkpoint.
fn train(p: &Path, name: &str, toml: &str) -> PathBuf {
    std::fs::write(p.join(format!("{name}.toml")), toml).expect("write");
    let out = format!("runs-{name}");
    ok(run(
        &["train", &format!("{name}.toml"), "--out", &out, "--threads", "1"],
        p,
    ));
    let dir = std::fs::read_dir(p.join(&out))
        .expect("runs")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    dir.join("best.safetensors")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn eval_json(p: &Path, args: &[&str]) -> serde_json::Value {
    let o = ok(run(args, p));
    serde_json::from_str(stdout(&o).trim()).expect("eval json")
}

#[test]
fn a_bidirectional_tagging_model_comes_back_with_its_tags() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    let mut text = String::new();
    for i in 0..40 {
        let (a, b) = (["the", "a"][i % 2], ["cat", "dog", "idea"][i % 3]);
        text.push_str(&format!("{a} DT B-NP\n{b} NN I-NP\nsees VB B-VP\n. . O\n\n"));
    }
    std::fs::write(p.join("train.txt"), &text).expect("write");
    std::fs::write(p.join("test.txt"), &text[..text.len() / 2]).expect("write");
    let ckpt = train(
        p,
        "chunk",
        "[task]\nkind = \"tagging\"\ntag_column = 3\n\
         [data]\ntrain = [\"train.txt\"]\ntest = [\"test.txt\"]\nval_fraction = 0.2\n\
         [model]\ncell = \"gru\"\nhidden = 6\nembedding = 4\nbidirectional = true\n\
         [training]\nlr = 0.02\nbatch_size = 8\nsteps = 15\nlog_every = 5\neval_every = 5\n",
    );
    ok(run(&["export", s(&ckpt), "--pytorch", "ex"], p));
    let task: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("ex/task.json")).expect("task.json")).expect("json");
    assert_eq!(task["kind"], "tagging", "{task}");
    assert_eq!(task["labels"].as_array().expect("labels").len(), 4, "{task}");

    ok(run(&["import", "ex", "--out", "back"], p));
    let before = eval_json(p, &["eval", s(&ckpt), "test.txt", "--json"]);
    let after = eval_json(p, &["eval", "back", "test.txt", "--json"]);
    assert_eq!(before["accuracy"], after["accuracy"]);
    assert_eq!(before["loss"], after["loss"], "{before} vs {after}");
    let o = ok(run(&["predict", "back", "test.txt"], p));
    assert!(stdout(&o).contains("B-NP"), "{}", stdout(&o));

    // Without config.toml: a generated experiment with the task's kind, bidirectional.
    std::fs::remove_file(p.join("ex/config.toml")).expect("rm");
    ok(run(&["import", "ex", "--out", "bare.safetensors"], p));
    let c = rnn_lab::train::checkpoint::load(&p.join("bare.safetensors")).expect("load");
    assert!(c.config_toml.contains("kind = \"tagging\""), "{}", c.config_toml);
    assert!(c.config_toml.contains("bidirectional = true"), "{}", c.config_toml);
    let again = eval_json(p, &["eval", "bare.safetensors", "test.txt", "--json"]);
    assert_eq!(before["loss"], again["loss"]);

    // task.json disagreeing with the head, and missing: one line each, exit 2.
    let mut fewer = task.clone();
    fewer["labels"].as_array_mut().expect("labels").pop();
    std::fs::write(p.join("ex/task.json"), fewer.to_string()).expect("write");
    let o = run(&["import", "ex", "--out", "x.safetensors"], p);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("task.json") && e.contains("3 output names"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    std::fs::remove_file(p.join("ex/task.json")).expect("rm");
    let o = run(&["import", "ex", "--out", "x.safetensors"], p);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no task.json"), "{}", stderr(&o));
    assert!(!p.join("x.safetensors").exists());
}

#[test]
fn a_regression_model_with_real_valued_inputs_comes_back() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    let ckpt = train(
        p,
        "add",
        "[task]\ngenerator = \"adding\"\nlength = 10\nval_size = 40\ntest_size = 60\n\
         [model]\ncell = \"lstm\"\nhidden = 5\n\
         [training]\nbatch_size = 8\nsteps = 10\nlog_every = 5\neval_every = 5\n",
    );
    ok(run(&["export", s(&ckpt), "--pytorch", "ex"], p));
    ok(run(&["import", "ex", "--out", "back.safetensors"], p));
    let before = eval_json(p, &["eval", s(&ckpt), "--json"]);
    let after = eval_json(p, &["eval", "back.safetensors", "--json"]);
    assert_eq!(after["kind"], "regression", "{after}");
    assert_eq!(before["mse"], after["mse"], "{before} vs {after}");
    assert_eq!(before["sequences"], after["sequences"]);

    // Without config.toml the generated experiment is the adding problem's generator.
    std::fs::remove_file(p.join("ex/config.toml")).expect("rm");
    ok(run(&["import", "ex", "--out", "bare.safetensors"], p));
    let c = rnn_lab::train::checkpoint::load(&p.join("bare.safetensors")).expect("load");
    assert!(c.config_toml.contains("generator = \"adding\""), "{}", c.config_toml);
    assert!(c.task_json.is_some());
}
