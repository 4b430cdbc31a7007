//! Language models with separate `[data] train`, `valid` and `test` files (generated here):
//! the split, the vocabulary, located errors, the emitted config, and `rnn-lab eval CKPT`
//! scoring the test file, also reported at the end of a headless run.

#[path = "support/cli.rs"]
mod cli;

use std::fs;
use std::path::Path;

use cli::run;
use rnn_lab::config::parse_str;
use rnn_lab::data::load_dataset;

const TRAIN: &str = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n";
const VALID: &str = "the cat sat on the log\nthe bird sat\n";
const TEST: &str = "a dog sat on the mat\n";

fn write_files(dir: &Path) {
    fs::write(dir.join("train.txt"), TRAIN).unwrap();
    fs::write(dir.join("valid.txt"), VALID).unwrap();
    fs::write(dir.join("test.txt"), TEST).unwrap();
}

fn experiment(dir: &Path, data: &str, training: &str) -> rnn_lab::config::Experiment {
    let toml = format!("[experiment]\nname = \"lm\"\n[data]\n{data}\n[training]\n{training}\n");
    fs::write(dir.join("lm.toml"), &toml).unwrap();
    parse_str(&toml, &dir.join("lm.toml")).unwrap_or_else(|e| panic!("{e}"))
}

const WORDS: &str = "train = [\"train.txt\"]\nvalid = [\"valid.txt\"]\ntest = [\"test.txt\"]\n\
                     level = \"word\"\nsplit_punctuation = false";

#[test]
fn word_stream_splits_at_the_file_boundary_with_the_training_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let exp = experiment(dir.path(), WORDS, "batch_size = 2");
    let ds = load_dataset(&exp).unwrap_or_else(|e| panic!("{e}"));
    // Every line ends with <eos>: train 6 + 6 + 5 words + 3 <eos>; valid 6 + 3 words + 2 <eos>.
    assert_eq!(ds.train_tokens(), 20);
    assert_eq!(ds.val_tokens(), 11);
    // The vocabulary is the training text's: `bird` (only in valid) is unknown, nothing else.
    assert!(ds.vocab.id("bird").is_none());
    assert!(ds.vocab.id("log").is_some());
    assert_eq!(ds.unknown, 1);
    // The validation stream is the validation file, in order, `bird` as <unk>.
    let v = ds.val_stream();
    let words: Vec<&str> = v.iter().map(|&t| ds.vocab.token(t)).collect();
    assert_eq!(
        words,
        ["the", "cat", "sat", "on", "the", "log", "<eos>", "the", "<unk>", "sat", "<eos>"]
    );
    assert_eq!(ds.train_stream().len(), 20);
}

#[test]
fn char_lines_take_the_validation_lines_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let data = "train = [\"train.txt\"]\nvalid = [\"valid.txt\"]\nmode = \"lines\"";
    let exp = experiment(dir.path(), data, "batch_size = 2");
    let ds = load_dataset(&exp).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ds.line_counts(), (3, 2));
    let first = ds.val_line(0).unwrap();
    assert_eq!(ds.vocab.decode(&first), "the cat sat on the log");
    // `b`, `i`, `r` (in `bird`) are not training characters: char level has no <unk>, so they
    // are dropped and counted.
    assert_eq!(ds.vocab.decode(&ds.val_line(1).unwrap()), "the d sat");
    assert_eq!(ds.unknown, 3);
}

#[test]
fn a_held_out_fraction_stays_the_default() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let exp = experiment(
        dir.path(),
        "files = [\"train.txt\"]\nlevel = \"word\"",
        "batch_size = 2",
    );
    let ds = load_dataset(&exp).unwrap();
    // 20 tokens, 5% held out (at least 2).
    assert_eq!((ds.train_tokens(), ds.val_tokens()), (18, 2));
    assert!(exp.data.valid.is_empty() && exp.data.test.is_empty());
}

#[test]
fn missing_valid_and_test_files_are_named_with_their_key() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let data = "train = [\"train.txt\"]\nvalid = [\"nope.txt\"]\nlevel = \"word\"";
    let exp = experiment(dir.path(), data, "batch_size = 2");
    let e = load_dataset(&exp).unwrap_err().to_string();
    assert!(e.contains("lm.toml: data file `nope.txt` not found"), "{e}");
    assert!(e.contains("[data] valid"), "{e}");
    let data = "train = [\"train.txt\"]\nvalid = [\"valid.txt\"]\ntest = [\"gone.txt\"]";
    let exp = experiment(dir.path(), data, "batch_size = 2");
    let e = exp.resolve_patterns(&exp.data.test).unwrap_err().to_string();
    assert!(e.contains("`gone.txt` not found") && e.contains("[data] test"), "{e}");
}

