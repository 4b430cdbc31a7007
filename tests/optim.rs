//! Optimizers against hand-computed updates, learning-rate schedules, clipping, divergence
//! detection and hyper-parameter validation.
//!
//! Every update test runs on one `[1, 2]` tensor θ⁰ = (1, −2) with the gradients
//! g¹ = (0.5, −1), g² = (0.1, 0.2), g³ = (−0.3, 0.4), and compares θ after each step with values
//! computed by hand from the update rule in the test's doc comment (f64, to 1e-9).

#![allow(clippy::needless_range_loop)] // index loops mirror the equations' subscripts

use ndarray::array;
use rnn_lab::nn::error::NnError;
use rnn_lab::nn::Params;
use rnn_lab::optim::{self, OptimSpec, Optimizer, OptimizerKind, Schedule};

const GRADS: [[f64; 2]; 3] = [[0.5, -1.0], [0.1, 0.2], [-0.3, 0.4]];

fn spec(kind: OptimizerKind, lr: f64) -> OptimSpec {
    OptimSpec {
        kind,
        lr,
        schedule: Schedule::Constant,
        clip_norm: None,
        clip_value: None,
        weight_decay: 0.0,
        warmup: 0,
    }
}

fn one_tensor(v: [f64; 2]) -> Params<f64> {
    let mut p = Params::new();
    p.push("w", 1, 2);
    p.values[0] = array![[v[0], v[1]]];
    p
}

/// Run three steps and compare θ after each with `want`; returns the learning rates used.
#[track_caller]
fn check_updates(spec: OptimSpec, want: [[f64; 2]; 3]) -> Vec<f64> {
    let mut params = one_tensor([1.0, -2.0]);
    let mut opt = Optimizer::new(spec, &params).expect("valid spec");
    let mut lrs = Vec::new();
    for (t, g) in GRADS.iter().enumerate() {
        let grads = one_tensor(*g);
        lrs.push(opt.step(&mut params, &grads));
        for i in 0..2 {
            let got = params.values[0][[0, i]];
            assert!(
                (got - want[t][i]).abs() < 1e-9,
                "{:?} step {} θ[{i}] = {got:.12}, want {:.12}",
                spec.kind,
                t + 1,
                want[t][i]
            );
        }
    }
    assert_eq!(opt.t, 3);
    lrs
}

/// Plain SGD, lr 0.1: θ ← θ − 0.1 g.
/// θ¹ = (1 − 0.05, −2 + 0.1) = (0.95, −1.9); θ² = (0.94, −1.92); θ³ = (0.97, −1.96).
#[test]
fn sgd_hand_updates() {
    let lrs = check_updates(
        spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1),
        [[0.95, -1.9], [0.94, -1.92], [0.97, -1.96]],
    );
    assert_eq!(lrs, vec![0.1; 3]);
}

/// SGD with momentum μ = 0.9, lr 0.1: v ← μ v + g; θ ← θ − lr v.
/// v¹ = (0.5, −1), θ¹ = (0.95, −1.9); v² = (0.45 + 0.1, −0.9 + 0.2) = (0.55, −0.7),
/// θ² = (0.895, −1.83); v³ = (0.495 − 0.3, −0.63 + 0.4) = (0.195, −0.23), θ³ = (0.8755, −1.807).
#[test]
fn sgd_momentum_hand_updates() {
    check_updates(
        spec(OptimizerKind::Sgd { momentum: 0.9 }, 0.1),
        [[0.95, -1.9], [0.895, -1.83], [0.8755, -1.807]],
    );
}

/// Adagrad, lr 0.1, ε = 1e-8: G ← G + g²; θ ← θ − lr g / (√G + ε).
/// G¹ = (0.25, 1): θ¹ = (1 − 0.1·0.5/0.5, −2 + 0.1·1/1) = (0.9, −1.9) (to ε);
/// G² = (0.26, 1.04): θ² = (0.9 − 0.01/0.50990195, −1.9 − 0.02/1.01980390) = (0.88038839, −1.91961161);
/// G³ = (0.35, 1.2): θ³ = (0.88038839 + 0.03/0.59160798, −1.91961161 − 0.04/1.09544512)
/// = (0.93109764, −1.95612645).
#[test]
fn adagrad_hand_updates() {
    check_updates(
        spec(OptimizerKind::Adagrad { eps: 1e-8 }, 0.1),
        [
            [0.900000002, -1.900000001],
            [0.880388388870797, -1.91961161432151],
            [0.931097643297365, -1.95612645115519],
        ],
    );
}

