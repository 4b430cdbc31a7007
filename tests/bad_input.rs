//! Bad input gives typed errors, never a panic: invalid model specs, malformed batches, targets
//! that do not fit the head, and numerical blow-ups in the forward pass.

use rnn_lab::nn::error::NnError;
use rnn_lab::nn::{
    Batch, CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Scalar, Score, Targets, NO_INPUT,
};

fn spec(cell: CellKind, head: HeadKind) -> ModelSpec {
    ModelSpec {
        cell,
        gru_variant: GruVariant::Course,
        vocab: 5,
        input: InputKind::OneHot,
        hidden: 4,
        layers: 1,
        bidirectional: false,
        head,
        outputs: 3,
        init: Init::Uniform(0.1),
        forget_bias: 1.0,
        init_recurrent: rnn_lab::nn::RecurrentInit::Same,
        tie_weights: false,
    }
}

fn all_specs() -> Vec<ModelSpec> {
    let mut out = Vec::new();
    for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
        for head in [HeadKind::PerStep, HeadKind::SeqClassify, HeadKind::SeqRegress] {
            out.push(spec(cell, head));
        }
    }
    let mut torch = spec(CellKind::Gru, HeadKind::PerStep);
    torch.gru_variant = GruVariant::Pytorch;
    out.push(torch);
    let mut deep = spec(CellKind::Lstm, HeadKind::SeqClassify);
    deep.layers = 2;
    deep.bidirectional = true;
    deep.input = InputKind::Embedding(3);
    out.push(deep);
    out
}

