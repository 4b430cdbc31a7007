//! `rnn-lab export --pytorch` / `rnn-lab import` without PyTorch:
//! - gate reordering on hand-made tiny models (known values land in PyTorch's rows);
//! - the exported state_dict, run through PyTorch's own equations (written out below in f64 in
//!   PyTorch's gate order), gives rnn-lab's logits, for every cell, 1–2 layers, uni/bidirectional;
//! - export → import is the identity on every tensor, at the library level and through the CLI;
//! - bad input (missing files, wrong shapes, missing or stray tensors, foreign files) is one line
//!   naming the file and the tensor, exit 2, and nothing saved is damaged.

#[path = "support/cli.rs"]
mod cli;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use cli::bin;
use rnn_lab::config::Level;
use rnn_lab::data::Vocab;
use rnn_lab::interop::export_dir::{check_inputs, check_logits, CHECK_BATCH, CHECK_STEPS};
use rnn_lab::interop::import_dir::{f16_to_f32, read_state_dict};
use rnn_lab::interop::layout::{from_torch, to_torch, torch_shapes, LayoutError, TensorMap};
use rnn_lab::nn::export::NamedTensor;
use rnn_lab::nn::{CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, NO_INPUT};
use rnn_lab::train::checkpoint::{self, CheckpointData};
use safetensors::tensor::{Dtype, TensorView};

const CELLS: [(CellKind, GruVariant); 4] = [
    (CellKind::Rnn, GruVariant::Course),
    (CellKind::Gru, GruVariant::Course),
    (CellKind::Gru, GruVariant::Pytorch),
    (CellKind::Lstm, GruVariant::Course),
];

fn spec(cell: (CellKind, GruVariant), layers: usize, bi: bool, input: InputKind) -> ModelSpec {
    ModelSpec {
        cell: cell.0,
        gru_variant: cell.1,
        vocab: 5,
        input,
        hidden: 3,
        layers,
        bidirectional: bi,
        head: HeadKind::PerStep,
        outputs: 5,
        init: Init::Uniform(0.08),
        forget_bias: 1.0,
        init_recurrent: rnn_lab::nn::RecurrentInit::Same,
        tie_weights: false,
    }
}

fn all_specs() -> Vec<ModelSpec> {
    let mut out = Vec::new();
    for cell in CELLS {
        for layers in [1, 2] {
            for bi in [false, true] {
                for input in [InputKind::OneHot, InputKind::Embedding(4)] {
                    out.push(spec(cell, layers, bi, input));
                }
            }
        }
    }
    out
}

/// A model whose every parameter, biases included, is a distinct pseudo-random value in ±0.7.
fn random_model(spec: &ModelSpec, seed: u64) -> Model<f32> {
    let mut model = Model::<f32>::new(spec.clone(), seed).expect("model");
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) as f32 * 1.4
    };
    for v in &mut model.params.values {
        v.iter_mut().for_each(|x| *x = next());
    }
    model
}

fn named(name: &str, shape: &[usize], data: &[f32]) -> NamedTensor<f32> {
    NamedTensor {
        name: name.into(),
        shape: shape.to_vec(),
        data: data.to_vec(),
    }
}

fn by_name(ts: &[NamedTensor<f32>]) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    ts.iter()
        .map(|t| (t.name.clone(), (t.shape.clone(), t.data.clone())))
        .collect()
}

/// H = 1, X = 2 (one-hot over 2 tokens): w_g = [a-column | x-columns], so each gate's three
/// values say where they must land: weight_hh gets the first, weight_ih the other two.
fn tiny(gates: &[(&str, [f32; 3], f32)], extra: &[NamedTensor<f32>]) -> Vec<NamedTensor<f32>> {
    let mut v: Vec<NamedTensor<f32>> = gates
        .iter()
        .flat_map(|(g, w, b)| {
            [
                named(&format!("layers.0.fwd.w_{g}"), &[1, 3], w),
                named(&format!("layers.0.fwd.b_{g}"), &[1], &[*b]),
            ]
        })
        .collect();
    v.extend_from_slice(extra);
    v.push(named("head.w_y", &[2, 1], &[0.5, -0.5]));
    v.push(named("head.b_y", &[2], &[0.25, -0.25]));
    v
}