/// RMSprop, lr 0.01, ρ = 0.9, ε = 1e-8: S ← ρ S + (1 − ρ) g²; θ ← θ − lr g / (√S + ε).
/// S¹ = (0.025, 0.1): θ¹ = (1 − 0.005/0.15811388, −2 + 0.01/0.31622777) = (0.96837723, −1.96837722);
/// S² = (0.0235, 0.094): θ² = (θ¹ − 0.001/0.15329710, θ¹ − 0.002/0.30659419) = (0.96185395, −1.97490050);
/// S³ = (0.03015, 0.1006): θ³ = (0.97913131, −1.98751184).
#[test]
fn rmsprop_hand_updates() {
    check_updates(
        spec(OptimizerKind::Rmsprop { decay: 0.9, eps: 1e-8 }, 0.01),
        [
            [0.968377225398316, -1.96837722439832],
            [0.961853945093314, -1.97490050491608],
            [0.979131312609916, -1.98751183774086],
        ],
    );
}

/// Adam, lr 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8, bias-corrected with t = 1, 2, 3:
/// m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; θ ← θ − lr (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
/// Step 1: m̂ = g, v̂ = g², so θ moves by lr · sign(g): θ¹ = (0.9, −1.9) (to ε).
/// Step 2, first element: m = 0.045 + 0.01 = 0.055, m̂ = 0.055 / 0.19 = 0.2894737;
/// v = 0.999·0.00025 + 0.001·0.01 = 0.00025975, v̂ = 0.00025975 / 0.001999 = 0.1299400, √v̂ = 0.3604719;
/// θ² = 0.9 − 0.1 · 0.2894737 / 0.3604719 = 0.8196959. Step 3 likewise: θ³ = (0.7986246, −1.8354734).
#[test]
fn adam_hand_updates() {
    check_updates(
        spec(
            OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            0.1,
        ),
        [
            [0.900000002, -1.900000001],
            [0.819695906384652, -1.84889739399049],
            [0.798624611763508, -1.83547343420816],
        ],
    );
}

