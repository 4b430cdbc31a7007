//! `[model] embedding_init`: word vectors start a tagger's embedding. On a tiny tagging corpus
//! and a hand-written vectors file: the coverage count, the rows copied exactly (text and
//! binary files), frozen rows unchanged after training steps while the rest of the model
//! trains, fine-tuned rows changed, resume without the file, the gradient still matching finite
//! differences from a loaded embedding, and the located errors of the command line (exit 2).

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use cli::run;
use rnn_lab::config;
use rnn_lab::data::Vocab;
use rnn_lab::nn::{GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Score, Targets};
use rnn_lab::train::embedding_init::copy_rows;
use rnn_lab::train::prepare::{RunError, RunOptions};
use rnn_lab::train::trainer::Trainer;
use rnn_lab::w2v::formats::{self, Format};

/// A toy chunking language (`word POS chunk`).
fn chunk_file(sentences: usize) -> String {
    let dets = ["the", "a"];
    let nouns = ["cat", "dog", "idea"];
    let verbs = ["sees", "likes"];
    let mut s = String::new();
    for i in 0..sentences {
        s.push_str(&format!("{} DT B-NP\n", dets[i % 2]));
        s.push_str(&format!("{} NN I-NP\n", nouns[i % 3]));
        s.push_str(&format!("{} VB B-VP\n", verbs[(i / 2) % 2]));
        s.push_str(&format!("{} NN B-NP\n", nouns[(i / 3) % 3]));
        s.push_str(". . O\n\n");
    }
    s
}

/// Four of the corpus's words and one it lacks, 3 dimensions, values exact in f32.
const VECTORS: &str = "5 3\n\
the 0.5 -0.25 0.125\n\
cat 1.5 2 -3\n\
zebra 9 9 9\n\
sees -0.75 0.0625 4\n\
. 0 0 1\n";

const FOUND: [&str; 4] = ["the", "cat", "sees", "."];

fn setup(model_extra: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path();
    std::fs::write(p.join("train.txt"), chunk_file(40)).expect("write");
    std::fs::write(p.join("valid.txt"), chunk_file(6)).expect("write");
    std::fs::write(p.join("vectors.txt"), VECTORS).expect("write");
    let exp = p.join("chunk.toml");
    std::fs::write(
        &exp,
        format!(
            "[task]\nkind = \"tagging\"\ntag_column = 3\n\
             [data]\ntrain = [\"train.txt\"]\nvalid = [\"valid.txt\"]\n\
             [model]\ncell = \"lstm\"\nhidden = 6\n{model_extra}\n\
             [training]\nlr = 0.05\nbatch_size = 4\nsteps = 20\nlog_every = 5\neval_every = 0\nprobe_every = 0\n"
        ),
    )
    .expect("write");
    (d, exp)
}

fn prepare(exp: &Path, resume: Option<PathBuf>) -> Result<Trainer, RunError> {
    let e = config::load(exp).expect("experiment");
    let out = exp.parent().expect("folder").join("runs");
    Trainer::prepare(
        e,
        &RunOptions {
            out: Some(out),
            threads: Some(1),
            resume,
            ..RunOptions::default()
        },
    )
}

fn embedding(t: &Trainer) -> Vec<f32> {
    let e = t.model.embed.expect("embedding");
    t.model.params.values[e].iter().copied().collect()
}

fn row(t: &Trainer, token: &str) -> Vec<f32> {
    let e = t.model.embed.expect("embedding");
    let id = t.data.vocab().id(token).expect("token in vocabulary") as usize;
    t.model.params.values[e].row(id).to_vec()
}

