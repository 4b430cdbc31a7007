//! Training batches of a sequence task, as a pure function of (seed, step): resuming at step k
//! sees the same batches as an uninterrupted run.
//!
//! - Files: epoch e is the seeded order [`epoch_order`] of stream `EPOCH + e` (shuffled,
//!   bucketed by length, full batches); step s takes batch `s mod steps_per_epoch` of epoch
//!   `s / steps_per_epoch`. The epoch's order is computed once and kept.
//! - Generated: step s is `B` fresh sequences from the generator's stream `TRAIN + s`.
//!
//! Word dropout replaces each real training token, with probability p, by its unknown-word
//! class (`<unk>`, or its signature class with `unknown_words = "signature"`), drawn from the
//! stream `DROPOUT + s`: the model learns to tag from context and word shape, as it must for
//! words it never saw.

use rand::Rng;

use super::data::TaskData;
use super::encode::{signature, UnknownWords};
use super::generators::{rng, Synthetic};
use super::seqset::{empty_batch, epoch_order, SeqSet};
use crate::nn::batch::{Batch, NO_INPUT};

/// Stream ids of the training order and the word dropout.
mod stream {
    /// Epoch `e`'s order is stream `EPOCH + e`.
    pub const EPOCH: u64 = 6 << 48;
    /// Step `s`'s word dropout is stream `DROPOUT + s`.
    pub const DROPOUT: u64 = 7 << 48;
}

enum Source {
    Files {
        train: SeqSet,
        lengths: Vec<usize>,
        epoch: Option<(u64, Vec<usize>)>,
    },
    Generated {
        generator: Synthetic,
        scratch: SeqSet,
    },
}

/// The batches of one task run.
pub struct TaskBatcher {
    source: Source,
    batch: usize,
    seed: u64,
    word_dropout: f64,
    /// Token id → the id it becomes under word dropout (`NO_INPUT`: keep it).
    unknown_of: Vec<u32>,
    out: Batch,
    features: Vec<f32>,
    /// 0, 1, …, B − 1: the rows of a generated batch.
    identity: Vec<usize>,
}

impl TaskBatcher {
    /// Batches of `b` sequences from `task` (at most the training set's size for file tasks).
    pub fn new(task: &TaskData, b: usize, seed: u64, word_dropout: f64, unknown_words: UnknownWords) -> Self {
        let source = match &task.generator {
            Some(g) => Source::Generated {
                generator: g.clone(),
                scratch: g.empty_set(),
            },
            None => Source::Files {
                train: task.train.clone(),
                lengths: (0..task.train.len()).map(|i| task.train.seq_len(i)).collect(),
                epoch: None,
            },
        };
        let unknown_of = match task.token_vocab() {
            Some(v) if word_dropout > 0.0 => (0..v.len() as u32)
                .map(|id| {
                    let t = v.token(id);
                    if t.starts_with("<unk") {
                        return NO_INPUT;
                    }
                    let class = match unknown_words {
                        UnknownWords::Signature => v.id(&signature(t)),
                        UnknownWords::Unk => None,
                    };
                    class.or(v.unk()).unwrap_or(NO_INPUT)
                })
                .collect(),
            _ => Vec::new(),
        };
        TaskBatcher {
            source,
            batch: b.max(1),
            seed,
            word_dropout,
            unknown_of,
            out: empty_batch(),
            features: Vec::new(),
            identity: (0..b.max(1)).collect(),
        }
    }

    /// Sequences per batch.
    pub fn batch_size(&self) -> usize {
        match &self.source {
            Source::Files { lengths, .. } => self.batch.min(lengths.len().max(1)),
            Source::Generated { .. } => self.batch,
        }
    }

    /// Optimizer steps per pass over the training data (generated tasks: `u64::MAX`, they have
    /// no epochs).
    pub fn steps_per_epoch(&self) -> u64 {
        match &self.source {
            Source::Files { lengths, .. } => lengths.len().div_ceil(self.batch_size()).max(1) as u64,
            Source::Generated { .. } => u64::MAX,
        }
    }

    /// The batch of `step` (buffers reused).
    pub fn batch(&mut self, step: u64) -> &Batch {
        let b = self.batch_size();
        match &mut self.source {
            Source::Generated { generator, scratch } => {
                generator.train_batch(self.seed, step, b, scratch);
                scratch.fill_batch(&self.identity[..b], &mut self.out, &mut self.features);
            }
            Source::Files { train, lengths, epoch } => {
                let spe = lengths.len().div_ceil(b).max(1) as u64;
                let e = step / spe;
                if epoch.as_ref().is_none_or(|(k, _)| *k != e) {
                    let order = epoch_order(lengths, b, &mut rng(self.seed, stream::EPOCH.wrapping_add(e)));
                    *epoch = Some((e, order));
                }
                let order = &epoch.as_ref().map_or(&[][..], |(_, o)| o.as_slice());
                let k = (step % spe) as usize;
                let idx = &order[k * b..((k + 1) * b).min(order.len())];
                train.fill_batch(idx, &mut self.out, &mut self.features);
            }
        }
        if self.word_dropout > 0.0 && !self.unknown_of.is_empty() {
            let mut r = rng(self.seed, stream::DROPOUT.wrapping_add(step));
            for x in &mut self.out.inputs {
                if *x != NO_INPUT && r.random_bool(self.word_dropout) {
                    let to = self.unknown_of[*x as usize];
                    if to != NO_INPUT {
                        *x = to;
                    }
                }
            }
        }
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::data::generated;
    use crate::task::generators::FutureTags;
    use crate::task::TaskKind;

    #[test]
    fn batches_are_a_function_of_the_step() {
        let g = Synthetic::FutureTags(FutureTags::default());
        let task = generated(&g, TaskKind::Tagging, 1, 4, 4);
        let mut a = TaskBatcher::new(&task, 8, 5, 0.0, UnknownWords::Unk);
        let mut b = TaskBatcher::new(&task, 8, 5, 0.0, UnknownWords::Unk);
        let x3 = a.batch(3).clone();
        b.batch(0);
        assert_eq!(b.batch(3), &x3);
        assert_ne!(a.batch(4), &x3);
        assert_eq!(a.steps_per_epoch(), u64::MAX);
    }

    #[test]
    fn file_epochs_and_word_dropout() {
        let mut task = generated(
            &Synthetic::FutureTags(FutureTags::default()),
            TaskKind::Tagging,
            1,
            10,
            1,
        );
        // Use the generated validation set as a file task's training set.
        task.train = task.valid.clone();
        task.generator = None;
        let mut a = TaskBatcher::new(&task, 4, 2, 0.0, UnknownWords::Unk);
        assert_eq!(a.steps_per_epoch(), 3);
        let mut seen = Vec::new();
        for s in 0..3 {
            let batch = a.batch(s);
            assert_eq!(batch.batch, 4);
            seen.push(batch.inputs.clone());
        }
        let mut again = TaskBatcher::new(&task, 4, 2, 0.0, UnknownWords::Unk);
        assert_eq!(again.batch(2).inputs, seen[2]);
        // The future-tags alphabet has no <unk>: word dropout has nothing to put in.
        let mut d = TaskBatcher::new(&task, 4, 2, 0.5, UnknownWords::Unk);
        assert_eq!(d.batch(2).inputs, seen[2]);
    }
}
