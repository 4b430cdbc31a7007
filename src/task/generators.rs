//! The synthetic tasks of the long-memory literature, generated from a seed.
//!
//! | generator | kind | what | "solved" |
//! |---|---|---|---|
//! | [`adding`] | regression | Hochreiter & Schmidhuber 1997, exp. 4: (value, marker) pairs, output 0.5 + (X1 + X2)/4 | test MSE < 0.01 and ≤ 3 of 2560 sequences off by ≥ 0.04 |
//! | [`reber`] | tagging | exp. 1: the embedded Reber grammar, next-symbol prediction | every possible next symbol predicted at every step of every test string |
//! | [`temporal_order`] | classification | exp. 6a: the order of X/Y at two far-apart positions, 4 classes | ≤ 3 of 2560 with p(class) ≤ 0.7 |
//! | [`copy`] | tagging | Arjovsky et al. 2016: recall k symbols after a gap of T | ≤ 1 % of sequences with a wrong symbol |
//! | [`future_tags`] | tagging | the tag of a position depends on later symbols | ≤ 1 % of sequences with a wrong tag |
//!
//! Every sequence comes from a ChaCha8 stream of the seed: training batch `s` from stream
//! `TRAIN + s` (so training is a pure function of (seed, step) and resumes exactly), the
//! validation set from `VALID`, the "solved" test set from `TEST`. The test set is fresh data:
//! no training batch draws from its stream. docs/tasks.md gives the definitions and sources.

pub mod adding;
pub mod copy;
pub mod future_tags;
pub mod reber;
pub mod temporal_order;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::seqset::{Labels, SeqSet};
use super::TaskError;
use crate::nn::HeadKind;

pub use adding::Adding;
pub use copy::Copy;
pub use future_tags::{FutureRule, FutureTags};
pub use reber::Reber;
pub use temporal_order::TemporalOrder;

/// Stream ids of the generated data (added to the step for training batches).
pub mod stream {
    /// Training batch `s` is stream `TRAIN + s`.
    pub const TRAIN: u64 = 3 << 48;
    /// The validation set.
    pub const VALID: u64 = 4 << 48;
    /// The "solved" test set.
    pub const TEST: u64 = 5 << 48;
}

/// A generator of the stream `stream` of `seed`.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// What a generated sequence feeds the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// One symbol per step from this alphabet (one character each).
    Symbols(Vec<String>),
    /// Real values per step, by name.
    Dense(Vec<String>),
}

/// A built-in generator with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "generator", rename_all = "snake_case")]
pub enum Synthetic {
    /// The adding problem.
    Adding(Adding),
    /// The (embedded) Reber grammar.
    Reber(Reber),
    /// Temporal order, 4 classes.
    TemporalOrder(TemporalOrder),
    /// Copy / delayed recall.
    Copy(Copy),
    /// Tags that depend on later symbols.
    FutureTags(FutureTags),
}

/// How one test sequence was judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judged {
    /// Processed correctly by the task's own test.
    pub correct: bool,
    /// Squared error of the output (regression), else 0.
    pub sq_err: f64,
}

/// The "solved" test's counts over a test set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SolvedTally {
    /// Test sequences.
    pub sequences: usize,
    /// Sequences processed wrongly.
    pub wrong: usize,
    /// Σ squared error (regression).
    pub sq_err: f64,
}

impl SolvedTally {
    /// Add one judged sequence.
    pub fn add(&mut self, j: Judged) {
        self.sequences += 1;
        self.wrong += usize::from(!j.correct);
        self.sq_err += j.sq_err;
    }

    /// Share of sequences processed wrongly.
    pub fn error_rate(&self) -> f64 {
        if self.sequences == 0 {
            1.0
        } else {
            self.wrong as f64 / self.sequences as f64
        }
    }

    /// Mean squared error per sequence (regression).
    pub fn mse(&self) -> f64 {
        if self.sequences == 0 {
            0.0
        } else {
            self.sq_err / self.sequences as f64
        }
    }
}

/// The task's success criterion, applied to a [`SolvedTally`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// At most this share of test sequences may be wrong.
    pub max_wrong: f64,
    /// Regression: the test MSE must also be below this.
    pub max_mse: Option<f64>,
    /// Test sequences drawn for the test.
    pub test_size: usize,
}

