//! Vocabulary, reading, split, batching and eval sequences.

use std::fs;
use std::path::Path;

use rnn_lab::config::{parse_str, Level, Mode};
use rnn_lab::data::files::{read_text, wildcard_match};
use rnn_lab::data::vocab::split_words;
use rnn_lab::data::{eval_batches, eval_sequences, load_dataset, Dataset, Vocab};
use rnn_lab::nn::batch::{Batch, Targets, NO_INPUT};

/// A dataset from `text` written to a temporary folder, with extra `[data]` and `[training]` lines.
fn dataset(text: &str, data: &str, training: &str) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("corpus.txt"), text).unwrap();
    let toml = format!("[data]\nfiles = [\"corpus.txt\"]\n{data}\n[training]\n{training}\n");
    let exp = parse_str(&toml, &dir.path().join("exp.toml")).unwrap();
    let ds = load_dataset(&exp).unwrap_or_else(|e| panic!("{e}"));
    (dir, ds)
}

fn targets(b: &Batch) -> &[u32] {
    match &b.targets {
        Targets::PerStep(t) => t,
        other => panic!("{other:?}"),
    }
}

/// Row `b` of a time-major batch.
fn row(v: &[u32], batch: &Batch, b: usize) -> Vec<u32> {
    (0..batch.steps).map(|t| v[t * batch.batch + b]).collect()
}

const POEMS: &str = "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。\n\
                     千山鳥飛絕，萬徑人蹤滅。孤舟蓑笠翁，獨釣寒江雪。\n\
                     白日依山盡，黃河入海流。欲窮千里目，更上一層樓。\n";

#[test]
fn chinese_char_level_round_trips() {
    let (_dir, ds) = dataset(POEMS, "mode = \"lines\"\nval_fraction = 0.3", "batch_size = 2");
    let v = &ds.vocab;
    assert_eq!(v.eos(), Some(0));
    assert_eq!(v.unk(), None, "char level has no <unk> unless something was dropped");
    let line = "白日依山盡，黃河入海流。";
    let (ids, unk) = v.encode(line);
    assert_eq!((ids.len(), unk), (line.chars().count(), 0));
    assert_eq!(v.decode(&ids), line);
    assert_eq!(v.token(ids[0]), "白");
    // Every line's tokens are one per character.
    let (tr, va) = ds.line_counts();
    assert_eq!((tr, va), (2, 1));
    assert_eq!(ds.train_tokens() + ds.val_tokens(), 3 * 24);
}

#[test]
fn vocab_json_round_trips() {
    let (_dir, ds) = dataset(POEMS, "", "batch_size = 2");
    let json = ds.vocab.to_json();
    let back = Vocab::from_json(&json).unwrap();
    assert_eq!(back, ds.vocab);
    assert_eq!(back.encode("明月"), ds.vocab.encode("明月"));
    assert!(Vocab::from_json("{\"level\":\"char\"}").is_err());
}

#[test]
fn ids_are_specials_then_by_frequency_then_text() {
    let (_dir, ds) = dataset("ccc bb a\nbb ccc\n", "level = \"word\"", "batch_size = 1");
    assert_eq!(ds.vocab.tokens(), ["<unk>", "<eos>", "bb", "ccc", "a"]);
    let (_dir, ds) = dataset("aabbbc\n", "", "batch_size = 1");
    assert_eq!(ds.vocab.tokens(), ["b", "a", "\n", "c"]);
}

#[test]
fn words_split_off_punctuation() {
    let mut got = Vec::new();
    split_words("Hello, world! Don't stop: 3.5 snack-food (yes) <unk> end.", |w| {
        got.push(w.to_string())
    });
    assert_eq!(
        got,
        [
            "Hello",
            ",",
            "world",
            "!",
            "Don't",
            "stop",
            ":",
            "3.5",
            "snack-food",
            "(",
            "yes",
            ")",
            "<unk>",
            "end",
            "."
        ]
    );
    let v = Vocab::from_tokens(
        Level::Word,
        false,
        ["<unk>", "<eos>", "Hello", ",", "world", "!", "(", "yes", ")"]
            .map(String::from)
            .to_vec(),
    );
    let (ids, unk) = v.encode("Hello, world! (yes) planet\nHello");
    assert_eq!(unk, 1);
    assert_eq!(v.decode(&ids), "Hello, world! (yes) <unk>\nHello");
    // Printing piece by piece after a prime gives the same text as decoding it all at once.
    let (head, tail) = ids.split_at(3);
    let pieced = v.decode(head) + &v.decode_after(head.last().copied(), tail);
    assert_eq!(pieced, v.decode(&ids));
}

