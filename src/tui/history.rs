//! Bounded metric histories for arbitrarily long runs.
//!
//! A [`History`] keeps two views of one series:
//!
//! - the **full** view covers the whole run with at most `capacity` points: when it fills up,
//!   neighbouring pairs are merged (values averaged, the later step and time kept) and from then
//!   on every incoming point is averaged over a stride that doubles at each halving;
//! - the **recent** view keeps the last `window` raw points unchanged.
//!
//! Memory is `O(capacity + window)` whatever the run length; the full view always spans the
//! whole run with evenly spaced buckets. (The shape of burn-train's TUI history.)

use std::collections::VecDeque;

/// One point of a metric series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Optimizer step (for a merged bucket: its last step).
    pub step: u64,
    /// Seconds since the run started (for a merged bucket: its last time).
    pub time_s: f64,
    /// Value (for a merged bucket: the mean of its raw values).
    pub value: f64,
}

/// A bounded history: full run downsampled by halving, plus a recent window of raw points.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    capacity: usize,
    window: usize,
    full: Vec<Point>,
    recent: VecDeque<Point>,
    /// Raw points merged into each full-view point.
    stride: usize,
    /// Sum of values and count of the bucket being filled (at stride > 1).
    pending_sum: f64,
    pending_n: usize,
    total: u64,
}

impl History {
    /// A history whose full view holds at most `capacity` points (rounded up to an even number,
    /// at least 2) and whose recent view holds the last `window` points (at least 1).
    pub fn new(capacity: usize, window: usize) -> Self {
        let capacity = capacity.max(2).next_multiple_of(2);
        let window = window.max(1);
        History {
            capacity,
            window,
            full: Vec::with_capacity(capacity),
            recent: VecDeque::with_capacity(window),
            stride: 1,
            pending_sum: 0.0,
            pending_n: 0,
            total: 0,
        }
    }

    /// Append a raw point. Non-finite values are kept out of the averages (they would poison a
    /// whole bucket) but still counted in [`History::total`].
    pub fn push(&mut self, p: Point) {
        self.total += 1;
        if !p.value.is_finite() {
            return;
        }
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(p);

        self.pending_sum += p.value;
        self.pending_n += 1;
        if self.pending_n < self.stride {
            return;
        }
        let merged = Point {
            value: self.pending_sum / self.pending_n as f64,
            ..p
        };
        self.pending_sum = 0.0;
        self.pending_n = 0;
        self.full.push(merged);
        if self.full.len() == self.capacity {
            self.halve();
        }
    }

    /// Merge neighbouring pairs of the full view and double the stride.
    fn halve(&mut self) {
        let merged: Vec<Point> = self
            .full
            .chunks(2)
            .map(|pair| {
                let last = pair[pair.len() - 1];
                let mean = pair.iter().map(|p| p.value).sum::<f64>() / pair.len() as f64;
                Point { value: mean, ..last }
            })
            .collect();
        self.full = merged;
        self.stride *= 2;
    }

    /// The whole run, downsampled (oldest first). Does not include a partly filled bucket.
    pub fn full(&self) -> &[Point] {
        &self.full
    }

    /// The last `window` raw points (oldest first).
    pub fn recent(&self) -> impl ExactSizeIterator<Item = &Point> + DoubleEndedIterator {
        self.recent.iter()
    }

    /// The most recent raw point.
    pub fn last(&self) -> Option<&Point> {
        self.recent.back()
    }

    /// Raw points pushed so far (including non-finite ones).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Raw points per full-view point (1, 2, 4, …).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Maximum points of the full view.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether nothing finite has been pushed.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }

    /// Forget everything (a new run).
    pub fn clear(&mut self) {
        *self = History::new(self.capacity, self.window);
    }
}

