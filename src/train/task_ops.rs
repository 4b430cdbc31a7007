//! The trainer's operations on sequence tasks: evaluation with the task's own metrics (and, for
//! generated tasks, the solved test on fresh sequences), and the probe of one sequence.

use super::protocol::{Examples, TaggedSeq, TaskScores};
use super::trainer::Trainer;
use crate::config::TaskSource;
use crate::infer::probe::{probe_batch, ProbeReport};
use crate::nn::error::NnError;
use crate::nn::{Model, Score};
use crate::task::data::{FileFormat, TaskData};
use crate::task::encode::{push_text, token_id};
use crate::task::evaluate::{evaluate, EvalScratch};
use crate::task::metrics::argmax;
use crate::task::predict::predict;
use crate::task::seqset::{empty_batch, Labels, SeqSet};

/// Probe sequence `i` of `set` (a task's sequences) with its labels: the probe views' data,
/// the gradient norms of its loss (a sequence head's: of the one output at the end). Dense
/// inputs (the adding problem's pairs) show as their values.
///
/// # Errors
/// The model cannot run on the sequence.
pub fn probe_task_sequence(
    model: &Model<f32>,
    task: &TaskData,
    set: &SeqSet,
    i: usize,
    step: u64,
) -> Result<ProbeReport, crate::infer::probe::ProbeError> {
    let mut batch = empty_batch();
    let mut features = Vec::new();
    set.fill_batch(&[i], &mut batch, &mut features);
    let vocab = &task.vocab;
    let inputs = batch.inputs.clone();
    let input_text = |t: usize| match task.dense {
        Some(w) => features[t * w..(t + 1) * w]
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect::<Vec<_>>()
            .join(","),
        None => vocab.display(inputs[t]),
    };
    probe_batch(model, &batch, step, &input_text, &|k| task.labels.name(k).to_string())
}

/// Sequences per evaluation batch.
const EVAL_BATCH: usize = 128;
/// Tagged validation sentences the TUI's task pane shows.
const EXAMPLE_SENTENCES: usize = 20;
/// (target, prediction) pairs of a regression task the TUI's task pane plots.
const EXAMPLE_VALUES: usize = 400;

impl Trainer {
    /// Training sequences seen so far.
    pub fn sequences_seen(&self) -> u64 {
        self.step.saturating_mul(self.exp.training.batch_size as u64)
    }

    /// Score the validation data with the task's metrics (and a generated task's solved test);
    /// the mean validation loss, NaN when the model gives non-finite outputs.
    pub(super) fn evaluate_task(&mut self) -> Option<f64> {
        let sequences = self.sequences_seen();
        let task = self.data.task()?;
        match task_scores(&self.model, task, sequences, &mut self.solved_at, &mut self.task_eval) {
            Ok(scores) => {
                let loss = scores.valid.loss;
                self.last_scores = Some(scores);
                Some(loss)
            }
            Err(_) => Some(f64::NAN),
        }
    }

    /// The scores of the last evaluation of a task.
    pub fn task_scores(&self) -> Option<&TaskScores> {
        self.last_scores.as_ref()
    }

    /// Probe the task's probe sequence: the one set with [`Trainer::set_probe_text`], else the
    /// first validation sequence, with its true labels.
    pub(super) fn probe_task(&self) -> Option<ProbeReport> {
        let task = self.data.task()?;
        let (set, i) = match &self.probe_set {
            Some(s) => (s, 0),
            None => (&task.valid, self.probe_seq.min(task.valid.len().checked_sub(1)?)),
        };
        probe_task_sequence(&self.model, task, set, i, self.step).ok()
    }

    /// Probe `text` from now on (tasks): a sentence of whitespace-separated tokens for tagging
    /// from column files, the text of one example for classification, a line of the alphabet's
    /// symbols for generated tasks. The targets are the model's own predictions at the time the
    /// text is set (there is no gold label). Warnings when the text is empty or partly unknown.
    pub(super) fn set_probe_sequence(&mut self, text: &str) -> Vec<String> {
        let Some(task) = self.data.task() else {
            return Vec::new();
        };
        let (set, warnings) = probe_sequence(&self.model, task, &self.exp.task.source, text);
        if set.is_some() {
            self.probe_set = set;
        }
        warnings
    }
}

/// A task's scores: `model` on the validation data with the task's metrics, and for a
/// generated task on its solved test's fresh sequences too (the headline metric is then the
/// test's). `sequences`: training sequences seen so far; `solved_at` is set when this is the
/// first evaluation that passes the solved test. The evaluation of a run
/// ([`Trainer::evaluate`]) and of a checkpoint opened for inspection (`inspect.rs`).
///
/// # Errors
/// When the data does not fit the model (its forward pass fails).
pub fn task_scores(
    model: &Model<f32>,
    task: &TaskData,
    sequences: u64,
    solved_at: &mut Option<u64>,
    scratch: &mut EvalScratch<f32>,
) -> Result<TaskScores, NnError> {
    let valid = evaluate(model, task, &task.valid, EVAL_BATCH, scratch)?;
    let test = match (&task.generator, &task.test) {
        (Some(_), Some(t)) => Some(evaluate(model, task, t, EVAL_BATCH, scratch)?),
        _ => None,
    };
    if test.as_ref().and_then(|t| t.solved) == Some(true) && solved_at.is_none() {
        *solved_at = Some(sequences);
    }
    let head = test.as_ref().unwrap_or(&valid).primary();
    Ok(TaskScores {
        metric: head.name.to_string(),
        value: head.value,
        higher_is_better: head.higher_is_better,
        valid,
        test,
        sequences,
        solved_at: *solved_at,
        labels: task.labels.names().to_vec(),
        examples: examples(model, task),
    })
}

