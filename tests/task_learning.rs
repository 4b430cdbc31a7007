//! Seeded learning tests for the sequence tasks at tiny sizes: the model, the task's batches
//! (`SeqSet::fill_batch`, `epoch_order`) and the task's metrics (`task::evaluate`), trained with
//! Adam for a bounded number of steps.
//!
//! - future-dependent tags (the tag is the symbol two steps ahead): a bidirectional LSTM solves
//!   it by the task's own test, the unidirectional one stays near chance;
//! - the adding problem at T = 10 (real-valued inputs, many-to-one regression): the LSTM's MSE
//!   falls far below the 1/24 of a model that ignores its inputs;
//! - temporal order at T = 20 (many-to-one classification over masked variable lengths);
//! - the embedded Reber grammar (next-symbol prediction, judged by its possible-next sets);
//! - tagging read from column files, scored with conlleval chunk F1;
//! - classification read from one file per class.

use rnn_lab::config::Level;
use rnn_lab::nn::{
    CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Params, RecurrentInit, Score, Workspace,
};
use rnn_lab::optim::{self, OptimSpec, Optimizer};
use rnn_lab::task::data::{generated, load_files, FileFormat, LoadOptions, SplitFiles, TaskData};
use rnn_lab::task::encode::VocabSpec;
use rnn_lab::task::evaluate::{evaluate, EvalScratch, TaskMetrics};
use rnn_lab::task::generators::{Adding, FutureRule, FutureTags, Reber, TemporalOrder};
use rnn_lab::task::readers::ColumnSpec;
use rnn_lab::task::seqset::{empty_batch, epoch_order};
use rnn_lab::task::{Synthetic, TaskKind};

fn spec(cell: CellKind, task: &TaskData, hidden: usize, bidirectional: bool) -> ModelSpec {
    ModelSpec {
        cell,
        gru_variant: GruVariant::Course,
        vocab: task.input_size(),
        input: InputKind::OneHot,
        hidden,
        layers: 1,
        bidirectional,
        head: match task.kind {
            TaskKind::Tagging => HeadKind::PerStep,
            TaskKind::Regression => HeadKind::SeqRegress,
            _ => HeadKind::SeqClassify,
        },
        outputs: task.outputs(),
        init: Init::Xavier,
        init_recurrent: RecurrentInit::Same,
        forget_bias: 1.0,
        tie_weights: false,
    }
}

/// Train for `steps` Adam steps of `b` sequences (fresh generated batches, or epochs over the
/// training set), then score `on` (the test set, else validation).
fn train(task: &TaskData, sp: ModelSpec, steps: u64, b: usize, lr: f64) -> TaskMetrics {
    let mut model = Model::<f32>::new(sp, 7).unwrap();
    let mut opt = Optimizer::new(OptimSpec::adam(lr), &model.params).unwrap();
    let mut ws: Workspace<f32> = model.workspace();
    let mut grads: Params<f32> = model.params.zeros_like();
    let mut batch = empty_batch();
    let mut features = Vec::new();
    let mut gen_set = task.train.clone();
    let lengths: Vec<usize> = (0..task.train.len()).map(|i| task.train.seq_len(i)).collect();
    let mut order = Vec::new();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    for step in 0..steps {
        let idx: Vec<usize> = match &task.generator {
            Some(g) => {
                g.train_batch(1, step, b, &mut gen_set);
                (0..b).collect()
            }
            None => {
                if order.is_empty() {
                    order = epoch_order(&lengths, b, &mut rng);
                }
                order.drain(..b.min(order.len())).collect()
            }
        };
        let set = if task.generator.is_some() {
            &gen_set
        } else {
            &task.train
        };
        set.fill_batch(&idx, &mut batch, &mut features);
        ws.reset_state();
        model.forward(&batch, Score::All, &mut ws).unwrap();
        grads.fill_zero();
        model.backward(&batch, &mut ws, &mut grads);
        optim::clip(&mut grads, Some(5.0), None).unwrap();
        opt.step(&mut model.params, &grads);
    }
    let on = task.test.as_ref().unwrap_or(&task.valid);
    evaluate(&model, task, on, 64, &mut EvalScratch::default()).unwrap()
}

#[test]
fn future_tags_need_the_backward_direction() {
    let g = Synthetic::FutureTags(FutureTags {
        symbols: 4,
        min_len: 5,
        max_len: 8,
        rule: FutureRule::Ahead,
        distance: 2,
    });
    let task = generated(&g, TaskKind::Tagging, 1, 64, 200);
    let bi = train(&task, spec(CellKind::Lstm, &task, 16, true), 300, 32, 0.02);
    let uni = train(&task, spec(CellKind::Lstm, &task, 16, false), 300, 32, 0.02);
    eprintln!(
        "bi: acc {:?} err {:?}; uni: acc {:?} err {:?}",
        bi.accuracy, bi.error_rate, uni.accuracy, uni.error_rate
    );
    assert_eq!(bi.solved, Some(true), "bidirectional: {bi:?}");
    assert_eq!(uni.solved, Some(false));
    // Chance: 1/4 of the symbol tags; the `$` tags (2 of 5–8) a left-to-right model cannot
    // place either.
    assert!(uni.accuracy.unwrap() < 0.5, "{uni:?}");
    assert!(bi.accuracy.unwrap() > 0.99);
}