#[track_caller]
fn invalid_spec(s: ModelSpec, field: &str) {
    match Model::<f32>::new(s.clone(), 1) {
        Err(NnError::InvalidSpec { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{s:?}: expected InvalidSpec for `{field}`, got {other:?}"),
    }
    let err = s.check().unwrap_err();
    assert!(err.to_string().contains(field), "message names the field: {err}");
}

#[test]
fn invalid_model_specs() {
    let base = spec(CellKind::Lstm, HeadKind::PerStep);
    invalid_spec(
        ModelSpec {
            hidden: 0,
            ..base.clone()
        },
        "hidden",
    );
    invalid_spec(
        ModelSpec {
            layers: 0,
            ..base.clone()
        },
        "layers",
    );
    invalid_spec(
        ModelSpec {
            vocab: 0,
            ..base.clone()
        },
        "vocab",
    );
    invalid_spec(
        ModelSpec {
            outputs: 0,
            ..base.clone()
        },
        "outputs",
    );
    invalid_spec(
        ModelSpec {
            input: InputKind::Embedding(0),
            ..base.clone()
        },
        "embedding",
    );
    invalid_spec(
        ModelSpec {
            init: Init::Uniform(0.0),
            ..base.clone()
        },
        "init",
    );
    invalid_spec(
        ModelSpec {
            init: Init::Uniform(-0.1),
            ..base.clone()
        },
        "init",
    );
    invalid_spec(
        ModelSpec {
            init: Init::Uniform(f64::NAN),
            ..base.clone()
        },
        "init",
    );
    invalid_spec(
        ModelSpec {
            init: Init::Uniform(f64::INFINITY),
            ..base.clone()
        },
        "init",
    );
    invalid_spec(
        ModelSpec {
            forget_bias: f64::NAN,
            ..base.clone()
        },
        "forget_bias",
    );
    invalid_spec(
        ModelSpec {
            forget_bias: f64::INFINITY,
            ..base.clone()
        },
        "forget_bias",
    );
    assert!(Model::<f64>::new(ModelSpec { hidden: 0, ..base }, 1).is_err());
}

fn per_step(steps: usize, b: usize, inputs: Vec<u32>, targets: Vec<u32>) -> Batch {
    Batch::dense(steps, b, inputs, Targets::PerStep(targets))
}

/// Run a forward pass that must fail; the workspace must still serve a good batch afterwards.
#[track_caller]
fn fails(model: &Model<f32>, batch: &Batch) -> NnError {
    let mut ws = model.workspace();
    let err = model
        .forward(batch, Score::All, &mut ws)
        .expect_err("bad batch accepted");
    assert!(!err.to_string().is_empty());
    err
}

#[test]
fn malformed_per_step_batches() {
    let m = Model::<f32>::new(spec(CellKind::Gru, HeadKind::PerStep), 1).unwrap();
    // Wrong lengths.
    assert!(matches!(
        fails(&m, &per_step(2, 2, vec![0, 1, 2], vec![0, 1, 2, 0])),
        NnError::Shape { .. }
    ));
    assert!(matches!(
        fails(&m, &per_step(2, 2, vec![0, 1, 2, 3], vec![0, 1, 2])),
        NnError::Shape { .. }
    ));
    assert!(matches!(
        fails(&m, &per_step(2, 2, vec![0, 1, 2, 3, 4], vec![0, 1, 2, 0])),
        NnError::Shape { .. }
    ));
    let mut b = per_step(2, 2, vec![0, 1, 2, 3], vec![0, 1, 2, 0]);
    b.mask = vec![1, 1, 0];
    assert!(matches!(fails(&m, &b), NnError::Shape { .. }));
    // Empty batches.
    assert!(matches!(
        fails(&m, &per_step(0, 2, vec![], vec![])),
        NnError::Shape { .. }
    ));
    assert!(matches!(
        fails(&m, &per_step(3, 0, vec![], vec![])),
        NnError::Shape { .. }
    ));
    // Out-of-range input token (vocab 5) and target (3 outputs).
    match fails(&m, &per_step(2, 1, vec![0, 5], vec![0, 1])) {
        NnError::Index { what, index, size } => {
            assert_eq!((what, index, size), ("input token", 5, 5))
        }
        other => panic!("{other:?}"),
    }
    match fails(&m, &per_step(2, 1, vec![0, 1], vec![3, 1])) {
        NnError::Index { what, index, size } => assert_eq!((what, index, size), ("target", 3, 3)),
        other => panic!("{other:?}"),
    }
    // NO_INPUT is a valid input (x = 0) but not a valid target.
    assert!(matches!(
        fails(&m, &per_step(1, 1, vec![0], vec![NO_INPUT])),
        NnError::Index { .. }
    ));
    let mut ws = m.workspace();
    assert!(m
        .forward(&per_step(1, 1, vec![NO_INPUT], vec![2]), Score::All, &mut ws)
        .is_ok());
    // A target under padding is never read, so it is not checked.
    let mut b = per_step(2, 1, vec![0, 1], vec![1, 99]);
    b.mask = vec![1, 0];
    assert!(m.forward(&b, Score::All, &mut ws).is_ok());
}

#[test]
fn malformed_sequence_batches() {
    let cls = Model::<f32>::new(spec(CellKind::Lstm, HeadKind::SeqClassify), 1).unwrap();
    let b = Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Class(vec![0]));
    assert!(matches!(fails(&cls, &b), NnError::Shape { .. }));
    let b = Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Class(vec![0, 3]));
    match fails(&cls, &b) {
        NnError::Index { what, index, size } => assert_eq!((what, index, size), ("class", 3, 3)),
        other => panic!("{other:?}"),
    }
    let reg = Model::<f32>::new(spec(CellKind::Rnn, HeadKind::SeqRegress), 1).unwrap();
    let b = Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Real(vec![0.5; 5]));
    assert!(matches!(fails(&reg, &b), NnError::Shape { .. }));
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut t = vec![0.5; 6];
        t[4] = bad;
        let b = Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Real(t));
        match fails(&reg, &b) {
            NnError::NonFiniteData { pos, .. } => assert_eq!(pos, 4),
            other => panic!("{other:?}"),
        }
    }
}

