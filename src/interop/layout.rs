//! The tensor shuffling between the notes' checkpoint layout and a PyTorch `state_dict`.
//!
//! rnn-lab stores each gate g of layer l, direction d as the notes write it: `w_g` `[H, H + X]`
//! acting on the column [a⟨t−1⟩; x⟨t⟩] (columns 0..H multiply a⟨t−1⟩, columns H.. multiply x⟨t⟩)
//! and one bias `b_g` `[H]`. PyTorch's nn.RNN / nn.GRU / nn.LSTM keep, per layer l (suffix
//! `_l{l}`, `_l{l}_reverse` for the backward direction), the gate blocks stacked row-wise:
//!
//! ```text
//! weight_ih = [W_x of gate 0; W_x of gate 1; …]   [G·H, X]   (the x⟨t⟩ columns of each w_g)
//! weight_hh = [W_a of gate 0; W_a of gate 1; …]   [G·H, H]   (the a⟨t−1⟩ columns)
//! bias_ih, bias_hh                                 [G·H]      (added together, except GRU n)
//! ```
//!
//! Gate blocks, in PyTorch row order, named by the notes' gate each comes from:
//!
//! | cell | PyTorch module | blocks |
//! |---|---|---|
//! | RNN | nn.RNN (tanh) | `a` |
//! | LSTM | nn.LSTM | i = `u`, f = `f`, g = `c`, o = `o` (rnn-lab's fused order is u, f, o, c) |
//! | GRU, `gru_variant = "pytorch"` | nn.GRU | r = `r`, z = `z`, n = `n` (z = 1 keeps the old state) |
//! | GRU, course | `CourseGRU` (course_gru.py) | `u`, `r`, `c` |
//!
//! Biases: where a gate's two biases only ever appear summed (every gate but the PyTorch GRU's
//! n), export writes b_g into `bias_ih` and zeros into `bias_hh`, and import adds the two back
//! (b_g = bias_ih + bias_hh). The PyTorch GRU's n = tanh(W_in x + b_in + r ∗ (W_hn h + b_hn))
//! keeps them apart: `bias_ih` ← `b_n`, `bias_hh` ← `b_hn`. The course GRU's candidate
//! c̃ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c) has Γr inside the product and b_c outside it, so its
//! biases are summed like the others.
//!
//! The rest keeps its shape: `embed.weight` `[|V|, E]` (nn.Embedding), `head.w_y` → `head.weight`
//! `[|Y|, H·dirs]` and `head.b_y` → `head.bias` (nn.Linear). The recurrent tensors sit under
//! `rnn.`, so the whole model is one `state_dict` of the module in `model.py`.

use std::collections::{BTreeSet, HashMap};

use crate::nn::export::NamedTensor;
use crate::nn::{CellKind, GruVariant, InputKind, ModelSpec, Scalar};

/// Prefix of the recurrent stack's tensors in the exported `state_dict`.
pub const RNN_PREFIX: &str = "rnn.";

/// A state_dict or checkpoint tensor map: name → (shape, row-major values).
pub type TensorMap<F> = HashMap<String, (Vec<usize>, Vec<F>)>;

/// Why a state_dict does not fit the model. Display is one line naming the tensor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// A tensor the model needs is absent.
    #[error("tensor `{name}` is missing")]
    Missing {
        /// Its name.
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error("tensor `{name}` has shape {got:?}, expected {expected:?}")]
    Shape {
        /// Its name.
        name: String,
        /// Shape found.
        got: Vec<usize>,
        /// Shape the model needs.
        expected: Vec<usize>,
    },
    /// A tensor the model does not have (a different architecture, or a misnamed key).
    #[error("tensor `{name}` is not part of this model ({hint})")]
    Unexpected {
        /// Its name.
        name: String,
        /// What the model expected instead.
        hint: String,
    },
}

/// The PyTorch module that holds the recurrent stack of a model.
pub fn torch_module(cell: CellKind, variant: GruVariant) -> &'static str {
    match (cell, variant) {
        (CellKind::Rnn, _) => "nn.RNN",
        (CellKind::Gru, GruVariant::Pytorch) => "nn.GRU",
        (CellKind::Gru, GruVariant::Course) => "CourseGRU",
        (CellKind::Lstm, _) => "nn.LSTM",
    }
}

/// The gate blocks in PyTorch row order, each named by the notes' gate it holds.
pub fn torch_gates(cell: CellKind, variant: GruVariant) -> &'static [&'static str] {
    match (cell, variant) {
        (CellKind::Rnn, _) => &["a"],
        (CellKind::Gru, GruVariant::Pytorch) => &["r", "z", "n"],
        (CellKind::Gru, GruVariant::Course) => &["u", "r", "c"],
        // nn.LSTM rows are input i, forget f, cell g, output o: the notes' Γu, Γf, c̃, Γo.
        (CellKind::Lstm, _) => &["u", "f", "c", "o"],
    }
}

