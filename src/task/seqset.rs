//! Labelled sequences stored back to back, their split and their batches.
//!
//! A [`SeqSet`] holds every step of every sequence in one array (token ids, or `width` real
//! values per step for dense inputs such as the adding problem's (value, marker) pairs), the
//! start of each sequence, and the labels: one class per step (tagging), one class per sequence
//! (classification) or real values per sequence (regression).
//!
//! Batches are time-major, `T` = the longest sequence of the batch, shorter sequences padded at
//! the end with mask 0 (the core carries a⟨t⟩ through padding unchanged, so a many-to-one head
//! reads the last real step forward; the backward direction starts from zero at its last real
//! step). [`SeqSet::fill_batch`] writes into a reused [`Batch`]: no allocation per sequence, and
//! none at all once the buffers have grown to the largest batch.

use rand::seq::SliceRandom;

use crate::nn::batch::{Batch, Targets, NO_INPUT};

/// What a [`SeqSet`] is labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// One class per step, aligned with the steps (tagging, next-symbol prediction, copy).
    PerStep(Vec<u32>),
    /// One class per sequence (classification).
    Class(Vec<u32>),
    /// `outputs` real values per sequence, row-major (regression).
    Real {
        /// Values per sequence.
        outputs: usize,
        /// The values.
        values: Vec<f64>,
    },
}

/// Labelled sequences stored back to back.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqSet {
    /// Input token of every step (token inputs; empty for dense inputs).
    pub tokens: Vec<u32>,
    /// Dense inputs: `width` values per step (empty for token inputs).
    pub features: Vec<f32>,
    /// Values per step in `features`; 0 for token inputs.
    pub width: usize,
    /// Sequence `i` is steps `starts[i]..starts[i + 1]`; `starts[0] = 0`.
    pub starts: Vec<usize>,
    /// The labels.
    pub labels: Labels,
    /// Per step, bit k set when symbol k may come next (the embedded Reber grammar's criterion);
    /// empty when the task has no such sets.
    pub allowed: Vec<u32>,
}

impl SeqSet {
    /// An empty set of token sequences labelled like `labels` (its contents are dropped).
    pub fn tokens(labels: &Labels) -> SeqSet {
        SeqSet {
            tokens: Vec::new(),
            features: Vec::new(),
            width: 0,
            starts: vec![0],
            labels: labels.empty_like(),
            allowed: Vec::new(),
        }
    }

