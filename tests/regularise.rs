//! Dropout, weight tying and the loss normalisation at the model level: evaluation runs the
//! whole network, masks do not depend on the thread count, the tied tensor's gradient is the sum
//! of the input side's and the head's, a tied checkpoint holds one tensor, the mean loss scales
//! the gradient by B/N, and a checkpoint written before these options existed still loads.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rnn_lab::nn::dropout::step_key;
use rnn_lab::nn::{
    Batch, CellKind, Dropout, DropoutKind, DropoutPass, GruVariant, HeadKind, Init, InputKind, LossNorm, Model,
    ModelSpec, Params, RecurrentInit, Score, Sharded, Targets,
};
use rnn_lab::train::checkpoint::{self, CheckpointData};

const V: usize = 7;

fn spec(cell: CellKind, layers: usize, input: InputKind, tie: bool) -> ModelSpec {
    ModelSpec {
        cell,
        gru_variant: GruVariant::Course,
        vocab: V,
        input,
        hidden: 6,
        layers,
        bidirectional: false,
        head: HeadKind::PerStep,
        outputs: V,
        init: Init::Uniform(0.3),
        forget_bias: 1.0,
        init_recurrent: RecurrentInit::Same,
        tie_weights: tie,
    }
}

fn batch(steps: usize, b: usize, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let inputs = (0..steps * b).map(|_| rng.random_range(0..V as u32)).collect();
    let targets = (0..steps * b).map(|_| rng.random_range(0..V as u32)).collect();
    Batch::dense(steps, b, inputs, Targets::PerStep(targets))
}

fn dropout(kind: DropoutKind) -> Dropout {
    Dropout {
        kind,
        input: 0.3,
        hidden: 0.3,
        output: 0.3,
        recurrent: if kind == DropoutKind::Variational { 0.3 } else { 0.0 },
        embedding: 0.2,
    }
}

fn max_diff(a: &Params<f64>, b: &Params<f64>) -> f64 {
    a.values
        .iter()
        .zip(&b.values)
        .flat_map(|(x, y)| x.iter().zip(y.iter()).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f64::max)
}

/// A workspace without a dropout pass (every evaluation, sample and probe) computes the whole
/// network: the same loss before and after a training pass with dropout, and the dropout pass
/// itself computes something else.
#[test]
fn evaluation_runs_without_dropout() {
    for kind in [DropoutKind::Standard, DropoutKind::Variational] {
        for input in [InputKind::OneHot, InputKind::Embedding(5)] {
            let m = Model::<f64>::new(spec(CellKind::Lstm, 2, input, false), 3).expect("model");
            let b = batch(8, 4, 1);
            let clean = m.forward(&b, Score::All, &mut m.workspace()).expect("forward").sum;
            let mut ws = m.workspace();
            ws.dropout = Some(DropoutPass {
                dropout: dropout(kind),
                key: step_key(1, 1),
                row0: 0,
            });
            let dropped = m.forward(&b, Score::All, &mut ws).expect("forward").sum;
            assert!((dropped - clean).abs() > 1e-6, "{kind:?}: dropout changed nothing");
            // The same pass again draws the same masks (held fixed for a gradient check).
            ws.reset_state();
            let again = m.forward(&b, Score::All, &mut ws).expect("forward").sum;
            assert_eq!(again, dropped);
            ws.dropout = None;
            ws.reset_state();
            let off = m.forward(&b, Score::All, &mut ws).expect("forward").sum;
            assert_eq!(off, clean, "{kind:?}: a workspace without a pass still dropped units");
        }
    }
}

