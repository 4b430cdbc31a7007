//! Hostile files (issue 14, part 4) and silent corruption (part 8): each fixture in
//! `tests/fixtures/hostile/` (written by `make.py` there) and each damaged checkpoint is refused
//! with a one-line message naming the file, exit status 2, never a panic; a byte flipped in any
//! tensor of a checkpoint is caught by its checksum, naming the tensor; a checkpoint written
//! before checksums existed still loads, with a note.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::Output;

use cli::{run, stderr};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Exit 2, one line, naming the file and containing `expect`, no panic.
fn refused(o: &Output, file: &str, expect: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{file}: {e}");
    assert!(
        e.contains(file) && e.contains(expect),
        "{file}: expected {expect:?} in: {e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "{file}: not one line: {e}");
    assert!(!e.contains("panicked"), "{e}");
}

/// A small corpus and experiment in a temporary folder.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(60);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("write corpus");
    let exp = "[experiment]\nname = \"tiny\"\nseed = 3\n[data]\nfiles = [\"corpus.txt\"]\n[model]\ncell = \"lstm\"\nhidden = 8\n\
         [training]\nbatch_size = 4\nseq_len = 16\nsteps = 6\nlog_every = 2\nprobe_every = 0\nsample_every = 0\n";
    std::fs::write(dir.path().join("tiny.toml"), exp).expect("write experiment");
    dir
}

fn trained(d: &Path) -> PathBuf {
    let o = run(&["train", "tiny.toml", "--out", "r", "--threads", "1"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let rd = std::fs::read_dir(d.join("r"))
        .expect("runs")
        .next()
        .expect("a run")
        .expect("entry");
    rd.path().join("latest.safetensors")
}

/// The byte range of every tensor's data in a safetensors file, by name.
fn tensor_ranges(bytes: &[u8]) -> Vec<(String, std::ops::Range<usize>)> {
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).expect("header");
    let mut v: Vec<(String, std::ops::Range<usize>)> = header
        .as_object()
        .expect("object")
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, t)| {
            let o = &t["data_offsets"];
            let (a, b) = (o[0].as_u64().expect("a") as usize, o[1].as_u64().expect("b") as usize);
            (k.clone(), 8 + n + a..8 + n + b)
        })
        .collect();
    v.sort_by_key(|(_, r)| r.start);
    v
}

#[test]
fn every_hostile_checkpoint_is_refused_in_one_line() {
    let d = setup();
    std::fs::write(d.path().join("text.txt"), "the quick brown fox\n".repeat(3)).expect("write");
    let cases = [
        ("ckpt_header_100gb.safetensors", "header too large"),
        (
            "ckpt_offsets_past_end.safetensors",
            "not a valid safetensors checkpoint",
        ),
        ("ckpt_header_not_json.safetensors", "invalid JSON in header"),
        ("ckpt_shape_mismatch.safetensors", "has shape [4, 33], expected [5, 34]"),
        ("ckpt_spec_not_json.safetensors", "metadata `spec`"),
        ("ckpt_config_not_toml.safetensors", "config metadata"),
        (
            "ckpt_other_vocab.safetensors",
            "vocabulary has 3 tokens but the model expects 29",
        ),
    ];
    for (name, expect) in cases {
        let f = fixture("hostile").join(name);
        let f = f.to_str().expect("utf-8");
        for args in [
            vec!["eval", f, "text.txt"],
            vec!["sample", f, "--length", "5"],
            vec!["probe", f, "--text", "the fox"],
        ] {
            let o = run(&args, d.path());
            refused(&o, name, expect);
        }
    }
    // Resuming from one: the same message, and no run is started.
    let f = fixture("hostile").join("ckpt_shape_mismatch.safetensors");
    let o = run(
        &["train", "tiny.toml", "--resume", f.to_str().expect("utf-8")],
        d.path(),
    );
    refused(&o, "ckpt_shape_mismatch.safetensors", "expected [5, 34]");
}

