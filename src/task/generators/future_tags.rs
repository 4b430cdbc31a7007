//! Tags that depend on what comes later: a tagging task only a model that sees the future can
//! solve (the case for bidirectional layers).
//!
//! Random sequences over n symbols (`a`, `b`, …), lengths uniform in [min_len, max_len]. Rules:
//!
//! - `ahead` (default): the tag of position t is the symbol at t + d (d = `distance`, default 2),
//!   or `$` when t + d is past the end. A left-to-right model sees only the past, so it can do no
//!   better than guess: about 1/n of the tags right (plus the `$` it cannot place either). A
//!   bidirectional model reads the symbol d steps ahead from its backward direction.
//! - `again`: the tag is `yes` when the symbol at t occurs again later in the sequence, `no`
//!   otherwise.
//!
//! "Solved": at most 1 % of fresh test sequences with a wrong tag.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::task::seqset::{Labels, SeqSet};
use crate::task::TaskError;

/// Which future fact the tag states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FutureRule {
    /// The symbol `distance` steps ahead (`$` past the end).
    #[default]
    Ahead,
    /// Whether the symbol occurs again later.
    Again,
}

/// Parameters of the future-dependent tagging task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FutureTags {
    /// n: alphabet size, 2 to 26. Default: 8.
    pub symbols: usize,
    /// Shortest sequence. Default: 10.
    pub min_len: usize,
    /// Longest sequence. Default: 20.
    pub max_len: usize,
    /// The rule. Default: ahead.
    pub rule: FutureRule,
    /// d for the `ahead` rule. Default: 2.
    pub distance: usize,
}

impl Default for FutureTags {
    fn default() -> Self {
        FutureTags {
            symbols: 8,
            min_len: 10,
            max_len: 20,
            rule: FutureRule::Ahead,
            distance: 2,
        }
    }
}

impl FutureTags {
    /// Check the parameters.
    ///
    /// # Errors
    /// [`TaskError::BadParam`] for an alphabet outside 2..=26, lengths outside
    /// 1..=1,000,000 or min_len > max_len, a distance of 0.
    pub fn check(&self) -> Result<(), TaskError> {
        let bad = |name, value: usize, why: &str| {
            Err(TaskError::BadParam {
                task: "future_tags",
                name,
                value: value.to_string(),
                why: why.into(),
            })
        };
        if !(2..=26).contains(&self.symbols) {
            return bad("symbols", self.symbols, "must be between 2 and 26");
        }
        if !(1..=1_000_000).contains(&self.min_len) {
            return bad("min_len", self.min_len, "must be between 1 and 1000000");
        }
        if !(self.min_len..=1_000_000).contains(&self.max_len) {
            return bad("max_len", self.max_len, "must be at least min_len and at most 1000000");
        }
        if self.rule == FutureRule::Ahead && !(1..=1_000_000).contains(&self.distance) {
            return bad("distance", self.distance, "must be between 1 and 1000000");
        }
        Ok(())
    }

    /// Input symbol names: `a`, `b`, ….
    pub fn symbols_names(&self) -> Vec<String> {
        (0..self.symbols)
            .map(|i| char::from(b'a' + i as u8).to_string())
            .collect()
    }

    /// Tag names: the symbols and `$` (ahead), or `no`, `yes` (again).
    pub fn tag_names(&self) -> Vec<String> {
        match self.rule {
            FutureRule::Ahead => {
                let mut v = self.symbols_names();
                v.push("$".into());
                v
            }
            FutureRule::Again => vec!["no".into(), "yes".into()],
        }
    }

    /// Append one sequence and its tags.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        let n = self.symbols as u32;
        let len = rng.random_range(self.min_len..=self.max_len);
        let start = out.tokens.len();
        for _ in 0..len {
            out.tokens.push(rng.random_range(0..n));
        }
        let x = &out.tokens[start..];
        if let Labels::PerStep(v) = &mut out.labels {
            match self.rule {
                FutureRule::Ahead => {
                    v.extend((0..len).map(|t| x.get(t + self.distance).copied().unwrap_or(n)));
                }
                FutureRule::Again => {
                    // Right to left, remembering which symbols were seen: O(len) per sequence.
                    let from = v.len();
                    v.resize(from + len, 0);
                    let mut seen: u32 = 0;
                    for t in (0..len).rev() {
                        v[from + t] = u32::from(seen & (1 << x[t]) != 0);
                        seen |= 1 << x[t];
                    }
                }
            }
        }
        out.end_seq();
    }
}

#[cfg(test)]
mod tests {
    use super::super::{stream, Synthetic};
    use super::*;

    #[test]
    fn ahead_and_again() {
        let g = FutureTags {
            symbols: 3,
            min_len: 4,
            max_len: 6,
            rule: FutureRule::Ahead,
            distance: 2,
        };
        let set = Synthetic::FutureTags(g).generate(1, stream::VALID, 100);
        let Labels::PerStep(y) = &set.labels else { panic!() };
        for i in 0..set.len() {
            let r = set.range(i);
            assert!((4..=6).contains(&r.len()));
            let x = &set.tokens[r.clone()];
            let y = &y[r];
            for t in 0..x.len() {
                assert_eq!(y[t], if t + 2 < x.len() { x[t + 2] } else { 3 });
            }
        }
        let again = FutureTags {
            rule: FutureRule::Again,
            ..g
        };
        let set = Synthetic::FutureTags(again).generate(1, stream::VALID, 100);
        let Labels::PerStep(y) = &set.labels else { panic!() };
        for i in 0..set.len() {
            let r = set.range(i);
            let x = &set.tokens[r.clone()];
            let y = &y[r];
            for t in 0..x.len() {
                assert_eq!(y[t] == 1, x[t + 1..].contains(&x[t]), "{x:?} {y:?}");
            }
        }
        assert_eq!(again.tag_names(), ["no", "yes"]);
        assert_eq!(g.tag_names(), ["a", "b", "c", "$"]);
    }

    #[test]
    fn bad_parameters() {
        let g = FutureTags {
            min_len: 5,
            max_len: 4,
            ..FutureTags::default()
        };
        assert_eq!(
            g.check().unwrap_err().to_string(),
            "future_tags: `max_len` = 4: must be at least min_len and at most 1000000"
        );
    }
}
