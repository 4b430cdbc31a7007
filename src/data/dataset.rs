//! The corpus as one token array, split into training and validation data.
//!
//! Stream mode: all files are one text (a `\n` is put between files that do not end with one;
//! at word level every non-blank line ends with `<eos>`); the last `val_fraction` of the token
//! stream is validation, the rest training (char-rnn's split, without shuffling).
//!
//! Lines mode: every non-blank line of every file is one sequence (blank lines are skipped);
//! the lines are shuffled with the seed and the last `val_fraction` of them (at least one) is
//! validation. The order of the held-out lines is that shuffle's order.
//!
//! The vocabulary is built from all the data (training and validation), as char-rnn does, so
//! validation text has no unknown tokens unless `min_count`/`max_vocab` drop some.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use rand::seq::SliceRandom;

use super::files::read_text;
use super::vocab::{words, Counts, Vocab, EOS, UNK};
use super::DataError;
use crate::config::{Experiment, Level, Mode};

/// Random stream ids, so split and batching draw independent numbers from one seed.
pub(crate) mod stream {
    /// Lines-mode train/validation shuffle.
    pub const SPLIT: u64 = 1 << 48;
    /// Per-epoch line permutation or stream offset (the epoch is added).
    pub const EPOCH: u64 = 2 << 48;
    /// Random stream windows (the step is added).
    pub const WINDOWS: u64 = 3 << 48;
}

/// A seeded generator for one purpose (`stream`) of one seed.
pub(crate) fn rng(seed: u64, stream: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Where the training and validation data sit in the token array.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    /// Tokens `[0, split)` train, `[split, len)` validation.
    Stream {
        /// First validation token.
        split: usize,
    },
    /// Each line a range of the token array (without `<eos>`).
    Lines {
        /// Training lines.
        train: Arc<Vec<Range<usize>>>,
        /// Validation lines.
        val: Arc<Vec<Range<usize>>>,
    },
}

/// The loaded corpus: vocabulary, tokens, split.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The vocabulary.
    pub vocab: Vocab,
    /// Stream or lines.
    pub mode: Mode,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    /// Tokens of the data mapped to `<unk>` (or dropped when there is no `<unk>`).
    pub unknown: usize,
    /// Experiment file (or name), for messages.
    pub source: String,
    /// All tokens; lines mode: all lines back to back, without `<eos>`.
    pub(crate) tokens: Arc<Vec<u32>>,
    /// The split.
    pub(crate) layout: Layout,
}

/// Provisional ids for the tokenising pass, borrowing token text from the corpus.
#[derive(Default)]
struct Interner<'t> {
    ids: std::collections::HashMap<&'t str, u32, std::hash::BuildHasherDefault<super::vocab::Fnv>>,
    /// Provisional id of each ASCII character (`u32::MAX` = not seen yet).
    ascii: Vec<u32>,
    names: Vec<&'t str>,
    counts: Vec<u64>,
}

impl<'t> Interner<'t> {
    /// `<unk>` written in word-level text.
    const UNK: u32 = u32::MAX - 1;
    /// `<eos>`: written in word-level text, or the end of a line in word-level stream mode.
    const EOS: u32 = u32::MAX;

    #[inline]
    fn intern(&mut self, s: &'t str) -> u32 {
        if s.len() == 1 {
            if self.ascii.is_empty() {
                self.ascii = vec![u32::MAX; 128];
            }
            let slot = s.as_bytes()[0] as usize;
            if self.ascii[slot] == u32::MAX {
                self.ascii[slot] = self.new_id(s);
            }
            let id = self.ascii[slot];
            self.counts[id as usize] += 1;
            return id;
        }
        let id = match self.ids.get(s) {
            Some(&id) => id,
            None => {
                let id = self.new_id(s);
                self.ids.insert(s, id);
                id
            }
        };
        self.counts[id as usize] += 1;
        id
    }

    #[inline]
    fn intern_word(&mut self, w: &'t str) -> u32 {
        match w {
            UNK => Self::UNK,
            EOS => Self::EOS,
            _ => self.intern(w),
        }
    }