    /// An empty set of dense sequences with `width` values per step.
    pub fn dense(width: usize, labels: &Labels) -> SeqSet {
        SeqSet {
            width,
            ..SeqSet::tokens(labels)
        }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// True when there is no sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Steps of all sequences.
    pub fn steps(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    /// Steps of sequence `i`.
    pub fn seq_len(&self, i: usize) -> usize {
        self.starts[i + 1] - self.starts[i]
    }

    /// The step range of sequence `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.starts[i]..self.starts[i + 1]
    }

    /// The longest sequence's length (0 when empty).
    pub fn max_len(&self) -> usize {
        (0..self.len()).map(|i| self.seq_len(i)).max().unwrap_or(0)
    }

    /// Close the sequence whose steps were pushed since the last call.
    pub fn end_seq(&mut self) {
        let n = self.features.len().checked_div(self.width).unwrap_or(self.tokens.len());
        self.starts.push(n);
    }

    /// Remove every sequence, keeping the buffers' capacity.
    pub fn clear(&mut self) {
        self.tokens.clear();
        self.features.clear();
        self.starts.truncate(1);
        self.allowed.clear();
        match &mut self.labels {
            Labels::PerStep(v) | Labels::Class(v) => v.clear(),
            Labels::Real { values, .. } => values.clear(),
        }
    }

    /// The sequences `idx` (in that order) as a new set.
    pub fn subset(&self, idx: &[usize]) -> SeqSet {
        let mut out = SeqSet {
            width: self.width,
            ..SeqSet::tokens(&self.labels)
        };
        for &i in idx {
            let r = self.range(i);
            if self.width > 0 {
                out.features
                    .extend_from_slice(&self.features[r.start * self.width..r.end * self.width]);
            } else {
                out.tokens.extend_from_slice(&self.tokens[r.clone()]);
            }
            if !self.allowed.is_empty() {
                out.allowed.extend_from_slice(&self.allowed[r.clone()]);
            }
            match (&self.labels, &mut out.labels) {
                (Labels::PerStep(a), Labels::PerStep(b)) => b.extend_from_slice(&a[r]),
                (Labels::Class(a), Labels::Class(b)) => b.push(a[i]),
                (Labels::Real { outputs, values: a }, Labels::Real { values: b, .. }) => {
                    b.extend_from_slice(&a[i * outputs..(i + 1) * outputs]);
                }
                _ => unreachable!("subset keeps the label kind"),
            }
            out.end_seq();
        }
        out
    }

    /// Append every sequence of `other` (same kind of inputs and labels).
    pub fn append(&mut self, other: &SeqSet) {
        let all: Vec<usize> = (0..other.len()).collect();
        let sub = other.subset(&all);
        let base = self.steps();
        self.tokens.extend_from_slice(&sub.tokens);
        self.features.extend_from_slice(&sub.features);
        self.allowed.extend_from_slice(&sub.allowed);
        self.starts.extend(sub.starts[1..].iter().map(|s| s + base));
        match (&mut self.labels, sub.labels) {
            (Labels::PerStep(a), Labels::PerStep(b)) | (Labels::Class(a), Labels::Class(b)) => a.extend(b),
            (Labels::Real { values: a, .. }, Labels::Real { values: b, .. }) => a.extend(b),
            _ => unreachable!("append keeps the label kind"),
        }
    }

    /// Write sequences `idx` into `out` as one time-major batch (`T` = the longest of them,
    /// shorter ones padded with mask 0) and their dense inputs, if any, into `features`
    /// (`[T·B, width]`, zero for padding) and `out.features`. Reuses the buffers of `out` and
    /// `features`.
    pub fn fill_batch(&self, idx: &[usize], out: &mut Batch, features: &mut Vec<f32>) {
        let b = idx.len();
        let t_max = idx.iter().map(|&i| self.seq_len(i)).max().unwrap_or(0).max(1);
        let n = t_max * b;
        out.steps = t_max;
        out.batch = b;
        out.inputs.clear();
        out.inputs.resize(n, NO_INPUT);
        out.mask.clear();
        out.mask.resize(n, 0);
        let w = self.width;
        features.clear();
        features.resize(n * w, 0.0);
        let mut targets = std::mem::replace(&mut out.targets, Targets::Class(Vec::new()));
        match (&self.labels, &mut targets) {
            (Labels::PerStep(_), Targets::PerStep(v)) => {
                v.clear();
                v.resize(n, 0);
            }
            (Labels::PerStep(_), t) => *t = Targets::PerStep(vec![0; n]),
            (Labels::Class(_), Targets::Class(v)) => v.clear(),
            (Labels::Class(_), t) => *t = Targets::Class(Vec::with_capacity(b)),
            (Labels::Real { .. }, Targets::Real(v)) => v.clear(),
            (Labels::Real { .. }, t) => *t = Targets::Real(Vec::new()),
        }
        for (r, &i) in idx.iter().enumerate() {
            let range = self.range(i);
            for (k, s) in range.clone().enumerate() {
                let at = k * b + r;
                out.mask[at] = 1;
                if w > 0 {
                    features[at * w..(at + 1) * w].copy_from_slice(&self.features[s * w..(s + 1) * w]);
                } else {
                    out.inputs[at] = self.tokens[s];
                }
            }
            match (&self.labels, &mut targets) {
                (Labels::PerStep(y), Targets::PerStep(v)) => {
                    for (k, s) in range.enumerate() {
                        v[k * b + r] = y[s];
                    }
                }
                (Labels::Class(y), Targets::Class(v)) => v.push(y[i]),
                (Labels::Real { outputs, values }, Targets::Real(v)) => {
                    v.extend_from_slice(&values[i * outputs..(i + 1) * outputs]);
                }
                _ => unreachable!("targets set to the label kind above"),
            }
        }
        out.targets = targets;
        // The model reads dense inputs from the batch (a copy into its reused buffer).
        out.features.clear();
        if w > 0 {
            out.features.extend_from_slice(features);
        }
    }
}

impl Labels {
    /// The same kind of labels with no entries.
    pub fn empty_like(&self) -> Labels {
        match self {
            Labels::PerStep(_) => Labels::PerStep(Vec::new()),
            Labels::Class(_) => Labels::Class(Vec::new()),
            Labels::Real { outputs, .. } => Labels::Real {
                outputs: *outputs,
                values: Vec::new(),
            },
        }
    }
}

/// An empty batch to fill with [`SeqSet::fill_batch`].
pub fn empty_batch() -> Batch {
    Batch::dense(0, 0, Vec::new(), Targets::Class(Vec::new()))
}

/// Split `n` items into (train, held out): a seeded shuffle, the last `round(n · fraction)`
/// (at least 1, at most n − 1) held out. Both lists keep the shuffled order.
pub fn held_out(n: usize, fraction: f64, rng: &mut impl rand::Rng) -> (Vec<usize>, Vec<usize>) {
    let mut all: Vec<usize> = (0..n).collect();
    all.shuffle(rng);
    if n < 2 {
        return (all, Vec::new());
    }
    let k = ((n as f64 * fraction).round() as usize).clamp(1, n - 1);
    let held = all.split_off(n - k);
    (all, held)
}

/// The order of one training epoch: a seeded shuffle, padded with its own first items to a
/// multiple of `batch`, sorted by length within windows of 50 batches (so each batch holds
/// sequences of similar length and pads little), cut into batches, and the batches shuffled.
/// Consecutive runs of `batch` items are the batches.
pub fn epoch_order(lengths: &[usize], batch: usize, rng: &mut impl rand::Rng) -> Vec<usize> {
    let n = lengths.len();
    let batch = batch.clamp(1, n.max(1));
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(rng);
    let pad = (batch - n % batch) % batch;
    for k in 0..pad {
        perm.push(perm[k]);
    }
    for w in perm.chunks_mut(batch * 50) {
        w.sort_by_key(|&i| lengths[i]);
    }
    let mut chunks: Vec<&[usize]> = perm.chunks(batch).collect();
    chunks.shuffle(rng);
    chunks.concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn tagged() -> SeqSet {
        let mut s = SeqSet::tokens(&Labels::PerStep(Vec::new()));
        for (toks, tags) in [(&[1u32, 2, 3][..], &[0u32, 1, 0][..]), (&[4], &[1]), (&[5, 6], &[1, 1])] {
            s.tokens.extend_from_slice(toks);
            if let Labels::PerStep(v) = &mut s.labels {
                v.extend_from_slice(tags);
            }
            s.end_seq();
        }
        s
    }

    #[test]
    fn batch_is_time_major_and_masked() {
        let s = tagged();
        assert_eq!((s.len(), s.steps(), s.max_len()), (3, 6, 3));
        let mut b = empty_batch();
        let mut f = Vec::new();
        s.fill_batch(&[1, 0], &mut b, &mut f);
        assert_eq!((b.steps, b.batch), (3, 2));
        // t = 0: [4, 1]; t = 1: [pad, 2]; t = 2: [pad, 3].
        assert_eq!(b.inputs, [4, 1, NO_INPUT, 2, NO_INPUT, 3]);
        assert_eq!(b.mask, [1, 1, 0, 1, 0, 1]);
        assert_eq!(b.targets, Targets::PerStep(vec![1, 0, 0, 1, 0, 0]));
        assert!(f.is_empty());
        // Refilling reuses the buffers.
        let cap = b.inputs.capacity();
        s.fill_batch(&[2, 1], &mut b, &mut f);
        assert_eq!(b.inputs, [5, 4, 6, NO_INPUT]);
        assert_eq!(b.inputs.capacity(), cap);
    }

    #[test]
    fn dense_and_real_labels() {
        let mut s = SeqSet::dense(
            2,
            &Labels::Real {
                outputs: 1,
                values: Vec::new(),
            },
        );
        s.features.extend_from_slice(&[0.5, 1.0, -0.5, 0.0]);
        if let Labels::Real { values, .. } = &mut s.labels {
            values.push(0.75);
        }
        s.end_seq();
        s.features.extend_from_slice(&[0.25, -1.0]);
        if let Labels::Real { values, .. } = &mut s.labels {
            values.push(0.5);
        }
        s.end_seq();
        assert_eq!((s.len(), s.seq_len(0), s.seq_len(1)), (2, 2, 1));
        let mut b = empty_batch();
        let mut f = Vec::new();
        s.fill_batch(&[0, 1], &mut b, &mut f);
        assert_eq!(f, [0.5, 1.0, 0.25, -1.0, -0.5, 0.0, 0.0, 0.0]);
        assert_eq!(b.mask, [1, 1, 1, 0]);
        assert_eq!(b.targets, Targets::Real(vec![0.75, 0.5]));
        let sub = s.subset(&[1]);
        assert_eq!(sub.features, [0.25, -1.0]);
        assert_eq!(
            sub.labels,
            Labels::Real {
                outputs: 1,
                values: vec![0.5]
            }
        );
    }

    #[test]
    fn subset_append_and_split() {
        let s = tagged();
        let sub = s.subset(&[2, 0]);
        assert_eq!(sub.tokens, [5, 6, 1, 2, 3]);
        assert_eq!(sub.labels, Labels::PerStep(vec![1, 1, 0, 1, 0]));
        let mut a = sub.clone();
        a.append(&s.subset(&[1]));
        assert_eq!(a.starts, [0, 2, 5, 6]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (tr, va) = held_out(10, 0.2, &mut rng);
        assert_eq!((tr.len(), va.len()), (8, 2));
        let mut all: Vec<usize> = tr.iter().chain(&va).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn epoch_order_covers_everything_in_full_batches() {
        let lengths: Vec<usize> = (0..23).map(|i| (i * 7) % 11 + 1).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let order = epoch_order(&lengths, 5, &mut rng);
        assert_eq!(order.len(), 25);
        let mut seen = order.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 23);
        // Within one window every batch is sorted by length.
        for c in order.chunks(5) {
            assert!(c.windows(2).all(|w| lengths[w[0]] <= lengths[w[1]]));
        }
    }
}