fn tiny_spec(cell: (CellKind, GruVariant)) -> ModelSpec {
    ModelSpec {
        vocab: 2,
        hidden: 1,
        outputs: 2,
        ..spec(cell, 1, false, InputKind::OneHot)
    }
}

#[test]
fn lstm_gates_land_in_pytorch_rows_i_f_g_o() {
    let cell = (CellKind::Lstm, GruVariant::Course);
    let notes = tiny(
        &[
            ("u", [1.0, 2.0, 3.0], 0.1),
            ("f", [4.0, 5.0, 6.0], 0.2),
            ("o", [7.0, 8.0, 9.0], 0.3),
            ("c", [10.0, 11.0, 12.0], 0.4),
        ],
        &[],
    );
    let sd = by_name(&to_torch(&tiny_spec(cell), &notes).expect("export"));
    // nn.LSTM rows: i = Γu, f = Γf, g = c̃, o = Γo.
    assert_eq!(
        sd["rnn.weight_ih_l0"],
        (vec![4, 2], vec![2.0, 3.0, 5.0, 6.0, 11.0, 12.0, 8.0, 9.0])
    );
    assert_eq!(sd["rnn.weight_hh_l0"], (vec![4, 1], vec![1.0, 4.0, 10.0, 7.0]));
    assert_eq!(sd["rnn.bias_ih_l0"], (vec![4], vec![0.1, 0.2, 0.4, 0.3]));
    assert_eq!(sd["rnn.bias_hh_l0"], (vec![4], vec![0.0; 4]));
    assert_eq!(sd["head.weight"], (vec![2, 1], vec![0.5, -0.5]));
    assert_eq!(sd["head.bias"], (vec![2], vec![0.25, -0.25]));
    assert_eq!(sd.len(), 6, "no embedding for one-hot input: {:?}", sd.keys());
}

#[test]
fn pytorch_gru_keeps_r_z_n_and_b_hn_apart() {
    let cell = (CellKind::Gru, GruVariant::Pytorch);
    let notes = tiny(
        &[
            ("r", [1.0, 2.0, 3.0], 0.1),
            ("z", [4.0, 5.0, 6.0], 0.2),
            ("n", [7.0, 8.0, 9.0], 0.3),
        ],
        &[named("layers.0.fwd.b_hn", &[1], &[0.4])],
    );
    let sd = by_name(&to_torch(&tiny_spec(cell), &notes).expect("export"));
    assert_eq!(sd["rnn.weight_ih_l0"], (vec![3, 2], vec![2.0, 3.0, 5.0, 6.0, 8.0, 9.0]));
    assert_eq!(sd["rnn.weight_hh_l0"], (vec![3, 1], vec![1.0, 4.0, 7.0]));
    assert_eq!(sd["rnn.bias_ih_l0"], (vec![3], vec![0.1, 0.2, 0.3]));
    // b_hn sits inside r ∗ (W_hn h + b_hn): it must stay in bias_hh's n block.
    assert_eq!(sd["rnn.bias_hh_l0"], (vec![3], vec![0.0, 0.0, 0.4]));
}

#[test]
fn course_gru_rows_are_u_r_c_and_rnn_is_one_block() {
    let cell = (CellKind::Gru, GruVariant::Course);
    let notes = tiny(
        &[
            ("u", [1.0, 2.0, 3.0], 0.1),
            ("r", [4.0, 5.0, 6.0], 0.2),
            ("c", [7.0, 8.0, 9.0], 0.3),
        ],
        &[],
    );
    let sd = by_name(&to_torch(&tiny_spec(cell), &notes).expect("export"));
    assert_eq!(sd["rnn.weight_ih_l0"].1, vec![2.0, 3.0, 5.0, 6.0, 8.0, 9.0]);
    assert_eq!(sd["rnn.weight_hh_l0"].1, vec![1.0, 4.0, 7.0]);
    assert_eq!(sd["rnn.bias_ih_l0"].1, vec![0.1, 0.2, 0.3]);
    assert_eq!(sd["rnn.bias_hh_l0"].1, vec![0.0; 3]);

    let cell = (CellKind::Rnn, GruVariant::Course);
    let notes = tiny(&[("a", [1.0, 2.0, 3.0], 0.5)], &[]);
    let sd = by_name(&to_torch(&tiny_spec(cell), &notes).expect("export"));
    assert_eq!(sd["rnn.weight_ih_l0"], (vec![1, 2], vec![2.0, 3.0]));
    assert_eq!(sd["rnn.weight_hh_l0"], (vec![1, 1], vec![1.0]));
    assert_eq!(sd["rnn.bias_ih_l0"].1, vec![0.5]);
}

