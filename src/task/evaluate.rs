//! Scoring a model on a task's sequences: the loss and the task's own metrics.
//!
//! Sequences are run in batches sorted by length (little padding), each from a zero state. The
//! outputs of every sequence are read from the head: per-step logits for tagging, one row of
//! logits or values per sequence otherwise.

use serde::{Deserialize, Serialize};

use super::data::TaskData;
use super::generators::SolvedTally;
use super::metrics::{argmax, Accuracy, ChunkCounter, ChunkReport, ChunkScheme, Confusion, SquaredError};
use super::seqset::{empty_batch, Labels, SeqSet};
use super::TaskKind;
use crate::nn::{Batch, Model, NnError, Scalar, Score, Workspace};

/// A task's metrics on one set of sequences. Fields that do not apply to the task are `None`
/// (and left out of the JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskMetrics {
    /// Mean loss per scored position: cross-entropy in nats per token (tagging) or per sequence
    /// (classification), squared error per sequence (regression).
    pub loss: f64,
    /// Sequences scored.
    pub sequences: usize,
    /// Scored positions (tokens for tagging, sequences otherwise).
    pub scored: usize,
    /// Token accuracy (tagging) or accuracy (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// conlleval chunk precision (chunk tags only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_precision: Option<f64>,
    /// conlleval chunk recall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_recall: Option<f64>,
    /// conlleval chunk F1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_f1: Option<f64>,
    /// Classification macro-F1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    /// Regression mean squared error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mse: Option<f64>,
    /// Generated tasks: share of sequences the task's own test judged wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Generated tasks: the criterion holds on these sequences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solved: Option<bool>,
    /// Classification: the confusion matrix `[gold, predicted]`.
    #[serde(skip)]
    pub confusion: Option<Confusion>,
    /// Chunk tags: conlleval's full report.
    #[serde(skip)]
    pub chunk_report: Option<ChunkReport>,
    /// Generated tasks: the counts behind `error_rate`.
    #[serde(skip)]
    pub tally: Option<SolvedTally>,
}

/// Which number says how good a model is, for the best checkpoint and the status line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Primary {
    /// Short name ("chunk F1", "accuracy", "MSE", "error").
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// Larger values are better.
    pub higher_is_better: bool,
}

impl Primary {
    /// The value as a loss (lower is better): 1 − value for accuracy-like metrics.
    pub fn as_loss(&self) -> f64 {
        if self.higher_is_better {
            1.0 - self.value
        } else {
            self.value
        }
    }

    /// True when `self` is better than `other` (same metric).
    pub fn better_than(&self, other: &Primary) -> bool {
        if self.higher_is_better {
            self.value > other.value
        } else {
            self.value < other.value
        }
    }
}

impl TaskMetrics {
    /// The task's headline metric: generated tasks the error rate of their own test, chunk
    /// tagging the chunk F1, other tagging and classification the accuracy, regression the MSE.
    pub fn primary(&self) -> Primary {
        if let Some(e) = self.error_rate {
            return Primary {
                name: "error",
                value: e,
                higher_is_better: false,
            };
        }
        if let Some(f) = self.chunk_f1 {
            return Primary {
                name: "chunk F1",
                value: f,
                higher_is_better: true,
            };
        }
        if let Some(a) = self.accuracy {
            return Primary {
                name: "accuracy",
                value: a,
                higher_is_better: true,
            };
        }
        Primary {
            name: "MSE",
            value: self.mse.unwrap_or(self.loss),
            higher_is_better: false,
        }
    }
}

/// Reused buffers for [`evaluate`].
pub struct EvalScratch<F> {
    batch: Batch,
    features: Vec<f32>,
    out: Vec<f32>,
    gold: Vec<u32>,
    pred: Vec<u32>,
    ws: Option<Workspace<F>>,
}

impl<F: Scalar> Default for EvalScratch<F> {
    fn default() -> Self {
        EvalScratch {
            batch: empty_batch(),
            features: Vec::new(),
            out: Vec::new(),
            gold: Vec::new(),
            pred: Vec::new(),
            ws: None,
        }
    }
}

/// Order of `set`'s sequences by length, cut into batches of at most `batch`.
pub fn length_batches(set: &SeqSet, batch: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..set.len()).collect();
    idx.sort_by_key(|&i| set.seq_len(i));
    idx.chunks(batch.max(1)).map(<[usize]>::to_vec).collect()
}