/// The masks are drawn per row of the whole batch: 1 and 3 threads compute the same loss and
/// (up to summation order) the same gradient; another step's key draws other masks.
#[test]
fn dropout_does_not_depend_on_the_thread_count() {
    let m = Model::<f64>::new(spec(CellKind::Lstm, 2, InputKind::Embedding(5), false), 4).expect("model");
    let b = batch(6, 6, 2);
    let run = |threads: usize, step: u64| {
        let mut sh = Sharded::new(&m, threads);
        sh.set_dropout(Some((dropout(DropoutKind::Variational), step_key(9, step))));
        let mut g = m.params.zeros_like();
        let st = sh.forward_backward(&m, &b, &mut g).expect("step");
        (st.sum, g)
    };
    let (l1, g1) = run(1, 5);
    let (l3, g3) = run(3, 5);
    assert!((l1 - l3).abs() < 1e-12, "loss {l1} vs {l3}");
    assert!(max_diff(&g1, &g3) < 1e-12);
    let (other, _) = run(1, 6);
    assert!((other - l1).abs() > 1e-9, "step 6 drew the masks of step 5");
}

/// Tied weights: one tensor (`embed.weight`, no `head.w_y`), and its gradient is the untied
/// model's embedding gradient plus its head gradient transposed, when the untied head holds
/// the embedding's values.
#[test]
fn tied_weights_are_one_tensor_and_their_gradients_add_up() {
    for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
        let tied = Model::<f64>::new(spec(cell, 2, InputKind::Embedding(6), true), 5).expect("tied model");
        let mut free = Model::<f64>::new(spec(cell, 2, InputKind::Embedding(6), false), 5).expect("model");
        assert!(!tied.params.names.iter().any(|n| n == "head.w_y"));
        assert_eq!(tied.param_count() + V * 6, free.param_count());
        // The untied model with the tied one's values: W_y = Eᵀ.
        for (name, v) in free.params.names.clone().iter().zip(free.params.values.iter_mut()) {
            if name == "head.w_y" {
                let e = tied.params.values[tied.head_w].t().to_owned();
                v.assign(&e);
            } else {
                let i = tied.params.names.iter().position(|n| n == name).expect("same names");
                v.assign(&tied.params.values[i]);
            }
        }
        let b = batch(5, 3, 6);
        let grads = |m: &Model<f64>| {
            let mut ws = m.workspace();
            let st = m.forward(&b, Score::All, &mut ws).expect("forward");
            let mut g = m.params.zeros_like();
            m.backward(&b, &mut ws, &mut g);
            (st.sum, g)
        };
        let (lt, gt) = grads(&tied);
        let (lf, gf) = grads(&free);
        assert!((lt - lf).abs() < 1e-12, "{cell:?}: tied loss {lt} vs {lf}");
        let e = free.embed.expect("embedding");
        let want = &gf.values[e] + &gf.values[free.head_w].t();
        let got = &gt.values[tied.head_w];
        let err = (got - &want).iter().fold(0.0f64, |a, x| a.max(x.abs()));
        assert!(err < 1e-12, "{cell:?}: tied gradient off by {err}");
        // And it is not just one side's.
        let side = (got - &gf.values[e]).iter().fold(0.0f64, |a, x| a.max(x.abs()));
        assert!(side > 1e-6);
    }
}

/// Tying needs embedding = hidden and a language model's head; anything else is refused.
#[test]
fn tying_checks_the_sizes() {
    let bad = [
        spec(CellKind::Lstm, 1, InputKind::OneHot, true),
        spec(CellKind::Lstm, 1, InputKind::Embedding(5), true),
        ModelSpec {
            outputs: 3,
            ..spec(CellKind::Lstm, 1, InputKind::Embedding(6), true)
        },
    ];
    for s in bad {
        let Err(e) = Model::<f32>::new(s.clone(), 1) else {
            panic!("{s:?} accepted")
        };
        assert!(e.to_string().contains("tie_weights"), "{e}");
    }
}

fn save_load(model: Model<f32>, path: &Path) -> CheckpointData {
    let data = CheckpointData {
        config_toml: String::new(),
        vocab_json: String::new(),
        step: 3,
        best_val: None,
        model,
        optim: None,
        carried: None,
        note: None,
        task_json: None,
    };
    checkpoint::save(path, &data).expect("save");
    checkpoint::load(path).expect("load")
}