/// Targets of one head kind given to a model with another head.
#[test]
fn targets_not_matching_the_head() {
    let per = Batch::dense(2, 1, vec![0, 1], Targets::PerStep(vec![0, 1]));
    let class = Batch::dense(2, 1, vec![0, 1], Targets::Class(vec![1]));
    let real = Batch::dense(2, 1, vec![0, 1], Targets::Real(vec![0.5, 0.5, 0.5]));
    for (head, good) in [
        (HeadKind::PerStep, 0),
        (HeadKind::SeqClassify, 1),
        (HeadKind::SeqRegress, 2),
    ] {
        let m = Model::<f32>::new(spec(CellKind::Gru, head), 1).unwrap();
        for (i, b) in [&per, &class, &real].into_iter().enumerate() {
            let mut ws = m.workspace();
            let res = m.forward(b, Score::All, &mut ws);
            if i == good {
                assert!(res.is_ok(), "{head:?}: {res:?}");
            } else {
                match res {
                    Err(NnError::Shape { what, .. }) => assert!(what.contains("head"), "{what}"),
                    other => {
                        panic!("{head:?} with targets #{i}: expected a Shape error, got {other:?}")
                    }
                }
            }
        }
    }
}

/// Every model kind survives a barrage of bad batches and still runs a good one afterwards,
/// in the same workspace.
#[test]
fn no_panics_on_bad_batches() {
    for s in all_specs() {
        let m = Model::<f32>::new(s.clone(), 3).unwrap();
        let n = s.outputs;
        let good_targets = |b: usize, steps: usize| match s.head {
            HeadKind::PerStep => Targets::PerStep(vec![1; steps * b]),
            HeadKind::SeqClassify => Targets::Class(vec![1; b]),
            HeadKind::SeqRegress => Targets::Real(vec![0.25; b * n]),
        };
        let bad = vec![
            Batch::dense(3, 2, vec![0; 5], good_targets(2, 3)),
            Batch::dense(3, 2, vec![0; 6], good_targets(3, 3)),
            Batch::dense(3, 2, vec![7; 6], good_targets(2, 3)),
            Batch::dense(0, 0, vec![], good_targets(0, 0)),
            Batch {
                mask: vec![1; 7],
                features: Vec::new(),
                ..Batch::dense(3, 2, vec![0; 6], good_targets(2, 3))
            },
        ];
        let mut ws = m.workspace();
        for b in &bad {
            assert!(m.forward(b, Score::All, &mut ws).is_err(), "{s:?} accepted {b:?}");
            assert!(m.forward(b, Score::LastStep, &mut ws).is_err());
        }
        let good = Batch::dense(3, 2, vec![0, 1, 2, 3, 4, NO_INPUT], good_targets(2, 3));
        let st = m
            .forward(&good, Score::All, &mut ws)
            .expect("good batch after bad ones");
        assert!(st.sum.is_finite());
        let mut grads = m.params.zeros_like();
        m.backward(&good, &mut ws, &mut grads);
        assert!(grads.first_non_finite().is_none());
    }
}

fn fill<F: Scalar>(m: &mut Model<F>, v: f64) {
    for t in m.params.values.iter_mut() {
        t.fill(F::of(v));
    }
}

#[track_caller]
fn diverges<F: Scalar>(m: &Model<F>, b: &Batch) {
    let mut ws = m.workspace();
    match m.forward(b, Score::All, &mut ws) {
        Err(NnError::Diverged { what, value }) => {
            assert_eq!(what, "loss");
            assert!(value.contains("NaN") || value.contains("inf"), "{value}");
        }
        other => panic!("{:?}: expected Diverged, got {other:?}", m.spec),
    }
}