    fn new_id(&mut self, s: &'t str) -> u32 {
        self.names.push(s);
        self.counts.push(0);
        (self.names.len() - 1) as u32
    }
}

/// Every non-blank line of a text.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.trim().is_empty())
}

/// Read the experiment's files, build the vocabulary, tokenise and split.
///
/// # Errors
/// A [`DataError`] naming the file: not found, unreadable, not UTF-8, empty; or too little data
/// for the split and batch size.
pub fn load_dataset(exp: &Experiment) -> Result<Dataset, DataError> {
    let d = &exp.data;
    let source = exp
        .path
        .as_deref()
        .map_or_else(|| exp.name.clone(), |p| p.display().to_string());
    let files = exp.resolve_files()?;
    let mut texts = Vec::with_capacity(files.len());
    for f in &files {
        let mut t = read_text(f)?;
        if t.trim().is_empty() {
            let pattern = f.display().to_string();
            return Err(DataError::Empty {
                file: pattern.clone(),
                hint: exp.data_hint(&pattern, false),
            });
        }
        if d.lowercase {
            t = t.to_lowercase();
        }
        texts.push(t);
    }

    // One tokenising pass: every token gets a provisional id (first seen, first numbered) and
    // a count; then the vocabulary is built from the counts and the ids are remapped in place.
    let total_bytes: usize = texts.iter().map(String::len).sum();
    let mut tokens: Vec<u32> = Vec::with_capacity(match d.level {
        Level::Char => total_bytes,
        Level::Word => total_bytes / 4,
    });
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut interner = Interner::default();
    for (i, t) in texts.iter().enumerate() {
        if d.level == Level::Char && d.mode == Mode::Stream {
            for (at, c) in t.char_indices() {
                tokens.push(interner.intern(&t[at..at + c.len_utf8()]));
            }
            if i + 1 < texts.len() && !t.ends_with('\n') {
                tokens.push(interner.intern("\n"));
            }
            continue;
        }
        for l in lines_of(t) {
            let start = tokens.len();
            match d.level {
                Level::Char => {
                    for (at, c) in l.char_indices() {
                        tokens.push(interner.intern(&l[at..at + c.len_utf8()]));
                    }
                }
                Level::Word => words(l, d.split_punctuation, |w| tokens.push(interner.intern_word(w))),
            }
            match d.mode {
                Mode::Lines => {
                    if tokens.len() > start {
                        lines.push(start..tokens.len());
                    }
                }
                Mode::Stream => tokens.push(Interner::EOS),
            }
        }
    }
    let with_eos = d.mode == Mode::Lines || d.level == Level::Word;
    let mut counts = Counts::default();
    for (name, &n) in interner.names.iter().zip(&interner.counts) {
        counts.add_count(name, n);
    }
    let vocab = Vocab::build(d.level, d.lowercase, counts, with_eos, d.min_count, d.max_vocab)
        .with_split_punctuation(d.split_punctuation);
    let mut unknown = 0usize;
    let table: Vec<u32> = interner
        .names
        .iter()
        .zip(&interner.counts)
        .map(|(name, &n)| match vocab.id(name) {
            Some(id) => id,
            None => {
                unknown += n as usize;
                // A token is only dropped from the vocabulary when `<unk>` is in it.
                vocab.unk().unwrap_or(0)
            }
        })
        .collect();
    let (unk_id, eos_id) = (vocab.unk().unwrap_or(0), vocab.eos().unwrap_or(0));
    for t in &mut tokens {
        *t = match *t {
            Interner::UNK => unk_id,
            Interner::EOS => eos_id,
            p => table[p as usize],
        };
    }
    drop(texts);

    let too_small = |why: String| {
        Err(DataError::TooSmall {
            experiment: source.clone(),
            why,
        })
    };
    let layout = match d.mode {
        Mode::Stream => {
            let n = tokens.len();
            let n_val = ((n as f64 * d.val_fraction).round() as usize).max(2);
            let b = exp.training.batch_size;
            if n < n_val + b + 1 {
                return too_small(format!(
                    "the data has only {n} tokens: too few for {n_val} validation tokens and \
                     batch_size = {b} training streams; use more text or a smaller batch_size"
                ));
            }
            Layout::Stream { split: n - n_val }
        }
        Mode::Lines => {
            let n = lines.len();
            if n < 2 {
                return too_small(format!(
                    "the data has {n} non-blank line(s); lines mode needs at least 2 (one for validation)"
                ));
            }
            lines.shuffle(&mut rng(exp.seed, stream::SPLIT));
            let n_val = ((n as f64 * d.val_fraction).round() as usize).clamp(1, n - 1);
            let val = lines.split_off(n - n_val);
            Layout::Lines {
                train: Arc::new(lines),
                val: Arc::new(val),
            }
        }
    };
    tokens.shrink_to_fit();
    Ok(Dataset {
        vocab,
        mode: d.mode,
        files,
        unknown,
        source,
        tokens: Arc::new(tokens),
        layout,
    })
}

