//! Task metrics, each checked against hand-computed values in its tests.
//!
//! - [`Accuracy`]: token accuracy (tagging) or sequence accuracy;
//! - [`chunks`]: chunk precision, recall and F1 counted as conlleval counts them (IOB/BIO tags);
//! - [`Confusion`]: classification accuracy, per-class accuracy, macro-F1, the confusion matrix;
//! - [`SquaredError`]: regression mean squared error.

pub mod chunks;

use serde::Serialize;

pub use chunks::{ChunkCounter, ChunkReport, ChunkScheme, ChunkTally};

/// Right out of total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Accuracy {
    /// Items right.
    pub correct: usize,
    /// Items counted.
    pub total: usize,
}

impl Accuracy {
    /// Count one item.
    pub fn add(&mut self, right: bool) {
        self.correct += usize::from(right);
        self.total += 1;
    }

    /// correct / total (0 when empty).
    pub fn value(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// A confusion matrix over `n` classes: `count(gold, predicted)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Classes.
    pub n: usize,
    /// Row-major `[gold, predicted]` counts.
    pub counts: Vec<u64>,
}

impl Confusion {
    /// An empty matrix for `n` classes.
    pub fn new(n: usize) -> Confusion {
        Confusion {
            n,
            counts: vec![0; n * n],
        }
    }

    /// Count one example (classes out of range are ignored).
    pub fn add(&mut self, gold: usize, predicted: usize) {
        if gold < self.n && predicted < self.n {
            self.counts[gold * self.n + predicted] += 1;
        }
    }

    /// Examples with gold class `gold` predicted as `predicted`.
    pub fn count(&self, gold: usize, predicted: usize) -> u64 {
        self.counts[gold * self.n + predicted]
    }

    /// Examples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Σ diagonal / total.
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.n).map(|c| self.count(c, c)).sum();
        frac(right, self.total())
    }

    /// Examples of gold class `c`.
    pub fn support(&self, c: usize) -> u64 {
        (0..self.n).map(|p| self.count(c, p)).sum()
    }

    /// Examples predicted as class `c`.
    pub fn predicted(&self, c: usize) -> u64 {
        (0..self.n).map(|g| self.count(g, c)).sum()
    }

    /// Per-class accuracy (= recall): right among the gold examples of `c`; `None` without any.
    pub fn class_accuracy(&self, c: usize) -> Option<f64> {
        let s = self.support(c);
        (s > 0).then(|| self.count(c, c) as f64 / s as f64)
    }

    /// F1 of class `c`: 2·TP / (2·TP + FP + FN) (0 when the class never occurs nor is predicted).
    pub fn f1(&self, c: usize) -> f64 {
        let tp = self.count(c, c);
        let denom = self.support(c) + self.predicted(c); // = 2TP + FN + FP
        frac(2 * tp, denom)
    }

    /// Macro-F1: the unweighted mean of the per-class F1 over the classes that occur in the gold
    /// labels or the predictions (as scikit-learn's `f1_score(average="macro")` with its default
    /// labels).
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..self.n)
            .filter(|&c| self.support(c) + self.predicted(c) > 0)
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&c| self.f1(c)).sum::<f64>() / present.len() as f64
    }
}

fn frac(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Sum of squared errors over values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SquaredError {
    /// Σ (ŷ − y)².
    pub sum: f64,
    /// Values counted.
    pub count: usize,
}

impl SquaredError {
    /// Count one predicted value against its target.
    pub fn add(&mut self, predicted: f64, target: f64) {
        let d = predicted - target;
        self.sum += d * d;
        self.count += 1;
    }

    /// Mean squared error (0 when empty).
    pub fn mse(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Index of the largest value (the first on ties; 0 for an empty slice).
pub fn argmax<F: Copy + PartialOrd>(v: &[F]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three classes, ten examples:
    ///
    /// ```text
    ///             predicted 0  1  2
    ///   gold 0              3  1  0     support 4
    ///   gold 1              1  2  1     support 4
    ///   gold 2              0  0  2     support 2
    /// ```
    /// accuracy = (3 + 2 + 2) / 10 = 0.7;
    /// F1₀ = 2·3 / (4 + 4) = 0.75; F1₁ = 2·2 / (4 + 3) = 4/7; F1₂ = 2·2 / (2 + 3) = 0.8;
    /// macro-F1 = (0.75 + 4/7 + 0.8) / 3 = 0.707142857…; per-class accuracy 0.75, 0.5, 1.
    #[test]
    fn confusion_by_hand() {
        let mut c = Confusion::new(3);
        for (g, p, k) in [(0, 0, 3), (0, 1, 1), (1, 0, 1), (1, 1, 2), (1, 2, 1), (2, 2, 2)] {
            for _ in 0..k {
                c.add(g, p);
            }
        }
        assert_eq!(c.total(), 10);
        assert!((c.accuracy() - 0.7).abs() < 1e-12);
        assert!((c.f1(1) - 4.0 / 7.0).abs() < 1e-12);
        assert!((c.macro_f1() - (0.75 + 4.0 / 7.0 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(c.class_accuracy(1), Some(0.5));
        // A class that never occurs and is never predicted does not count in macro-F1.
        let mut d = Confusion::new(4);
        d.add(0, 0);
        d.add(1, 0);
        // F1₀ = 2 / (1 + 2) = 2/3, F1₁ = 0: macro = 1/3.
        assert!((d.macro_f1() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(d.class_accuracy(3), None);
    }

    #[test]
    fn squared_error_and_accuracy() {
        let mut s = SquaredError::default();
        s.add(0.5, 0.75);
        s.add(1.0, 0.0);
        assert!((s.mse() - (0.0625 + 1.0) / 2.0).abs() < 1e-12);
        let mut a = Accuracy::default();
        for r in [true, false, true, true] {
            a.add(r);
        }
        assert_eq!(a.value(), 0.75);
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
    }
}
