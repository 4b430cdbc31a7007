//! word2vec files and metrics: the vector formats (round trip, a hand-written file, gensim's
//! own output, every disagreement with the header), analogy and similarity files and scores.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rnn_lab::w2v::eval::{
    average_ranks, evaluate_analogies, evaluate_pairs, parse_analogies, parse_pairs, pearson, spearman, Matching,
};
use rnn_lab::w2v::formats::{encode, parse, Format};
use rnn_lab::w2v::{Embeddings, W2vError};

fn words(n: usize) -> Vec<String> {
    let base = ["the", "月", "山", "春", "naïve", "N", "<unk>", "a-b", "x'y"];
    (0..n)
        .map(|i| format!("{}{}", base[i % base.len()], i / base.len()))
        .collect()
}

#[test]
fn both_formats_round_trip_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (n, d) = (40, 7);
    let mut data: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    data[0] = 0.0;
    data[1] = -0.0;
    data[2] = 1e-7;
    data[3] = -3.5e-30;
    data[4] = 12345.678;
    data[5] = f32::MIN_POSITIVE;
    let w = words(n);
    for format in [Format::Text, Format::Binary] {
        let bytes = encode(&w, d, &data, format);
        let e = parse(&bytes, "v").unwrap_or_else(|err| panic!("{format:?}: {err}"));
        assert_eq!(e.words(), w.as_slice(), "{format:?}");
        assert_eq!(e.dim(), d);
        let same = e.data().iter().zip(&data).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{format:?}: values differ after the round trip");
    }
    assert!(encode(&w, d, &data, Format::Text).starts_with(b"40 7\nthe0 0 -0 1e-7 -3.5e-30 12345.678 "));
}

#[test]
fn a_hand_written_text_file_reads() {
    // CRLF, trailing spaces (word2vec.c writes one), tabs, exponents, a blank line at the end.
    let text = "3 2\r\nthe 0.5 -1 \r\n月 1e-3\t2.5\r\n</s> -0 4E1\r\n\r\n";
    let e = parse(text.as_bytes(), "hand.txt").unwrap();
    assert_eq!(e.words(), ["the", "月", "</s>"]);
    assert_eq!(e.data(), [0.5, -1.0, 0.001, 2.5, -0.0, 40.0]);
    assert_eq!(e.id("月"), Some(1));
    // Unit vectors: (0.5, -1)/√1.25.
    let u = e.unit(0);
    assert!((u[0] - 0.447_213_6).abs() < 1e-6 && (u[1] + 0.894_427_2).abs() < 1e-6);
}

/// Files written by gensim 4.4.0's `KeyedVectors.save_word2vec_format` (text, and binary without
/// newlines), see tests/reference/w2v_gensim.py: they read back to the values gensim held.
#[test]
fn gensim_written_files_read() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/w2v_gensim.json")).unwrap()).unwrap();
    for name in ["w2v_gensim.txt", "w2v_gensim.bin"] {
        let e = parse(&std::fs::read(format!("{dir}/{name}")).unwrap(), name).unwrap();
        let ws: Vec<&str> = want["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(e.words(), ws.as_slice(), "{name}");
        let vals: Vec<f32> = want["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(e.data(), vals.as_slice(), "{name}");
    }
}

#[track_caller]
fn bad(bytes: &[u8], want: &str) {
    match parse(bytes, "vec") {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(want), "message `{msg}` lacks `{want}`");
            assert!(!msg.contains('\n'), "one line: {msg}");
            assert!(e.is_input());
        }
        Ok(_) => panic!("accepted a bad file; wanted an error with `{want}`"),
    }
}

#[test]
fn vectors_files_that_disagree_with_their_header() {
    bad(
        b"2 3\na 1 2 3\nb 1 2\n",
        "vec:3: `b` has 2 numbers but the header says 3 dimensions",
    );
    bad(b"2 3\na 1 2 3 4\nb 1 2 3\n", "vec:2: `a` has 4 numbers");
    bad(
        b"3 2\na 1 2\nb 1 2\n",
        "vec:4: the file ends after 2 rows but the header says 3 words",
    );
    bad(b"1 2\na 1 2\nb 1 2\n", "vec:3: row 2 but the header says 1 words");
    bad(b"2 2\na 1 2\nb 1 x\n", "vec:3: `x` (number 2) is not a number");
    bad(b"2 2\na 1 2\n\nb 1 2\n", "vec:3: empty line among the rows");
    bad(b"words 2\na 1 2\n", "vec:1: expected a header `WORDS DIMENSIONS`");
    bad(b"", "vec:1: expected a header");
    // Binary: cut anywhere inside, or extra bytes at the end.
    let w = vec!["alpha".to_string(), "beta".to_string(), "gamma".to_string()];
    let bytes = encode(&w, 4, &[0.5; 12], Format::Binary);
    for cut in [bytes.len() - 2, bytes.len() - 5, 30, 12] {
        // (Only the final newline may go: gensim writes none.)
        bad(&bytes[..cut], "truncated: the header says 3 vectors of 4 floats");
    }
    bad(&bytes[..bytes.len() - 3], "ends in vector 3 (`gamma`)");
    let mut more = bytes.clone();
    more.extend_from_slice(b"delta \x01\x02\x03\x04");
    bad(&more, "bytes after the header's 3 vectors");
}

