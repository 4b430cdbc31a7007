//! Gradient checks: analytic BPTT gradients against central finite differences, in f64,
//! on small random models and data. The same generic code that trains in f32 runs here.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::nn::cell::Cell;
use crate::nn::dropout::step_key;
use crate::nn::{
    Batch, CellKind, Dropout, DropoutKind, DropoutPass, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Score,
    Targets, NO_INPUT,
};

/// One configuration to check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    /// Cell kind.
    pub cell: CellKind,
    /// GRU variant.
    pub gru_variant: GruVariant,
    /// Layers.
    pub layers: usize,
    /// Bidirectional.
    pub bidirectional: bool,
    /// Input kind.
    pub input: InputKind,
    /// Head kind.
    pub head: HeadKind,
    /// Variable-length sequences with padding masks (and x⟨1⟩ = 0 inputs).
    pub masked: bool,
    /// Start from a non-zero carried state (truncated BPTT's second chunk).
    pub carried: bool,
    /// Training-time dropout of this kind at rate 0.3 on every place the cell allows (input,
    /// between layers, before the head, whole tokens, and the recurrent state for a variational
    /// LSTM or RNN); the masks are drawn once from a fixed key and held fixed by every forward
    /// pass of the check.
    pub dropout: Option<DropoutKind>,
    /// The head shares the embedding's tensor (`input` must then be an embedding of H·dirs and
    /// the head per-step; [`Case::spec`] sees to the sizes).
    pub tied: bool,
    /// Real-valued inputs (`Batch::features`, the adding problem's kind) instead of tokens;
    /// with one-hot input the model's input weights are the dense input's.
    pub dense: bool,
}

/// Result for one checkpoint-named tensor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TensorCheck {
    /// Case label, e.g. "lstm L2 bi onehot per_step".
    pub case: String,
    /// Tensor name as in checkpoints (gate blocks split: `w_u`, `b_f`, ...).
    pub tensor: String,
    /// Elements compared.
    pub elements: usize,
    /// max |analytic − numeric| / max(|analytic|, |numeric|, 1e-4).
    pub max_rel_err: f64,
    /// max |analytic − numeric|.
    pub max_abs_err: f64,
}

impl Case {
    /// A short human label.
    pub fn label(&self) -> String {
        let cell = match (self.cell, self.gru_variant) {
            (CellKind::Gru, GruVariant::Pytorch) => "gru(pytorch)".to_string(),
            (c, _) => c.name().to_string(),
        };
        let input = match self.input {
            InputKind::OneHot => "onehot".to_string(),
            InputKind::Embedding(e) => format!("embed{e}"),
        };
        let head = match self.head {
            HeadKind::PerStep => "per_step",
            HeadKind::SeqClassify => "classify",
            HeadKind::SeqRegress => "regress",
        };
        format!(
            "{cell} L{} {} {input} {head}{}{}{}{}{}",
            self.layers,
            if self.bidirectional { "bi" } else { "uni" },
            if self.masked { " masked" } else { "" },
            if self.carried { " carried" } else { "" },
            match self.dropout {
                None => "",
                Some(DropoutKind::Standard) => " dropout",
                Some(DropoutKind::Variational) => " vardropout",
            },
            if self.tied { " tied" } else { "" },
            if self.dense { " dense" } else { "" }
        )
    }

    fn spec(&self) -> ModelSpec {
        let (vocab, hidden) = (5, 3);
        let dirs = if self.bidirectional { 2 } else { 1 };
        ModelSpec {
            cell: self.cell,
            gru_variant: self.gru_variant,
            vocab,
            // Tied: the embedding is the head's [|V|, H·dirs] matrix.
            input: if self.tied {
                InputKind::Embedding(hidden * dirs)
            } else {
                self.input
            },
            hidden,
            layers: self.layers,
            bidirectional: self.bidirectional,
            head: if self.tied { HeadKind::PerStep } else { self.head },
            outputs: match self.head {
                _ if self.tied => vocab,
                HeadKind::SeqRegress => 2,
                _ => 4,
            },
            init: Init::Uniform(0.6),
            forget_bias: 1.0,
            init_recurrent: crate::nn::RecurrentInit::Same,
            tie_weights: self.tied,
        }
    }

