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
