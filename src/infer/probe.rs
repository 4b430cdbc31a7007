//! What the views see inside a network: per-time-step hidden states, gates, output entropy and
//! top candidates, and how far the loss gradient reaches back in time.
//!
//! A `ProbeReport` is an owned snapshot sent from the trainer thread to the UI (boxed inside
//! `Event::Probe`) and printed by `rnn-lab probe --json`. All matrices are time-major:
//! `values[t][unit]`.

use serde::{Deserialize, Serialize};

/// Direction of a recurrent pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right, t = 1 … T.
    Fwd,
    /// Right to left, t = T … 1 (bidirectional layers only).
    Bwd,
}

/// One gate's activations over time, values in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateTrace {
    /// Gate name in the course notation: "update", "relevance", "forget", "output"
    /// (pytorch GRU: "reset", "update_z").
    pub name: String,
    /// Activations `[T][H]`.
    pub values: Vec<Vec<f32>>,
}

/// Everything recorded for one layer and direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirProbe {
    /// Layer index, 0 = nearest the input.
    pub layer: usize,
    /// Direction of this pass.
    pub direction: Direction,
    /// Hidden states a⟨t⟩ `[T][H]` (in [−1, 1] for every cell here).
    pub hidden: Vec<Vec<f32>>,
    /// Gate activations (empty for the vanilla RNN).
    pub gates: Vec<GateTrace>,
    /// LSTM memory cell c⟨t⟩ `[T][H]` (unbounded); `None` for other cells.
    pub cell: Option<Vec<Vec<f32>>>,
    /// ‖∂L_T/∂a⟨t⟩‖ for each t, where L_T is the loss at the last scored step: how much the
    /// end of the probe reaches back to step t.
    pub grad_norm: Vec<f32>,
}

/// A probe of the model on one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Training step at which the probe ran.
    pub step: u64,
    /// The probe's tokens as display text, one per time step (the input x⟨t⟩).
    pub tokens: Vec<String>,
    /// Entropy of the predicted next-token distribution at each step, in nats (tasks: of the
    /// output distribution; NaN, written `null`, where a step has none: every step but the
    /// last for a sequence head, every step for regression).
    #[serde(deserialize_with = "nan_for_null")]
    pub entropy: Vec<f32>,
    /// Top-5 next-token candidates with probabilities at each step (tasks: top-5 tags or
    /// classes; a sequence head only at the last step; regression: the value).
    pub top: Vec<Vec<(String, f32)>>,
    /// Every layer and direction, ordered by layer then direction.
    pub dirs: Vec<DirProbe>,
}

impl ProbeReport {
    /// Whether the probed model has one output for the whole sequence (classification,
    /// regression): then only the last step has top candidates, and `grad_norm` is
    /// ‖∂L/∂a⟨t⟩‖ of that one final output's loss: the forward direction's against the
    /// distance back from the last step, a backward direction's (read at the first step)
    /// against the distance from the first.
    pub fn one_output(&self) -> bool {
        match self.top.split_last() {
            Some((last, before)) => !before.is_empty() && !last.is_empty() && before.iter().all(Vec::is_empty),
            None => false,
        }
    }
}

/// `null` entries (NaN written by serde_json) read back as NaN.
fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    let v: Vec<Option<f32>> = Deserialize::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f32::NAN)).collect())
}

use crate::nn::{Batch, HeadKind, Model, Scalar, Score, Targets};

/// Why a probe could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// Fewer than two tokens: there is nothing to predict.
    #[error("the probe text needs at least 2 tokens (got {0})")]
    TooShort(usize),
    /// Probes read next-token predictions, so they need a per-step head over the vocabulary.
    #[error("probes need a language model (per-step softmax head)")]
    NotLanguageModel,
    /// The forward pass failed.
    #[error("{0}")]
    Model(String),
}

/// Run `model` on `tokens` (input x⟨t⟩ = tokens[t], target tokens[t + 1], from zero state)
/// and record everything the views show. Gradient norms are those of the loss at the last
/// step only. `text_of` renders a token for display.
pub fn probe<F: Scalar>(
    model: &Model<F>,
    tokens: &[u32],
    step: u64,
    text_of: &dyn Fn(u32) -> String,
) -> Result<ProbeReport, ProbeError> {
    if tokens.len() < 2 {
        return Err(ProbeError::TooShort(tokens.len()));
    }
    if model.spec.head != HeadKind::PerStep || model.spec.outputs != model.spec.vocab {
        return Err(ProbeError::NotLanguageModel);
    }
    let t_len = tokens.len() - 1;
    let batch = Batch::dense(
        t_len,
        1,
        tokens[..t_len].to_vec(),
        Targets::PerStep(tokens[1..].to_vec()),
    );
    probe_batch(model, &batch, step, &|t| text_of(tokens[t]), text_of)
}