    /// The dropout pass of this case (masks from a fixed key: the same at every forward pass).
    fn dropout_pass(&self, seed: u64) -> Option<DropoutPass> {
        let kind = self.dropout?;
        let p = 0.3;
        let recurrent = kind == DropoutKind::Variational && self.cell != CellKind::Gru;
        Some(DropoutPass {
            dropout: Dropout {
                kind,
                input: p,
                hidden: p,
                output: p,
                recurrent: if recurrent { p } else { 0.0 },
                embedding: p,
            },
            key: step_key(seed, 1),
            row0: 0,
        })
    }

    fn batch(&self, rng: &mut ChaCha8Rng, spec: &ModelSpec) -> Batch {
        let (t, b) = (5, 3);
        let lens = [5usize, 3, 1];
        let mut inputs: Vec<u32> = (0..t * b).map(|_| rng.random_range(0..spec.vocab as u32)).collect();
        let mut mask = Vec::new();
        if self.masked {
            mask = (0..t * b).map(|i| u8::from(i / b < lens[i % b])).collect();
            inputs[..b].fill(NO_INPUT); // x⟨1⟩ = 0
        }
        let targets = match self.head {
            HeadKind::PerStep => {
                Targets::PerStep((0..t * b).map(|_| rng.random_range(0..spec.outputs as u32)).collect())
            }
            HeadKind::SeqClassify => Targets::Class((0..b).map(|_| rng.random_range(0..spec.outputs as u32)).collect()),
            HeadKind::SeqRegress => Targets::Real((0..b * spec.outputs).map(|_| rng.random_range(-1.0..1.0)).collect()),
        };
        let mut features = Vec::new();
        if self.dense {
            // x⟨t⟩ in [−1, 1]^V, zero on padding; no tokens.
            features = (0..t * b * spec.vocab)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            if !mask.is_empty() {
                for (i, &m) in mask.iter().enumerate() {
                    if m == 0 {
                        features[i * spec.vocab..(i + 1) * spec.vocab].fill(0.0);
                    }
                }
            }
            inputs.fill(NO_INPUT);
        }
        Batch {
            steps: t,
            batch: b,
            inputs,
            targets,
            mask,
            features,
        }
    }
}

/// Check every parameter tensor of one case.
pub fn check_case(case: &Case, seed: u64) -> Vec<TensorCheck> {
    let spec = case.spec();
    let mut model = match Model::<f64>::new(spec.clone(), seed) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    // Random biases too, so every path is exercised away from zero.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37);
    for v in model.params.values.iter_mut() {
        if v.nrows() == 1 {
            v.iter_mut().for_each(|x| *x += rng.random_range(-0.3..0.3));
        }
    }
    let batch = case.batch(&mut rng, &spec);
    let mut ws = model.workspace();
    // Dropout: every forward pass below draws the same masks from the same key (held fixed), so
    // the finite differences see the same thinned network the analytic gradient does.
    ws.dropout = case.dropout_pass(seed);
    if case.carried {
        // A first chunk leaves a non-zero state; the checked chunk starts from it (held fixed).
        let first = case.batch(&mut rng, &spec);
        let _ = model.forward(&first, Score::All, &mut ws);
        model.carry_state(&mut ws);
    }
    let objective = |m: &Model<f64>, ws: &mut crate::nn::Workspace<f64>| -> f64 {
        m.forward(&batch, Score::All, ws)
            .map(|s| s.objective)
            .unwrap_or(f64::NAN)
    };
    let _ = objective(&model, &mut ws);
    let mut grads = model.params.zeros_like();
    model.backward(&batch, &mut ws, &mut grads);

    let eps = 1e-3;
    let label = case.label();
    let mut out = Vec::new();
    for i in 0..model.params.values.len() {
        let (rows, cols) = model.params.values[i].dim();
        let blocks = split_blocks(&model, i);
        // Per block: (max relative error, max absolute error, elements).
        let mut errs = vec![(0.0f64, 0.0f64, 0usize); blocks.len()];
        for r in 0..rows {
            for c in 0..cols {
                let orig = model.params.values[i][[r, c]];
                let mut at = |delta: f64| {
                    model.params.values[i][[r, c]] = orig + delta;
                    objective(&model, &mut ws)
                };
                // Five-point central difference: truncation error O(ε⁴), so ε can stay large
                // enough that rounding stays far below the checked tolerance.
                let num = (at(-2.0 * eps) - 8.0 * at(-eps) + 8.0 * at(eps) - at(2.0 * eps)) / (12.0 * eps);
                model.params.values[i][[r, c]] = orig;
                let ana = grads.values[i][[r, c]];
                let abs = (ana - num).abs();
                let rel = abs / ana.abs().max(num.abs()).max(1e-4);
                let k = blocks.iter().position(|(_, lo, hi)| c >= *lo && c < *hi).unwrap_or(0);
                let e = &mut errs[k];
                e.0 = e.0.max(if rel.is_nan() { f64::INFINITY } else { rel });
                e.1 = e.1.max(if abs.is_nan() { f64::INFINITY } else { abs });
                e.2 += 1;
            }
        }
        for ((name, _, _), (rel, abs, n)) in blocks.into_iter().zip(errs) {
            out.push(TensorCheck {
                case: label.clone(),
                tensor: name,
                elements: n,
                max_rel_err: rel,
                max_abs_err: abs,
            });
        }
    }
    out
}