#[test]
fn word_level_min_count_and_max_vocab() {
    let text = "the cat sat on the mat . the dog sat .\n";
    let (_d, ds) = dataset(text, "level = \"word\"\nmin_count = 2", "batch_size = 1");
    assert_eq!(ds.vocab.tokens(), ["<unk>", "<eos>", "the", ".", "sat"]);
    assert_eq!(ds.unknown, 4); // cat on mat dog
    let (_d, ds) = dataset(text, "level = \"word\"\nmax_vocab = 4", "batch_size = 1");
    assert_eq!(ds.vocab.tokens(), ["<unk>", "<eos>", "the", "."]);
    let (_d, ds) = dataset("aaabbc\n", "max_vocab = 3", "batch_size = 1");
    assert_eq!(
        ds.vocab.tokens(),
        ["<unk>", "a", "b"],
        "char level gains <unk> when a char is dropped"
    );
}

#[test]
fn non_utf8_names_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.txt");
    fs::write(&p, b"ok line\nna\xefve\n").unwrap();
    let msg = read_text(&p).unwrap_err().to_string();
    assert!(
        msg.contains("bad.txt: not UTF-8 text: invalid byte 0xef at byte offset 10"),
        "{msg}"
    );
    fs::write(&p, b"\xef\xbb\xbfa\r\nb\r\n").unwrap();
    assert_eq!(read_text(&p).unwrap(), "a\nb\n", "BOM dropped, CRLF → LF");
}

#[test]
fn missing_file_names_pattern_experiment_and_fix() {
    let exp = parse_str(
        "[data]\nfiles = [\"../../shared/data/nope.txt\"]\nmode = \"lines\"\n",
        Path::new("experiments/dinos.toml"),
    )
    .unwrap();
    let msg = load_dataset(&exp).unwrap_err().to_string();
    assert!(
        msg.starts_with("experiments/dinos.toml: data file `../../shared/data/nope.txt` not found (resolved to /"),
        "{msg}"
    );
    assert!(msg.contains("/shared/data/nope.txt)"), "{msg}");
    assert!(msg.contains("one name (or other sequence) per line"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[test]
fn globs_expand_sorted_relative_to_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("src/nn")).unwrap();
    for f in ["src/b.rs", "src/a.rs", "src/nn/c.rs", "src/.hidden.rs", "src/x.txt"] {
        fs::write(d.join(f), "fn main() {}\n").unwrap();
    }
    let exp = parse_str("[data]\nfiles = [\"src/**/*.rs\", \"src/a.rs\"]\n", &d.join("e.toml")).unwrap();
    let files = exp.resolve_files().unwrap();
    let rel: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(d).unwrap().display().to_string())
        .collect();
    assert_eq!(rel, ["src/a.rs", "src/b.rs", "src/nn/c.rs"]);
    assert!(wildcard_match("*.t?t", "a.txt") && wildcard_match("[a-c]*", "b") && !wildcard_match("[!a]", "a"));
}

/// A stream corpus where token i is easy to recognise: the text cycles through 40 letters.
fn stream_text(n: usize) -> String {
    let letters: Vec<char> = ('a'..='z').chain('A'..='N').collect();
    (0..n).map(|i| letters[(i * 7 + i / 40) % 40]).collect()
}

#[test]
fn stream_batches_continue_each_row_and_reset_per_epoch() {
    let (_d, ds) = dataset(&stream_text(5000), "val_fraction = 0.1", "batch_size = 4");
    let (b_n, t_n) = (4, 16);
    let tb = ds.batcher(b_n, t_n, 7);
    let k = tb.steps_per_epoch();
    assert_eq!(k, ((ds.train_tokens() - 1) / b_n / t_n) as u64);
    let train = ds.train_stream();
    for step in 0..2 * k {
        let (b, reset) = tb.batch(step);
        assert_eq!(reset, step % k == 0, "step {step}");
        assert_eq!((b.steps, b.batch), (t_n, b_n));
        assert!(b.mask.is_empty());
        b.check(ds.vocab.len(), ds.vocab.len()).unwrap();
        // Targets are the inputs shifted by one, within the training stream.
        for r in 0..b_n {
            let x = row(&b.inputs, &b, r);
            let y = row(targets(&b), &b, r);
            assert_eq!(&x[1..], &y[..t_n - 1]);
            let pos = train.windows(t_n).position(|w| w == x.as_slice());
            assert!(pos.is_some(), "row {r} of step {step} is not a training window");
        }
        if (step + 1) % k != 0 {
            // Row b of step k+1 starts where row b of step k ended.
            let (next, _) = tb.batch(step + 1);
            for r in 0..b_n {
                assert_eq!(row(&next.inputs, &next, r)[0], row(targets(&b), &b, r)[t_n - 1]);
            }
        }
    }
}

