//! The embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1, after Smith &
//! Zipser 1989, Cleeremans et al. 1989 and Fahlman 1991): next-symbol prediction.
//!
//! The Reber grammar over {B, T, P, S, X, V, E} (every branch taken with probability ½):
//!
//! ```text
//!   B → n0;  n0: T → n1 | P → n5;  n1: S → n1 | X → n2;  n2: S → n3 | X → n5;
//!   n3: E (end);  n4: V → n3 | P → n2;  n5: V → n4 | T → n5
//! ```
//! (e.g. `BTXSE`, `BPVVE`, `BTSSXXTVVE`, `BPTVPSE`). An embedded string is `B`, then `T` or `P`,
//! then a Reber string, then the same `T` or `P` again, then `E`: predicting that second `T`/`P`
//! needs the symbol seen right after the first `B`, across the whole inner string.
//!
//! Input x⟨t⟩ is symbol t, the target symbol t + 1 (one-hot in, softmax out). The paper's
//! criterion: a string is predicted correctly when at every step "the output unit(s)
//! corresponding to the possible next symbol(s) is(are) always the most active ones"; a trial is
//! successful when all strings of the test set (and the training set) are. So at each step with
//! k possible next symbols, those k outputs must be the k largest. With the grammar's branches
//! only the penultimate step needs memory; a model that has not learned it is right on the
//! penultimate step half the time, so the test is harsh: one string wrong is failure.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Judged;
use crate::task::seqset::{Labels, SeqSet};

/// The alphabet, in id order.
pub const SYMBOLS: &str = "BTPSXVE";
const B: u8 = 0;
const T: u8 = 1;
const P: u8 = 2;
const S: u8 = 3;
const X: u8 = 4;
const V: u8 = 5;
const E: u8 = 6;

/// The Reber grammar's transitions: node → [(symbol, next node)] (node 3 emits E and ends).
const GRAPH: [[(u8, u8); 2]; 6] = [
    [(T, 1), (P, 5)],
    [(S, 1), (X, 2)],
    [(S, 3), (X, 5)],
    [(E, 6), (E, 6)],
    [(V, 3), (P, 2)],
    [(V, 4), (T, 5)],
];

/// Parameters of the Reber task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reber {
    /// The embedded grammar (true, the long-memory task) or the plain one. Default: true.
    pub embedded: bool,
}

impl Default for Reber {
    fn default() -> Self {
        Reber { embedded: true }
    }
}

fn bit(s: u8) -> u32 {
    1 << s
}

impl Reber {
    /// Append one string: inputs its symbols but the last, targets its symbols but the first,
    /// and per step the set of symbols that may come next.
    pub fn sample(&self, rng: &mut ChaCha8Rng, out: &mut SeqSet) {
        // (symbol, set of possible next symbols) for every symbol of the string.
        let mut syms: Vec<(u8, u32)> = Vec::with_capacity(32);
        let outer = if self.embedded {
            let c = if rng.random_bool(0.5) { T } else { P };
            syms.push((B, bit(T) | bit(P)));
            syms.push((c, bit(B)));
            Some(c)
        } else {
            None
        };
        syms.push((B, bit(T) | bit(P)));
        let mut node = 0usize;
        loop {
            let [(a, na), (b, nb)] = GRAPH[node];
            if node == 3 {
                let next = outer.map_or(0, bit);
                syms.push((E, next));
                break;
            }
            let (s, n) = if rng.random_bool(0.5) { (a, na) } else { (b, nb) };
            node = n as usize;
            let next = if node == 3 {
                bit(E)
            } else {
                bit(GRAPH[node][0].0) | bit(GRAPH[node][1].0)
            };
            syms.push((s, next));
        }
        if let Some(c) = outer {
            syms.push((c, bit(E)));
            syms.push((E, 0));
        }
        for w in syms.windows(2) {
            out.tokens.push(u32::from(w[0].0));
            out.allowed.push(w[0].1);
            if let Labels::PerStep(v) = &mut out.labels {
                v.push(u32::from(w[1].0));
            }
        }
        out.end_seq();
    }
}

/// Right when at every step the outputs of the possible next symbols are the largest ones:
/// min over allowed > max over the rest.
pub fn judge(set: &SeqSet, i: usize, out: &[f32]) -> Judged {
    let r = set.range(i);
    let width = out.len() / r.len().max(1);
    let correct = r.enumerate().all(|(k, s)| {
        let allowed = set.allowed.get(s).copied().unwrap_or(0);
        let z = &out[k * width..(k + 1) * width];
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for (j, &v) in z.iter().enumerate() {
            if allowed & (1 << j) != 0 {
                lo = lo.min(v);
            } else {
                hi = hi.max(v);
            }
        }
        allowed != 0 && lo > hi
    });
    Judged { correct, sq_err: 0.0 }
}

