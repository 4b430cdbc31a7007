//! Temporal order (Hochreiter & Schmidhuber 1997, experiment 6a: "two relevant, widely
//! separated symbols"): classify a sequence by the order of two symbols far apart.
//!
//! Symbols {a, b, c, d, X, Y, E, B}. A sequence starts with `E`, ends with `B` (the trigger),
//! and is otherwise random symbols from {a, b, c, d}, except at two positions t1 and t2 that hold
//! `X` or `Y`. With the paper's sizes (T = 100) the length is drawn from [100, 110], t1 from
//! [10, 20] and t2 from [50, 60]; here in general the length from [T, T + T/10], t1 from
//! [T/10, 2T/10] and t2 from [T/2, T/2 + T/10] (1-based positions). Four classes by the order:
//! X,X → Q; X,Y → R; Y,X → S; Y,Y → U. The target is given at the end only (many-to-one).
//!
//! The paper counts a sequence as classified correctly when "the final absolute error of all
//! output units is below 0.3"; with a softmax output and a one-hot target that is
//! p(true class) > 0.7 (the other outputs then sum to less than 0.3). "Solved" here: at most 3
//! of 2560 fresh test sequences misclassified, the tolerance the paper's adding problem reports.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Judged;
use crate::task::seqset::{Labels, SeqSet};
use crate::task::TaskError;

/// The input alphabet in id order (`E` starts, `B` ends a sequence).
pub const SYMBOLS: &str = "abcdXYEB";
/// The classes in id order.
pub const CLASSES: &str = "QRSU";
const X: u32 = 4;
const Y: u32 = 5;
const START: u32 = 6;
const TRIGGER: u32 = 7;

/// Parameters of the temporal order task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalOrder {
    /// T: lengths from [T, T + T/10]. Default: 100 (the paper's). At least 20.
    pub length: usize,
}

impl Default for TemporalOrder {
    fn default() -> Self {
        TemporalOrder { length: 100 }
    }
}

impl TemporalOrder {
    /// Check T.
    ///
    /// # Errors
    /// [`TaskError::BadParam`] unless 20 ≤ T ≤ 1,000,000.
    pub fn check(&self) -> Result<(), TaskError> {
        if !(20..=1_000_000).contains(&self.length) {
            return Err(TaskError::BadParam {
                task: "temporal_order",
                name: "length",
                value: self.length.to_string(),
                why: "must be between 20 and 1000000".into(),
            });
        }
        Ok(())
    }

    /// The 1-based ranges of the length, t1 and t2.
    pub fn ranges(&self) -> [(usize, usize); 3] {
        let t = self.length;
        [(t, t + t / 10), (t / 10, 2 * t / 10), (t / 2, t / 2 + t / 10)]
    }

    /// Append one sequence and its class.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        let [(l0, l1), (a0, a1), (b0, b1)] = self.ranges();
        let len = rng.random_range(l0..=l1);
        let t1 = rng.random_range(a0..=a1);
        let t2 = rng.random_range(b0..=b1);
        let (first, second) = (rng.random_range(X..=Y), rng.random_range(X..=Y));
        for pos in 1..=len {
            out.tokens.push(match pos {
                1 => START,
                p if p == len => TRIGGER,
                p if p == t1 => first,
                p if p == t2 => second,
                _ => rng.random_range(0..4),
            });
        }
        if let Labels::Class(v) = &mut out.labels {
            // X,X → Q (0); X,Y → R (1); Y,X → S (2); Y,Y → U (3).
            v.push(2 * (first - X) + (second - X));
        }
        out.end_seq();
    }
}

/// Right when the softmax gives the true class more than 0.7.
pub fn judge(set: &SeqSet, i: usize, out: &[f32]) -> Judged {
    let Labels::Class(y) = &set.labels else {
        return Judged {
            correct: false,
            sq_err: 0.0,
        };
    };
    let m = out.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(f64::from(z)));
    let sum: f64 = out.iter().map(|&z| (f64::from(z) - m).exp()).sum();
    let p = out.get(y[i] as usize).map_or(0.0, |&z| (f64::from(z) - m).exp() / sum);
    Judged {
        correct: p > 0.7,
        sq_err: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{stream, Synthetic};
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn positions_and_classes() {
        for t in [20, 100] {
            let g = TemporalOrder { length: t };
            let [(l0, l1), (a0, a1), (b0, b1)] = g.ranges();
            if t == 100 {
                assert_eq!([(l0, l1), (a0, a1), (b0, b1)], [(100, 110), (10, 20), (50, 60)]);
            }
            let set = Synthetic::TemporalOrder(g).generate(3, stream::VALID, 1000);
            let Labels::Class(y) = &set.labels else { panic!() };
            let mut classes = [0usize; 4];
            for i in 0..set.len() {
                let s = &set.tokens[set.range(i)];
                assert!((l0..=l1).contains(&s.len()));
                assert_eq!((s[0], s[s.len() - 1]), (START, TRIGGER));
                let marks: Vec<usize> = (0..s.len()).filter(|&k| s[k] == X || s[k] == Y).collect();
                assert_eq!(marks.len(), 2);
                let (p1, p2) = (marks[0] + 1, marks[1] + 1); // 1-based
                assert!((a0..=a1).contains(&p1) && (b0..=b1).contains(&p2), "{p1} {p2}");
                let expect = match (s[marks[0]], s[marks[1]]) {
                    (X, X) => 0,
                    (X, Y) => 1,
                    (Y, X) => 2,
                    _ => 3,
                };
                assert_eq!(y[i], expect);
                classes[expect as usize] += 1;
                assert!(s.iter().all(|&c| c < 8));
            }
            assert!(classes.iter().all(|&c| c > 150), "{classes:?}");
        }
    }

    #[test]
    fn judged_by_07() {
        let set = Synthetic::TemporalOrder(TemporalOrder { length: 20 }).generate(1, stream::TEST, 1);
        let Labels::Class(y) = &set.labels else { panic!() };
        let c = y[0] as usize;
        // softmax(z) with z_c = ln 8, others 0: p_c = 8 / 11 = 0.727 > 0.7; with ln 6: 6/9 < 0.7.
        let mut z = [0.0f32; 4];
        z[c] = 8f32.ln();
        assert!(judge(&set, 0, &z).correct);
        z[c] = 6f32.ln();
        assert!(!judge(&set, 0, &z).correct);
    }
}