impl Dataset {
    /// Training tokens (lines mode: tokens of the training lines, without `<eos>`).
    pub fn train_tokens(&self) -> usize {
        match &self.layout {
            Layout::Stream { split } => *split,
            Layout::Lines { train, .. } => train.iter().map(|r| r.len()).sum(),
        }
    }

    /// Validation tokens (lines mode: without `<eos>`).
    pub fn val_tokens(&self) -> usize {
        match &self.layout {
            Layout::Stream { split } => self.tokens.len() - split,
            Layout::Lines { val, .. } => val.iter().map(|r| r.len()).sum(),
        }
    }

    /// Lines mode: (training lines, validation lines); stream mode: (0, 0).
    pub fn line_counts(&self) -> (usize, usize) {
        match &self.layout {
            Layout::Stream { .. } => (0, 0),
            Layout::Lines { train, val } => (train.len(), val.len()),
        }
    }

    /// The training token stream (stream mode) or the training lines' tokens back to back.
    pub fn train_stream(&self) -> &[u32] {
        match &self.layout {
            Layout::Stream { split } => &self.tokens[..*split],
            Layout::Lines { .. } => &[],
        }
    }

    /// The validation token stream (stream mode; empty in lines mode).
    pub fn val_stream(&self) -> &[u32] {
        match &self.layout {
            Layout::Stream { split } => &self.tokens[*split..],
            Layout::Lines { .. } => &[],
        }
    }

    /// Tokens of validation line `i` (lines mode), without `<eos>`.
    pub fn val_line(&self, i: usize) -> Option<&[u32]> {
        match &self.layout {
            Layout::Lines { val, .. } => val.get(i).map(|r| &self.tokens[r.clone()]),
            Layout::Stream { .. } => None,
        }
    }

    /// Tokens of training line `i` (lines mode), without `<eos>`.
    pub fn train_line(&self, i: usize) -> Option<&[u32]> {
        match &self.layout {
            Layout::Lines { train, .. } => train.get(i).map(|r| &self.tokens[r.clone()]),
            Layout::Stream { .. } => None,
        }
    }

    /// A fixed snippet of validation data for the probe views, at most `max_len` tokens (about
    /// 100 is a good size). Stream mode: starts just after the first line end in the first
    /// `max_len` validation tokens when there is one (so the snippet starts at a line start).
    /// Lines mode: the first validation line (without `<eos>`; the model's first input is
    /// `NO_INPUT` as in training).
    pub fn probe_tokens(&self, max_len: usize) -> Vec<u32> {
        match &self.layout {
            Layout::Stream { .. } => {
                let val = self.val_stream();
                let newline = self.vocab.char_id('\n').or(self.vocab.eos());
                let head = &val[..val.len().min(max_len)];
                let start = match newline.and_then(|nl| head.iter().position(|&t| t == nl)) {
                    Some(p) if p + 1 < val.len() => p + 1,
                    _ => 0,
                };
                val[start..val.len().min(start + max_len)].to_vec()
            }
            Layout::Lines { .. } => self
                .val_line(0)
                .map(|l| l[..l.len().min(max_len)].to_vec())
                .unwrap_or_default(),
        }
    }
}