/// Words on a circle so that analogies have known answers: a word at angle θ is (cos θ, sin θ).
fn circle(named: &[(&str, f64)]) -> Embeddings {
    let words = named.iter().map(|(w, _)| w.to_string()).collect();
    let data = named
        .iter()
        .flat_map(|(_, deg)| {
            let r = deg.to_radians();
            [r.cos() as f32, r.sin() as f32]
        })
        .collect();
    Embeddings::new(words, 2, data)
}

#[test]
fn analogy_answers_and_tallies_by_hand() {
    // a : b :: c : ? is the unit vector nearest to b − a + c. On the circle, with a at 0°, b at
    // 40° and c at 90°, b − a + c = (cos40 − 1 + 0, sin40 + 1) = (−0.234, 1.643): angle 98.1°.
    // Candidates: A at 97.5° (0.6° off), d1 at 100° (1.9° off), d2 at 120° (21.9° off); a, b, c
    // are left out.
    let e = circle(&[
        ("a", 0.0),
        ("b", 40.0),
        ("c", 90.0),
        ("d1", 100.0),
        ("d2", 120.0),
        ("A", 97.5),
    ]);
    let top = e.analogy(0, 1, 2, 2);
    assert_eq!(top.iter().map(|&(i, _)| e.word(i)).collect::<Vec<_>>(), ["A", "d1"]);
    // Evaluation leaves "A" out too, as a case variant of the input "a": d1 is the answer.
    let set = parse_analogies(
        b": capital-x\na b c d1\na b c d2\na b c zzz\n: gram1-y\nA B C D1\nb a d1 c\n",
        "q",
    )
    .unwrap();
    let r = evaluate_analogies(&e, &set, Matching::default());
    assert_eq!(r.sections.len(), 2);
    let (s0, s1) = (&r.sections[0], &r.sections[1]);
    assert!(!s0.syntactic && s1.syntactic);
    assert_eq!((s0.tally.questions, s0.tally.answered, s0.tally.correct), (3, 2, 1));
    // b : a :: d1 : ? → a − b + d1 = (1 − cos40 + cos100, −sin40 + sin100) = (0.060, 0.342):
    // angle 80.0°, nearest c (90°). "A B C D1" is "a b c d1" in another case: right.
    assert_eq!((s1.tally.questions, s1.tally.answered, s1.tally.correct), (2, 2, 2));
    assert_eq!((r.semantic.correct, r.syntactic.correct, r.total.correct), (1, 2, 3));
    assert_eq!(r.total.answered, 4);
    assert!((r.total.accuracy() - 0.75).abs() < 1e-12 && (r.total.coverage() - 0.8).abs() < 1e-12);
    // Case-sensitive: "A B C D1" has unknown words; "a" no longer hides "A", which wins.
    let cs = evaluate_analogies(
        &e,
        &set,
        Matching {
            restrict: None,
            case_sensitive: true,
        },
    );
    assert_eq!((cs.total.answered, cs.total.correct), (3, 1));
    // Restricted to the first 3 rows, only questions within a, b, c… none has four known words.
    let rs = evaluate_analogies(
        &e,
        &set,
        Matching {
            restrict: Some(3),
            case_sensitive: false,
        },
    );
    assert_eq!(rs.total.answered, 0);
}