#[test]
fn config_errors_are_located() {
    let bad = |data: &str, want: &str| {
        let toml = format!("[data]\n{data}\n");
        let e = parse_str(&toml, Path::new("x.toml")).unwrap_err().to_string();
        assert!(e.contains(want), "{data}: {e}");
        assert!(e.starts_with("x.toml:"), "{e}");
    };
    bad("files = [\"a\"]\ntrain = [\"b\"]", "train");
    bad("train = [\"a\"]\nvalid = [\"b\"]\nval_fraction = 0.1", "val_fraction");
    bad("train = [\"a\"]\nvalid = []", "valid");
    bad("train = [\"a\"]\ntest = [\"\"]", "must not be empty");
}

#[test]
fn the_emitted_config_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let exp = experiment(dir.path(), WORDS, "batch_size = 2");
    let toml = exp.to_toml();
    assert!(
        toml.contains("train = [\"train.txt\"]") && toml.contains("test = [\"test.txt\"]"),
        "{toml}"
    );
    assert!(!toml.contains("val_fraction"), "{toml}");
    let back = parse_str(&toml, &dir.path().join("lm.toml")).unwrap();
    assert_eq!(back.data, exp.data);
    // Without `valid`: `files` and the fraction, as before.
    let exp = experiment(dir.path(), "files = [\"train.txt\"]", "batch_size = 2");
    let toml = exp.to_toml();
    assert!(
        toml.contains("files = [\"train.txt\"]") && toml.contains("val_fraction"),
        "{toml}"
    );
}

/// Train a few steps; the end of the run scores the test file; `eval CKPT` scores it again
/// (the same figure) and `eval CKPT FILE` the file given.
#[test]
fn eval_scores_the_test_file_and_a_headless_run_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let toml = format!(
        "[experiment]\nname = \"lm\"\n[data]\n{WORDS}\n[model]\nhidden = 8\nembedding = 8\n\
         [training]\nbatch_size = 2\nseq_len = 4\nsteps = 4\neval_every = 2\nlog_every = 1\n"
    );
    fs::write(dir.path().join("lm.toml"), toml).unwrap();
    let o = run(&["train", "lm.toml", "--out", "runs"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    // A word-level model's progress shows the perplexity.
    assert!(err.contains("ppl "), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("rnn-lab: test (final model): "))
        .unwrap_or_else(|| panic!("no test line: {err}"));
    // 6 words + <eos>: 6 targets.
    assert!(line.contains("test.txt") && line.contains("6 tokens scored"), "{line}");
    // Named by its canonical path, not through the run directory (runs/lm-…/../../test.txt).
    assert!(!line.contains("/../") && !line.contains("runs/"), "{line}");
    let run_dir = fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ck = run_dir.join("latest.safetensors");
    let o = run(&["eval", ck.to_str().unwrap(), "--json"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["tokens"], 6);
    let ppl = j["perplexity"].as_f64().unwrap();
    assert!(line.contains(&format!("perplexity {ppl:.3}")), "{line} vs {ppl}");
    // A model that has trained 4 steps is far from uniform over the 12 types, but finite.
    assert!(ppl.is_finite() && ppl > 1.0);
    let o = run(&["eval", ck.to_str().unwrap(), "valid.txt", "--json"], dir.path());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((j["tokens"].as_u64(), j["unknown"].as_u64()), (Some(10), Some(1)));
    // The test file gone: a one-line error naming it, exit status 2.
    fs::remove_file(dir.path().join("test.txt")).unwrap();
    let o = run(&["eval", ck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("test.txt") && err.contains("[data] test"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A checkpoint of an experiment without test files: `eval CKPT` says to give a file.
#[test]
fn eval_without_file_or_test_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let toml = "[experiment]\nname = \"lm\"\n[data]\nfiles = [\"train.txt\"]\n[model]\nhidden = 8\n\
                [training]\nbatch_size = 2\nseq_len = 4\nsteps = 2\n";
    fs::write(dir.path().join("lm.toml"), toml).unwrap();
    let o = run(&["train", "lm.toml", "--out", "runs"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("rnn-lab: test"), "{err}");
    let run_dir = fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let o = run(
        &["eval", run_dir.join("latest.safetensors").to_str().unwrap()],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("[data] test"), "{err}");
}
