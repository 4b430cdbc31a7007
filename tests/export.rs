//! Checkpoint layout (DESIGN.md §2): `model.export()` gives the notes' names and shapes —
//! `layers.{l}.{fwd|bwd}.w_g` `[H, H + X]` acting on [a⟨t−1⟩; x⟨t⟩], `b_g` `[H]`,
//! `head.w_y` `[|Y|, H·dirs]`, `head.b_y` `[|Y|]`, `embed.weight` `[|V|, E]` — and
//! `import_into` round-trips it, rejecting a missing tensor or a wrong shape by name.

#![allow(clippy::needless_range_loop)] // index loops mirror the equations' subscripts

use std::collections::HashMap;

use rnn_lab::nn::export::NamedTensor;
use rnn_lab::nn::{Batch, CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Score, Targets};

const V: usize = 5;
const H: usize = 3;
const E: usize = 4;
const Y: usize = 6;

fn spec(cell: CellKind, variant: GruVariant, layers: usize, bi: bool, input: InputKind) -> ModelSpec {
    ModelSpec {
        cell,
        gru_variant: variant,
        vocab: V,
        input,
        hidden: H,
        layers,
        bidirectional: bi,
        head: HeadKind::PerStep,
        outputs: Y,
        init: Init::Uniform(0.5),
        forget_bias: 1.0,
        init_recurrent: rnn_lab::nn::RecurrentInit::Same,
        tie_weights: false,
    }
}

fn all_specs() -> Vec<ModelSpec> {
    let mut out = Vec::new();
    for (cell, variant) in [
        (CellKind::Rnn, GruVariant::Course),
        (CellKind::Gru, GruVariant::Course),
        (CellKind::Gru, GruVariant::Pytorch),
        (CellKind::Lstm, GruVariant::Course),
    ] {
        for layers in [1, 2] {
            for bi in [false, true] {
                for input in [InputKind::OneHot, InputKind::Embedding(E)] {
                    out.push(spec(cell, variant, layers, bi, input));
                }
            }
        }
    }
    out
}

/// The names and shapes DESIGN.md §2 prescribes, in export order.
fn expected(s: &ModelSpec) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    if let InputKind::Embedding(e) = s.input {
        out.push(("embed.weight".to_string(), vec![V, e]));
    }
    let gates: &[&str] = match (s.cell, s.gru_variant) {
        (CellKind::Rnn, _) => &["a"],
        (CellKind::Gru, GruVariant::Course) => &["u", "r", "c"],
        (CellKind::Gru, GruVariant::Pytorch) => &["r", "z", "n"],
        (CellKind::Lstm, _) => &["u", "f", "o", "c"],
    };
    let dirs = if s.bidirectional { 2 } else { 1 };
    for l in 0..s.layers {
        let x = if l == 0 {
            match s.input {
                InputKind::OneHot => V,
                InputKind::Embedding(e) => e,
            }
        } else {
            H * dirs
        };
        for d in 0..dirs {
            let p = format!("layers.{l}.{}", ["fwd", "bwd"][d]);
            for g in gates {
                out.push((format!("{p}.w_{g}"), vec![H, H + x]));
                out.push((format!("{p}.b_{g}"), vec![H]));
            }
            if s.gru_variant == GruVariant::Pytorch && s.cell == CellKind::Gru {
                out.push((format!("{p}.b_hn"), vec![H]));
            }
        }
    }
    out.push(("head.w_y".to_string(), vec![Y, H * dirs]));
    out.push(("head.b_y".to_string(), vec![Y]));
    out
}

fn as_map(ts: &[NamedTensor<f32>]) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    ts.iter()
        .map(|t| (t.name.clone(), (t.shape.clone(), t.data.clone())))
        .collect()
}