#[test]
fn import_adds_the_two_biases_except_the_gru_n_gate() {
    // A state_dict as PyTorch training leaves it: bias_hh non-zero.
    let cell = (CellKind::Lstm, GruVariant::Course);
    let s = tiny_spec(cell);
    let mut sd: TensorMap<f32> = TensorMap::new();
    sd.insert(
        "rnn.weight_ih_l0".into(),
        (vec![4, 2], (1..=8).map(|i| i as f32).collect()),
    );
    sd.insert("rnn.weight_hh_l0".into(), (vec![4, 1], vec![10.0, 20.0, 30.0, 40.0]));
    sd.insert("rnn.bias_ih_l0".into(), (vec![4], vec![0.5, 0.25, 0.125, 1.0]));
    sd.insert("rnn.bias_hh_l0".into(), (vec![4], vec![1.0, 2.0, 3.0, 4.0]));
    sd.insert("head.weight".into(), (vec![2, 1], vec![1.0, 2.0]));
    sd.insert("head.bias".into(), (vec![2], vec![3.0, 4.0]));
    let notes = from_torch(&s, &sd).expect("import");
    // Row blocks i, f, g, o → u, f, c, o; w_g = [W_hh row | W_ih row].
    assert_eq!(notes["layers.0.fwd.w_u"], (vec![1, 3], vec![10.0, 1.0, 2.0]));
    assert_eq!(notes["layers.0.fwd.w_f"], (vec![1, 3], vec![20.0, 3.0, 4.0]));
    assert_eq!(notes["layers.0.fwd.w_c"], (vec![1, 3], vec![30.0, 5.0, 6.0]));
    assert_eq!(notes["layers.0.fwd.w_o"], (vec![1, 3], vec![40.0, 7.0, 8.0]));
    assert_eq!(notes["layers.0.fwd.b_u"].1, vec![1.5]);
    assert_eq!(notes["layers.0.fwd.b_f"].1, vec![2.25]);
    assert_eq!(notes["layers.0.fwd.b_c"].1, vec![3.125]);
    assert_eq!(notes["layers.0.fwd.b_o"].1, vec![5.0]);

    let s = tiny_spec((CellKind::Gru, GruVariant::Pytorch));
    let mut sd: TensorMap<f32> = TensorMap::new();
    sd.insert("rnn.weight_ih_l0".into(), (vec![3, 2], vec![0.0; 6]));
    sd.insert("rnn.weight_hh_l0".into(), (vec![3, 1], vec![0.0; 3]));
    sd.insert("rnn.bias_ih_l0".into(), (vec![3], vec![0.5, 0.25, 0.125]));
    sd.insert("rnn.bias_hh_l0".into(), (vec![3], vec![1.0, 2.0, 3.0]));
    sd.insert("head.weight".into(), (vec![2, 1], vec![1.0, 2.0]));
    sd.insert("head.bias".into(), (vec![2], vec![3.0, 4.0]));
    let notes = from_torch(&s, &sd).expect("import");
    assert_eq!(notes["layers.0.fwd.b_r"].1, vec![1.5]);
    assert_eq!(notes["layers.0.fwd.b_z"].1, vec![2.25]);
    assert_eq!(notes["layers.0.fwd.b_n"].1, vec![0.125]);
    assert_eq!(notes["layers.0.fwd.b_hn"].1, vec![3.0]);
}

