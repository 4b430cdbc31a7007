//! Mini-batches as pure functions of (seed, step), and validation batches.
//!
//! Stream mode (truncated BPTT): the training stream is cut into B equal contiguous rows; chunk
//! k of row b is tokens `[off + b·K·T + k·T, … + T)` as inputs and the tokens one ahead as
//! targets, K = chunks per epoch. Consecutive steps continue each row, so the trainer carries
//! the state from step to step; the first chunk of every epoch says `reset = true`. Each epoch
//! starts at a seeded random offset `off` in `[0, slack]`, slack being the tokens the B·K·T
//! layout leaves over, so epochs see different chunk boundaries. T = `seq_len` (smaller only if a
//! row is shorter than `seq_len`). No mask.
//!
//! Stream mode with random windows (`batches = "random"`): row b of step s is the T tokens at a
//! position drawn from the seed and the step, anywhere in the training stream, from a zero state
//! (`reset = true` every step); an epoch is the same number of steps as above.
//!
//! Lines mode: each row is one line: inputs `NO_INPUT, y⟨1⟩ … y⟨n⟩`, targets
//! `y⟨1⟩ … y⟨n⟩, <eos>`, so n + 1 real steps. A line longer than `seq_len` tokens is cut to
//! `seq_len + 1` steps, inputs `NO_INPUT, y⟨1⟩ … y⟨seq_len⟩` and targets `y⟨1⟩ … y⟨seq_len+1⟩`
//! (no `<eos>`: the line goes on). T = the longest row in the batch (≤ `seq_len + 1`); shorter
//! rows are padded at the end with mask 0, input `NO_INPUT` and target 0. Every epoch is a
//! seeded permutation of the training lines, cut into ⌊lines / B⌋ batches (at least one; rows
//! wrap around when there are fewer lines than B); `reset = true` for every batch.
//!
//! Layout is time-major: position (t, b) is at `t·B + b`.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rand::Rng;

use super::dataset::{rng, stream, Dataset, Layout};
use super::tokens::TokenIds;
use crate::config::experiment::Batches;
use crate::nn::batch::{Batch, Targets, NO_INPUT};

/// The last epoch's line permutation, kept because computing it is O(lines).
type PermCache = Mutex<Option<(u64, Arc<Vec<u32>>)>>;

#[derive(Debug)]
enum Plan {
    Stream {
        /// Rows B.
        rows: usize,
        /// Steps per chunk T.
        t: usize,
        /// Chunks per epoch K.
        k: usize,
        /// Tokens left over by the layout: the epoch offset is drawn from [0, slack].
        slack: usize,
        /// Random windows instead of contiguous chunks; the value is the last start allowed.
        random: Option<usize>,
    },
    Lines {
        lines: Arc<Vec<Range<usize>>>,
        rows: usize,
        seq_len: usize,
        per_epoch: usize,
        eos: u32,
        cache: PermCache,
    },
}

/// The training batches of a [`Dataset`] for one (B, T, seed). Owns (shared) token data, so the
/// trainer can keep it beside the dataset.
#[derive(Debug)]
pub struct TrainBatcher {
    tokens: Arc<TokenIds>,
    seed: u64,
    plan: Plan,
}

/// A lines-mode batch from sequences (tokens without `<eos>`), each cut to `cap` tokens.
pub(crate) fn lines_batch(seqs: &[&[u32]], cap: usize, eos: u32) -> Batch {
    let b_n = seqs.len();
    let steps: Vec<usize> = seqs.iter().map(|s| s.len().min(cap) + 1).collect();
    let t_n = steps.iter().copied().max().unwrap_or(1);
    let n = t_n * b_n;
    let mut inputs = vec![NO_INPUT; n];
    let mut targets = vec![0u32; n];
    let mut mask = vec![0u8; n];
    for (b, s) in seqs.iter().enumerate() {
        for t in 0..steps[b] {
            let i = t * b_n + b;
            // x⟨1⟩ = 0, then the line; y⟨t⟩ = the line's t-th token, then <eos>.
            inputs[i] = if t == 0 { NO_INPUT } else { s[t - 1] };
            targets[i] = if t < s.len() { s[t] } else { eos };
            mask[i] = 1;
        }
    }
    Batch {
        steps: t_n,
        batch: b_n,
        inputs,
        targets: Targets::PerStep(targets),
        mask,
        features: Vec::new(),
    }
}