#[test]
fn analogies_match_a_brute_force_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, d) = (300, 8);
    let data: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let ws: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
    let e = Embeddings::new(ws.clone(), d, data.clone());
    let mut text = String::from(": s\n");
    let mut qs = Vec::new();
    for _ in 0..400 {
        let q: Vec<usize> = (0..4).map(|_| rng.random_range(0..n)).collect();
        text.push_str(&format!("w{} w{} w{} w{}\n", q[0], q[1], q[2], q[3]));
        qs.push(q);
    }
    // Make half of them right by construction: d = the brute-force answer.
    let unit = |i: usize| {
        let v = &data[i * d..(i + 1) * d];
        let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        v.iter().map(|x| f64::from(*x) / norm).collect::<Vec<f64>>()
    };
    let answer = |q: &[usize]| {
        let (ua, ub, uc) = (unit(q[0]), unit(q[1]), unit(q[2]));
        let t: Vec<f64> = (0..d).map(|k| ub[k] - ua[k] + uc[k]).collect();
        (0..n)
            .filter(|j| !q[..3].contains(j))
            .map(|j| (j, unit(j).iter().zip(&t).map(|(a, b)| a * b).sum::<f64>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
            .0
    };
    let mut text = String::from(": s\n");
    let mut right = 0;
    for (k, q) in qs.iter_mut().enumerate() {
        if k % 2 == 0 {
            q[3] = answer(q);
        }
        if answer(q) == q[3] && !q[..3].contains(&q[3]) {
            right += 1;
        }
        text.push_str(&format!("w{} w{} w{} w{}\n", q[0], q[1], q[2], q[3]));
    }
    let set = parse_analogies(text.as_bytes(), "q").unwrap();
    let r = evaluate_analogies(&e, &set, Matching::default());
    assert_eq!(r.total.answered, 400);
    assert_eq!(r.total.correct, right);
    assert!(right >= 200);
}

#[test]
fn spearman_with_ties_by_hand() {
    assert_eq!(average_ranks(&[10.0, 20.0, 20.0, 30.0]), [1.0, 2.5, 2.5, 4.0]);
    assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 3.0]), [3.0, 1.0, 3.0, 3.0]);
    // x ranks 1, 2.5, 2.5, 4; y ranks 1, 3, 2, 4. Deviations from 2.5: (−1.5, 0, 0, 1.5) and
    // (−1.5, 0.5, −0.5, 1.5): Σxy = 4.5, Σx² = 4.5, Σy² = 5, ρ = 4.5/√22.5 = 3/√10.
    let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[0.1, 0.7, 0.5, 0.9]).unwrap();
    assert!((rho - 3.0 / 10f64.sqrt()).abs() < 1e-12, "{rho}");
    // Pearson by hand: x = (1, 2, 3), y = (2, 4, 5): deviations (−1, 0, 1), (−5/3, 1/3, 4/3):
    // Σxy = 3, Σx² = 2, Σy² = 42/9 → r = 3/√(84/9) = 0.981980506.
    let r = pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 5.0]).unwrap();
    assert!((r - 0.981_980_506_061_965_7).abs() < 1e-12, "{r}");
    assert_eq!(spearman(&[1.0], &[2.0]), None);
    assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
}

#[test]
fn pairs_file_scores_and_coverage() {
    // WordSim-353 has CRLF line ends; words of other case match by default.
    let set = parse_pairs(b"a\tb\t9.0\r\na\tc\t3.5\r\nb\tc\t2\r\nTiger\tcat\t7.35\r\n", "ws").unwrap();
    assert_eq!(set.pairs.len(), 4);
    // a 0°, b 10°, c 90°: cos(a,b) = .985 > cos(b,c) = .174 > cos(a,c) = 0. Human order
    // 9.0 > 3.5 > 2 puts (a,c) above (b,c): ranks human (3, 2, 1), model (3, 1, 2):
    // ρ = 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/24 = 0.5.
    let e = circle(&[("a", 0.0), ("b", 10.0), ("c", 90.0)]);
    let r = evaluate_pairs(&e, &set, Matching::default());
    assert_eq!((r.pairs, r.covered), (4, 3));
    assert!((r.spearman.unwrap() - 0.5).abs() < 1e-12);
    assert!((r.coverage() - 0.75).abs() < 1e-12);
}

#[track_caller]
fn bad_eval(err: W2vError, want: &str) {
    let msg = err.to_string();
    assert!(msg.contains(want), "`{msg}` lacks `{want}`");
}

#[test]
fn malformed_evaluation_files() {
    bad_eval(
        parse_analogies(b": s\na b c d\na b c\n", "q.txt").unwrap_err(),
        "q.txt:3: expected four words",
    );
    bad_eval(
        parse_analogies(b"a b c d e\n", "q.txt").unwrap_err(),
        "q.txt:1: expected four words `a b c d`",
    );
    bad_eval(
        parse_pairs(b"a\tb\t1\r\na\tb\r\n", "p.txt").unwrap_err(),
        "p.txt:2: expected `word1 word2 score`",
    );
    bad_eval(
        parse_pairs(b"a b one\n", "p.txt").unwrap_err(),
        "p.txt:1: score `one` is not a number",
    );
    bad_eval(
        parse_pairs(b"a b 1\n\xff\xfe\n", "p.txt").unwrap_err(),
        "p.txt:2: not UTF-8",
    );
    let e = circle(&[("king", 0.0), ("queen", 1.0)]);
    bad_eval(
        e.lookup("kings", "v.bin").unwrap_err(),
        "v.bin: `kings` is not in the vocabulary (2 words), did you mean `king`?",
    );
    bad_eval(e.lookup("Queen", "v.bin").unwrap_err(), "did you mean `queen`?");
}