#[test]
fn batches_are_pure_functions_of_seed_and_step() {
    let (_d, ds) = dataset(&stream_text(20_000), "", "batch_size = 8");
    let a = ds.batcher(8, 32, 3);
    let b = ds.batcher(8, 32, 3);
    let k = a.steps_per_epoch();
    // Out of order and repeated calls give the same batches ("resume at step k").
    for step in [5 * k + 3, 0, 1, k, 5 * k + 3, 2 * k + 1] {
        assert_eq!(a.batch(step), b.batch(step));
    }
    let c = ds.batcher(8, 32, 4);
    let differs = (0..5).any(|e| c.batch(e * k).0 != a.batch(e * k).0);
    assert!(differs, "another seed should move the epoch offsets");
}

#[test]
fn lines_batches_have_no_input_start_eos_end_and_masks() {
    let names = "ab\nabcde\nb\n\ncab\nbca\naaaaaaaaaaaa\nbb\nc\n";
    let (_d, ds) = dataset(names, "mode = \"lines\"\nval_fraction = 0.2", "batch_size = 3");
    let eos = ds.vocab.eos().unwrap();
    assert_eq!(ds.line_counts(), (6, 2), "8 non-blank lines, 2 held out");
    let tb = ds.batcher(3, 5, 11);
    assert_eq!(tb.steps_per_epoch(), 2);
    let mut seen = Vec::new();
    for step in 0..6 {
        let (b, reset) = tb.batch(step);
        assert!(reset);
        b.check(ds.vocab.len(), ds.vocab.len()).unwrap();
        assert!(b.steps <= 6, "T ≤ seq_len + 1");
        let y = targets(&b);
        for r in 0..b.batch {
            let x = row(&b.inputs, &b, r);
            let yr = row(y, &b, r);
            let m: Vec<u8> = (0..b.steps).map(|t| b.mask[t * b.batch + r]).collect();
            let len = m.iter().filter(|&&v| v == 1).count();
            assert!(
                m[..len].iter().all(|&v| v == 1) && m[len..].iter().all(|&v| v == 0),
                "left-aligned mask"
            );
            assert_eq!(x[0], NO_INPUT, "x⟨1⟩ = 0");
            assert_eq!(&x[1..len], &yr[..len - 1], "inputs are the targets shifted right");
            assert!(x[len..].iter().all(|&v| v == NO_INPUT));
            let text = ds.vocab.decode(&yr[..len]);
            if text.starts_with("aaaa") {
                assert_eq!(text, "aaaaaa", "long lines are cut to seq_len + 1 steps, no <eos>");
            } else {
                assert_eq!(yr[len - 1], eos, "a whole line ends with <eos>");
            }
            if step < 2 {
                seen.push(text);
            }
        }
    }
    // One epoch = a permutation: the 6 rows of epoch 0 are 6 different training lines.
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6);
}

#[test]
fn validation_batches_are_deterministic_and_capped() {
    let (_d, ds) = dataset(&stream_text(10_000), "val_fraction = 0.2", "batch_size = 4");
    let v = ds.val_batches(4, 50, 0);
    assert_eq!(v, ds.val_batches(4, 50, 0));
    assert!(v[0].1 && v[1..].iter().all(|(_, r)| !r));
    let scored: usize = v.iter().map(|(b, _)| b.scored()).sum();
    assert_eq!(scored, (ds.val_tokens() - 1) / 4 * 4);
    for w in v.windows(2) {
        let (a, b) = (&w[0].0, &w[1].0);
        for r in 0..4 {
            assert_eq!(row(&b.inputs, b, r)[0], row(targets(a), a, r)[a.steps - 1]);
        }
    }
    let capped: usize = ds.val_batches(4, 50, 400).iter().map(|(b, _)| b.scored()).sum();
    assert_eq!(capped, 400);

    let (_d, ds) = dataset(
        "ab\nabc\nb\nca\nbb\naa\n",
        "mode = \"lines\"\nval_fraction = 0.5",
        "batch_size = 2",
    );
    let v = ds.val_batches(2, 4, 0);
    let scored: usize = v.iter().map(|(b, _)| b.scored()).sum();
    assert_eq!(scored, ds.val_tokens() + 3, "every token and each line's <eos>");
}

#[test]
fn probe_snippet_starts_at_a_line() {
    let text: String = (0..400).map(|i| format!("line {i} of text\n")).collect();
    let (_d, ds) = dataset(&text, "", "batch_size = 2");
    let p = ds.probe_tokens(100);
    assert_eq!(p.len(), 100);
    assert!(ds.vocab.decode(&p).starts_with("line "));
}