/// A stream batch: row b starts at `base + starts[b]`; inputs `[start, start + t)`, targets one
/// ahead.
pub(crate) fn stream_batch(tokens: &TokenIds, base: usize, starts: &[usize], t_n: usize) -> Batch {
    let b_n = starts.len();
    let mut inputs = vec![0u32; t_n * b_n];
    let mut targets = vec![0u32; t_n * b_n];
    for (b, &s) in starts.iter().enumerate() {
        let row = tokens.slice(base + s..base + s + t_n + 1);
        for t in 0..t_n {
            inputs[t * b_n + b] = row[t];
            targets[t * b_n + b] = row[t + 1];
        }
    }
    Batch::dense(t_n, b_n, inputs, Targets::PerStep(targets))
}

impl Dataset {
    /// Training batches of `batch` sequences of `seq_len` steps, shuffled by `seed`.
    pub fn batcher(&self, batch: usize, seq_len: usize, seed: u64) -> TrainBatcher {
        self.batcher_with(batch, seq_len, seed, Batches::Contiguous)
    }

    /// [`Self::batcher`] with a choice of stream batches: contiguous chunks with carried state,
    /// or random windows from a zero state (`batches` has no effect in lines mode).
    pub fn batcher_with(&self, batch: usize, seq_len: usize, seed: u64, batches: Batches) -> TrainBatcher {
        let batch = batch.max(1);
        let seq_len = seq_len.max(1);
        let plan = match &self.layout {
            Layout::Stream { split } => {
                let usable = split.saturating_sub(1).max(1);
                let rows = batch.min(usable);
                let len = usable / rows;
                let t = seq_len.min(len);
                let k = len / t;
                Plan::Stream {
                    rows,
                    t,
                    k,
                    slack: usable - rows * k * t,
                    random: (batches == Batches::Random).then(|| usable - t),
                }
            }
            Layout::Lines { train, .. } => Plan::Lines {
                lines: Arc::clone(train),
                rows: batch,
                seq_len,
                per_epoch: (train.len() / batch).max(1),
                eos: self.vocab.eos().unwrap_or(0),
                cache: Mutex::new(None),
            },
        };
        TrainBatcher {
            tokens: Arc::clone(&self.tokens),
            seed,
            plan,
        }
    }

    /// Validation batches, the same every call. Stream mode: the validation stream cut into
    /// B rows (fewer if it is very short) scored in consecutive chunks of `seq_len`, the state
    /// carried across chunks (`reset` only on the first); at most `max_tokens` targets in all
    /// (0 = all). Lines mode: the validation lines in order, B per batch (the last batch may be
    /// smaller), each line whole — every token and the `<eos>` after it is scored, as in
    /// `rnn-lab eval` — until `max_tokens` scored steps are reached (0 = all); `reset` always.
    pub fn val_batches(&self, batch: usize, seq_len: usize, max_tokens: usize) -> Vec<(Batch, bool)> {
        let batch = batch.max(1);
        let seq_len = seq_len.max(1);
        match &self.layout {
            Layout::Stream { split } => {
                let usable = (self.tokens.len() - split).saturating_sub(1);
                if usable == 0 {
                    return Vec::new();
                }
                let rows = batch.min(usable);
                let mut len = usable / rows;
                if max_tokens > 0 {
                    len = len.min((max_tokens / rows).max(1));
                }
                let mut out = Vec::new();
                let mut at = 0;
                while at < len {
                    let t = seq_len.min(len - at);
                    let starts: Vec<usize> = (0..rows).map(|b| b * len + at).collect();
                    out.push((stream_batch(&self.tokens, *split, &starts, t), at == 0));
                    at += t;
                }
                out
            }
            Layout::Lines { val, .. } => {
                let eos = self.vocab.eos().unwrap_or(0);
                let mut owned: Vec<Vec<u32>> = Vec::new();
                let mut scored = 0;
                for r in val.iter() {
                    if max_tokens > 0 && scored > 0 && scored + r.len() + 1 > max_tokens {
                        break;
                    }
                    scored += r.len() + 1;
                    owned.push(self.tokens.slice(r.clone()));
                }
                let seqs: Vec<&[u32]> = owned.iter().map(Vec::as_slice).collect();
                seqs.chunks(batch)
                    .map(|c| (lines_batch(c, usize::MAX, eos), true))
                    .collect()
            }
        }
    }
}