#[cfg(test)]
mod tests {
    use super::super::{stream, Synthetic};
    use super::*;

    fn text(set: &SeqSet, i: usize) -> String {
        let r = set.range(i);
        let Labels::PerStep(y) = &set.labels else { panic!() };
        let mut s: String = set.tokens[r.clone()]
            .iter()
            .map(|&t| SYMBOLS.as_bytes()[t as usize] as char)
            .collect();
        s.push(SYMBOLS.as_bytes()[y[r.end - 1] as usize] as char);
        s
    }

    /// True when `s` is a plain Reber string: B, then a walk of the graph from n0 to n3, then E.
    fn accepts(s: &[u8]) -> bool {
        let idx = |c: u8| SYMBOLS.bytes().position(|x| x == c).unwrap() as u8;
        if s.first() != Some(&b'B') {
            return false;
        }
        let mut node = 0usize;
        for &c in &s[1..] {
            if node == 3 {
                return c == b'E' && s.last() == Some(&c);
            }
            match GRAPH[node].iter().find(|(sym, _)| *sym == idx(c)) {
                Some(&(_, n)) => node = n as usize,
                None => return false,
            }
        }
        false
    }

    #[test]
    fn strings_follow_the_grammar() {
        for s in ["BTXSE", "BPVVE", "BTSSXXTVVE", "BPTVPSE"] {
            assert!(accepts(s.as_bytes()), "{s}");
        }
        assert!(!accepts(b"BTSE"));
        let g = Synthetic::Reber(Reber { embedded: true });
        let set = g.generate(5, stream::VALID, 500);
        let mut seen_t = 0;
        for i in 0..set.len() {
            let s = text(&set, i);
            let b = s.as_bytes();
            let n = b.len();
            assert_eq!((b[0], b[n - 1]), (b'B', b'E'), "{s}");
            assert!(b[1] == b'T' || b[1] == b'P');
            assert_eq!(b[n - 2], b[1], "{s}: the embedded symbol repeats before the end");
            assert!(accepts(&b[2..n - 2]), "{s}: inner string");
            seen_t += usize::from(b[1] == b'T');
            // The possible-next sets contain the actual next symbol.
            let Labels::PerStep(y) = &set.labels else { panic!() };
            for st in set.range(i) {
                assert!(set.allowed[st] & (1 << y[st]) != 0);
            }
            // The penultimate prediction is the only one with a single remembered answer.
            let pen = set.range(i).end - 2;
            assert_eq!(set.allowed[pen], 1 << y[pen]);
        }
        assert!((150..350).contains(&seen_t), "T chosen {seen_t} of 500 times");
        let plain = Synthetic::Reber(Reber { embedded: false }).generate(2, stream::VALID, 100);
        for i in 0..plain.len() {
            assert!(accepts(text(&plain, i).as_bytes()));
        }
    }

    /// `BTBPVVETE`: inputs B T B P V V E T, next-symbol sets {T,P} {B} {T,P} {T,V} {P,V} {E} {T}
    /// {E}. Outputs that rank every possible symbol first are right; swapping the last `T` for
    /// `P` at the penultimate step is wrong.
    #[test]
    fn judge_by_possible_next_symbols() {
        let mut set = Synthetic::Reber(Reber::default()).empty_set();
        let inputs = [B, T, B, P, V, V, E, T];
        let allowed = [
            bit(T) | bit(P),
            bit(B),
            bit(T) | bit(P),
            bit(T) | bit(V),
            bit(P) | bit(V),
            bit(E),
            bit(T),
            bit(E),
        ];
        let targets = [T, B, P, V, V, E, T, E];
        for k in 0..8 {
            set.tokens.push(u32::from(inputs[k]));
            set.allowed.push(allowed[k]);
            if let Labels::PerStep(v) = &mut set.labels {
                v.push(u32::from(targets[k]));
            }
        }
        set.end_seq();
        let mut out = vec![0.0f32; 8 * 7];
        for k in 0..8 {
            for j in 0..7 {
                out[k * 7 + j] = if allowed[k] & (1 << j) != 0 { 1.0 } else { -1.0 };
            }
        }
        assert!(judge(&set, 0, &out).correct);
        out[6 * 7 + usize::from(P)] = 2.0; // P above T at the step that must remember T
        assert!(!judge(&set, 0, &out).correct);
    }
}
