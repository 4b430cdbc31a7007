//! The adding problem (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", Neural
//! Computation 9(8), experiment 4).
//!
//! Each step is a pair (value, marker): the value uniform in [−1, 1]; the marker 1.0, 0.0 or
//! −1.0. The length is an integer drawn uniformly from [T, T + T/10]. Exactly two pairs are
//! marked with 1.0: one of the first ten pairs (its value is X1), then one of the first T/2 − 1
//! pairs still unmarked (X2). The first and the last pair carry marker −1; in the rare case that
//! the first pair is drawn as a marked pair it keeps its −1 and its value counts as zero (the
//! paper says so for X1; the same rule is applied to X2, which can also land on the first pair).
//! The target, read at the sequence end, is 0.5 + (X1 + X2)/4 (the sum scaled to [0, 1]); a
//! sequence is processed correctly when the absolute error at its end is below 0.04.
//!
//! The paper stops training when the average training error is below 0.01 and the last 2000
//! sequences were right, and reports that on a test set of 2560 random sequences "the average
//! test set error was always below 0.01, and there were never more than 3 incorrectly processed
//! sequences" (LSTM needed 74,000 training sequences at T = 100). The "solved" test here is that
//! test: MSE < 0.01 and at most 3 of 2560 fresh sequences off by 0.04 or more.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Judged;
use crate::task::seqset::{Labels, SeqSet};
use crate::task::TaskError;

/// Parameters of the adding problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adding {
    /// T: lengths are drawn from [T, T + T/10]. Default: 100. At least 6.
    pub length: usize,
}

impl Default for Adding {
    fn default() -> Self {
        Adding { length: 100 }
    }
}

impl Adding {
    /// Check T.
    ///
    /// # Errors
    /// [`TaskError::BadParam`] for T < 6 (the second marker needs two of the first T/2 − 1
    /// pairs) or T > 1,000,000.
    pub fn check(&self) -> Result<(), TaskError> {
        if !(6..=1_000_000).contains(&self.length) {
            return Err(TaskError::BadParam {
                task: "adding",
                name: "length",
                value: self.length.to_string(),
                why: "must be between 6 and 1000000".into(),
            });
        }
        Ok(())
    }

    /// Append one sequence: `2·len` features (value, marker) and its target.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        let t = self.length;
        let len = rng.random_range(t..=t + t / 10);
        // 0-based: i1 among the first ten pairs (never the last pair, which only matters for
        // T < 11), i2 among the first T/2 − 1 except i1.
        let i1 = rng.random_range(0..10.min(len - 1));
        let half = t / 2 - 1;
        let i1_in = usize::from(i1 < half);
        let mut i2 = rng.random_range(0..half - i1_in);
        if i1_in == 1 && i2 >= i1 {
            i2 += 1;
        }
        let start = out.features.len();
        for _ in 0..len {
            let v: f32 = rng.random_range(-1.0f32..=1.0);
            out.features.extend_from_slice(&[v, 0.0]);
        }
        let f = &mut out.features[start..];
        f[1] = -1.0;
        f[2 * (len - 1) + 1] = -1.0;
        let mut sum = 0.0f64;
        for i in [i1, i2] {
            if i == 0 {
                continue; // the first pair keeps its −1 and counts as zero
            }
            f[2 * i + 1] = 1.0;
            sum += f64::from(f[2 * i]);
        }
        if let Labels::Real { values, .. } = &mut out.labels {
            values.push(0.5 + sum / 4.0);
        }
        out.end_seq();
    }
}

/// Right when |ŷ − y| < 0.04 at the sequence end.
pub fn judge(set: &SeqSet, i: usize, out: &[f32]) -> Judged {
    let y = match &set.labels {
        Labels::Real { values, outputs } => values[i * outputs],
        _ => f64::NAN,
    };
    let err = out.first().map_or(f64::NAN, |&v| f64::from(v)) - y;
    Judged {
        correct: err.abs() < 0.04,
        sq_err: err * err,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{stream, Synthetic};
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn definition_holds_on_many_sequences() {
        for t in [6, 10, 50, 100] {
            let g = Synthetic::Adding(Adding { length: t });
            let set = g.generate(11, stream::VALID, 2000);
            let Labels::Real { values, .. } = &set.labels else {
                panic!("adding is regression")
            };
            let (mut lens, mut first_marked) = (std::collections::BTreeSet::new(), 0);
            for i in 0..set.len() {
                let r = set.range(i);
                let len = r.len();
                lens.insert(len);
                assert!((t..=t + t / 10).contains(&len), "T = {t}: length {len}");
                let f = &set.features[r.start * 2..r.end * 2];
                let marker = |k: usize| f[2 * k + 1];
                let value = |k: usize| f64::from(f[2 * k]);
                assert!((0..len).all(|k| (-1.0..=1.0).contains(&value(k))));
                assert_eq!(marker(len - 1), -1.0);
                assert_eq!(marker(0), -1.0);
                let marked: Vec<usize> = (0..len).filter(|&k| marker(k) == 1.0).collect();
                assert!(marked.iter().all(|&k| (1..len - 1).contains(&k)));
                assert!((0..len).all(|k| [0.0, 1.0, -1.0].contains(&marker(k))));
                // Two marked pairs (one when the first pair was drawn): one in the first ten,
                // the other in the first T/2 − 1.
                let sum: f64 = marked.iter().map(|&k| value(k)).sum();
                assert!((values[i] - (0.5 + sum / 4.0)).abs() < 1e-12);
                match marked.len() {
                    2 => {
                        let (a, b, half) = (marked[0], marked[1], t / 2 - 1);
                        assert!((a < 10 && b < half) || (b < 10 && a < half), "markers at {a}, {b}");
                    }
                    1 => first_marked += 1,
                    n => panic!("{n} marked pairs"),
                }
                assert!((0.0..=1.0).contains(&values[i]));
            }
            // Every allowed length occurs (2000 draws from at most 11 values).
            assert_eq!(lens.len(), t / 10 + 1);
            // The first pair is drawn about 1/10 + 1/(T/2 − 1) of the time: sometimes, not mostly.
            assert!(first_marked > 0 && first_marked < 2000 * 3 / 4, "{first_marked}");
        }
    }

    #[test]
    fn judged_by_the_004_rule() {
        let g = Synthetic::Adding(Adding { length: 10 });
        let set = g.generate(1, stream::TEST, 1);
        let Labels::Real { values, .. } = &set.labels else {
            panic!()
        };
        let y = values[0] as f32;
        assert!(judge(&set, 0, &[y + 0.039]).correct);
        assert!(!judge(&set, 0, &[y - 0.041]).correct);
        assert!((judge(&set, 0, &[y + 0.5]).sq_err - 0.25).abs() < 1e-6);
    }
}
