//! Baselines that need no network, to put a model's score in context.
//!
//! - Tagging, most frequent tag: every token gets the tag it had most often in the training
//!   data; tokens outside the vocabulary (`<unk>`, which with `min_count = 2` covers the training
//!   data's rare words) get the tag `<unk>` had most often in training, or the most frequent tag
//!   overall when `<unk>` never occurs there.
//! - Classification, majority class: every sequence gets the training data's most frequent class.

use super::data::TaskData;
use super::evaluate::TaskMetrics;
use super::metrics::{Accuracy, ChunkCounter, ChunkScheme, Confusion};
use super::seqset::{Labels, SeqSet};

/// A baseline's prediction rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Tag by token id (index = token id).
    MostFrequentTag(Vec<u32>),
    /// One class for every sequence.
    Majority(u32),
}

fn most_frequent(counts: &[u64]) -> u32 {
    super::metrics::argmax(counts) as u32
}

impl Baseline {
    /// Fit the baseline of `task` on its training data (`None` for regression).
    pub fn fit(task: &TaskData) -> Option<Baseline> {
        let n = task.outputs();
        match &task.train.labels {
            Labels::PerStep(tags) => {
                let v = task.input_size();
                let mut counts = vec![0u64; v * n];
                let mut overall = vec![0u64; n];
                for (&tok, &tag) in task.train.tokens.iter().zip(tags) {
                    counts[tok as usize * n + tag as usize] += 1;
                    overall[tag as usize] += 1;
                }
                let fallback = task
                    .token_vocab()
                    .and_then(|v| v.unk())
                    .map(|u| &counts[u as usize * n..(u as usize + 1) * n])
                    .filter(|c| c.iter().any(|&k| k > 0))
                    .map_or_else(|| most_frequent(&overall), most_frequent);
                Some(Baseline::MostFrequentTag(
                    (0..v)
                        .map(|t| {
                            let c = &counts[t * n..(t + 1) * n];
                            if c.iter().any(|&k| k > 0) {
                                most_frequent(c)
                            } else {
                                fallback
                            }
                        })
                        .collect(),
                ))
            }
            Labels::Class(classes) => {
                let mut counts = vec![0u64; n];
                for &c in classes {
                    counts[c as usize] += 1;
                }
                Some(Baseline::Majority(most_frequent(&counts)))
            }
            Labels::Real { .. } => None,
        }
    }

    /// Score the baseline on `set` with the task's metrics (the loss is not defined: 0).
    pub fn evaluate(&self, task: &TaskData, set: &SeqSet) -> TaskMetrics {
        let mut acc = Accuracy::default();
        let mut m = TaskMetrics {
            sequences: set.len(),
            ..TaskMetrics::default()
        };
        match (self, &set.labels) {
            (Baseline::MostFrequentTag(rule), Labels::PerStep(gold)) => {
                let mut chunks = task
                    .chunks
                    .then(|| ChunkCounter::new(ChunkScheme::new(task.labels.names())));
                let mut pred = Vec::new();
                for i in 0..set.len() {
                    let r = set.range(i);
                    pred.clear();
                    pred.extend(
                        set.tokens[r.clone()]
                            .iter()
                            .map(|&t| rule.get(t as usize).copied().unwrap_or(0)),
                    );
                    for (p, g) in pred.iter().zip(&gold[r.clone()]) {
                        acc.add(p == g);
                    }
                    if let Some(c) = &mut chunks {
                        c.sentence(&gold[r], &pred);
                    }
                }
                if let Some(c) = chunks {
                    let r = c.finish();
                    m.chunk_precision = Some(r.total.precision());
                    m.chunk_recall = Some(r.total.recall());
                    m.chunk_f1 = Some(r.total.f1());
                    m.chunk_report = Some(r);
                }
                m.scored = acc.total;
            }
            (Baseline::Majority(c), Labels::Class(gold)) => {
                let mut conf = Confusion::new(task.outputs());
                for &g in gold {
                    acc.add(g == *c);
                    conf.add(g as usize, *c as usize);
                }
                m.macro_f1 = Some(conf.macro_f1());
                m.confusion = Some(conf);
                m.scored = acc.total;
            }
            _ => {}
        }
        m.accuracy = Some(acc.value());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Level;
    use crate::task::data::{load_files, FileFormat, LoadOptions, SplitFiles};
    use crate::task::encode::VocabSpec;
    use crate::task::readers::ColumnSpec;
    use crate::task::TaskKind;

    /// Training: `the/DT` ×3, `run/VB` ×2 and `run/NN` ×1, `dog/NN` ×1 (a singleton: `<unk>`
    /// with min_count = 2). Test `the run cat`: DT (the), VB (run's most frequent), NN (`cat`
    /// is unknown; `<unk>` was NN in training) against gold DT NN NN: 2 of 3.
    #[test]
    fn most_frequent_tag_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("train.txt");
        std::fs::write(&train, "the DT\nrun VB\n\nthe DT\nrun VB\n\nthe DT\nrun NN\ndog NN\n").unwrap();
        let test = dir.path().join("test.txt");
        std::fs::write(&test, "the DT\nrun NN\ncat NN\n").unwrap();
        let opts = LoadOptions {
            kind: TaskKind::Tagging,
            format: FileFormat::Columns(ColumnSpec::default()),
            vocab: VocabSpec {
                level: Level::Word,
                lowercase: false,
                split_punctuation: false,
                min_count: 2,
                max_vocab: 0,
                unknown: Default::default(),
            },
            val_fraction: 0.1,
            seed: 1,
            source: "t".into(),
        };
        let files = SplitFiles {
            train: vec![train.clone()],
            valid: vec![train],
            test: vec![test],
        };
        let task = load_files(&files, &opts).unwrap();
        let b = Baseline::fit(&task).unwrap();
        let m = b.evaluate(&task, task.test.as_ref().unwrap());
        assert!((m.accuracy.unwrap() - 2.0 / 3.0).abs() < 1e-12, "{m:?}");
    }
}