impl TrainBatcher {
    /// Batches in one pass over the training data.
    pub fn steps_per_epoch(&self) -> u64 {
        match &self.plan {
            Plan::Stream { k, .. } => *k as u64,
            Plan::Lines { per_epoch, .. } => *per_epoch as u64,
        }
    }

    /// Sequences per batch (the requested B, or fewer for a tiny stream).
    pub fn rows(&self) -> usize {
        match &self.plan {
            Plan::Stream { rows, .. } | Plan::Lines { rows, .. } => *rows,
        }
    }

    /// The batch for training step `step` (0-based: the number of batches trained before it),
    /// and whether the carried state must be reset to zero before it. The same (data, B, T,
    /// seed, step) always gives the same batch, so a resumed run continues exactly.
    pub fn batch(&self, step: u64) -> (Batch, bool) {
        let epoch = step / self.steps_per_epoch();
        let k = (step % self.steps_per_epoch()) as usize;
        match &self.plan {
            Plan::Stream {
                rows,
                t,
                k: per_row,
                slack,
                random,
            } => {
                if let Some(last) = random {
                    // Windows anywhere in the stream, drawn from (seed, step); a zero state each.
                    let mut g = rng(self.seed, stream::WINDOWS.wrapping_add(step));
                    let starts: Vec<usize> = (0..*rows).map(|_| g.random_range(0..=*last)).collect();
                    return (stream_batch(&self.tokens, 0, &starts, *t), true);
                }
                let off = rng(self.seed, stream::EPOCH.wrapping_add(epoch)).random_range(0..=*slack);
                let starts: Vec<usize> = (0..*rows).map(|b| off + b * per_row * t + k * t).collect();
                (stream_batch(&self.tokens, 0, &starts, *t), k == 0)
            }
            Plan::Lines {
                lines,
                rows,
                seq_len,
                eos,
                cache,
                ..
            } => {
                let perm = self.permutation(epoch, lines.len(), cache);
                // Only the first seq_len + 1 tokens of a line are used (longer lines are cut).
                let owned: Vec<Vec<u32>> = (0..*rows)
                    .map(|b| {
                        let r = &lines[perm[(k * rows + b) % perm.len()] as usize];
                        self.tokens.slice(r.start..r.end.min(r.start + seq_len + 1))
                    })
                    .collect();
                let seqs: Vec<&[u32]> = owned.iter().map(Vec::as_slice).collect();
                (lines_batch(&seqs, *seq_len, *eos), true)
            }
        }
    }

    fn permutation(&self, epoch: u64, n: usize, cache: &PermCache) -> Arc<Vec<u32>> {
        if let Ok(guard) = cache.lock() {
            if let Some((e, p)) = guard.as_ref() {
                if *e == epoch {
                    return Arc::clone(p);
                }
            }
        }
        let mut p: Vec<u32> = (0..n as u32).collect();
        p.shuffle(&mut rng(self.seed, stream::EPOCH.wrapping_add(epoch)));
        let p = Arc::new(p);
        if let Ok(mut guard) = cache.lock() {
            *guard = Some((epoch, Arc::clone(&p)));
        }
        p
    }
}