#[test]
fn coverage_and_rows_copied_exactly_from_text_and_binary_files() {
    let (d, exp) = setup("embedding_init = \"vectors.txt\"");
    let t = prepare(&exp, None).expect("prepare");
    let vocab = t.data.vocab().len();
    assert_eq!(t.model.spec.input, InputKind::Embedding(3), "the size follows the file");
    let info = t.info();
    assert_eq!(
        info.embedding_init.as_deref(),
        Some(
            format!(
                "embedding_init: 4 of {vocab} tokens ({:.1} %) from vectors.txt",
                400.0 / vocab as f64
            )
            .as_str()
        )
    );
    let v = formats::read(&d.path().join("vectors.txt")).expect("vectors");
    for w in FOUND {
        assert_eq!(row(&t, w), v.vector(v.id(w).expect("in file")), "row of `{w}`");
    }
    // A word missing from the file keeps the seeded random init (uniform ±0.08).
    let dog = row(&t, "dog");
    assert!(
        dog.iter().all(|x| x.abs() <= 0.08) && dog.iter().any(|&x| x != 0.0),
        "{dog:?}"
    );

    // The same vectors as a binary file give the same rows.
    let words: Vec<String> = v.words().to_vec();
    formats::write(&d.path().join("vectors.bin"), &words, 3, v.data(), Format::Binary).expect("write bin");
    let text = std::fs::read_to_string(&exp).expect("read");
    std::fs::write(&exp, text.replace("vectors.txt", "vectors.bin")).expect("write");
    let tb = prepare(&exp, None).expect("prepare (binary)");
    assert_eq!(embedding(&tb), embedding(&t));

    // `NAME@latest` names the newest run directory of a word2vec experiment.
    for stamp in ["20261202-090000", "20261202-100000"] {
        let run = d.path().join(format!("w2v/vec-{stamp}"));
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::write(run.join("latest.safetensors"), "x").expect("write");
        std::fs::write(run.join("vectors.txt"), VECTORS).expect("write");
    }
    std::fs::write(&exp, text.replace("vectors.txt", "w2v/vec@latest/vectors.txt")).expect("write");
    let tl = prepare(&exp, None).expect("prepare (@latest)");
    assert_eq!(embedding(&tl), embedding(&t));
    let line = tl.info().embedding_init.expect("coverage");
    assert!(line.ends_with("w2v/vec-20261202-100000/vectors.txt"), "{line}");

    // `embedding` given and equal to the file's dimension is accepted.
    std::fs::write(&exp, text.replace("embedding_init", "embedding = 3\nembedding_init")).expect("write");
    let te = prepare(&exp, None).expect("prepare (embedding = 3)");
    assert_eq!(embedding(&te), embedding(&t));
}

#[test]
fn frozen_rows_stay_while_the_rest_trains_and_fine_tuned_rows_move() {
    // With weight decay too: the decay skips a frozen embedding.
    let (_d, exp) = setup("embedding_init = \"vectors.txt\"\nembedding_freeze = true");
    let text = std::fs::read_to_string(&exp).expect("read");
    std::fs::write(&exp, text.replace("[training]\n", "[training]\nweight_decay = 0.1\n")).expect("write");
    let mut t = prepare(&exp, None).expect("prepare");
    assert!(t.info().model.ends_with(", embedding frozen"), "{}", t.info().model);
    let (emb0, params0) = (embedding(&t), t.model.params.clone());
    for _ in 0..10 {
        t.train_step().expect("step");
    }
    assert_eq!(embedding(&t), emb0, "a frozen embedding is not updated");
    let e = t.model.embed.expect("embedding");
    for (i, (a, b)) in t.model.params.values.iter().zip(&params0.values).enumerate() {
        if i != e {
            assert_ne!(a, b, "{} trains", t.model.params.names[i]);
        }
    }

    let text = std::fs::read_to_string(&exp).expect("read");
    std::fs::write(
        &exp,
        text.replace("embedding_freeze = true", "embedding_freeze = false"),
    )
    .expect("write");
    let mut t = prepare(&exp, None).expect("prepare");
    assert_eq!(embedding(&t), emb0, "same seed, same file: the same start");
    let before: Vec<Vec<f32>> = FOUND.iter().map(|w| row(&t, w)).collect();
    for _ in 0..10 {
        t.train_step().expect("step");
    }
    for (w, b) in FOUND.iter().zip(before) {
        assert_ne!(row(&t, w), b, "fine-tuned row of `{w}` moves");
    }
}