/// Score `model` on `set` with the metrics of `task`, `batch` sequences at a time. For
/// generated tasks the task's own test is applied too (`solved` says whether its criterion
/// holds on these sequences).
///
/// # Errors
/// An [`NnError`] when the set does not fit the model (wrong vocabulary or output size).
pub fn evaluate<F: Scalar>(
    model: &Model<F>,
    task: &TaskData,
    set: &SeqSet,
    batch: usize,
    scratch: &mut EvalScratch<F>,
) -> Result<TaskMetrics, NnError> {
    let y = model.spec.outputs;
    let mut ws = scratch.ws.take().unwrap_or_else(|| model.workspace());
    let mut loss = (0.0, 0usize);
    let mut acc = Accuracy::default();
    let mut conf = (task.kind == TaskKind::Classification).then(|| Confusion::new(y));
    let mut chunks = task
        .chunks
        .then(|| ChunkCounter::new(ChunkScheme::new(task.labels.names())));
    let mut se = SquaredError::default();
    let mut tally = SolvedTally::default();
    for idx in length_batches(set, batch) {
        set.fill_batch(&idx, &mut scratch.batch, &mut scratch.features);
        ws.reset_state();
        let st = model.forward(&scratch.batch, Score::All, &mut ws)?;
        loss.0 += st.sum;
        loss.1 += st.count;
        let b = idx.len();
        for (r, &i) in idx.iter().enumerate() {
            let range = set.range(i);
            // This sequence's outputs, contiguous: [len, |Y|] per step, or [|Y|].
            scratch.out.clear();
            match &set.labels {
                Labels::PerStep(_) => {
                    for k in 0..range.len() {
                        let row = (k * b + r) * y;
                        scratch
                            .out
                            .extend(ws.logits[row..row + y].iter().map(|v| v.f64() as f32));
                    }
                }
                _ => scratch
                    .out
                    .extend(ws.logits[r * y..(r + 1) * y].iter().map(|v| v.f64() as f32)),
            }
            match &set.labels {
                Labels::PerStep(gold) => {
                    scratch.gold.clear();
                    scratch.pred.clear();
                    for (k, s) in range.clone().enumerate() {
                        let p = argmax(&scratch.out[k * y..(k + 1) * y]) as u32;
                        acc.add(p == gold[s]);
                        scratch.gold.push(gold[s]);
                        scratch.pred.push(p);
                    }
                    if let Some(c) = &mut chunks {
                        c.sentence(&scratch.gold, &scratch.pred);
                    }
                }
                Labels::Class(gold) => {
                    let p = argmax(&scratch.out);
                    acc.add(p == gold[i] as usize);
                    if let Some(c) = &mut conf {
                        c.add(gold[i] as usize, p);
                    }
                }
                Labels::Real { outputs, values } => {
                    for k in 0..*outputs {
                        se.add(f64::from(scratch.out[k]), values[i * outputs + k]);
                    }
                }
            }
            if let Some(g) = &task.generator {
                tally.add(g.judge(set, i, &scratch.out));
            }
        }
    }
    scratch.ws = Some(ws);
    let mut m = TaskMetrics {
        loss: if loss.1 == 0 { 0.0 } else { loss.0 / loss.1 as f64 },
        sequences: set.len(),
        scored: loss.1,
        ..TaskMetrics::default()
    };
    match &set.labels {
        Labels::PerStep(_) | Labels::Class(_) => m.accuracy = Some(acc.value()),
        Labels::Real { .. } => m.mse = Some(se.mse()),
    }
    if let Some(c) = conf {
        m.macro_f1 = Some(c.macro_f1());
        m.confusion = Some(c);
    }
    if let Some(c) = chunks {
        let r = c.finish();
        m.chunk_precision = Some(r.total.precision());
        m.chunk_recall = Some(r.total.recall());
        m.chunk_f1 = Some(r.total.f1());
        m.chunk_report = Some(r);
    }
    if let Some(g) = &task.generator {
        m.error_rate = Some(tally.error_rate());
        m.solved = Some(g.criterion().solved(&tally));
        m.tally = Some(tally);
    }
    Ok(m)
}