/// The model's outputs on the first validation sequences, for the TUI: up to
/// [`EXAMPLE_SENTENCES`] tagged sentences, or [`EXAMPLE_VALUES`] (target, prediction) pairs.
fn examples(model: &Model<f32>, task: &TaskData) -> Examples {
    let n = match task.valid.labels {
        Labels::PerStep(_) => EXAMPLE_SENTENCES,
        Labels::Real { .. } => EXAMPLE_VALUES,
        Labels::Class(_) => return Examples::None,
    };
    let idx: Vec<usize> = (0..task.valid.len().min(n)).collect();
    let set = task.valid.subset(&idx);
    let Ok(out) = predict(model, &set, EVAL_BATCH) else {
        return Examples::None;
    };
    let y = model.spec.outputs;
    match &set.labels {
        Labels::PerStep(gold) => Examples::Tagged(
            out.iter()
                .enumerate()
                .map(|(i, o)| {
                    let r = set.range(i);
                    TaggedSeq {
                        tokens: set.tokens[r.clone()].iter().map(|&t| task.vocab.display(t)).collect(),
                        gold: gold[r].to_vec(),
                        pred: o.chunks_exact(y).map(|row| argmax(row) as u32).collect(),
                    }
                })
                .collect(),
        ),
        Labels::Real { outputs, values } => Examples::Regressed(
            out.iter()
                .enumerate()
                .map(|(i, o)| (values[i * outputs], o.first().map_or(f64::NAN, |&v| f64::from(v))))
                .collect(),
        ),
        Labels::Class(_) => Examples::None,
    }
}

/// `text` as one sequence of `task` to probe (see [`Trainer::set_probe_text`]), labelled with
/// the model's own predictions; `None` with the reason when it cannot be read. Warnings when
/// the text is partly unknown.
pub fn probe_sequence(
    model: &Model<f32>,
    task: &TaskData,
    source: &TaskSource,
    text: &str,
) -> (Option<SeqSet>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut set = SeqSet::tokens(&task.valid.labels);
    let unknown = match encode_probe(task, source, text, &mut set) {
        Ok(u) => u,
        Err(why) => return (None, vec![why]),
    };
    if set.tokens.is_empty() {
        return (None, vec!["the probe text holds no token".into()]);
    }
    if unknown > 0 {
        warnings.push(format!(
            "{unknown} token(s) of the probe text are not in the vocabulary and were mapped to <unk> or dropped"
        ));
    }
    set.end_seq();
    // Label the sequence with the model's own predictions.
    let mut batch = empty_batch();
    let mut features = Vec::new();
    let n = set.tokens.len();
    match &mut set.labels {
        Labels::PerStep(v) => v.resize(n, 0),
        Labels::Class(v) => v.push(0),
        Labels::Real { values, outputs } => values.resize(*outputs, 0.0),
    }
    set.fill_batch(&[0], &mut batch, &mut features);
    let mut ws = model.workspace();
    if model.forward(&batch, Score::All, &mut ws).is_ok() {
        let y = model.spec.outputs;
        match &mut set.labels {
            Labels::PerStep(v) => {
                for (t, l) in v.iter_mut().enumerate() {
                    *l = argmax(&ws.logits[t * y..(t + 1) * y]) as u32;
                }
            }
            Labels::Class(v) => v[0] = argmax(&ws.logits[..y]) as u32,
            Labels::Real { values, .. } => {
                for (k, v) in values.iter_mut().enumerate() {
                    *v = f64::from(ws.logits[k]);
                }
            }
        }
    }
    (Some(set), warnings)
}

/// Append the tokens of `text` to `set` as the task reads an input; the unknown tokens.
fn encode_probe(task: &TaskData, source: &TaskSource, text: &str, set: &mut SeqSet) -> Result<usize, String> {
    if task.dense.is_some() {
        return Err("probes of real-valued inputs read the validation data; a probe text does not apply".into());
    }
    let vocab = &task.vocab;
    let mut unknown = 0;
    match source {
        TaskSource::Files {
            format: FileFormat::Columns(_),
            unknown_words,
            ..
        } => {
            for w in text.split_whitespace() {
                let id = token_id(vocab, w, *unknown_words);
                unknown += usize::from(vocab.token(id).starts_with("<unk"));
                set.tokens.push(id);
            }
        }
        TaskSource::Files { .. } => unknown += push_text(text, vocab, set),
        TaskSource::Generated { .. } | TaskSource::Text => {
            for c in text.trim().chars() {
                match vocab.char_id(c) {
                    Some(id) => set.tokens.push(id),
                    None => unknown += 1,
                }
            }
        }
    }
    Ok(unknown)
}