#[test]
fn a_checkpoint_of_another_vocabulary_cannot_resume_and_scores_foreign_text_as_unknown() {
    let d = setup();
    let ck = trained(d.path());
    // Another corpus (other characters), same model settings: resuming is refused.
    std::fs::write(d.path().join("corpus.txt"), "ΑΒΓΔ αβγδ εζηθ\n".repeat(80)).expect("write");
    let o = run(
        &[
            "train",
            "tiny.toml",
            "--resume",
            ck.to_str().expect("utf-8"),
            "--out",
            "r2",
        ],
        d.path(),
    );
    refused(&o, "latest.safetensors", "vocabulary");
    // Eval of text in another script: nothing the model knows, so nothing to score.
    std::fs::write(d.path().join("greek.txt"), "αβγδεζηθ".repeat(5)).expect("write");
    let o = run(&["eval", ck.to_str().expect("utf-8"), "greek.txt"], d.path());
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("not in the vocabulary") && e.contains("nothing to score"),
        "{e}"
    );
}

#[test]
fn a_flipped_byte_in_any_tensor_is_caught_and_named() {
    let d = setup();
    let ck = trained(d.path());
    let good = std::fs::read(&ck).expect("read");
    let ranges = tensor_ranges(&good);
    assert!(ranges.len() > 5, "{ranges:?}");
    for (name, r) in &ranges {
        let mut bad = good.clone();
        bad[r.start + (r.end - r.start) / 2] ^= 0x01; // the lowest mantissa bit: a tiny change
        let p = d.path().join("bad.safetensors");
        std::fs::write(&p, &bad).expect("write");
        let err = rnn_lab::train::checkpoint::load(&p)
            .expect_err("a damaged tensor loaded")
            .to_string();
        assert!(err.contains(&format!("tensor `{name}` is damaged")), "{name}: {err}");
    }
    // The CLI: exit 2, one line.
    let o = run(&["sample", "bad.safetensors"], d.path());
    refused(&o, "bad.safetensors", "is damaged");
}

#[test]
fn changed_metadata_is_caught() {
    let d = setup();
    let ck = trained(d.path());
    let mut bytes = std::fs::read(&ck).expect("read");
    // Same length, still valid JSON and TOML: the seed in the stored config.
    let at = bytes
        .windows(8)
        .position(|w| w == b"seed = 3")
        .expect("seed in the config metadata");
    bytes[at + 7] = b'4';
    let p = d.path().join("meta.safetensors");
    std::fs::write(&p, &bytes).expect("write");
    let err = rnn_lab::train::checkpoint::load(&p)
        .expect_err("changed metadata loaded")
        .to_string();
    assert!(err.contains("the metadata is damaged"), "{err}");
}