/// A tied checkpoint stores the shared matrix once, as `embed.weight`, and loads back to the
/// same model.
#[test]
fn tied_checkpoint_holds_one_tensor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tied.safetensors");
    let m = Model::<f32>::new(spec(CellKind::Lstm, 1, InputKind::Embedding(6), true), 2).expect("model");
    let back = save_load(m.clone(), &path);
    assert!(back.model.spec.tie_weights);
    assert_eq!(back.model.params, m.params);
    let bytes = std::fs::read(&path).expect("read");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    assert!(names.iter().any(|n| n == "embed.weight"));
    assert!(!names.iter().any(|n| n.starts_with("head.w")), "{names:?}");
}

/// `loss = "mean"` divides by the N scored tokens instead of the B sequences: the same loss
/// statistics, the gradient times B/N (here 1/T), on any number of threads.
#[test]
fn mean_loss_scales_the_gradient() {
    let m = Model::<f64>::new(spec(CellKind::Gru, 1, InputKind::OneHot, false), 8).expect("model");
    let b = batch(9, 4, 3);
    for threads in [1, 3] {
        let run = |norm: LossNorm| {
            let mut sh = Sharded::new(&m, threads);
            sh.set_loss_norm(norm);
            let mut g = m.params.zeros_like();
            let st = sh.forward_backward(&m, &b, &mut g).expect("step");
            (st, g)
        };
        let (ss, gs) = run(LossNorm::Sum);
        let (sm, gm) = run(LossNorm::Mean);
        assert_eq!(ss.sum, sm.sum);
        assert!((sm.objective - ss.sum / 36.0).abs() < 1e-12);
        assert!((ss.objective - ss.sum / 4.0).abs() < 1e-12);
        let mut scaled = gs.clone();
        scaled.values.iter_mut().for_each(|v| v.mapv_inplace(|x| x / 9.0));
        assert!(max_diff(&scaled, &gm) < 1e-12);
    }
}

/// Orthogonal recurrent blocks: every gate's W_aa block satisfies QᵀQ = I; the input blocks
/// keep the uniform draw.
#[test]
fn orthogonal_recurrent_init() {
    let s = ModelSpec {
        init_recurrent: RecurrentInit::Orthogonal,
        ..spec(CellKind::Lstm, 1, InputKind::OneHot, false)
    };
    let m = Model::<f64>::new(s, 4).expect("model");
    let h = 6;
    let w = &m.params.values[m.dirs[0].w];
    for g in 0..4 {
        let q = w.slice(ndarray::s![..h, g * h..(g + 1) * h]);
        let qtq = q.t().dot(&q);
        for i in 0..h {
            for j in 0..h {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (qtq[[i, j]] - want).abs() < 1e-12,
                    "gate {g}: QᵀQ[{i},{j}] = {}",
                    qtq[[i, j]]
                );
            }
        }
    }
    assert!(w.slice(ndarray::s![h.., ..]).iter().all(|x| x.abs() <= 0.3));
}

/// A checkpoint written by rnn-lab before dropout, tying and the new optimizer options existed
/// (commit 7066afe, `tests/fixtures/pre_dropout.safetensors`: an LSTM 1×16, one-hot input, Adam,
/// 20 steps on `the quick brown fox…`) loads, with the new options at their old meaning, and
/// samples.
#[test]
fn old_checkpoint_still_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pre_dropout.safetensors");
    let ck = checkpoint::load(&path).expect("old checkpoint loads");
    let s = &ck.model.spec;
    assert!(!s.tie_weights);
    assert_eq!(s.init_recurrent, RecurrentInit::Same);
    let opt = ck.optim.expect("optimizer state");
    assert_eq!((opt.spec.weight_decay, opt.spec.warmup), (0.0, 0));
    assert_eq!(ck.step, 20);
    assert!(ck.carried.is_some());
    let exp = rnn_lab::config::parse_str(&ck.config_toml, &path).expect("its config parses");
    assert_eq!(exp.model.dropout, Dropout::NONE);
    assert_eq!(exp.training.loss, LossNorm::Sum);
}