/// Optimizer state has the parameters' names and shapes; Adam keeps a second moment.
#[test]
fn optimizer_state_shapes() {
    let params = one_tensor([1.0, 2.0]);
    let adam = Optimizer::new(OptimSpec::adam(1e-3), &params).unwrap();
    assert_eq!(adam.s1.names, params.names);
    assert_eq!(adam.s2.values[0].dim(), (1, 2));
    let sgd = Optimizer::new(spec(OptimizerKind::Sgd { momentum: 0.5 }, 0.1), &params).unwrap();
    assert_eq!(sgd.s1.values[0].dim(), (1, 2));
    assert!(sgd.s2.values.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Schedules.

/// The schedule's factor at each `(step, factor)` of `want`, to within `tol`.
#[track_caller]
fn check_factors(s: &Schedule, want: &[(u64, f64)], tol: f64) {
    for &(step, f) in want {
        assert!(
            (s.factor(step) - f).abs() < tol,
            "step {step}: {} vs {f}",
            s.factor(step)
        );
    }
}

#[test]
fn schedule_constant() {
    for step in [0, 1, 10, 1_000_000] {
        assert_eq!(Schedule::Constant.factor(step), 1.0);
    }
}

/// Step decay: factor = γ^⌊step / every⌋, here every 3 steps × 0.5.
#[test]
fn schedule_step() {
    let s = Schedule::Step { every: 3, gamma: 0.5 };
    let want = [
        (0, 1.0),
        (2, 1.0),
        (3, 0.5),
        (5, 0.5),
        (6, 0.25),
        (7, 0.25),
        (30, 0.5f64.powi(10)),
    ];
    check_factors(&s, &want, 1e-15);
}

/// Cosine over 10 steps down to 0.1: factor = 0.1 + 0.9 · ½(1 + cos(π · step/10)), then 0.1.
/// step 0 → 1; step 3 → 0.1 + 0.45 · (1 + cos 0.3π) = 0.1 + 0.45 · 1.5877853 = 0.8145034;
/// step 5 → 0.1 + 0.45 = 0.55; step 10 → 0.1; step 25 → 0.1.
#[test]
fn schedule_cosine() {
    let s = Schedule::Cosine {
        total: 10,
        min_factor: 0.1,
    };
    let want = [(0, 1.0), (3, 0.8145033635316129), (5, 0.55), (10, 0.1), (25, 0.1)];
    check_factors(&s, &want, 1e-12);
}

/// The optimizer applies the schedule: SGD lr 0.1 with a step decay of ×0.5 every 2 steps uses
/// 0.1, 0.1, 0.05: θ¹ = (0.95, −1.9), θ² = (0.94, −1.92), θ³ = (0.94 + 0.015, −1.92 − 0.02).
#[test]
fn optimizer_follows_schedule() {
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.schedule = Schedule::Step { every: 2, gamma: 0.5 };
    let lrs = check_updates(s, [[0.95, -1.9], [0.94, -1.92], [0.955, -1.94]]);
    assert_eq!(lrs, vec![0.1, 0.1, 0.05]);
}

/// Decoupled weight decay with SGD, lr 0.1, λ = 0.5: θ ← θ·(1 − lr·λ) − lr·g = 0.95·θ − 0.1·g.
/// θ¹ = (0.95 − 0.05, −1.9 + 0.1) = (0.9, −1.8); θ² = (0.855 − 0.01, −1.71 − 0.02) = (0.845, −1.73);
/// θ³ = (0.80275 + 0.03, −1.6435 − 0.04) = (0.83275, −1.6835).
#[test]
fn weight_decay_sgd_hand_updates() {
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.weight_decay = 0.5;
    check_updates(s, [[0.9, -1.8], [0.845, -1.73], [0.83275, -1.6835]]);
}

/// AdamW: the decay is not part of the gradient, so Adam's moments and its step are those of
/// plain Adam on the same gradients: θ_t = θ_{t−1}·(1 − lr·λ) − Δ_t with Δ_t Adam's own step
/// (lr 0.1, λ = 0.5). Step 1 by hand: Δ₁ = lr·ĝ/(|ĝ| + ε) = (0.1·0.5/(0.5 + 1e-8), −0.1·1/(1 + 1e-8)),
/// θ¹ = (0.95 − 0.0999999980, −1.9 + 0.0999999999).
#[test]
fn weight_decay_adamw_is_decoupled() {
    let adam = OptimizerKind::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let mut decayed = spec(adam, 0.1);
    decayed.weight_decay = 0.5;
    let (mut p_adam, mut p_w) = (one_tensor([1.0, -2.0]), one_tensor([1.0, -2.0]));
    let mut o_adam = Optimizer::new(spec(adam, 0.1), &p_adam).expect("valid spec");
    let mut o_w = Optimizer::new(decayed, &p_w).expect("valid spec");
    for (t, g) in GRADS.iter().enumerate() {
        let before_adam = p_adam.values[0].clone();
        let before_w = p_w.values[0].clone();
        o_adam.step(&mut p_adam, &one_tensor(*g));
        o_w.step(&mut p_w, &one_tensor(*g));
        for i in 0..2 {
            let delta = before_adam[[0, i]] - p_adam.values[0][[0, i]];
            let want = before_w[[0, i]] * (1.0 - 0.1 * 0.5) - delta;
            let got = p_w.values[0][[0, i]];
            assert!((got - want).abs() < 1e-12, "step {} θ[{i}] = {got}, want {want}", t + 1);
        }
        if t == 0 {
            let want = [0.95 - 0.1 * 0.5 / (0.5 + 1e-8), -1.9 + 0.1 * 1.0 / (1.0 + 1e-8)];
            for i in 0..2 {
                assert!((p_w.values[0][[0, i]] - want[i]).abs() < 1e-12);
            }
        }
    }
    // The moments did not see the decay.
    assert_eq!((&o_w.s1, &o_w.s2), (&o_adam.s1, &o_adam.s2));
}

/// Biases (`….b`, `….b_hn`, `head.b_y`) are not decayed; weight matrices are.
#[test]
fn weight_decay_leaves_biases_alone() {
    let mut p = Params::<f64>::new();
    for name in [
        "layers.0.fwd.w",
        "layers.0.fwd.b",
        "layers.0.fwd.b_hn",
        "head.w_y",
        "head.b_y",
        "embed.weight",
    ] {
        let i = p.push(name, 1, 2);
        p.values[i] = array![[1.0, -2.0]];
    }
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.weight_decay = 0.5;
    let mut o = Optimizer::new(s, &p).expect("valid spec");
    let zero = p.zeros_like();
    o.step(&mut p, &zero);
    for (name, v) in p.names.iter().zip(&p.values) {
        let want = if optim::is_bias(name) { 1.0 } else { 0.95 };
        assert_eq!(v[[0, 0]], want, "{name}");
    }
    assert!(!optim::is_bias("layers.0.fwd.w") && !optim::is_bias("embed.weight"));
    assert!(optim::is_bias("layers.1.bwd.b") && optim::is_bias("head.b_y"));
}

/// Linear warm-up over 4 updates, SGD lr 0.1: the rates are 0.025, 0.05, 0.075, then 0.1.
/// θ¹ = (1 − 0.0125, −2 + 0.025) = (0.9875, −1.975); θ² = (0.9825, −1.985);
/// θ³ = (0.9825 + 0.0225, −1.985 − 0.03) = (1.005, −2.015).
#[test]
fn warmup_hand_updates() {
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.warmup = 4;
    let lrs = check_updates(s, [[0.9875, -1.975], [0.9825, -1.985], [1.005, -2.015]]);
    let want = [0.025, 0.05, 0.075];
    for (got, want) in lrs.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    // After the warm-up the schedule alone: step decay ×0.5 every 5 updates, warm-up 2.
    s.warmup = 2;
    s.schedule = Schedule::Step { every: 5, gamma: 0.5 };
    let mut p = one_tensor([0.0, 0.0]);
    let mut o = Optimizer::new(s, &p).expect("valid spec");
    let lrs: Vec<f64> = (0..7).map(|_| o.step(&mut p, &one_tensor([0.0, 0.0]))).collect();
    assert_eq!(lrs, vec![0.05, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]);
}

// ---------------------------------------------------------------------------------------------
// Clipping.

fn two_tensors(a: [f64; 2], b: f64) -> Params<f64> {
    let mut p = Params::new();
    p.push("layers.0.fwd.w", 1, 2);
    p.push("head.b_y", 1, 1);
    p.values[0] = array![[a[0], a[1]]];
    p.values[1] = array![[b]];
    p
}

/// By global norm: g = ((3, 4), 12) has ‖g‖ = 13; clipping to 6.5 returns 13 and halves every
/// element, leaving ‖g‖ = 6.5.
#[test]
fn clip_by_global_norm() {
    let mut g = two_tensors([3.0, 4.0], 12.0);
    let norm = optim::clip(&mut g, Some(6.5), None).unwrap();
    assert!((norm - 13.0).abs() < 1e-12);
    assert_eq!(g.values[0], array![[1.5, 2.0]]);
    assert_eq!(g.values[1], array![[6.0]]);
    assert!((g.norm() - 6.5).abs() < 1e-12);
}

/// Under the limit nothing changes and the norm is still returned.
#[test]
fn clip_under_the_limit_is_identity() {
    let mut g = two_tensors([3.0, 4.0], 12.0);
    let before = g.clone();
    assert!((optim::clip(&mut g, Some(20.0), None).unwrap() - 13.0).abs() < 1e-12);
    assert_eq!(g, before);
    assert!((optim::clip(&mut g, None, None).unwrap() - 13.0).abs() < 1e-12);
    assert_eq!(g, before);
}

/// By value: every element to ±1: ((3, −0.5), −4) → ((1, −0.5), −1).
#[test]
fn clip_by_value() {
    let mut g = two_tensors([3.0, -0.5], -4.0);
    let norm = optim::clip(&mut g, None, Some(1.0)).unwrap();
    assert_eq!(g.values[0], array![[1.0, -0.5]]);
    assert_eq!(g.values[1], array![[-1.0]]);
    // The returned norm is the raw one, before any clipping: √(9 + 0.25 + 16).
    assert!((norm - 25.25f64.sqrt()).abs() < 1e-12, "norm {norm}");
}

/// Both: value first (→ ((1, −0.5), −1), norm 1.5), then the norm to 0.75 (× 0.5); the
/// returned norm is the raw one.
#[test]
fn clip_by_value_then_norm() {
    let mut g = two_tensors([3.0, -0.5], -4.0);
    let norm = optim::clip(&mut g, Some(0.75), Some(1.0)).unwrap();
    assert!((norm - 25.25f64.sqrt()).abs() < 1e-12);
    assert_eq!(g.values[0], array![[0.5, -0.25]]);
    assert_eq!(g.values[1], array![[-0.5]]);
    assert!((g.norm() - 0.75).abs() < 1e-12);
}

/// Clipping works the same on f32 gradients.
#[test]
fn clip_f32() {
    let mut g: Params<f32> = two_tensors([3.0, 4.0], 12.0).cast();
    let norm = optim::clip(&mut g, Some(1.0), None).unwrap();
    assert!((norm - 13.0).abs() < 1e-5);
    assert!((g.norm() - 1.0).abs() < 1e-6);
}

/// A NaN or infinite gradient is `Diverged`, names the tensor, and leaves the gradients as they were.
#[test]
fn non_finite_gradient_is_diverged() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut g = two_tensors([3.0, 4.0], bad);
        let before = g.clone();
        let err = optim::clip(&mut g, Some(1.0), Some(0.5)).unwrap_err();
        match &err {
            NnError::Diverged { what, value } => {
                assert!(what.contains("head.b_y"), "names the tensor: {what}");
                assert_eq!(value, &format!("{bad}"));
            }
            other => panic!("expected Diverged, got {other:?}"),
        }
        assert!(err.to_string().contains("head.b_y"), "{err}");
        assert_eq!(format!("{:?}", g.values[0]), format!("{:?}", before.values[0]));
        let mut g = two_tensors([bad, 4.0], 1.0);
        match optim::clip(&mut g, None, None) {
            Err(NnError::Diverged { what, .. }) => {
                assert!(what.contains("layers.0.fwd.w"), "{what}")
            }
            other => panic!("expected Diverged, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hyper-parameter validation.

#[track_caller]
fn rejects(s: OptimSpec, field: &str) {
    let params = one_tensor([1.0, 2.0]);
    match Optimizer::<f64>::new(s, &params) {
        Err(NnError::InvalidHyper { field: f, .. }) => assert_eq!(f, field, "{s:?}"),
        other => panic!("{s:?}: expected InvalidHyper for `{field}`, got {other:?}"),
    }
    assert!(matches!(s.check(), Err(NnError::InvalidHyper { .. })));
}

#[test]
fn invalid_learning_rates() {
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        rejects(OptimSpec::adam(lr), "lr");
        rejects(spec(OptimizerKind::Sgd { momentum: 0.0 }, lr), "lr");
    }
    let err = Optimizer::<f64>::new(OptimSpec::adam(-0.1), &one_tensor([0.0, 0.0])).unwrap_err();
    assert!(
        err.to_string().contains("lr") && err.to_string().contains("-0.1"),
        "{err}"
    );
}

#[test]
fn invalid_optimizer_settings() {
    let adam = |beta1, beta2, eps| spec(OptimizerKind::Adam { beta1, beta2, eps }, 0.1);
    rejects(adam(1.0, 0.999, 1e-8), "beta1");
    rejects(adam(-0.1, 0.999, 1e-8), "beta1");
    rejects(adam(f64::NAN, 0.999, 1e-8), "beta1");
    rejects(adam(0.9, 1.0, 1e-8), "beta2");
    rejects(adam(0.9, 0.999, 0.0), "eps");
    rejects(adam(0.9, 0.999, f64::NAN), "eps");
    rejects(spec(OptimizerKind::Sgd { momentum: -0.1 }, 0.1), "momentum");
    rejects(spec(OptimizerKind::Sgd { momentum: 1.0 }, 0.1), "momentum");
    rejects(spec(OptimizerKind::Sgd { momentum: f64::NAN }, 0.1), "momentum");
    rejects(spec(OptimizerKind::Adagrad { eps: -1e-8 }, 0.1), "eps");
    rejects(spec(OptimizerKind::Rmsprop { decay: 1.0, eps: 1e-8 }, 0.1), "decay");
    rejects(spec(OptimizerKind::Rmsprop { decay: 0.9, eps: 0.0 }, 0.1), "eps");
}

#[test]
fn invalid_schedules_and_clipping() {
    let with = |schedule| OptimSpec {
        schedule,
        ..OptimSpec::adam(0.1)
    };
    rejects(with(Schedule::Step { every: 0, gamma: 0.5 }), "step_every");
    rejects(with(Schedule::Step { every: 3, gamma: 0.0 }), "step_gamma");
    rejects(with(Schedule::Step { every: 3, gamma: 1.5 }), "step_gamma");
    rejects(
        with(Schedule::Cosine {
            total: 0,
            min_factor: 0.1,
        }),
        "steps",
    );
    rejects(
        with(Schedule::Cosine {
            total: 10,
            min_factor: 1.5,
        }),
        "min_lr_factor",
    );
    rejects(
        with(Schedule::Cosine {
            total: 10,
            min_factor: f64::NAN,
        }),
        "min_lr_factor",
    );
    let adam = OptimSpec::adam(0.1);
    for (bad, field) in [
        (
            OptimSpec {
                clip_norm: Some(0.0),
                ..adam
            },
            "clip_norm",
        ),
        (
            OptimSpec {
                clip_norm: Some(f64::NAN),
                ..adam
            },
            "clip_norm",
        ),
        (
            OptimSpec {
                clip_value: Some(-1.0),
                ..adam
            },
            "clip_value",
        ),
        (
            OptimSpec {
                weight_decay: -0.1,
                ..adam
            },
            "weight_decay",
        ),
    ] {
        rejects(bad, field);
    }
    // The boundaries that are allowed.
    let params = one_tensor([1.0, 2.0]);
    for ok in [
        spec(OptimizerKind::Sgd { momentum: 0.0 }, 1e-9),
        with(Schedule::Step { every: 1, gamma: 1.0 }),
        with(Schedule::Cosine {
            total: 1,
            min_factor: 0.0,
        }),
        with(Schedule::Cosine {
            total: 1,
            min_factor: 1.0,
        }),
    ] {
        assert!(Optimizer::<f64>::new(ok, &params).is_ok(), "{ok:?}");
    }
}

/// Zaremba's per-epoch decay, with 3 steps per epoch, full rate for 2 epochs, ×0.5 after each
/// further one: epoch e (0-based) runs at 0.5^max(0, e + 1 − 2), so steps 0–5 at 1, 6–8 at 0.5,
/// 9–11 at 0.25, and with Zaremba's own figures (4 epochs, ×0.5) epoch 13 (e = 12) at 1/512.
#[test]
fn epoch_step_schedule_by_hand() {
    let s = Schedule::EpochStep {
        after: 2,
        gamma: 0.5,
        steps_per_epoch: 3,
    };
    let want = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];
    for (step, f) in want.iter().enumerate() {
        assert_eq!(s.factor(step as u64), *f, "step {step}");
    }
    let z = Schedule::EpochStep {
        after: 4,
        gamma: 0.5,
        steps_per_epoch: 1327,
    };
    assert_eq!(z.factor(4 * 1327 - 1), 1.0);
    assert_eq!(z.factor(4 * 1327), 0.5);
    assert_eq!(z.factor(12 * 1327 + 5), 1.0 / 512.0);
    // Not yet resolved (0 steps per epoch): treated as 1 step per epoch, never a division by 0.
    let u = Schedule::EpochStep {
        after: 1,
        gamma: 0.5,
        steps_per_epoch: 0,
    };
    assert_eq!(u.factor(2), 0.25);
}

/// SGD lr 0.1 under the epoch schedule with 1 step per epoch, full rate for 2 epochs, ×0.5:
/// rates 0.1, 0.1, 0.05: θ¹ = (0.95, −1.9), θ² = (0.94, −1.92), θ³ = (0.955, −1.94).
#[test]
fn sgd_follows_the_epoch_schedule() {
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.schedule = Schedule::EpochStep {
        after: 2,
        gamma: 0.5,
        steps_per_epoch: 1,
    };
    let lrs = check_updates(s, [[0.95, -1.9], [0.94, -1.92], [0.955, -1.94]]);
    assert_eq!(lrs, vec![0.1, 0.1, 0.05]);
}

/// Out-of-range epoch schedules are refused.
#[test]
fn epoch_step_rejects_bad_values() {
    let mut s = spec(OptimizerKind::Sgd { momentum: 0.0 }, 0.1);
    s.schedule = Schedule::EpochStep {
        after: 0,
        gamma: 0.5,
        steps_per_epoch: 1,
    };
    assert!(s.check().is_err());
    s.schedule = Schedule::EpochStep {
        after: 1,
        gamma: 1.5,
        steps_per_epoch: 1,
    };
    assert!(s.check().is_err());
}