#[test]
fn adding_problem_reads_its_real_valued_inputs() {
    let g = Synthetic::Adding(Adding { length: 10 });
    let task = generated(&g, TaskKind::Regression, 4, 64, 256);
    let m = train(&task, spec(CellKind::Lstm, &task, 16, false), 600, 32, 0.01);
    eprintln!("adding: {m:?}");
    // Ignoring the inputs scores 1/24 ≈ 0.042 (docs/tasks.md).
    assert!(m.mse.unwrap() < 0.01, "{m:?}");
}

#[test]
fn temporal_order_short() {
    let g = Synthetic::TemporalOrder(TemporalOrder { length: 20 });
    let task = generated(&g, TaskKind::Classification, 2, 64, 256);
    let m = train(&task, spec(CellKind::Gru, &task, 16, false), 1000, 32, 0.01);
    eprintln!("temporal order: {m:?}");
    assert!(m.accuracy.unwrap() > 0.95, "{m:?}");
    assert!(m.confusion.as_ref().unwrap().total() == 256);
}

#[test]
fn embedded_reber() {
    let g = Synthetic::Reber(Reber { embedded: true });
    let task = generated(&g, TaskKind::Tagging, 3, 64, 256);
    let m = train(&task, spec(CellKind::Lstm, &task, 16, false), 500, 32, 0.02);
    eprintln!("reber: {m:?}");
    assert!(m.error_rate.unwrap() < 0.05, "{m:?}");
}

/// Chunks over words: a determiner starts a noun phrase, nouns continue it, verbs are verb
/// phrases. The rule is local, so a small tagger learns it and conlleval's F1 reaches 1.
#[test]
fn chunk_tagging_from_column_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let dets = ["the", "a"];
    let nouns = ["cat", "dog", "mat", "hat"];
    let verbs = ["sat", "ran", "saw"];
    for i in 0..60 {
        let d = dets[i % 2];
        let n = nouns[i % 4];
        let v = verbs[i % 3];
        let n2 = nouns[(i / 4) % 4];
        text.push_str(&format!(
            "{d} DT B-NP\n{n} NN I-NP\n{v} VBD B-VP\n{d} DT B-NP\n{n2} NN I-NP\n. . O\n\n"
        ));
    }
    let f = dir.path().join("train.txt");
    std::fs::write(&f, text).unwrap();
    let opts = LoadOptions {
        kind: TaskKind::Tagging,
        format: FileFormat::Columns(ColumnSpec::default()),
        vocab: VocabSpec {
            level: Level::Word,
            lowercase: false,
            split_punctuation: false,
            min_count: 1,
            max_vocab: 0,
            unknown: Default::default(),
        },
        val_fraction: 0.2,
        seed: 1,
        source: "test".into(),
    };
    let task = load_files(
        &SplitFiles {
            train: vec![f],
            ..SplitFiles::default()
        },
        &opts,
    )
    .unwrap();
    assert!(task.chunks);
    let m = train(&task, spec(CellKind::Gru, &task, 16, true), 150, 8, 0.02);
    eprintln!("chunks: {m:?}");
    assert_eq!(m.chunk_f1, Some(1.0), "{m:?}");
    let r = m.chunk_report.unwrap();
    assert_eq!(r.total.gold, 12 * 3); // 12 validation sentences, 3 chunks each
}

/// Two classes told apart by their first letter; examples in one file per class.
#[test]
fn classification_from_class_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = String::new();
    let mut b = String::new();
    for i in 0..40 {
        a.push_str(&format!("x{}\n", "abc".repeat(1 + i % 3)));
        b.push_str(&format!("y{}\n", "abc".repeat(1 + i % 3)));
    }
    std::fs::write(dir.path().join("Ex.txt"), a).unwrap();
    std::fs::write(dir.path().join("Why.txt"), b).unwrap();
    let opts = LoadOptions {
        kind: TaskKind::Classification,
        format: FileFormat::ClassFiles,
        vocab: VocabSpec {
            level: Level::Char,
            lowercase: false,
            split_punctuation: true,
            min_count: 1,
            max_vocab: 0,
            unknown: Default::default(),
        },
        val_fraction: 0.25,
        seed: 1,
        source: "test".into(),
    };
    let task = load_files(
        &SplitFiles {
            train: vec![dir.path().join("Ex.txt"), dir.path().join("Why.txt")],
            ..SplitFiles::default()
        },
        &opts,
    )
    .unwrap();
    // The class is at the first step: the backward direction reads it at t = 1.
    let m = train(&task, spec(CellKind::Rnn, &task, 8, true), 100, 8, 0.02);
    eprintln!("classes: {m:?}");
    assert_eq!(m.accuracy, Some(1.0));
    assert_eq!(m.macro_f1, Some(1.0));
}
