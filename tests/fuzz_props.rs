//! The short version of the fuzzing (issue 14, part 3) in `cargo test`: every reader of outside
//! data (`fuzz/targets.rs`) gets arbitrary bytes, bytes close to a valid file (a valid seed with
//! random bytes overwritten, inserted or cut off) and every file of the fuzz corpus kept in the
//! repo (`fuzz/corpus/TARGET/`, the interesting inputs the coverage-guided fuzzer found); none
//! may panic. The long run (≥ 10⁵ cases per target, cargo-afl) is `fuzz/run.sh`.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// The kept corpus of `target`.
fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Valid inputs of `target` to mutate: the kept corpus, or a small built-in one.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = corpus_files(target)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= 64 << 10)
        .collect();
    if v.is_empty() {
        v.push(b"hello world\n".to_vec());
    }
    v
}

/// A seed with `edits` applied: (position, byte, kind) with kind 0 overwrite, 1 insert,
/// 2 truncate there.
fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for &(pos, byte, kind) in edits {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let at = pos % b.len();
        match kind % 3 {
            0 => b[at] = byte,
            1 => b.insert(at, byte),
            _ => b.truncate(at),
        }
    }
    b
}

#[test]
fn every_target_has_a_kept_corpus() {
    for (name, _) in targets::TARGETS {
        assert!(!corpus_files(name).is_empty(), "fuzz/corpus/{name}/ is empty");
    }
}

#[test]
fn the_kept_corpus_never_panics() {
    for (name, f) in targets::TARGETS {
        for p in corpus_files(name) {
            let bytes = std::fs::read(&p).expect("read corpus file");
            f(&bytes);
        }
    }
}

/// Cases per target and kind; the corpus target writes a file and loads a dataset per case,
/// so it gets fewer.
fn cases(name: &str) -> u32 {
    if name == "corpus" {
        100
    } else {
        1000
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    for (name, f) in targets::TARGETS {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: cases(name),
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..512), |b| {
                f(&b);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("target {name}: {e}"));
    }
}

#[test]
fn mutated_valid_files_never_panic() {
    for (name, f) in targets::TARGETS {
        let seeds = seeds(name);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: cases(name),
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let strategy = (
            0..seeds.len(),
            proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..8), 1..6),
        );
        runner
            .run(&strategy, |(i, edits)| {
                // Kinds 0..8 taken % 3: 2 edits in 8 truncate, the rest overwrite or insert.
                f(&mutate(&seeds[i], &edits));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("target {name}: {e}"));
    }
}