#[test]
fn names_and_shapes_follow_the_notes() {
    for s in all_specs() {
        let m = Model::<f32>::new(s.clone(), 1).unwrap();
        let got: Vec<(String, Vec<usize>)> = m.export().into_iter().map(|t| (t.name, t.shape)).collect();
        assert_eq!(got, expected(&s), "{s:?}");
        let total: usize = m.export().iter().map(|t| t.data.len()).sum();
        assert_eq!(total, m.param_count(), "every parameter exported exactly once: {s:?}");
        for t in m.export() {
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>(), "{}", t.name);
        }
    }
}

/// The exported tensors mean what the notes say: recompute one step by hand from them.
/// RNN: a⟨1⟩ = tanh(w_a [a⟨0⟩; x⟨1⟩] + b_a), then z = w_y a⟨1⟩ + b_y; LSTM: the four gates from
/// w_u, w_f, w_o, w_c the same way. Columns 0..H of w_g act on a⟨t−1⟩, H.. on the one-hot x.
#[test]
fn exported_weights_act_on_a_then_x() {
    for cell in [CellKind::Rnn, CellKind::Lstm] {
        let m = Model::<f64>::new(spec(cell, GruVariant::Course, 1, false, InputKind::OneHot), 3).unwrap();
        let ts: HashMap<String, NamedTensor<f64>> = m.export().into_iter().map(|t| (t.name.clone(), t)).collect();
        let a0 = [0.3, -0.2, 0.5];
        let c0 = [0.1, 0.4, -0.3];
        let tok = 2;
        let batch = Batch::dense(1, 1, vec![tok as u32], Targets::PerStep(vec![1]));
        let mut ws = m.workspace();
        m.forward(&batch, Score::All, &mut ws).unwrap();
        ws.dirs[0].a0.copy_from_slice(&a0);
        ws.dirs[0].c0.copy_from_slice(&c0);
        m.forward(&batch, Score::All, &mut ws).unwrap();
        let pre = |g: &str| -> Vec<f64> {
            let w = &ts[&format!("layers.0.fwd.w_{g}")].data;
            let b = &ts[&format!("layers.0.fwd.b_{g}")].data;
            (0..H)
                .map(|j| (0..H).map(|k| w[j * (H + V) + k] * a0[k]).sum::<f64>() + w[j * (H + V) + H + tok] + b[j])
                .collect()
        };
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let a1: Vec<f64> = if cell == CellKind::Rnn {
            pre("a").into_iter().map(f64::tanh).collect()
        } else {
            let (u, f, o, cc) = (pre("u"), pre("f"), pre("o"), pre("c"));
            (0..H)
                .map(|j| sig(o[j]) * (sig(u[j]) * cc[j].tanh() + sig(f[j]) * c0[j]).tanh())
                .collect()
        };
        for j in 0..H {
            assert!((ws.dirs[0].a[j] - a1[j]).abs() < 1e-12, "{cell:?} a[{j}]");
        }
        let (wy, by) = (&ts["head.w_y"].data, &ts["head.b_y"].data);
        for k in 0..Y {
            let z = (0..H).map(|j| wy[k * H + j] * a1[j]).sum::<f64>() + by[k];
            assert!((ws.logits[k] - z).abs() < 1e-12, "{cell:?} z[{k}]");
        }
    }
}

/// LSTM forget-gate bias starts at `forget_bias` in `b_f` and nowhere else.
#[test]
fn lstm_forget_bias_lands_in_b_f() {
    let mut s = spec(CellKind::Lstm, GruVariant::Course, 2, true, InputKind::OneHot);
    s.forget_bias = 1.5;
    let m = Model::<f32>::new(s, 1).unwrap();
    for t in m.export() {
        if t.name.ends_with(".b_f") {
            assert!(t.data.iter().all(|&v| v == 1.5), "{}: {:?}", t.name, t.data);
        } else if t.name.contains(".b_") {
            assert!(t.data.iter().all(|&v| v == 0.0), "{}: {:?}", t.name, t.data);
        }
    }
}