/// The `_l{l}` / `_l{l}_reverse` suffix PyTorch gives layer `l`, direction `d`.
pub fn suffix(l: usize, d: usize) -> String {
    if d == 0 {
        format!("_l{l}")
    } else {
        format!("_l{l}_reverse")
    }
}

fn dir_name(d: usize) -> &'static str {
    if d == 0 {
        "fwd"
    } else {
        "bwd"
    }
}

/// True for the one bias PyTorch keeps apart: the GRU's n gate (`bias_hh` holds b_hn).
fn split_bias(spec: &ModelSpec, gate: &str) -> bool {
    spec.cell == CellKind::Gru && spec.gru_variant == GruVariant::Pytorch && gate == "n"
}

/// Every `state_dict` name of the model with its shape, in PyTorch's order.
pub fn torch_shapes(spec: &ModelSpec) -> Vec<(String, Vec<usize>)> {
    let h = spec.hidden;
    let g = torch_gates(spec.cell, spec.gru_variant).len();
    let mut out = Vec::new();
    if let InputKind::Embedding(e) = spec.input {
        out.push(("embed.weight".to_string(), vec![spec.vocab, e]));
    }
    for l in 0..spec.layers {
        let x = spec.input_width(l);
        for d in 0..spec.dirs() {
            let s = suffix(l, d);
            out.push((format!("{RNN_PREFIX}weight_ih{s}"), vec![g * h, x]));
            out.push((format!("{RNN_PREFIX}weight_hh{s}"), vec![g * h, h]));
            out.push((format!("{RNN_PREFIX}bias_ih{s}"), vec![g * h]));
            out.push((format!("{RNN_PREFIX}bias_hh{s}"), vec![g * h]));
        }
    }
    out.push(("head.weight".to_string(), vec![spec.outputs, h * spec.dirs()]));
    out.push(("head.bias".to_string(), vec![spec.outputs]));
    out
}

/// The model's tensors (as [`crate::nn::Model::export`] names them) as a PyTorch `state_dict`,
/// in PyTorch's order. Errors name a checkpoint tensor that is missing or misshapen.
pub fn to_torch<F: Scalar>(spec: &ModelSpec, notes: &[NamedTensor<F>]) -> Result<Vec<NamedTensor<F>>, LayoutError> {
    let by_name: HashMap<&str, &NamedTensor<F>> = notes.iter().map(|t| (t.name.as_str(), t)).collect();
    let get = |name: &str, expected: Vec<usize>| -> Result<&[F], LayoutError> {
        let t = by_name
            .get(name)
            .ok_or_else(|| LayoutError::Missing { name: name.into() })?;
        if t.shape != expected || t.data.len() != expected.iter().product::<usize>() {
            return Err(LayoutError::Shape {
                name: name.into(),
                got: t.shape.clone(),
                expected,
            });
        }
        Ok(&t.data)
    };
    let h = spec.hidden;
    let mut out = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, data: Vec<F>| out.push(NamedTensor { name, shape, data });
    if let InputKind::Embedding(e) = spec.input {
        push(
            "embed.weight".into(),
            vec![spec.vocab, e],
            get("embed.weight", vec![spec.vocab, e])?.to_vec(),
        );
    }
    let gates = torch_gates(spec.cell, spec.gru_variant);
    for l in 0..spec.layers {
        let x = spec.input_width(l);
        for d in 0..spec.dirs() {
            let p = format!("layers.{l}.{}", dir_name(d));
            let n = gates.len() * h;
            let (mut w_ih, mut w_hh) = (Vec::with_capacity(n * x), Vec::with_capacity(n * h));
            let (mut b_ih, mut b_hh) = (Vec::with_capacity(n), Vec::with_capacity(n));
            for &g in gates {
                // w_g [H, H + X]: row i is [W_aa row i | W_ax row i].
                let w = get(&format!("{p}.w_{g}"), vec![h, h + x])?;
                for row in w.chunks_exact(h + x) {
                    w_hh.extend_from_slice(&row[..h]);
                    w_ih.extend_from_slice(&row[h..]);
                }
                b_ih.extend_from_slice(get(&format!("{p}.b_{g}"), vec![h])?);
                if split_bias(spec, g) {
                    b_hh.extend_from_slice(get(&format!("{p}.b_hn"), vec![h])?);
                } else {
                    b_hh.extend(std::iter::repeat_n(F::zero(), h));
                }
            }
            let s = suffix(l, d);
            push(format!("{RNN_PREFIX}weight_ih{s}"), vec![n, x], w_ih);
            push(format!("{RNN_PREFIX}weight_hh{s}"), vec![n, h], w_hh);
            push(format!("{RNN_PREFIX}bias_ih{s}"), vec![n], b_ih);
            push(format!("{RNN_PREFIX}bias_hh{s}"), vec![n], b_hh);
        }
    }
    let hd = h * spec.dirs();
    // Tied weights: the head's weight is the embedding (one tensor in rnn-lab; PyTorch's
    // state_dict lists it under both names).
    let head_name = if spec.tie_weights { "embed.weight" } else { "head.w_y" };
    push(
        "head.weight".into(),
        vec![spec.outputs, hd],
        get(head_name, vec![spec.outputs, hd])?.to_vec(),
    );
    push(
        "head.bias".into(),
        vec![spec.outputs],
        get("head.b_y", vec![spec.outputs])?.to_vec(),
    );
    Ok(out)
}