/// Checkpoint names of tensor `i`'s column blocks: (name, first column, end column).
fn split_blocks<F: crate::nn::Scalar>(m: &Model<F>, i: usize) -> Vec<(String, usize, usize)> {
    let name = &m.params.names[i];
    let cols = m.params.values[i].ncols();
    let h = m.spec.hidden;
    if let Some(prefix) = name.strip_suffix(".w").or_else(|| name.strip_suffix(".b")) {
        let kind = if name.ends_with(".w") { "w" } else { "b" };
        return m
            .cell
            .block_names()
            .iter()
            .enumerate()
            .map(|(k, g)| (format!("{prefix}.{kind}_{g}"), k * h, (k + 1) * h))
            .collect();
    }
    vec![(name.clone(), 0, cols)]
}

/// All cases for a CLI selection: every input kind and head, masked and carried variants.
pub fn cases(cells: &[CellKind], layers: usize, bidirectional: bool) -> Vec<Case> {
    let mut out = Vec::new();
    for &cell in cells {
        let variants: &[GruVariant] = if cell == CellKind::Gru {
            &[GruVariant::Course, GruVariant::Pytorch]
        } else {
            &[GruVariant::Course]
        };
        for &gru_variant in variants {
            for input in [InputKind::OneHot, InputKind::Embedding(2)] {
                for head in [HeadKind::PerStep, HeadKind::SeqClassify, HeadKind::SeqRegress] {
                    let base = Case {
                        cell,
                        gru_variant,
                        layers,
                        bidirectional,
                        input,
                        head,
                        masked: false,
                        carried: false,
                        dropout: None,
                        tied: false,
                        dense: false,
                    };
                    out.push(base);
                    if head != HeadKind::PerStep && input == InputKind::OneHot {
                        // Many-to-one over real-valued, variable-length inputs (the adding
                        // problem), bidirectional or not.
                        out.push(Case {
                            masked: true,
                            dense: true,
                            ..base
                        });
                    }
                    if head == HeadKind::PerStep && input == InputKind::OneHot {
                        out.push(Case { masked: true, ..base });
                        if !bidirectional {
                            out.push(Case { carried: true, ..base });
                        }
                    }
                    if head == HeadKind::PerStep && input != InputKind::OneHot {
                        // Weight tying: the embedding's gradient sums the input and head sides.
                        out.push(Case { tied: true, ..base });
                    }
                }
            }
        }
    }
    out
}

/// Dropout cases for a CLI selection (`gradcheck --dropout`): standard and variational masks,
/// held fixed, with one-hot and embedding input, every head, padding masks, and tied weights.
pub fn dropout_cases(cells: &[CellKind], layers: usize, bidirectional: bool) -> Vec<Case> {
    let mut out = Vec::new();
    for base in cases(cells, layers, bidirectional) {
        if base.carried {
            continue;
        }
        for kind in [DropoutKind::Standard, DropoutKind::Variational] {
            out.push(Case {
                dropout: Some(kind),
                ..base
            });
        }
    }
    out
}

/// Whether a cell has the gate blocks the check names (used by tests).
pub fn block_names(cell: CellKind, v: GruVariant) -> &'static [&'static str] {
    Cell::of(cell, v).block_names()
}