#[test]
fn names_and_shapes_follow_pytorch_for_deep_bidirectional_stacks() {
    let s = spec((CellKind::Lstm, GruVariant::Course), 2, true, InputKind::Embedding(4));
    let model = random_model(&s, 3);
    let sd = to_torch(&s, &model.export()).expect("export");
    let got: Vec<(String, Vec<usize>)> = sd.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
    let want: Vec<(&str, Vec<usize>)> = vec![
        ("embed.weight", vec![5, 4]),
        ("rnn.weight_ih_l0", vec![12, 4]),
        ("rnn.weight_hh_l0", vec![12, 3]),
        ("rnn.bias_ih_l0", vec![12]),
        ("rnn.bias_hh_l0", vec![12]),
        ("rnn.weight_ih_l0_reverse", vec![12, 4]),
        ("rnn.weight_hh_l0_reverse", vec![12, 3]),
        ("rnn.bias_ih_l0_reverse", vec![12]),
        ("rnn.bias_hh_l0_reverse", vec![12]),
        ("rnn.weight_ih_l1", vec![12, 6]),
        ("rnn.weight_hh_l1", vec![12, 3]),
        ("rnn.bias_ih_l1", vec![12]),
        ("rnn.bias_hh_l1", vec![12]),
        ("rnn.weight_ih_l1_reverse", vec![12, 6]),
        ("rnn.weight_hh_l1_reverse", vec![12, 3]),
        ("rnn.bias_ih_l1_reverse", vec![12]),
        ("rnn.bias_hh_l1_reverse", vec![12]),
        ("head.weight", vec![5, 6]),
        ("head.bias", vec![5]),
    ];
    let want: Vec<(String, Vec<usize>)> = want.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
    assert_eq!(got, want);
    assert_eq!(torch_shapes(&s), want);
}

// ---- PyTorch's equations, independently, in f64 -------------------------------------------

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// y = W x (+ b), W row-major [rows, x.len()].
fn affine(w: &[f64], x: &[f64], b: Option<&[f64]>) -> Vec<f64> {
    let cols = x.len();
    w.chunks_exact(cols)
        .enumerate()
        .map(|(i, row)| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + b.map_or(0.0, |b| b[i]))
        .collect()
}

/// The exported state_dict run as PyTorch runs it (gate rows i,f,g,o / r,z,n; CourseGRU u,r,c)
/// on one sequence of tokens (-1 = no input) → per-step logits.
fn torch_forward(s: &ModelSpec, sd: &HashMap<String, (Vec<usize>, Vec<f32>)>, tokens: &[i64]) -> Vec<Vec<f64>> {
    let t64 = |n: &str| -> Vec<f64> { sd[n].1.iter().map(|&x| f64::from(x)).collect() };
    let h = s.hidden;
    let mut xs: Vec<Vec<f64>> = tokens
        .iter()
        .map(|&tok| match s.input {
            _ if tok < 0 => vec![0.0; s.input_width(0)],
            InputKind::OneHot => (0..s.vocab).map(|i| f64::from(u8::from(i as i64 == tok))).collect(),
            InputKind::Embedding(e) => t64("embed.weight")[tok as usize * e..(tok as usize + 1) * e].to_vec(),
        })
        .collect();
    let steps = tokens.len();
    for l in 0..s.layers {
        let mut outs = vec![Vec::new(); steps];
        for d in 0..s.dirs() {
            let sfx = if d == 0 {
                format!("_l{l}")
            } else {
                format!("_l{l}_reverse")
            };
            let (w_ih, w_hh) = (t64(&format!("rnn.weight_ih{sfx}")), t64(&format!("rnn.weight_hh{sfx}")));
            let (b_ih, b_hh) = (t64(&format!("rnn.bias_ih{sfx}")), t64(&format!("rnn.bias_hh{sfx}")));
            let (mut hs, mut cs) = (vec![0.0; h], vec![0.0; h]);
            let order: Vec<usize> = if d == 0 {
                (0..steps).collect()
            } else {
                (0..steps).rev().collect()
            };
            for t in order {
                let gi = affine(&w_ih, &xs[t], Some(&b_ih));
                match (s.cell, s.gru_variant) {
                    (CellKind::Rnn, _) => {
                        let gh = affine(&w_hh, &hs, Some(&b_hh));
                        hs = (0..h).map(|k| (gi[k] + gh[k]).tanh()).collect();
                    }
                    (CellKind::Lstm, _) => {
                        let gh = affine(&w_hh, &hs, Some(&b_hh));
                        let g: Vec<f64> = gi.iter().zip(&gh).map(|(a, b)| a + b).collect();
                        for k in 0..h {
                            let (i, f) = (sig(g[k]), sig(g[h + k]));
                            let (gg, o) = (g[2 * h + k].tanh(), sig(g[3 * h + k]));
                            cs[k] = f * cs[k] + i * gg;
                            hs[k] = o * cs[k].tanh();
                        }
                    }
                    (CellKind::Gru, GruVariant::Pytorch) => {
                        let gh = affine(&w_hh, &hs, Some(&b_hh));
                        hs = (0..h)
                            .map(|k| {
                                let r = sig(gi[k] + gh[k]);
                                let z = sig(gi[h + k] + gh[h + k]);
                                let n = (gi[2 * h + k] + r * gh[2 * h + k]).tanh();
                                (1.0 - z) * n + z * hs[k]
                            })
                            .collect();
                    }
                    (CellKind::Gru, GruVariant::Course) => {
                        let ur = affine(&w_hh[..2 * h * h], &hs, Some(&b_hh[..2 * h]));
                        let u: Vec<f64> = (0..h).map(|k| sig(gi[k] + ur[k])).collect();
                        let r: Vec<f64> = (0..h).map(|k| sig(gi[h + k] + ur[h + k])).collect();
                        let rh: Vec<f64> = (0..h).map(|k| r[k] * hs[k]).collect();
                        let c = affine(&w_hh[2 * h * h..], &rh, Some(&b_hh[2 * h..]));
                        hs = (0..h)
                            .map(|k| {
                                let ct = (gi[2 * h + k] + c[k]).tanh();
                                u[k] * ct + (1.0 - u[k]) * hs[k]
                            })
                            .collect();
                    }
                }
                outs[t].extend_from_slice(&hs);
            }
        }
        xs = outs;
    }
    let (w, b) = (t64("head.weight"), t64("head.bias"));
    xs.iter().map(|x| affine(&w, x, Some(&b))).collect()
}

