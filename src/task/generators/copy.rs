//! Copy / delayed recall (Arjovsky, Shah & Bengio 2016, "Unitary Evolution Recurrent Neural
//! Networks", section 4.1, after Hochreiter & Schmidhuber 1997): remember k symbols across a gap.
//!
//! Alphabet: blank `-`, eight data symbols `1`–`8`, delimiter `:`. Input: k data symbols drawn
//! uniformly, T − 1 blanks, the delimiter, k blanks (length T + 2k). Target at every step:
//! blank for the first T + k steps, then the k data symbols in order. The paper uses k = 10.
//! A model without memory does best by predicting blank for the first T + k steps and a
//! uniform guess for the last k: cross-entropy k·ln 8 / (T + 2k) nats per step, the baseline
//! the paper plots. "Solved" here: at most 1 % of fresh test sequences with any wrong symbol.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::task::seqset::{Labels, SeqSet};
use crate::task::TaskError;

/// Input symbols in id order.
pub const INPUTS: &str = "-12345678:";
/// Output symbols in id order.
pub const OUTPUTS: &str = "-12345678";
const DELIMITER: u32 = 9;

/// Parameters of the copy task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    /// T: the gap between the last data symbol and the delimiter is T − 1 blanks. Default: 100.
    pub length: usize,
    /// k: data symbols to recall. Default: 10.
    pub symbols: usize,
}

impl Default for Copy {
    fn default() -> Self {
        Copy {
            length: 100,
            symbols: 10,
        }
    }
}

impl Copy {
    /// Check T and k.
    ///
    /// # Errors
    /// [`TaskError::BadParam`] unless 1 ≤ T ≤ 1,000,000 and 1 ≤ k ≤ 1000.
    pub fn check(&self) -> Result<(), TaskError> {
        let bad = |name, value: usize, why: &str| {
            Err(TaskError::BadParam {
                task: "copy",
                name,
                value: value.to_string(),
                why: why.into(),
            })
        };
        if !(1..=1_000_000).contains(&self.length) {
            return bad("length", self.length, "must be between 1 and 1000000");
        }
        if !(1..=1000).contains(&self.symbols) {
            return bad("symbols", self.symbols, "must be between 1 and 1000");
        }
        Ok(())
    }

    /// The memoryless baseline: k·ln 8 / (T + 2k) nats per step.
    pub fn baseline(&self) -> f64 {
        self.symbols as f64 * 8f64.ln() / (self.length + 2 * self.symbols) as f64
    }

    /// Append one sequence of length T + 2k.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        let (t, k) = (self.length, self.symbols);
        let start = out.tokens.len();
        for _ in 0..k {
            out.tokens.push(rng.random_range(1..=8));
        }
        out.tokens.extend(std::iter::repeat_n(0, t - 1));
        out.tokens.push(DELIMITER);
        out.tokens.extend(std::iter::repeat_n(0, k));
        if let Labels::PerStep(v) = &mut out.labels {
            v.extend(std::iter::repeat_n(0, t + k));
            v.extend_from_slice(&out.tokens[start..start + k]);
        }
        out.end_seq();
    }
}

#[cfg(test)]
mod tests {
    use super::super::{stream, Synthetic};
    use super::*;

    #[test]
    fn layout_and_baseline() {
        let g = Copy { length: 5, symbols: 3 };
        // 3·ln 8 / (5 + 6) = 0.56713…
        assert!((g.baseline() - 3.0 * 8f64.ln() / 11.0).abs() < 1e-15);
        let set = Synthetic::Copy(g).generate(9, stream::VALID, 50);
        let Labels::PerStep(y) = &set.labels else { panic!() };
        for i in 0..set.len() {
            let r = set.range(i);
            assert_eq!(r.len(), 11);
            let x = &set.tokens[r.clone()];
            let y = &y[r];
            assert!(x[..3].iter().all(|&s| (1..=8).contains(&s)));
            assert_eq!(&x[3..7], &[0, 0, 0, 0]);
            assert_eq!(x[7], DELIMITER);
            assert_eq!(&x[8..], &[0, 0, 0]);
            assert_eq!(&y[..8], &[0; 8]);
            assert_eq!(&y[8..], &x[..3]);
        }
    }

    #[test]
    fn judged_on_every_step() {
        let set = Synthetic::Copy(Copy { length: 2, symbols: 1 }).generate(4, stream::TEST, 1);
        let Labels::PerStep(y) = &set.labels else { panic!() };
        let mut out = vec![0.0f32; 4 * 9];
        for (k, &c) in y.iter().enumerate() {
            out[k * 9 + c as usize] = 1.0;
        }
        let g = Synthetic::Copy(Copy { length: 2, symbols: 1 });
        assert!(g.judge(&set, 0, &out).correct);
        out[3 * 9 + (y[3] as usize % 8) + 1] = 2.0; // a different symbol at the recall step
        assert!(!g.judge(&set, 0, &out).correct);
    }
}