/// Debiased exponential moving average of `values` with decay `beta` in [0, 1):
/// s_t = β·s_{t−1} + (1 − β)·x_t, s_0 = 0, reported as s_t / (1 − β^t) so the first points are
/// not pulled towards zero. β = 0 returns the values unchanged.
pub fn debiased_ema(values: impl IntoIterator<Item = f64>, beta: f64) -> Vec<f64> {
    let beta = if beta.is_finite() { beta.clamp(0.0, 0.999) } else { 0.0 };
    let mut s = 0.0;
    let mut correction = 1.0; // β^t
    values
        .into_iter()
        .map(|x| {
            s = beta * s + (1.0 - beta) * x;
            correction *= beta;
            s / (1.0 - correction)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(step: u64, value: f64) -> Point {
        Point {
            step,
            time_s: step as f64 * 0.5,
            value,
        }
    }

    #[test]
    fn keeps_everything_below_capacity() {
        let mut h = History::new(8, 4);
        for i in 1..=7 {
            h.push(p(i, i as f64));
        }
        assert_eq!(h.full().len(), 7);
        assert_eq!(h.stride(), 1);
        let recent: Vec<u64> = h.recent().map(|p| p.step).collect();
        assert_eq!(recent, vec![4, 5, 6, 7]);
        assert_eq!(h.last().map(|p| p.step), Some(7));
    }

    #[test]
    fn halves_when_full_and_averages_pairs() {
        let mut h = History::new(4, 2);
        for i in 1..=4 {
            h.push(p(i, i as f64));
        }
        // Full at 4 points → merged to 2: (1+2)/2 at step 2, (3+4)/2 at step 4.
        assert_eq!(h.stride(), 2);
        let got: Vec<(u64, f64)> = h.full().iter().map(|p| (p.step, p.value)).collect();
        assert_eq!(got, vec![(2, 1.5), (4, 3.5)]);
        assert_eq!(h.full()[1].time_s, 2.0);
        // Next points arrive in buckets of 2.
        h.push(p(5, 5.0));
        assert_eq!(h.full().len(), 2);
        h.push(p(6, 7.0));
        assert_eq!(h.full().last().map(|p| (p.step, p.value)), Some((6, 6.0)));
    }

    #[test]
    fn memory_stays_bounded_and_spans_the_run() {
        let mut h = History::new(64, 16);
        for i in 1..=100_000u64 {
            h.push(p(i, (i % 7) as f64));
        }
        assert!(h.full().len() < 64);
        assert!(h.full().len() >= 32 - 1);
        assert_eq!(h.recent().len(), 16);
        assert_eq!(h.total(), 100_000);
        // Evenly spaced buckets covering the whole run, steps increasing.
        let steps: Vec<u64> = h.full().iter().map(|p| p.step).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]));
        assert!(*steps.last().unwrap_or(&0) > 90_000);
        assert!(steps[0] <= h.stride() as u64);
        // Averages of a periodic signal stay near its mean (3).
        assert!(h.full().iter().all(|p| (p.value - 3.0).abs() < 0.1));
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let mut h = History::new(8, 4);
        h.push(p(1, 1.0));
        h.push(p(2, f64::NAN));
        h.push(p(3, f64::INFINITY));
        h.push(p(4, 2.0));
        assert_eq!(h.full().len(), 2);
        assert_eq!(h.total(), 4);
        assert!(h.full().iter().all(|p| p.value.is_finite()));
    }

    #[test]
    fn clear_keeps_sizes() {
        let mut h = History::new(6, 3);
        for i in 1..=20 {
            h.push(p(i, 1.0));
        }
        h.clear();
        assert!(h.is_empty());
        assert_eq!(h.capacity(), 6);
        assert_eq!(h.stride(), 1);
    }

    #[test]
    fn capacity_rounds_to_even() {
        assert_eq!(History::new(5, 1).capacity(), 6);
        assert_eq!(History::new(0, 0).capacity(), 2);
    }

    #[test]
    fn ema_is_debiased() {
        // A constant series is its own EMA from the first point on.
        let s = debiased_ema([2.0, 2.0, 2.0], 0.9);
        assert!(s.iter().all(|v| (v - 2.0).abs() < 1e-12));
        // β = 0 is the identity.
        assert_eq!(debiased_ema([1.0, 5.0, 3.0], 0.0), vec![1.0, 5.0, 3.0]);
        // Hand-worked: β = 0.5, x = [4, 0]: s1 = 2 → 2/0.5 = 4; s2 = 1 → 1/0.75 = 4/3.
        let s = debiased_ema([4.0, 0.0], 0.5);
        assert!((s[0] - 4.0).abs() < 1e-12);
        assert!((s[1] - 4.0 / 3.0).abs() < 1e-12);
    }
}