#[test]
fn exported_state_dict_under_pytorch_equations_gives_rnn_lab_logits() {
    for (n, s) in all_specs().iter().enumerate() {
        let model = random_model(s, 10 + n as u64);
        let sd = by_name(&to_torch(s, &model.export()).expect("export"));
        let (shape, ours) = check_logits(&model);
        assert_eq!(shape, vec![CHECK_BATCH, CHECK_STEPS, s.outputs]);
        let inputs = check_inputs(s.vocab);
        let mut worst = 0.0f64;
        for row in 0..CHECK_BATCH {
            let tokens: Vec<i64> = (0..CHECK_STEPS)
                .map(|t| match inputs[t * CHECK_BATCH + row] {
                    NO_INPUT => -1,
                    tok => i64::from(tok),
                })
                .collect();
            let theirs = torch_forward(s, &sd, &tokens);
            for (t, logits) in theirs.iter().enumerate() {
                for (y, &v) in logits.iter().enumerate() {
                    let o = f64::from(ours[(row * CHECK_STEPS + t) * s.outputs + y]);
                    worst = worst.max((o - v).abs());
                }
            }
        }
        assert!(
            worst < 1e-5,
            "{:?}/{:?} L{} bi={} {:?}: |Δ logit| {worst:e}",
            s.cell,
            s.gru_variant,
            s.layers,
            s.bidirectional,
            s.input
        );
    }
}

#[test]
fn export_then_import_is_the_identity_on_every_tensor() {
    for (n, s) in all_specs().iter().enumerate() {
        let model = random_model(s, 100 + n as u64);
        let sd = by_name(&to_torch(s, &model.export()).expect("export"));
        let notes = from_torch(s, &sd).expect("import");
        let mut back = Model::<f32>::new(s.clone(), 0).expect("model");
        let mut params = back.params.clone();
        back.import_into(&mut params, &notes).expect("fits");
        back.params = params;
        for (a, b) in model.params.values.iter().zip(&back.params.values) {
            let (a, b): (Vec<u32>, Vec<u32>) = (
                a.iter().map(|x| x.to_bits()).collect(),
                b.iter().map(|x| x.to_bits()).collect(),
            );
            assert_eq!(a, b, "{s:?}");
        }
    }
}

