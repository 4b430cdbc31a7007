//! `rnn-lab w2v` through the real binary: train (text and binary vectors, model, resume, JSON
//! lines), neighbours, analogy, eval, and the exit status 2 with a one-line message naming the
//! file and line for every kind of bad input.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rnn-lab"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rnn-lab")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[track_caller]
fn fails(o: &Output, want: &str) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "exit 2 expected; stderr: {err}");
    assert!(err.contains(want), "stderr `{err}` lacks `{want}`");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A corpus where `sun`/`moon` and `cat`/`dog` share their contexts.
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
}

#[test]
fn train_query_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let common = [
        "--dim",
        "16",
        "--sample",
        "0",
        "--min-count",
        "1",
        "--epochs",
        "4",
        "--threads",
        "1",
    ];
    let mut args = vec![
        "w2v",
        "train",
        "c.txt",
        "--out",
        "v.txt",
        "--model",
        "m.safetensors",
        "--json",
    ];
    args.extend(common);
    let o = run(&args, d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps = lines.iter().filter(|l| l["kind"] == "step").count();
    let epochs: Vec<f64> = lines
        .iter()
        .filter(|l| l["kind"] == "epoch")
        .map(|l| l["loss"].as_f64().unwrap())
        .collect();
    assert!(steps >= 4 && epochs.len() == 4, "{lines:?}");
    assert!(epochs[3] < epochs[0], "loss falls: {epochs:?}");
    let step = lines.iter().find(|l| l["kind"] == "step").unwrap();
    for k in ["loss", "lr", "words_per_s", "examples", "epoch", "step"] {
        assert!(step.get(k).is_some(), "step line has `{k}`: {step}");
    }
    assert_eq!(lines.last().unwrap()["kind"], "done");

    // The same run in binary; the vectors agree with the text file to the bit.
    let mut args = vec!["w2v", "train", "c.txt", "--out", "v.bin"];
    args.extend(common);
    assert!(run(&args, d).status.success());
    let a = rnn_lab::w2v::formats::read(&d.join("v.txt")).unwrap();
    let b = rnn_lab::w2v::formats::read(&d.join("v.bin")).unwrap();
    assert_eq!(a.words(), b.words());
    assert_eq!(a.data(), b.data());

    for vectors in ["v.txt", "v.bin", "m.safetensors"] {
        let o = run(&["w2v", "neighbours", vectors, "sun", "-n", "3", "--json"], d);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
        assert_eq!(v["neighbours"][0]["word"], "moon", "{v}");
    }
    let o = run(&["w2v", "analogy", "v.txt", "sun", "moon", "cat", "-n", "1"], d);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("dog"), "{}", text(&o.stdout));

    std::fs::write(
        d.join("q.txt"),
        ": family\nsun moon cat dog\nsun moon cat zebra\n: gram1\ncat dog sun moon\n",
    )
    .unwrap();
    std::fs::write(
        d.join("p.txt"),
        "sun\tmoon\t9\r\ncat\tdog\t8\r\nsun\tsofa\t1\r\ncat\tzebra\t2\r\n",
    )
    .unwrap();
    let o = run(
        &[
            "w2v",
            "eval",
            "v.bin",
            "--analogies",
            "q.txt",
            "--pairs",
            "p.txt",
            "--json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out[0]["total"]["answered"], 2);
    assert_eq!(out[0]["total"]["questions"], 3);
    assert_eq!(out[0]["semantic"]["questions"], 2);
    assert_eq!(out[0]["syntactic"]["questions"], 1);
    assert_eq!(out[1]["covered"], 3);
    let o = run(&["w2v", "eval", "v.bin", "--analogies", "q.txt", "--pairs", "p.txt"], d);
    let s = text(&o.stdout);
    assert!(
        s.contains("semantic") && s.contains("syntactic") && s.contains("Spearman"),
        "{s}"
    );
}

#[test]
fn resume_continues_to_the_same_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let common = [
        "--dim",
        "8",
        "--sample",
        "0",
        "--min-count",
        "1",
        "--epochs",
        "3",
        "--threads",
        "1",
    ];
    let mut whole = vec!["w2v", "train", "c.txt", "--out", "whole.bin"];
    whole.extend(common);
    assert!(run(&whole, d).status.success());
    let mut part = vec!["w2v", "train", "c.txt", "--model", "m.safetensors", "--steps", "1"];
    part.extend(common);
    let o = run(&part, d);
    assert!(
        o.status.success() && text(&o.stderr).contains("--resume m.safetensors"),
        "{}",
        text(&o.stderr)
    );
    let o = run(
        &[
            "w2v",
            "train",
            "c.txt",
            "--resume",
            "m.safetensors",
            "--out",
            "resumed.bin",
            "--threads",
            "1",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(d.join("whole.bin")).unwrap(),
        std::fs::read(d.join("resumed.bin")).unwrap()
    );
    // On another corpus: refused.
    std::fs::write(d.join("other.txt"), "a b c\n".repeat(50)).unwrap();
    fails(
        &run(
            &[
                "w2v",
                "train",
                "other.txt",
                "--resume",
                "m.safetensors",
                "--out",
                "x.bin",
            ],
            d,
        ),
        "m.safetensors: trained on a different corpus",
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("short.txt"), "3 2\nthe 1 2\nof 3\nand 5 6\n").unwrap();
    std::fs::write(d.join("few.txt"), "3 2\nthe 1 2\nof 3 4\n").unwrap();
    std::fs::write(d.join("ok.txt"), "3 2\nthe 1 2\nof 3 4\nand 5 6\n").unwrap();
    let mut bin = b"2 3\nthe ".to_vec();
    bin.extend([0u8; 12]);
    bin.extend(b"\nof ");
    bin.extend([0u8; 5]);
    std::fs::write(d.join("cut.bin"), bin).unwrap();
    std::fs::write(d.join("q.txt"), ": s\nthe of and the\nthe of\n").unwrap();
    std::fs::write(d.join("p.txt"), "the\tof\t1\r\nthe\tof\r\n").unwrap();
    fails(
        &run(&["w2v", "neighbours", "short.txt", "the"], d),
        "short.txt:3: `of` has 1 numbers but the header says 2",
    );
    fails(
        &run(&["w2v", "neighbours", "few.txt", "the"], d),
        "few.txt:4: the file ends after 2 rows",
    );
    fails(&run(&["w2v", "neighbours", "cut.bin", "the"], d), "cut.bin: truncated");
    fails(
        &run(&["w2v", "eval", "ok.txt", "--analogies", "q.txt"], d),
        "q.txt:3: expected four words",
    );
    fails(
        &run(&["w2v", "eval", "ok.txt", "--pairs", "p.txt"], d),
        "p.txt:2: expected `word1 word2 score`",
    );
    fails(
        &run(&["w2v", "neighbours", "ok.txt", "thee"], d),
        "ok.txt: `thee` is not in the vocabulary (3 words), did you mean `the`?",
    );
    fails(
        &run(&["w2v", "analogy", "ok.txt", "the", "of", "zebra"], d),
        "`zebra` is not in the vocabulary",
    );
    fails(
        &run(&["w2v", "neighbours", "missing.txt", "the"], d),
        "missing.txt: No such file",
    );
    fails(
        &run(&["w2v", "eval", "ok.txt"], d),
        "give --analogies FILE and/or --pairs FILE",
    );
    fails(&run(&["w2v", "train", "ok.txt"], d), "give --out VECTORS");
    fails(
        &run(&["w2v", "train", "ok.txt", "--out", "x.txt", "--window", "0"], d),
        "window = 0",
    );
    fails(
        &run(&["w2v", "train", "ok.txt", "--out", "x.txt", "--min-count", "50"], d),
        "ok.txt: 0 token(s) seen at least min_count = 50 times",
    );
    fails(
        &run(&["w2v", "train", "ok.txt", "--resume", "ok.txt", "--out", "x.txt"], d),
        "ok.txt: not a safetensors file",
    );
}