#[test]
fn a_checkpoint_from_before_checksums_loads_with_a_note() {
    let old = fixture("checkpoints/pre_checksums_lstm4.safetensors");
    let c = rnn_lab::train::checkpoint::load(&old).expect("the old checkpoint loads");
    assert_eq!(c.step, 3);
    assert!(
        c.note.as_deref().is_some_and(|n| n.contains("no checksums")),
        "{:?}",
        c.note
    );
    let d = tempfile::tempdir().expect("tempdir");
    let o = run(&["sample", old.to_str().expect("utf-8"), "--length", "10"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("rnn-lab: note:") && stderr(&o).contains("no checksums"));
    // Saved again, it has checksums.
    let p = d.path().join("resaved.safetensors");
    rnn_lab::train::checkpoint::save(&p, &c).expect("save");
    let again = rnn_lab::train::checkpoint::load(&p).expect("load");
    assert!(again.note.is_none());
    assert_eq!(again.model.params, c.model.params);
}

#[test]
fn hostile_corpora_are_refused_or_trained_without_a_panic() {
    let d = tempfile::tempdir().expect("tempdir");
    let exp = |file: &str, extra: &str| {
        let f = fixture("hostile").join(file);
        format!(
            "[data]\nfiles = [{:?}]\n{extra}\n[model]\nhidden = 4\n[training]\nbatch_size = 2\nseq_len = 8\nsteps = 3\nprobe_every = 0\nsample_every = 0\n",
            f.to_str().expect("utf-8")
        )
    };
    // (file, mode, the file the message names, what it says)
    let cases: [(&str, &str, &str, &str); 7] = [
        ("corpus_empty.txt", "stream", "corpus_empty.txt", "data file is empty"),
        (
            "corpus_whitespace.txt",
            "stream",
            "corpus_whitespace.txt",
            "data file is empty",
        ),
        (
            "corpus_one_char.txt",
            "stream",
            "e.toml",
            "the data has only 1 tokens: too few",
        ),
        (
            "corpus_one_char.txt",
            "lines",
            "e.toml",
            "the data has 1 non-blank line(s)",
        ),
        (
            "corpus_binary.bin",
            "stream",
            "corpus_binary.bin",
            "binary data: a NUL byte at byte offset 0",
        ),
        (
            "corpus_invalid_utf8.txt",
            "stream",
            "corpus_invalid_utf8.txt",
            "invalid byte 0xe9 at byte offset 114",
        ),
        (
            "corpus_nul.txt",
            "lines",
            "corpus_nul.txt",
            "binary data: a NUL byte at byte offset 92",
        ),
    ];
    for (file, mode, named, expect) in cases {
        std::fs::write(d.path().join("e.toml"), exp(file, &format!("mode = {mode:?}"))).expect("write");
        let o = run(&["train", "e.toml", "--out", "r"], d.path());
        refused(&o, named, expect);
    }
}

/// A corpus that is one line of 3 MiB (the script version, `bench/reliability/hostile_big.py`,
/// uses 1 GB): read in 1 MiB pieces, trained on without a panic.
#[test]
fn a_single_long_line_is_streamed_and_trained_on() {
    let d = tempfile::tempdir().expect("tempdir");
    let line: String = "abcdefghij klmnopqrstuvwxyz".chars().cycle().take(3 << 20).collect();
    std::fs::write(d.path().join("long.txt"), line).expect("write");
    std::fs::write(
        d.path().join("e.toml"),
        "[data]\nfiles = [\"long.txt\"]\n[model]\nhidden = 4\n[training]\nbatch_size = 2\nseq_len = 8\nsteps = 2\n\
         max_val_tokens = 64\nprobe_every = 0\nsample_every = 0\n",
    )
    .expect("write");
    let o = run(&["train", "e.toml", "--out", "r", "--threads", "1"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `n` distinct words, one per line, each used once.
fn distinct_words(n: usize) -> String {
    let mut s = String::with_capacity(n * 8);
    for i in 0..n {
        s.push_str(&format!("w{i:x}\n"));
    }
    s
}

/// A word-level corpus with more distinct words than a model can take (the script version has
/// 10⁶): refused, with the `max_vocab` / `min_count` advice; one with a large but workable
/// vocabulary trains with the same advice as a warning.
#[test]
fn a_word_corpus_with_too_many_distinct_words_gets_max_vocab_advice() {
    let d = tempfile::tempdir().expect("tempdir");
    let exp = |file: &str| {
        format!(
            "[data]\nfiles = [\"{file}\"]\nlevel = \"word\"\n[model]\nhidden = 2\nembedding = 2\n[training]\n\
             batch_size = 2\nseq_len = 4\nsteps = 1\nmax_val_tokens = 16\neval_every = 0\ncheckpoint_every = 0\n\
             probe_every = 0\nsample_every = 0\n"
        )
    };
    std::fs::write(
        d.path().join("many.txt"),
        distinct_words(rnn_lab::data::dataset::VOCAB_MAX + 10),
    )
    .expect("write");
    std::fs::write(d.path().join("many.toml"), exp("many.txt")).expect("write");
    let o = run(&["train", "many.toml", "--out", "r", "--threads", "1"], d.path());
    refused(&o, "many.toml", "max_vocab = 50000");
    assert!(stderr(&o).contains("min_count"), "{}", stderr(&o));

    std::fs::write(
        d.path().join("some.txt"),
        distinct_words(rnn_lab::data::dataset::VOCAB_WARN + 10),
    )
    .expect("write");
    std::fs::write(d.path().join("some.toml"), exp("some.txt")).expect("write");
    let o = run(&["train", "some.toml", "--out", "r", "--threads", "1"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("max_vocab = 50000"), "no advice: {}", stderr(&o));
}

/// Word-vector files whose header claims 10⁹ words: refused as truncated (exit 2, one line)
/// without reserving memory for the claimed words (the fuzzer found the reader aborting on a
/// 33 GB allocation).
#[test]
fn a_vectors_file_claiming_a_billion_words_is_refused_without_allocating_for_them() {
    let d = tempfile::tempdir().expect("tempdir");
    for name in ["vectors_header_1e9_words.bin", "vectors_header_1e9_words.txt"] {
        let f = fixture("hostile").join(name);
        let o = run(&["w2v", "neighbours", f.to_str().expect("utf-8"), "far"], d.path());
        refused(&o, name, "the header says 1000000000");
    }
}