#[test]
fn import_names_missing_misshapen_and_stray_tensors() {
    let s = spec((CellKind::Gru, GruVariant::Pytorch), 2, false, InputKind::OneHot);
    let model = random_model(&s, 7);
    let sd = by_name(&to_torch(&s, &model.export()).expect("export"));

    let mut missing = sd.clone();
    missing.remove("rnn.bias_hh_l1");
    assert_eq!(
        from_torch(&s, &missing).unwrap_err(),
        LayoutError::Missing {
            name: "rnn.bias_hh_l1".into()
        }
    );
    let mut wrong = sd.clone();
    wrong.insert("rnn.weight_ih_l1".into(), (vec![9, 4], vec![0.0; 36]));
    assert_eq!(
        from_torch(&s, &wrong).unwrap_err(),
        LayoutError::Shape {
            name: "rnn.weight_ih_l1".into(),
            got: vec![9, 4],
            expected: vec![9, 3]
        }
    );
    let mut stray = sd.clone();
    stray.insert("rnn.weight_ih_l2".into(), (vec![9, 3], vec![0.0; 27]));
    let e = from_torch(&s, &stray).unwrap_err().to_string();
    assert!(
        e.starts_with("tensor `rnn.weight_ih_l2` is not part of this model"),
        "{e}"
    );
}

#[test]
fn half_precision_converts_exactly() {
    for (bits, v) in [
        (0x3c00u16, 1.0f32),
        (0xc000, -2.0),
        (0x3800, 0.5),
        (0x7bff, 65504.0),
        (0x0001, 5.960_464_5e-8),
        (0x0000, 0.0),
        (0x3555, 0.333_251_95),
    ] {
        assert_eq!(f16_to_f32(bits), v, "{bits:#06x}");
    }
    assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    assert!(f16_to_f32(0x7e00).is_nan());
}

// ---- Through the CLI -----------------------------------------------------------------------

/// Run; return (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().expect("run rnn-lab");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A checkpoint of a random char-level language model (vocabulary "abcdefg\n").
fn write_checkpoint(dir: &Path, model_toml: &str, seed: u64) -> PathBuf {
    let path = dir.join("exp.toml");
    let text = format!("[data]\nfiles = [\"t.txt\"]\n\n[model]\n{model_toml}\n");
    let exp = rnn_lab::config::parse_str(&text, &path).expect("config");
    let tokens: Vec<String> = "abcdefg\n".chars().map(String::from).collect();
    let vocab = Vocab::from_tokens(Level::Char, false, tokens);
    let s = exp.model_spec(vocab.len());
    let model = random_model(&s, seed);
    let ckpt = dir.join(format!("m{seed}.safetensors"));
    checkpoint::save(
        &ckpt,
        &CheckpointData {
            config_toml: exp.to_toml(),
            vocab_json: vocab.to_json(),
            task_json: None,
            step: 42,
            best_val: Some(1.5),
            model,
            optim: None,
            carried: None,
            note: None,
        },
    )
    .expect("save");
    ckpt
}