#[test]
fn eval_sequences_follow_the_eval_semantics() {
    let (_d, ds) = dataset(
        "abc\nbca\ncab\nab\n",
        "mode = \"lines\"\nval_fraction = 0.25",
        "batch_size = 2",
    );
    let v = &ds.vocab;
    let (seqs, unk) = eval_sequences(v, Mode::Lines, "ab\n\nxa\n");
    assert_eq!(
        unk, 1,
        "x is not in the vocabulary and there is no <unk>: dropped, counted"
    );
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[0], [NO_INPUT, v.id("a").unwrap(), v.id("b").unwrap()]);
    let (batches, _) = eval_batches(v, Mode::Lines, "ab\nbca\n", 8, 2);
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].0.scored(),
        3 + 4,
        "tokens + <eos> of each line, lines never cut"
    );

    let (_d, ds) = dataset(&stream_text(3000), "", "batch_size = 2");
    let (batches, unk) = eval_batches(&ds.vocab, Mode::Stream, "abcdefghij", 1, 4);
    assert_eq!(unk, 0);
    let scored: usize = batches.iter().map(|(b, _)| b.scored()).sum();
    assert_eq!(scored, 9, "tokens 2..N are scored");
    assert_eq!(
        batches.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(batches[1].0.inputs[0], ds.vocab.id("e").unwrap());
}

/// A larger corpus loads at both levels with every token counted. It runs on 2 MB of text it
/// writes itself; for the loading figures in docs/experiment-format.md point it at a big file:
/// `RNN_LAB_BIG_CORPUS=/tmp/big.txt [RNN_LAB_BIG_LEVEL=char|word] /usr/bin/time -v
/// cargo test --release --test data big_corpus -- --nocapture` (the counts are then not checked).
#[test]
fn big_corpus_loads() {
    let dir = tempfile::tempdir().unwrap();
    let given = std::env::var_os("RNN_LAB_BIG_CORPUS").map(std::path::PathBuf::from);
    // 40,000 lines of 8 words drawn (seeded) from 64 words: 320,000 words, ~2 MB.
    let words: Vec<String> = (0..64).map(|i| format!("w{}x{}", i, "q".repeat(i % 7))).collect();
    let mut seed = 12345u64;
    let mut draw = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        &words[(seed >> 58) as usize]
    };
    let text: String = (0..40_000)
        .map(|_| (0..8).map(|_| draw().as_str()).collect::<Vec<_>>().join(" ") + "\n")
        .collect();
    let path = given.clone().unwrap_or_else(|| {
        let p = dir.path().join("big.txt");
        fs::write(&p, &text).unwrap();
        p
    });
    let only = std::env::var("RNN_LAB_BIG_LEVEL").unwrap_or_default();
    for level in ["char", "word"].into_iter().filter(|l| only.is_empty() || only == *l) {
        let toml = format!(
            "[data]\nfiles = [{:?}]\nlevel = \"{level}\"\n",
            path.display().to_string()
        );
        let exp = parse_str(&toml, Path::new("big.toml")).unwrap();
        let t = std::time::Instant::now();
        let ds = load_dataset(&exp).unwrap();
        let b = ds.batcher(32, 64, 1);
        let (batch, _) = b.batch(12345);
        assert_eq!(batch.scored(), 32 * 64);
        println!(
            "{level}: {} tokens, vocab {}, loaded in {:.2?}",
            ds.train_tokens() + ds.val_tokens(),
            ds.vocab.len(),
            t.elapsed()
        );
        if given.is_some() {
            continue;
        }
        let (tokens, vocab) = if level == "char" {
            let distinct: std::collections::BTreeSet<char> = text.chars().collect();
            (text.chars().count(), distinct.len())
        } else {
            // Every word, and <eos> at each line end (word level, stream mode); <unk> and <eos>.
            (40_000 * 9, 64 + 2)
        };
        assert_eq!(ds.train_tokens() + ds.val_tokens(), tokens, "{level}");
        assert_eq!(ds.vocab.len(), vocab, "{level}");
    }
}

#[test]
fn pre_tokenised_text_can_keep_its_words() {
    let text = "mr. <unk> is chairman of <unk> n.v. the dutch group\nit 's $ N a share\n";
    let (_d, ds) = dataset(text, "level = \"word\"\nsplit_punctuation = false", "batch_size = 1");
    let v = &ds.vocab;
    assert!(!v.split_punctuation);
    for w in ["mr.", "n.v.", "'s", "$", "N"] {
        assert!(v.id(w).is_some(), "{w} should be one token");
    }
    assert_eq!(ds.unknown, 0, "a literal <unk> is the <unk> token, not an unknown word");
    assert_eq!(
        ds.train_tokens() + ds.val_tokens(),
        10 + 1 + 6 + 1,
        "words and one <eos> per line"
    );
    let back = Vocab::from_json(&v.to_json()).unwrap();
    assert_eq!(back.encode("mr. smith"), v.encode("mr. smith"));
}