impl Criterion {
    /// True when the tally passes.
    pub fn solved(&self, t: &SolvedTally) -> bool {
        t.sequences > 0
            && t.wrong as f64 <= self.max_wrong * t.sequences as f64 + 1e-9
            && self.max_mse.is_none_or(|m| t.mse() < m)
    }
}

impl Synthetic {
    /// The generator's name as written in experiment files.
    pub fn name(&self) -> &'static str {
        match self {
            Synthetic::Adding(_) => "adding",
            Synthetic::Reber(_) => "reber",
            Synthetic::TemporalOrder(_) => "temporal_order",
            Synthetic::Copy(_) => "copy",
            Synthetic::FutureTags(_) => "future_tags",
        }
    }

    /// Check the parameters.
    ///
    /// # Errors
    /// [`TaskError::BadParam`] naming the parameter and what is allowed.
    pub fn check(&self) -> Result<(), TaskError> {
        match self {
            Synthetic::Adding(g) => g.check(),
            Synthetic::Reber(_) => Ok(()),
            Synthetic::TemporalOrder(g) => g.check(),
            Synthetic::Copy(g) => g.check(),
            Synthetic::FutureTags(g) => g.check(),
        }
    }

    /// The output head this task trains.
    pub fn head(&self) -> HeadKind {
        match self {
            Synthetic::Adding(_) => HeadKind::SeqRegress,
            Synthetic::TemporalOrder(_) => HeadKind::SeqClassify,
            Synthetic::Reber(_) | Synthetic::Copy(_) | Synthetic::FutureTags(_) => HeadKind::PerStep,
        }
    }

    /// What each step feeds the model.
    pub fn input(&self) -> InputKind {
        match self {
            Synthetic::Adding(_) => InputKind::Dense(vec!["value".into(), "marker".into()]),
            Synthetic::Reber(_) => InputKind::Symbols(chars(reber::SYMBOLS)),
            Synthetic::TemporalOrder(_) => InputKind::Symbols(chars(temporal_order::SYMBOLS)),
            Synthetic::Copy(_) => InputKind::Symbols(chars(copy::INPUTS)),
            Synthetic::FutureTags(g) => InputKind::Symbols(g.symbols_names()),
        }
    }

    /// Names of the outputs: classes or tags (one real value: its name).
    pub fn output_names(&self) -> Vec<String> {
        match self {
            Synthetic::Adding(_) => vec!["sum".to_string()],
            Synthetic::Reber(_) => chars(reber::SYMBOLS),
            Synthetic::TemporalOrder(_) => chars(temporal_order::CLASSES),
            Synthetic::Copy(_) => chars(copy::OUTPUTS),
            Synthetic::FutureTags(g) => g.tag_names(),
        }
    }

    /// An empty set of this task's sequences.
    pub fn empty_set(&self) -> SeqSet {
        let labels = match self.head() {
            HeadKind::PerStep => Labels::PerStep(Vec::new()),
            HeadKind::SeqClassify => Labels::Class(Vec::new()),
            HeadKind::SeqRegress => Labels::Real {
                outputs: 1,
                values: Vec::new(),
            },
        };
        match self.input() {
            InputKind::Dense(names) => SeqSet::dense(names.len(), &labels),
            InputKind::Symbols(_) => SeqSet::tokens(&labels),
        }
    }

    /// Append one sequence drawn from `rng`.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        match self {
            Synthetic::Adding(g) => g.sample(rng, out),
            Synthetic::Reber(g) => g.sample(rng, out),
            Synthetic::TemporalOrder(g) => g.sample(rng, out),
            Synthetic::Copy(g) => g.sample(rng, out),
            Synthetic::FutureTags(g) => g.sample(rng, out),
        }
    }

    /// `n` sequences of stream `stream` of `seed`.
    pub fn generate(&self, seed: u64, stream: u64, n: usize) -> SeqSet {
        let mut out = self.empty_set();
        let mut r = rng(seed, stream);
        for _ in 0..n {
            self.sample(&mut r, &mut out);
        }
        out
    }

    /// Training batch `step`: `b` sequences of stream `TRAIN + step`, written into `out`
    /// (cleared first; its buffers are reused).
    pub fn train_batch(&self, seed: u64, step: u64, b: usize, out: &mut SeqSet) {
        out.clear();
        let mut r = rng(seed, stream::TRAIN.wrapping_add(step));
        for _ in 0..b {
            self.sample(&mut r, out);
        }
    }

    /// Judge sequence `i` of `set` from the model's outputs for it: per-step heads give
    /// `[len, |Y|]` logits row-major, per-sequence heads `[|Y|]` logits or values.
    pub fn judge(&self, set: &SeqSet, i: usize, out: &[f32]) -> Judged {
        match self {
            Synthetic::Adding(_) => adding::judge(set, i, out),
            Synthetic::Reber(_) => reber::judge(set, i, out),
            Synthetic::TemporalOrder(_) => temporal_order::judge(set, i, out),
            Synthetic::Copy(_) | Synthetic::FutureTags(_) => all_steps_right(set, i, out),
        }
    }

    /// The task's default success criterion (see the table above and docs/tasks.md).
    pub fn criterion(&self) -> Criterion {
        match self {
            // "never more than 3 incorrectly processed sequences" of 2560, average error < 0.01.
            Synthetic::Adding(_) => Criterion {
                max_wrong: 3.0 / 2560.0,
                max_mse: Some(0.01),
                test_size: 2560,
            },
            // Every symbol of every string predicted correctly; the paper's test set is 256 strings.
            Synthetic::Reber(_) => Criterion {
                max_wrong: 0.0,
                max_mse: None,
                test_size: 256,
            },
            Synthetic::TemporalOrder(_) => Criterion {
                max_wrong: 3.0 / 2560.0,
                max_mse: None,
                test_size: 2560,
            },
            Synthetic::Copy(_) | Synthetic::FutureTags(_) => Criterion {
                max_wrong: 0.01,
                max_mse: None,
                test_size: 2560,
            },
        }
    }

    /// The loss of the best model that ignores the inputs it cannot remember, in the training
    /// loss's unit (nats per scored step; regression: MSE), where the task has a well-known one.
    pub fn memoryless_baseline(&self) -> Option<f64> {
        match self {
            // Predicting 0.5: E[((X1 + X2)/4)²] = 2 · (1/3) / 16 = 1/24 (X uniform on [−1, 1]).
            Synthetic::Adding(_) => Some(1.0 / 24.0),
            Synthetic::Copy(g) => Some(g.baseline()),
            _ => None,
        }
    }
}