/// NaN weights anywhere the data flows through, and weights so large that the logits overflow,
/// make forward return `Diverged` (in f32 and f64).
#[test]
fn blown_up_weights_are_diverged() {
    for s in all_specs() {
        let b = match s.head {
            HeadKind::PerStep => Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::PerStep(vec![0, 1, 2, 0])),
            HeadKind::SeqClassify => Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Class(vec![0, 2])),
            HeadKind::SeqRegress => Batch::dense(2, 2, vec![0, 1, 2, 3], Targets::Real(vec![0.0; 6])),
        };
        // Everything NaN.
        let mut m = Model::<f32>::new(s.clone(), 1).unwrap();
        fill(&mut m, f64::NAN);
        diverges(&m, &b);
        // One NaN in the first layer's recurrent/input weights.
        let mut m = Model::<f64>::new(s.clone(), 1).unwrap();
        let w = m.dirs[0].w;
        m.params.values[w].fill(f64::NAN);
        diverges(&m, &b);
        // Only the head bias.
        let mut m = Model::<f32>::new(s.clone(), 1).unwrap();
        m.params.values[m.head_b][[0, 0]] = f32::NAN;
        diverges(&m, &b);
        // Huge: every weight at ±the largest finite value saturates every gate, drives the
        // hidden state to ±1 and overflows the logits to ±inf. (The PyTorch GRU takes −MAX: with
        // +MAX its z = σ(+∞) = 1 keeps the zero state forever, the head sees a = 0 and every
        // logit is the same finite MAX — a finite loss, correctly not reported as a blow-up.)
        let sign = if s.gru_variant == GruVariant::Pytorch {
            -1.0
        } else {
            1.0
        };
        let mut m = Model::<f32>::new(s.clone(), 1).unwrap();
        fill(&mut m, sign * f32::MAX as f64);
        diverges(&m, &b);
        let mut m = Model::<f64>::new(s.clone(), 1).unwrap();
        fill(&mut m, sign * f64::MAX);
        diverges(&m, &b);
    }
}

/// A NaN embedding row matters only when its token is read.
#[test]
fn nan_embedding_row() {
    let mut s = spec(CellKind::Lstm, HeadKind::PerStep);
    s.input = InputKind::Embedding(3);
    let mut m = Model::<f32>::new(s, 1).unwrap();
    let e = m.embed.unwrap();
    m.params.values[e].row_mut(4).fill(f32::NAN);
    let mut ws = m.workspace();
    let ok = per_step(2, 1, vec![0, 1], vec![0, 1]);
    assert!(m.forward(&ok, Score::All, &mut ws).is_ok());
    diverges(&m, &per_step(2, 1, vec![0, 4], vec![0, 1]));
}

/// A workspace built for one model handed to a model of another shape (same layer count):
/// the core resizes its buffers rather than panicking.
#[test]
fn workspace_from_another_model() {
    let small = Model::<f32>::new(spec(CellKind::Gru, HeadKind::PerStep), 1).unwrap();
    let big = Model::<f32>::new(
        ModelSpec {
            hidden: 8,
            ..spec(CellKind::Gru, HeadKind::PerStep)
        },
        1,
    )
    .unwrap();
    let b = per_step(2, 2, vec![0, 1, 2, 3], vec![0, 1, 2, 0]);
    let mut ws = small.workspace();
    small.forward(&b, Score::All, &mut ws).unwrap();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| big.forward(&b, Score::All, &mut ws)));
    assert!(res.is_ok(), "forward panicked on a workspace of another model");
}

/// Sizes so large that the parameter count overflows are an invalid spec, not a panic inside
/// the array constructor.
#[test]
fn absurd_sizes_are_invalid_specs() {
    let s = ModelSpec {
        hidden: 1 << 33,
        ..spec(CellKind::Rnn, HeadKind::PerStep)
    };
    let res = std::panic::catch_unwind(|| Model::<f32>::new(s, 1).map(|_| ()));
    match res {
        Ok(Err(NnError::InvalidSpec { field, .. })) => assert_eq!(field, "hidden"),
        Ok(other) => panic!("expected InvalidSpec, got {other:?}"),
        Err(_) => panic!("Model::new panicked on hidden = 2^33"),
    }
}