fn model_tensors(path: &Path) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let c = checkpoint::load(path).expect("load");
    c.model
        .export()
        .into_iter()
        .map(|t| (t.name, t.shape, t.data.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn cli_round_trip_is_identical_for_every_cell() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (i, m) in [
        "cell = \"rnn\"\nhidden = 4",
        "cell = \"gru\"\nhidden = 4\nlayers = 2",
        "cell = \"gru\"\ngru_variant = \"pytorch\"\nhidden = 4\nembedding = 3",
        "cell = \"lstm\"\nhidden = 4\nlayers = 2\nembedding = 3",
    ]
    .iter()
    .enumerate()
    {
        let ckpt = write_checkpoint(tmp.path(), m, i as u64 + 1);
        let out = tmp.path().join(format!("export{i}"));
        let (code, stdout, stderr) = run(&["export", s(&ckpt), "--pytorch", s(&out)]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("from model import load"), "{stdout}");
        for f in [
            "model.safetensors",
            "model.json",
            "vocab.json",
            "config.toml",
            "model.py",
            "README.md",
            "check.safetensors",
        ] {
            assert!(out.join(f).is_file(), "{m}: {f} missing");
        }
        assert_eq!(
            out.join("course_gru.py").is_file(),
            i == 1,
            "course_gru.py only for the course GRU"
        );
        let readme = fs::read_to_string(out.join("README.md")).expect("readme");
        assert!(
            readme.contains(&format!("model, vocab = load({:?})", s(&out))),
            "{readme}"
        );

        let back = tmp.path().join(format!("back{i}.safetensors"));
        let (code, _, stderr) = run(&["import", s(&out), "--out", s(&back)]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(model_tensors(&ckpt), model_tensors(&back), "{m}");
        let (a, b) = (checkpoint::load(&ckpt).expect("a"), checkpoint::load(&back).expect("b"));
        assert_eq!(a.model.spec, b.model.spec);
        assert_eq!(a.vocab_json, b.vocab_json);
        assert_eq!(a.config_toml, b.config_toml);
        assert_eq!(b.step, 42);

        // The imported checkpoint opens in the probe view.
        let (code, stdout, stderr) = run(&["probe", s(&back), "--text", "abc\nfed", "--json"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("\"hidden\""), "{stdout}");
    }
}

#[test]
fn import_into_a_run_directory_and_from_a_state_dict_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ckpt = write_checkpoint(tmp.path(), "cell = \"lstm\"\nhidden = 5", 9);
    let out = tmp.path().join("ex");
    assert_eq!(run(&["export", s(&ckpt), "--pytorch", s(&out)]).0, 0);
    let run_dir = tmp.path().join("runs").join("imported");
    let (code, stdout, stderr) = run(&["import", s(&out), "--out", s(&run_dir)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("t continues it"), "{stdout}");
    for f in ["config.toml", "latest.safetensors", "best.safetensors", "metrics.jsonl"] {
        assert!(run_dir.join(f).is_file(), "{f}");
    }
    assert_eq!(model_tensors(&ckpt), model_tensors(&run_dir.join("latest.safetensors")));
    // A second import into the same run directory is refused.
    let (code, _, stderr) = run(&["import", s(&out), "--out", s(&run_dir)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");

    // A state_dict saved under another name (with a DDP `module.` prefix) beside model.json.
    let sd = read_state_dict(&out.join("model.safetensors")).expect("read");
    let renamed: Vec<(String, Vec<usize>, Vec<f32>)> = sd
        .into_iter()
        .map(|(k, (sh, v))| (format!("module.{k}"), sh, v))
        .collect();
    write_safetensors(&out.join("step900.safetensors"), &renamed);
    let back = tmp.path().join("b.safetensors");
    let (code, _, stderr) = run(&["import", s(&out.join("step900.safetensors")), "--out", s(&back)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(model_tensors(&ckpt), model_tensors(&back));
}

fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s, d)| (n.clone(), s.clone(), d.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).expect("view")))
        .collect();
    fs::write(path, safetensors::serialize(views, None).expect("serialize")).expect("write");
}

/// Exit 2 and one line on stderr that contains every `needle`.
fn assert_bad(args: &[&str], needles: &[&str]) {
    let (code, _, stderr) = run(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: not one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{args:?}: {stderr:?} lacks {n:?}");
    }
}

#[test]
fn bad_input_is_one_line_naming_file_and_tensor_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ckpt = write_checkpoint(tmp.path(), "cell = \"gru\"\nhidden = 4\nlayers = 2", 5);
    let out = tmp.path().join("ex");
    assert_eq!(run(&["export", s(&ckpt), "--pytorch", s(&out)]).0, 0);
    let missing = tmp.path().join("nope.safetensors");
    assert_bad(&["export", s(&missing), "--pytorch", s(&out)], &[s(&missing)]);
    let text = tmp.path().join("notes.txt");
    fs::write(&text, "just some text, not a checkpoint").expect("write");
    assert_bad(
        &["export", s(&text), "--pytorch", s(&out)],
        &[s(&text), "not a valid safetensors"],
    );
    // A safetensors file that is not an rnn-lab checkpoint (a state_dict).
    let weights = out.join("model.safetensors");
    assert_bad(
        &["export", s(&weights), "--pytorch", s(&tmp.path().join("x"))],
        &[s(&weights), "not an rnn-lab checkpoint"],
    );
    // An earlier export is not overwritten without --force…
    let before = fs::read(&weights).expect("read");
    assert_bad(&["export", s(&ckpt), "--pytorch", s(&out)], &[s(&weights), "--force"]);
    assert_eq!(fs::read(&weights).expect("read"), before);
    // …and is with it.
    assert_eq!(run(&["export", s(&ckpt), "--pytorch", s(&out), "--force"]).0, 0);

    let dest = tmp.path().join("back.safetensors");
    assert_bad(
        &["import", s(&tmp.path().join("nowhere")), "--out", s(&dest)],
        &["nowhere", "no such file"],
    );
    assert_bad(&["import", s(&text), "--out", s(&dest)], &["model.json", "missing"]);

    let sd: TensorMap<f32> = read_state_dict(&weights).expect("read");
    let as_list = |m: &TensorMap<f32>| -> Vec<(String, Vec<usize>, Vec<f32>)> {
        m.iter()
            .map(|(k, (sh, v))| (k.clone(), sh.clone(), v.clone()))
            .collect()
    };
    // Wrong shape.
    let mut wrong = sd.clone();
    wrong.insert("rnn.weight_hh_l1".into(), (vec![12, 5], vec![0.0; 60]));
    let f = out.join("wrong.safetensors");
    write_safetensors(&f, &as_list(&wrong));
    assert_bad(
        &["import", s(&f), "--out", s(&dest)],
        &[s(&f), "`rnn.weight_hh_l1`", "[12, 5]", "[12, 4]"],
    );
    // Missing tensor.
    let mut gone = sd.clone();
    gone.remove("head.bias");
    let f = out.join("gone.safetensors");
    write_safetensors(&f, &as_list(&gone));
    assert_bad(
        &["import", s(&f), "--out", s(&dest)],
        &[s(&f), "`head.bias` is missing"],
    );
    // Non-finite value.
    let mut nan = sd.clone();
    nan.get_mut("rnn.bias_ih_l0").expect("bias").1[2] = f32::NAN;
    let f = out.join("nan.safetensors");
    write_safetensors(&f, &as_list(&nan));
    assert_bad(
        &["import", s(&f), "--out", s(&dest)],
        &[s(&f), "`rnn.bias_ih_l0`", "non-finite"],
    );
    // Not safetensors at all.
    let f = out.join("junk.safetensors");
    fs::write(&f, b"\x01\x02").expect("write");
    assert_bad(
        &["import", s(&f), "--out", s(&dest)],
        &[s(&f), "not a safetensors state_dict"],
    );
    // Broken model.json, with its line and column.
    let mj = out.join("model.json");
    let good = fs::read_to_string(&mj).expect("read");
    fs::write(&mj, good.replacen("\"hidden\": 4", "\"hidden\": four", 1)).expect("write");
    assert_bad(&["import", s(&out), "--out", s(&dest)], &["model.json:8:14: expected"]);
    // model.json disagreeing with the tensors: the tensor is named.
    fs::write(&mj, good.replacen("\"hidden\": 4", "\"hidden\": 6", 1)).expect("write");
    fs::remove_file(out.join("config.toml")).expect("rm");
    assert_bad(
        &["import", s(&out), "--out", s(&dest)],
        &["model.safetensors", "`rnn.weight_ih_l0`"],
    );
    // A bidirectional model: refused by name.
    fs::write(
        &mj,
        good.replacen("\"bidirectional\": false", "\"bidirectional\": true", 1),
    )
    .expect("write");
    assert_bad(
        &["import", s(&out), "--out", s(&dest)],
        &["model.json", "bidirectional"],
    );
    fs::write(&mj, &good).expect("write");
    // Missing vocabulary.
    fs::rename(out.join("vocab.json"), out.join("v.json")).expect("mv");
    assert_bad(&["import", s(&out), "--out", s(&dest)], &["vocab.json", "missing"]);
    fs::rename(out.join("v.json"), out.join("vocab.json")).expect("mv");
    // Without config.toml the import still works, with a generated experiment and a note.
    let (code, _, stderr) = run(&["import", s(&out), "--out", s(&dest)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("train.txt"), "{stderr}");
    assert_eq!(model_tensors(&ckpt), model_tensors(&dest));
    // An existing checkpoint is not replaced without --force, and is left intact.
    let before = fs::read(&dest).expect("read");
    assert_bad(&["import", s(&out), "--out", s(&dest)], &[s(&dest), "--force"]);
    assert_eq!(fs::read(&dest).expect("read"), before);
}