#[test]
fn import_round_trips() {
    for s in all_specs() {
        let a = Model::<f32>::new(s.clone(), 1).unwrap();
        let mut b = Model::<f32>::new(s.clone(), 2).unwrap();
        assert_ne!(a.params, b.params);
        let map = as_map(&a.export());
        let mut params = b.params.clone();
        b.import_into(&mut params, &map).unwrap();
        b.params = params;
        assert_eq!(a.params, b.params, "{s:?}");
        assert_eq!(a.export(), b.export());
        // Same layout for gradient-shaped lists (optimizer state).
        let g = a.params.zeros_like();
        let ex = a.export_from(&g);
        assert!(ex.iter().all(|t| t.data.iter().all(|&v| v == 0.0)));
        assert_eq!(
            ex.iter().map(|t| &t.name).collect::<Vec<_>>(),
            a.export().iter().map(|t| &t.name).collect::<Vec<_>>()
        );
        // Extra tensors are ignored.
        let mut extra = map.clone();
        extra.insert("optim.step".into(), (vec![1], vec![3.0]));
        let mut p = b.params.zeros_like();
        b.import_into(&mut p, &extra).unwrap();
        assert_eq!(p, a.params);
    }
}

#[test]
fn import_rejects_missing_or_misshapen_tensors() {
    for s in all_specs() {
        let m = Model::<f32>::new(s.clone(), 1).unwrap();
        let map = as_map(&m.export());
        for name in map.keys() {
            let mut missing = map.clone();
            missing.remove(name);
            let mut p = m.params.zeros_like();
            let err = m.import_into(&mut p, &missing).unwrap_err();
            assert!(err.contains(&format!("`{name}`")) && err.contains("missing"), "{err}");

            // Transposed shape (same element count).
            let mut bad = map.clone();
            let (shape, data) = bad[name].clone();
            let flipped: Vec<usize> = shape.iter().rev().copied().collect();
            if flipped != shape {
                bad.insert(name.clone(), (flipped, data.clone()));
                let err = m.import_into(&mut p, &bad).unwrap_err();
                assert!(err.contains(&format!("`{name}`")) && err.contains("shape"), "{err}");
            }
            // One element too many, declared shape kept.
            let mut bad = map.clone();
            let mut longer = data.clone();
            longer.push(0.0);
            bad.insert(name.clone(), (shape.clone(), longer));
            assert!(m.import_into(&mut p, &bad).unwrap_err().contains(name.as_str()));
            // Wrong rank.
            let mut bad = map.clone();
            bad.insert(name.clone(), (vec![data.len(), 1, 1], data.clone()));
            assert!(m.import_into(&mut p, &bad).unwrap_err().contains(name.as_str()));
        }
    }
}

/// A checkpoint of one architecture does not load into another (names or shapes differ).
#[test]
fn import_rejects_other_architectures() {
    let lstm = Model::<f32>::new(spec(CellKind::Lstm, GruVariant::Course, 1, false, InputKind::OneHot), 1).unwrap();
    let gru = Model::<f32>::new(spec(CellKind::Gru, GruVariant::Course, 1, false, InputKind::OneHot), 1).unwrap();
    let torch = Model::<f32>::new(spec(CellKind::Gru, GruVariant::Pytorch, 1, false, InputKind::OneHot), 1).unwrap();
    let bi = Model::<f32>::new(spec(CellKind::Lstm, GruVariant::Course, 1, true, InputKind::OneHot), 1).unwrap();
    let mut p = gru.params.zeros_like();
    assert!(gru
        .import_into(&mut p, &as_map(&lstm.export()))
        .unwrap_err()
        .contains("layers.0.fwd.w_r"));
    let mut p = torch.params.zeros_like();
    assert!(torch.import_into(&mut p, &as_map(&gru.export())).is_err());
    let mut p = bi.params.zeros_like();
    assert!(bi
        .import_into(&mut p, &as_map(&lstm.export()))
        .unwrap_err()
        .contains("layers.0.bwd"));
    let mut p = lstm.params.zeros_like();
    assert!(lstm
        .import_into(&mut p, &as_map(&bi.export()))
        .unwrap_err()
        .contains("head.w_y"));
}