/// A PyTorch `state_dict` back in the notes' names and layouts, ready for
/// [`crate::nn::Model::import_into`]. Every tensor [`torch_shapes`] lists must be present with
/// its shape, and nothing else may be (a stray key means another architecture).
pub fn from_torch<F: Scalar>(spec: &ModelSpec, sd: &TensorMap<F>) -> Result<TensorMap<F>, LayoutError> {
    let expected = torch_shapes(spec);
    let known: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let mut stray: Vec<&String> = sd.keys().filter(|k| !known.contains(k.as_str())).collect();
    stray.sort();
    if let Some(name) = stray.first() {
        return Err(LayoutError::Unexpected {
            name: (*name).clone(),
            hint: format!(
                "a {} {}×{} model{} has {}",
                torch_module(spec.cell, spec.gru_variant),
                spec.layers,
                spec.hidden,
                if spec.bidirectional { ", bidirectional," } else { "" },
                known.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    for (name, shape) in &expected {
        let (got, data) = sd
            .get(name)
            .ok_or_else(|| LayoutError::Missing { name: name.clone() })?;
        if got != shape || data.len() != shape.iter().product::<usize>() {
            return Err(LayoutError::Shape {
                name: name.clone(),
                got: got.clone(),
                expected: shape.clone(),
            });
        }
    }
    let t = |name: &str| &sd[name].1;
    let h = spec.hidden;
    let mut out = TensorMap::new();
    if let InputKind::Embedding(e) = spec.input {
        out.insert("embed.weight".into(), (vec![spec.vocab, e], t("embed.weight").clone()));
    }
    let gates = torch_gates(spec.cell, spec.gru_variant);
    for l in 0..spec.layers {
        let x = spec.input_width(l);
        for d in 0..spec.dirs() {
            let s = suffix(l, d);
            let w_ih = t(&format!("{RNN_PREFIX}weight_ih{s}"));
            let w_hh = t(&format!("{RNN_PREFIX}weight_hh{s}"));
            let b_ih = t(&format!("{RNN_PREFIX}bias_ih{s}"));
            let b_hh = t(&format!("{RNN_PREFIX}bias_hh{s}"));
            let p = format!("layers.{l}.{}", dir_name(d));
            for (k, &g) in gates.iter().enumerate() {
                // Gate k is rows k·H..(k+1)·H of each PyTorch tensor; w_g row i = [W_hh row | W_ih row].
                let mut w = Vec::with_capacity(h * (h + x));
                for i in k * h..(k + 1) * h {
                    w.extend_from_slice(&w_hh[i * h..(i + 1) * h]);
                    w.extend_from_slice(&w_ih[i * x..(i + 1) * x]);
                }
                out.insert(format!("{p}.w_{g}"), (vec![h, h + x], w));
                let (bi, bh) = (&b_ih[k * h..(k + 1) * h], &b_hh[k * h..(k + 1) * h]);
                if split_bias(spec, g) {
                    out.insert(format!("{p}.b_{g}"), (vec![h], bi.to_vec()));
                    out.insert(format!("{p}.b_hn"), (vec![h], bh.to_vec()));
                } else {
                    // The two biases only ever appear summed: b_g = b_ih + b_hh.
                    out.insert(
                        format!("{p}.b_{g}"),
                        (vec![h], bi.iter().zip(bh).map(|(&a, &b)| a + b).collect()),
                    );
                }
            }
        }
    }
    let hd = h * spec.dirs();
    if !spec.tie_weights {
        out.insert("head.w_y".into(), (vec![spec.outputs, hd], t("head.weight").clone()));
    }
    out.insert("head.b_y".into(), (vec![spec.outputs], t("head.bias").clone()));
    Ok(out)
}
