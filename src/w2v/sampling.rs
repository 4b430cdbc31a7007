//! The two random draws of word2vec that depend on word counts: negative words from the unigram
//! distribution raised to 0.75, and frequent-word subsampling.

/// The negative-sampling table of `word2vec.c` (`InitUnigramTable`), slot for slot: `size`
/// slots, word `i` filling a run of slots in proportion to count(i)^power / Σ_j count(j)^power,
/// so that a uniform slot draws a word from that distribution.
///
/// The original stores all 10⁸ slots (400 MB, and a cache miss on every negative draw). The
/// table is a run of 0s, then 1s, and so on, so we keep only where each word's run starts, plus
/// a guide to the run holding every 2^shift-th slot; [`UnigramTable::word`] returns exactly
/// what the full table holds at that slot (tests compare against [`unigram_table_full`]).
#[derive(Clone, Debug, PartialEq)]
pub struct UnigramTable {
    /// `starts[i]` = first slot of word i; `starts[V]` = size. Empty runs are possible at the
    /// end (when the slots run out before the words do).
    starts: Vec<u32>,
    /// `guide[b]` = the word holding slot `b << shift`.
    guide: Vec<u32>,
    shift: u32,
    size: u64,
}

impl UnigramTable {
    /// The table of `size` slots for counts sorted most frequent first.
    ///
    /// The fill is the original's: slot `a` holds the current word `i`; after filling it, `i`
    /// advances (at most once per slot) when `a / size` exceeds the cumulative probability
    /// `d1` of words `0..=i`; the last word takes whatever slots remain. We jump to each word's
    /// last slot instead of visiting every slot, then check the original's comparison on the
    /// slots around it, so the runs are the same to the slot.
    pub fn new(counts: &[u64], power: f64, size: usize) -> Self {
        let v = counts.len();
        let size = size.min(u32::MAX as usize);
        let pw = |c: u64| (c as f64).powf(power);
        let total: f64 = counts.iter().map(|&c| pw(c)).sum();
        let past = |a: usize, d1: f64| a as f64 / size as f64 > d1; // the original's test
        let mut starts = Vec::with_capacity(v + 1);
        let mut a = 0usize; // first slot of the current word
        let mut d1 = 0.0;
        for (i, &c) in counts.iter().enumerate() {
            starts.push(a.min(size) as u32);
            d1 += pw(c) / total;
            if i + 1 == v || a >= size {
                continue; // the last word keeps the rest; words past the end get no slot
            }
            // The word's last slot is the first b ≥ a with b / size > d1.
            let guess = ((d1 * size as f64).floor() as usize).saturating_sub(2).max(a);
            let mut b = guess;
            while b > a && past(b - 1, d1) {
                b -= 1;
            }
            while b < size && !past(b, d1) {
                b += 1;
            }
            a = b + 1;
        }
        starts.push(size as u32);
        // Guide: about four buckets per word, each 2^shift slots.
        let mut shift = 0;
        while (size >> shift) > 4 * v.max(1) {
            shift += 1;
        }
        let buckets = (size >> shift) + 1;
        let mut guide = Vec::with_capacity(buckets);
        let mut w = 0usize;
        for b in 0..buckets {
            let slot = (b << shift).min(size.saturating_sub(1));
            while w + 1 < v && starts[w + 1] as usize <= slot {
                w += 1;
            }
            guide.push(w as u32);
        }
        UnigramTable {
            starts,
            guide,
            shift,
            size: size as u64,
        }
    }

    /// Number of slots.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The word at slot `a` (< size).
    #[inline(always)]
    pub fn word(&self, a: u64) -> u32 {
        let mut i = self.guide[(a >> self.shift) as usize] as usize;
        while (self.starts[i + 1] as u64) <= a {
            i += 1;
        }
        i as u32
    }

    /// Draw a word from a uniform 64-bit number: slot ⌊r · size / 2⁶⁴⌋.
    #[inline(always)]
    pub fn draw(&self, r: u64) -> u32 {
        self.word(((u128::from(r) * u128::from(self.size)) >> 64) as u64)
    }
}

/// The original's full table, every slot stored (for tests and small sizes).
pub fn unigram_table_full(counts: &[u64], power: f64, size: usize) -> Vec<u32> {
    let v = counts.len();
    let mut table = vec![0u32; size];
    if v == 0 {
        return table;
    }
    let pw = |c: u64| (c as f64).powf(power);
    let total: f64 = counts.iter().map(|&c| pw(c)).sum();
    let mut i = 0usize;
    let mut d1 = pw(counts[0]) / total;
    for (a, slot) in table.iter_mut().enumerate() {
        *slot = i as u32;
        if a as f64 / size as f64 > d1 {
            i += 1;
            // word2vec.c reads vocab[vocab_size] here once i runs past the end; clamp first.
            if i < v {
                d1 += pw(counts[i]) / total;
            }
        }
        if i >= v {
            i = v - 1;
        }
    }
    table
}

/// Draw a slot of a table of `len` entries from a uniform 32-bit number (multiply-shift: no
/// division).
#[inline(always)]
pub fn slot(r: u32, len: usize) -> usize {
    ((u64::from(r) * len as u64) >> 32) as usize
}

/// Probability of keeping one occurrence of a word seen `count` times in a corpus of `total`
/// words, with threshold `t` (`sample`); 1 when `t` = 0.
///
/// This is `word2vec.c`'s formula (also gensim's): with f = count / total,
/// P(keep) = (√(f / t) + 1) · t / f, capped at 1. The paper (Mikolov et al. 2013b, eq. 5) gives
/// P(discard) = 1 − √(t / f) instead, i.e. P(keep) = √(t / f); the code's version keeps more
/// (it adds t / f) and is what the published vectors and gensim use, so we use it too.
pub fn keep_probability(count: u64, total: u64, t: f64) -> f64 {
    if t <= 0.0 || count == 0 {
        return 1.0;
    }
    let threshold = t * total as f64; // t · total, in counts
    let c = count as f64;
    (((c / threshold).sqrt() + 1.0) * threshold / c).min(1.0)
}

/// Per-word keep thresholds: an occurrence of word `i` is kept when a uniform 32-bit number
/// r ≤ `thresholds[i]`, i.e. with probability (threshold + 1) / 2³² ≈ [`keep_probability`]
/// (`u32::MAX` keeps always). Integer comparison, as gensim's `sample_int`.
pub fn keep_thresholds(counts: &[u64], t: f64) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            let p = keep_probability(c, total, t);
            if p >= 1.0 {
                u32::MAX
            } else {
                (p * f64::from(u32::MAX)) as u32
            }
        })
        .collect()
}