/// Probe one sequence of a task (or a language model): `batch` holds it alone (B = 1) with its
/// targets. The gradient norms are those of the loss at the last step (per-step heads) or of
/// the sequence's one output (sequence heads): ‖∂L/∂a⟨t⟩‖ against the distance back from the
/// end. `input_text(t)` renders step t's input, `output_text(k)` output class k.
pub fn probe_batch<F: Scalar>(
    model: &Model<F>,
    batch: &Batch,
    step: u64,
    input_text: &dyn Fn(usize) -> String,
    output_text: &dyn Fn(u32) -> String,
) -> Result<ProbeReport, ProbeError> {
    let t_len = batch.steps;
    if batch.batch != 1 || t_len == 0 {
        return Err(ProbeError::TooShort(t_len));
    }
    let mut ws = model.workspace();
    ws.record_grad_norms = true;
    model
        .forward(batch, Score::LastStep, &mut ws)
        .map_err(|e| ProbeError::Model(e.to_string()))?;
    let mut grads = model.params.zeros_like();
    model.backward(batch, &mut ws, &mut grads);

    let y = model.spec.outputs;
    let mut entropy = Vec::with_capacity(t_len);
    let mut top = Vec::with_capacity(t_len);
    let mut probs = vec![0.0f64; y];
    let mut order: Vec<usize> = (0..y).collect();
    for t in 0..t_len {
        // Sequence heads have one output, after the last step; regression outputs are values.
        let row = match model.spec.head {
            HeadKind::PerStep => t,
            HeadKind::SeqClassify | HeadKind::SeqRegress if t + 1 == t_len => 0,
            _ => {
                entropy.push(f32::NAN);
                top.push(Vec::new());
                continue;
            }
        };
        let z = &ws.logits[row * y..(row + 1) * y];
        if model.spec.head == HeadKind::SeqRegress {
            entropy.push(f32::NAN);
            top.push(
                z.iter()
                    .enumerate()
                    .map(|(k, v)| (output_text(k as u32), v.f64() as f32))
                    .collect(),
            );
            continue;
        }
        let m = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.f64()));
        let mut sum = 0.0;
        for (p, v) in probs.iter_mut().zip(z) {
            *p = (v.f64() - m).exp();
            sum += *p;
        }
        probs.iter_mut().for_each(|p| *p /= sum);
        // H = −Σ p ln p
        entropy.push(-probs.iter().filter(|&&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>() as f32);
        order.sort_unstable_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        top.push(
            order
                .iter()
                .take(5)
                .map(|&i| (output_text(i as u32), probs[i] as f32))
                .collect(),
        );
    }
    let h = model.spec.hidden;
    let gh = model.cell.gates() * h;
    let dirs = model.spec.dirs();
    let rows = |buf: &[F], w: usize, off: usize| -> Vec<Vec<f32>> {
        (0..t_len)
            .map(|t| {
                buf[t * w + off..t * w + off + h]
                    .iter()
                    .map(|v| v.f64() as f32)
                    .collect()
            })
            .collect()
    };
    let mut out = Vec::new();
    for (i, c) in ws.dirs.iter().enumerate() {
        out.push(DirProbe {
            layer: i / dirs,
            direction: if i % dirs == 0 { Direction::Fwd } else { Direction::Bwd },
            hidden: rows(&c.a, h, 0),
            gates: model
                .cell
                .probe_gates()
                .iter()
                .map(|&(k, name)| GateTrace {
                    name: name.to_string(),
                    values: rows(&c.gates, gh, k * h),
                })
                .collect(),
            cell: model.cell.has_memory().then(|| rows(&c.c, h, 0)),
            grad_norm: c.grad_norm.iter().map(|&g| g as f32).collect(),
        });
    }
    Ok(ProbeReport {
        step,
        tokens: (0..t_len).map(input_text).collect(),
        entropy,
        top,
        dirs: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{CellKind, HeadKind, Init, ModelSpec, Targets};

    fn regressor(cell: CellKind, bidirectional: bool) -> Model<f64> {
        let spec = ModelSpec {
            bidirectional,
            head: HeadKind::SeqRegress,
            outputs: 1,
            init: Init::Uniform(0.5),
            ..ModelSpec::char_lm(cell, 3, 4, 1)
        };
        match Model::new(spec, 7) {
            Ok(m) => m,
            Err(e) => panic!("a model: {e}"),
        }
    }

    fn run(model: &Model<f64>, target: f64) -> ProbeReport {
        let t_len = 12;
        let tokens: Vec<u32> = (0..t_len).map(|t| (t % 3) as u32).collect();
        let batch = Batch::dense(t_len, 1, tokens, Targets::Real(vec![target]));
        match probe_batch(model, &batch, 0, &|t| t.to_string(), &|k| k.to_string()) {
            Ok(r) => r,
            Err(e) => panic!("a probe: {e}"),
        }
    }

    /// ‖W_y[rows, 0]‖: the head's weights from those hidden units to the one output.
    fn head_norm(model: &Model<f64>, rows: std::ops::Range<usize>) -> f64 {
        let w = &model.params.values[model.head_w];
        rows.map(|i| w[[i, 0]] * w[[i, 0]]).sum::<f64>().sqrt()
    }

    /// Many-to-one (the adding problem's head): L = (ŷ − y)² of the one output after the last
    /// step, so ∂L/∂a⟨T⟩ = 2(ŷ − y)·W_y and ‖∂L/∂a⟨T⟩‖ = 2|ŷ − y|·‖W_y‖; every earlier step's norm
    /// is that same loss reaching back (nonzero, and all of them scale by |ŷ − y′|/|ŷ − y| when
    /// the target changes, which a sum of per-step losses would not).
    #[test]
    fn many_to_one_gradient_flow_is_the_final_outputs_loss_reaching_back() {
        for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            let model = regressor(cell, false);
            let r = run(&model, 0.3);
            assert!(r.one_output(), "{cell:?}");
            let g = &r.dirs[0].grad_norm;
            assert_eq!(g.len(), 12);
            let y_hat = f64::from(r.top[11][0].1);
            let worked = 2.0 * (y_hat - 0.3).abs() * head_norm(&model, 0..4);
            let last = f64::from(g[11]);
            assert!(
                last > 0.0 && ((last - worked) / worked).abs() < 1e-4,
                "{cell:?}: {last} vs {worked}"
            );
            assert!(g.iter().all(|&x| x.is_finite() && x > 0.0), "{cell:?}: {g:?}");
            let r2 = run(&model, 0.9);
            let ratio = (y_hat - 0.9).abs() / (y_hat - 0.3).abs();
            for (a, b) in g.iter().zip(&r2.dirs[0].grad_norm) {
                let want = f64::from(*a) * ratio;
                assert!((f64::from(*b) - want).abs() <= 1e-4 * want, "{cell:?}: {b} vs {want}");
            }
        }
        // The vanilla RNN with small weights: the gradient vanishes going back.
        let r = run(&regressor(CellKind::Rnn, false), 0.3);
        let g = &r.dirs[0].grad_norm;
        assert!(g[0] < g[11] / 10.0, "{g:?}");
    }

    /// A bidirectional many-to-one head reads the backward direction at the first step: its
    /// gradient enters there (2|ŷ − y|·‖W_y of the backward units‖) and reaches forward.
    #[test]
    fn the_backward_direction_of_a_sequence_head_starts_at_the_first_step() {
        let model = regressor(CellKind::Lstm, true);
        let r = run(&model, -0.2);
        assert_eq!(r.dirs.len(), 2);
        assert_eq!(r.dirs[1].direction, Direction::Bwd);
        let y_hat = f64::from(r.top[11][0].1);
        let g = &r.dirs[1].grad_norm;
        let worked = 2.0 * (y_hat + 0.2).abs() * head_norm(&model, 4..8);
        let first = f64::from(g[0]);
        assert!(((first - worked) / worked).abs() < 1e-4, "{first} vs {worked}");
        let fwd_last = f64::from(r.dirs[0].grad_norm[11]);
        let worked = 2.0 * (y_hat + 0.2).abs() * head_norm(&model, 0..4);
        assert!(((fwd_last - worked) / worked).abs() < 1e-4, "{fwd_last} vs {worked}");
    }

    #[test]
    fn a_language_model_probe_is_not_one_output() {
        let Ok(model) = Model::<f64>::new(ModelSpec::char_lm(CellKind::Lstm, 4, 3, 1), 1) else {
            panic!("a model")
        };
        let Ok(r) = probe(&model, &[0, 1, 2, 3, 1], 0, &|t| t.to_string()) else {
            panic!("a probe")
        };
        assert!(!r.one_output());
    }
}
