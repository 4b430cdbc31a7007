//! The fuzz targets: one function per reader of outside data, each taking arbitrary bytes. A
//! target fails only by panicking (or by running out of memory or time); an `Err` from the
//! reader is the expected answer to bad bytes. Shared by the coverage-guided fuzzer (`fuzz/`,
//! cargo-afl) and the property tests in `cargo test` (`tests/fuzz_props.rs`, proptest), which
//! include this file.

#![allow(dead_code)]

use std::path::Path;

use rnn_lab::task::readers::{read_class_file, read_columns, read_labelled, ColumnSpec, Separator};
use rnn_lab::{config, data, train, w2v};

/// A target: bytes in, a panic on failure.
pub type Target = fn(&[u8]);

/// Every target by name, as the fuzz binary and the scripts name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("config", config_toml),
    ("checkpoint", checkpoint),
    ("vocab", vocab_json),
    ("corpus", corpus),
    ("columns", task_columns),
    ("labelled", task_labelled),
    ("vectors", word_vectors),
    ("w2v_model", w2v_model),
    ("w2v_eval", w2v_eval),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Experiment TOML (`config::parse_str`, as `config::load` after its UTF-8 check; word2vec
/// experiments, `[task] kind = "word2vec"`, through `w2v::experiment::parse_str`); an accepted
/// experiment is written back as TOML (`to_toml`), which must parse again.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/fuzz.toml");
    if w2v::experiment::is_word2vec(text) {
        if let Ok(exp) = w2v::experiment::parse_str(text, path) {
            let again = exp.to_toml();
            if let Err(e) = w2v::experiment::parse_str(&again, path) {
                panic!("an accepted word2vec experiment, written back, is refused: {e}\n{again}");
            }
        }
        return;
    }
    if let Ok(exp) = config::parse_str(text, path) {
        let again = exp.to_toml();
        if let Err(e) = config::parse_str(&again, path) {
            panic!("an accepted experiment, written back, is refused: {e}\n{again}");
        }
    }
}

/// A checkpoint (`checkpoint::parse`: the safetensors header, checksums, metadata, tensors).
pub fn checkpoint(data: &[u8]) {
    let _ = train::checkpoint::parse(data, Path::new("fuzz.safetensors"));
}

/// A vocabulary as stored in a checkpoint (`Vocab::from_json`); an accepted one encodes and
/// decodes text.
pub fn vocab_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = data::Vocab::from_json(text) {
        let (ids, _) = v.encode("the quick brown fox\n");
        let _ = v.decode(&ids);
    }
}

/// A corpus file read by the dataset loader at char and word level, stream and lines mode (the
/// first byte picks which), through a file in a temporary folder as in real use.
pub fn corpus(data: &[u8]) {
    let (shape, body) = data.split_first().map_or((0, data), |(s, b)| (*s, b));
    let level = if shape & 1 == 0 { "char" } else { "word" };
    let mode = if shape & 2 == 0 { "stream" } else { "lines" };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("c.txt"), body).expect("write corpus");
    let toml = format!(
        "[experiment]\nname = \"fuzz\"\n[data]\nfiles = [\"c.txt\"]\nlevel = \"{level}\"\nmode = \"{mode}\"\n\
         val_fraction = 0.1\n[model]\nhidden = 4\n[training]\nbatch_size = 2\nseq_len = 4\nsteps = 1\n"
    );
    let exp = config::parse_str(&toml, &dir.path().join("fuzz.toml")).expect("fuzz experiment");
    if let Ok(ds) = data::load_dataset(&exp) {
        let b = ds.batcher(2, 4, 1);
        let _ = b.batch(0);
        let _ = ds.val_batches(2, 4, 64);
    }
}

/// CoNLL-style column files (`read_columns`), with the column layout taken from the first byte.
pub fn task_columns(data: &[u8]) {
    let (shape, body) = data.split_first().map_or((0, data), |(s, b)| (*s, b));
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let spec = ColumnSpec {
        token_column: usize::from(shape & 3) + 1,
        tag_column: match (shape >> 2) & 3 {
            0 => None,
            n => Some(usize::from(n)),
        },
        separator: [Separator::Auto, Separator::Tab, Separator::Whitespace][usize::from(shape >> 4) % 3],
    };
    let _ = read_columns(text, "fuzz.tsv", &spec, shape & 0x80 == 0);
}

/// `label<TAB>text` files and one-file-per-class files (`read_labelled`, `read_class_file`).
pub fn task_labelled(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = read_labelled(text, "fuzz.tsv");
    let _ = read_class_file(text, "fuzz.txt", "label");
}

/// word2vec vector files, text or binary (`formats::parse`); accepted vectors answer a
/// neighbour query.
pub fn word_vectors(data: &[u8]) {
    if let Ok(e) = w2v::formats::parse(data, "fuzz.vec") {
        if !e.is_empty() {
            let _ = e.vector(0);
            let _ = e.id(e.word(0));
        }
    }
}

/// A saved word2vec model (`model_file::parse`, safetensors with metadata).
pub fn w2v_model(data: &[u8]) {
    if let Ok(m) = w2v::model_file::parse(data, "fuzz.safetensors") {
        let _ = m.embeddings();
    }
}

/// Word-vector evaluation files: analogies and word pairs with scores.
pub fn w2v_eval(data: &[u8]) {
    let _ = w2v::eval::parse_analogies(data, "fuzz-analogies.txt");
    let _ = w2v::eval::parse_pairs(data, "fuzz-pairs.txt");
}