#[test]
fn a_resumed_run_takes_the_embedding_from_its_checkpoint_not_the_file() {
    let (d, exp) = setup("embedding_init = \"vectors.txt\"");
    let mut t = prepare(&exp, None).expect("prepare");
    for _ in 0..5 {
        t.train_step().expect("step");
    }
    let ck = t.save(false).expect("save");
    let trained = embedding(&t);
    drop(t);
    std::fs::remove_file(d.path().join("vectors.txt")).expect("remove");
    let r = prepare(&exp, Some(ck)).expect("resume without the vectors file");
    assert_eq!(embedding(&r), trained);
    assert_eq!(r.info().embedding_init, None, "a resumed run does not read the file");
    assert_eq!(r.model.spec.input, InputKind::Embedding(3));
    // A fresh run without the file is an error naming the key's place and the file.
    let Err(e) = prepare(&exp, None) else {
        panic!("a missing vectors file must fail")
    };
    let msg = e.to_string();
    assert!(e.is_input(), "{msg}");
    assert!(
        msg.contains("chunk.toml:") && msg.contains("embedding_init") && msg.contains("vectors.txt"),
        "{msg}"
    );
}

/// Central differences of the objective against backprop, on a model whose embedding starts
/// from vectors far larger than the random init (so the check runs where the vectors put it).
#[test]
fn gradient_matches_finite_differences_from_loaded_vectors() {
    let tokens: Vec<String> = ["<pad>", "<unk>", "the", "cat", "sees", "."]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let vocab = Vocab::from_tokens(rnn_lab::config::Level::Word, false, tokens);
    let v = formats::parse(VECTORS.as_bytes(), "vectors.txt").expect("vectors");
    let spec = ModelSpec {
        cell: rnn_lab::nn::CellKind::Lstm,
        gru_variant: GruVariant::Course,
        vocab: vocab.len(),
        input: InputKind::Embedding(3),
        hidden: 4,
        layers: 1,
        bidirectional: true,
        head: HeadKind::PerStep,
        outputs: 3,
        init: Init::Uniform(0.3),
        init_recurrent: rnn_lab::nn::RecurrentInit::Same,
        forget_bias: 1.0,
        tie_weights: false,
    };
    let mut model = Model::<f64>::new(spec, 5).expect("model");
    let cov = copy_rows(&mut model, &vocab, &v, "vectors.txt");
    assert_eq!((cov.found, cov.total), (4, 6));
    // Two sequences of 4 tokens, time-major.
    let batch = rnn_lab::nn::Batch::dense(
        4,
        2,
        vec![2, 3, 3, 2, 4, 5, 5, 1],
        Targets::PerStep(vec![0, 1, 2, 0, 1, 1, 2, 2]),
    );
    let mut ws = model.workspace();
    let objective = |m: &Model<f64>, ws: &mut rnn_lab::nn::Workspace<f64>| {
        ws.reset_state();
        m.forward(&batch, Score::All, ws).expect("forward").objective
    };
    objective(&model, &mut ws);
    let mut grads = model.params.zeros_like();
    model.backward(&batch, &mut ws, &mut grads);
    let e = model.embed.expect("embedding");
    let mut checked = 0;
    for i in 0..model.params.values.len() {
        let (rows, cols) = model.params.values[i].dim();
        for r in 0..rows {
            for c in 0..cols {
                let orig = model.params.values[i][[r, c]];
                let eps = 1e-5;
                model.params.values[i][[r, c]] = orig + eps;
                let up = objective(&model, &mut ws);
                model.params.values[i][[r, c]] = orig - eps;
                let down = objective(&model, &mut ws);
                model.params.values[i][[r, c]] = orig;
                let num = (up - down) / (2.0 * eps);
                let ana = grads.values[i][[r, c]];
                let rel = (ana - num).abs() / ana.abs().max(num.abs()).max(1e-4);
                assert!(
                    rel < 1e-5,
                    "{}[{r},{c}]: analytic {ana}, numeric {num}",
                    model.params.names[i]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
    // The loaded rows get gradient (they are used); the unused <pad> row none.
    let g = &grads.values[e];
    assert!(g.row(2).iter().any(|&x| x != 0.0));
    assert!(g.row(0).iter().all(|&x| x == 0.0));
}

/// Exit status 2 and one line of stderr containing every piece of `want`.
fn fails_with(dir: &Path, want: &[&str]) {
    let o = run(&["train", "chunk.toml", "--out", "runs", "--threads", "1"], dir);
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for w in want {
        assert!(err.contains(w), "`{w}` in: {err}");
    }
    assert!(
        !dir.join("runs").exists(),
        "no run directory for a run that cannot start"
    );
}

#[test]
fn the_command_line_reports_coverage_and_locates_bad_vectors() {
    let (d, exp) = setup("embedding_init = \"vectors.txt\"");
    let p = d.path();
    let o = run(
        &["train", "chunk.toml", "--out", "runs", "--threads", "1", "--steps", "2"],
        p,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("rnn-lab: embedding_init: 4 of "), "{err}");
    // The run's config keeps the file, rebased onto the run directory, and the size read.
    let run_dir = std::fs::read_dir(p.join("runs"))
        .expect("runs")
        .next()
        .expect("run")
        .expect("entry")
        .path();
    let cfg = std::fs::read_to_string(run_dir.join("config.toml")).expect("config");
    assert!(
        cfg.contains("embedding = 3\n") && cfg.contains("embedding_init = \"../../vectors.txt\""),
        "{cfg}"
    );
    assert!(config::parse_str(&cfg, &run_dir.join("config.toml")).is_ok());
    std::fs::remove_dir_all(p.join("runs")).expect("clean");

    // The key sits on line 10 of the file `setup` writes.
    let text = std::fs::read_to_string(&exp).expect("read");
    assert_eq!(text.lines().nth(9), Some("embedding_init = \"vectors.txt\""));
    std::fs::write(p.join("vectors.txt"), "three 3\nthe 1 2 3\n").expect("write");
    fails_with(p, &["chunk.toml:10:1:", "embedding_init", "vectors.txt:1:", "header"]);
    std::fs::write(p.join("vectors.txt"), "2 3\nthe 1 2 3\ncat 1 2\n").expect("write");
    fails_with(p, &["chunk.toml:10:1:", "vectors.txt:3:"]);
    std::fs::remove_file(p.join("vectors.txt")).expect("remove");
    fails_with(p, &["chunk.toml:10:1:", "embedding_init", "vectors.txt"]);

    std::fs::write(p.join("vectors.txt"), VECTORS).expect("write");
    std::fs::write(&exp, text.replace("embedding_init", "embedding = 5\nembedding_init")).expect("write");
    fails_with(
        p,
        &[
            "chunk.toml:10:1:",
            "`embedding` = 5",
            "3-dimensional",
            "leave `embedding` out",
        ],
    );
    std::fs::write(&exp, text.replace("embedding_init", "embedding = 0\nembedding_init")).expect("write");
    fails_with(p, &["chunk.toml:10:", "one-hot"]);
    std::fs::write(
        &exp,
        text.replace("embedding_init = \"vectors.txt\"", "embedding_freeze = true"),
    )
    .expect("write");
    fails_with(
        p,
        &[
            "chunk.toml:10:1:",
            "embedding_freeze",
            "only applies with `embedding_init`",
        ],
    );
}
