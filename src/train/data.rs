//! What a run trains on: a language model's text or a sequence task, and their batches.

use crate::data::{Dataset, TrainBatcher, Vocab};
use crate::nn::Batch;
use crate::task::batcher::TaskBatcher;
use crate::task::data::TaskData;

/// The data of a run.
// One per run, never copied in a loop: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum RunData {
    /// A language model's text.
    Text(Dataset),
    /// A tagging, classification or regression task (from files or a generator).
    Task(Box<TaskData>),
}

impl RunData {
    /// The input vocabulary (a dense task's is the names of its input values).
    pub fn vocab(&self) -> &Vocab {
        match self {
            RunData::Text(d) => &d.vocab,
            RunData::Task(t) => &t.vocab,
        }
    }

    /// Training tokens per epoch (0 for a generated task, which has no fixed training set).
    pub fn train_tokens(&self) -> usize {
        match self {
            RunData::Text(d) => d.train_tokens(),
            RunData::Task(t) => t.train.steps(),
        }
    }

    /// Remarks about the data for the user (a language model's corpus notes; none for tasks).
    pub fn notes(&self) -> Vec<String> {
        match self {
            RunData::Text(d) => d.notes.clone(),
            RunData::Task(_) => Vec::new(),
        }
    }

    /// The task, for a run that is not a language model.
    pub fn task(&self) -> Option<&TaskData> {
        match self {
            RunData::Text(_) => None,
            RunData::Task(t) => Some(t),
        }
    }

    /// The text data set, for a language model.
    pub fn text(&self) -> Option<&Dataset> {
        match self {
            RunData::Text(d) => Some(d),
            RunData::Task(_) => None,
        }
    }
}

/// The training batches of a run, as a pure function of the step.
pub enum Batches {
    /// Language model chunks; `current` holds the last one handed out.
    Text {
        /// The batcher.
        batcher: TrainBatcher,
        /// The batch of the current step.
        current: Batch,
    },
    /// Task batches (reused buffers).
    Task(Box<TaskBatcher>),
}

impl Batches {
    /// Optimizer steps per pass over the training data (`u64::MAX` for generated tasks).
    pub fn steps_per_epoch(&self) -> u64 {
        match self {
            Batches::Text { batcher, .. } => batcher.steps_per_epoch(),
            Batches::Task(t) => t.steps_per_epoch(),
        }
    }

    /// The batch of `step`, and whether the carried state must be reset before it (a new epoch
    /// or set of lines; always for tasks, whose sequences each start from zero).
    pub fn batch(&mut self, step: u64) -> (&Batch, bool) {
        match self {
            Batches::Text { batcher, current } => {
                let (b, reset) = batcher.batch(step);
                *current = b;
                (current, reset)
            }
            Batches::Task(t) => (t.batch(step), true),
        }
    }
}