fn chars(s: &str) -> Vec<String> {
    s.chars().map(String::from).collect()
}

/// Per-step outputs: right when every step's argmax is its target class.
fn all_steps_right(set: &SeqSet, i: usize, out: &[f32]) -> Judged {
    let Labels::PerStep(y) = &set.labels else {
        return Judged {
            correct: false,
            sq_err: 0.0,
        };
    };
    let r = set.range(i);
    let width = out.len() / r.len().max(1);
    let correct = r
        .enumerate()
        .all(|(k, s)| super::metrics::argmax(&out[k * width..(k + 1) * width]) == y[s] as usize);
    Judged { correct, sq_err: 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_counts() {
        let c = Synthetic::Adding(Adding { length: 100 }).criterion();
        let t = SolvedTally {
            sequences: 2560,
            wrong: 3,
            sq_err: 2560.0 * 0.005,
        };
        assert!(c.solved(&t));
        assert!(!c.solved(&SolvedTally { wrong: 4, ..t }));
        assert!(!c.solved(&SolvedTally {
            sq_err: 2560.0 * 0.011,
            ..t
        }));
        assert!(!c.solved(&SolvedTally::default()));
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let g = Synthetic::TemporalOrder(TemporalOrder { length: 20 });
        let a = g.generate(7, stream::VALID, 5);
        assert_eq!(a, g.generate(7, stream::VALID, 5));
        assert_ne!(a, g.generate(7, stream::TEST, 5));
        let mut b = g.empty_set();
        g.train_batch(7, 3, 5, &mut b);
        assert_eq!(b, g.generate(7, stream::TRAIN + 3, 5));
    }
}
