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
//!
//! Separate validation files (`[data] valid`): nothing is held out; the validation tokens (or
//! lines, in file order) come after the training text's, and the vocabulary is the training
//! text's alone, so validation tokens it lacks are unknown (`<unk>`, or dropped and counted when
//! there is none) as they are for `rnn-lab eval`.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use rand::seq::SliceRandom;

use super::pieces::{walk, Shape, Tok, Visit};
use super::tokens::TokenIds;
use super::vocab::{Counts, Vocab, EOS, UNK};
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
    /// Remarks for the user (e.g. a very large vocabulary), shown when a run starts.
    pub notes: Vec<String>,
    /// All tokens; lines mode: all lines back to back, without `<eos>`.
    pub(crate) tokens: Arc<TokenIds>,
    /// The split.
    pub(crate) layout: Layout,
}

/// Pass 1: count every token (for the vocabulary), the tokens and the lines.
struct Count {
    counts: Counts,
    tokens: usize,
    lines: usize,
    /// Word-level stream mode: every line end is an `<eos>` token.
    eos_per_line: bool,
}

impl Visit for Count {
    #[inline]
    fn token(&mut self, t: Tok<'_>) {
        self.tokens += 1;
        match t {
            Tok::Char(c) => self.counts.add_char(c),
            Tok::Word(w) => self.counts.add_word(w),
        }
    }
    fn line_end(&mut self) {
        self.lines += 1;
        self.tokens += usize::from(self.eos_per_line);
    }
}

/// Pass 2: the token ids, and the lines (lines mode).
struct Ids<'v> {
    vocab: &'v Vocab,
    ids: TokenIds,
    lines: Vec<Range<usize>>,
    line_start: usize,
    mode: Mode,
    unknown: usize,
    /// Id of `<unk>` (0 when the vocabulary has none).
    unk: u32,
    /// Whether the vocabulary has `<unk>`.
    has_unk: bool,
    /// Id of `<eos>` (0 when the vocabulary has none).
    eos: u32,
}

impl Visit for Ids<'_> {
    #[inline]
    fn token(&mut self, t: Tok<'_>) {
        let id = match t {
            Tok::Char(c) => self.vocab.char_id(c),
            Tok::Word(UNK) => Some(self.unk),
            Tok::Word(EOS) => Some(self.eos),
            Tok::Word(w) => self.vocab.id(w),
        };
        match id {
            Some(id) => self.ids.push(id),
            None => {
                self.unknown += 1;
                // Dropped when the vocabulary has no `<unk>` (a character only in separate
                // validation files), as `rnn-lab eval` does.
                if self.has_unk {
                    self.ids.push(self.unk);
                }
            }
        }
    }
    fn line_end(&mut self) {
        match self.mode {
            Mode::Lines => {
                if self.ids.len() > self.line_start {
                    self.lines.push(self.line_start..self.ids.len());
                }
                self.line_start = self.ids.len();
            }
            Mode::Stream => self.ids.push(self.eos),
        }
    }
}

/// Word-level vocabularies above this many tokens are refused (the output layer, and the input
/// layer whether one-hot or an embedding, have a row per token: too wide to train), with advice; above [`VOCAB_WARN`] they get a warning.
pub const VOCAB_MAX: usize = 200_000;
/// See [`VOCAB_MAX`].
pub const VOCAB_WARN: usize = 50_000;

/// Read the experiment's files, build the vocabulary, tokenise and split.
///
/// The files are read twice, piece by piece (`pieces.rs`), never whole: the first pass counts
/// the tokens and builds the vocabulary, the second stores the ids no wider than the
/// vocabulary needs ([`TokenIds`]). Peak memory is about the size of the ids plus one line.
///
/// # Errors
/// A [`DataError`] naming the file: not found, unreadable, not UTF-8 (with the byte offset),
/// binary, empty; too little data for the split and batch size; a word vocabulary too large
/// for a model (with the `max_vocab` / `min_count` to set).
pub fn load_dataset(exp: &Experiment) -> Result<Dataset, DataError> {
    let d = &exp.data;
    let source = exp
        .path
        .as_deref()
        .map_or_else(|| exp.name.clone(), |p| p.display().to_string());
    let files = exp.resolve_files()?;
    let shape = Shape {
        level: d.level,
        mode: d.mode,
        lowercase: d.lowercase,
        split_punctuation: d.split_punctuation,
    };
    let hint = |file: &str| exp.data_hint(file, false);

    let mut count = Count {
        counts: Counts::default(),
        tokens: 0,
        lines: 0,
        eos_per_line: d.level == Level::Word && d.mode == Mode::Stream,
    };
    walk(&files, shape, &hint, &mut count)?;
    // `[data] valid`: separate validation files, read after the training text. The vocabulary is
    // the training text's (validation tokens it lacks are unknown), so the score is a held-out one.
    let valid_files = exp.resolve_patterns(&d.valid)?;
    if !valid_files.is_empty() {
        let mut v = Count {
            counts: Counts::default(),
            tokens: 0,
            lines: 0,
            eos_per_line: count.eos_per_line,
        };
        walk(&valid_files, shape, &hint, &mut v)?;
        count.tokens += v.tokens;
        count.lines += v.lines;
    }
    let with_eos = d.mode == Mode::Lines || d.level == Level::Word;
    let vocab = Vocab::build(d.level, d.lowercase, count.counts, with_eos, d.min_count, d.max_vocab)
        .with_split_punctuation(d.split_punctuation);
    let mut notes = Vec::new();
    if d.level == Level::Word && vocab.len() > VOCAB_WARN {
        let advice = format!(
            "the data has {} distinct words (max_vocab = {}, min_count = {}); set [data] max_vocab = {VOCAB_WARN} \
             (the most frequent words; the rest become <unk>) or min_count = 2 or more",
            vocab.len(),
            d.max_vocab,
            d.min_count
        );
        if vocab.len() > VOCAB_MAX {
            return Err(DataError::TooSmall {
                experiment: source,
                why: format!(
                    "vocabulary too large for a model (one output row per word, and one input row per word): {advice}"
                ),
            });
        }
        notes.push(format!(
            "{source}: a large vocabulary makes a large, slow model: {advice}"
        ));
    }

    let mut ids = Ids {
        vocab: &vocab,
        ids: TokenIds::with_capacity(vocab.len(), count.tokens),
        lines: Vec::with_capacity(if d.mode == Mode::Lines { count.lines } else { 0 }),
        line_start: 0,
        mode: d.mode,
        unknown: 0,
        unk: vocab.unk().unwrap_or(0),
        has_unk: vocab.unk().is_some(),
        eos: vocab.eos().unwrap_or(0),
    };
    walk(&files, shape, &hint, &mut ids)?;
    // Where the separate validation text starts (tokens, lines), when there is one.
    let boundary = (ids.ids.len(), ids.lines.len());
    if !valid_files.is_empty() {
        ids.line_start = ids.ids.len();
        walk(&valid_files, shape, &hint, &mut ids)?;
    }
    let (mut tokens, mut lines, unknown) = (ids.ids, ids.lines, ids.unknown);

    let too_small = |why: String| {
        Err(DataError::TooSmall {
            experiment: source.clone(),
            why,
        })
    };
    let separate = !valid_files.is_empty();
    let layout = match d.mode {
        Mode::Stream if separate => {
            let (split, n, b) = (boundary.0, tokens.len(), exp.training.batch_size);
            if split < b + 1 {
                return too_small(format!(
                    "the training text has only {split} tokens: too few for batch_size = {b} training streams"
                ));
            }
            if n - split < 2 {
                return too_small(format!(
                    "the validation text ({}) has {} token(s); it needs at least 2",
                    d.valid.join(", "),
                    n - split
                ));
            }
            Layout::Stream { split }
        }
        Mode::Lines if separate => {
            let val = lines.split_off(boundary.1);
            if lines.is_empty() || val.is_empty() {
                return too_small(format!(
                    "{} training line(s) and {} validation line(s) ({}); lines mode needs at least one of each",
                    lines.len(),
                    val.len(),
                    d.valid.join(", ")
                ));
            }
            lines.shrink_to_fit();
            Layout::Lines {
                train: Arc::new(lines),
                val: Arc::new(val),
            }
        }
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
            lines.shrink_to_fit();
            Layout::Lines {
                train: Arc::new(lines),
                val: Arc::new(val),
            }
        }
    };
    tokens.shrink_to_fit();
    let mut files = files;
    files.extend(valid_files);
    Ok(Dataset {
        vocab,
        mode: d.mode,
        files,
        unknown,
        source,
        notes,
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

    /// The training token stream (stream mode; empty in lines mode), copied out.
    pub fn train_stream(&self) -> Vec<u32> {
        match &self.layout {
            Layout::Stream { split } => self.tokens.slice(0..*split),
            Layout::Lines { .. } => Vec::new(),
        }
    }

    /// The validation token stream (stream mode; empty in lines mode), copied out.
    pub fn val_stream(&self) -> Vec<u32> {
        match &self.layout {
            Layout::Stream { split } => self.tokens.slice(*split..self.tokens.len()),
            Layout::Lines { .. } => Vec::new(),
        }
    }

    /// Tokens of validation line `i` (lines mode), without `<eos>`.
    pub fn val_line(&self, i: usize) -> Option<Vec<u32>> {
        match &self.layout {
            Layout::Lines { val, .. } => val.get(i).map(|r| self.tokens.slice(r.clone())),
            Layout::Stream { .. } => None,
        }
    }

    /// Tokens of training line `i` (lines mode), without `<eos>`.
    pub fn train_line(&self, i: usize) -> Option<Vec<u32>> {
        match &self.layout {
            Layout::Lines { train, .. } => train.get(i).map(|r| self.tokens.slice(r.clone())),
            Layout::Stream { .. } => None,
        }
    }

    /// Bytes per stored token id (1, 2 or 4: the narrowest that holds the vocabulary).
    pub fn token_width(&self) -> usize {
        self.tokens.width()
    }

    /// A fixed snippet of validation data for the probe views, at most `max_len` tokens (about
    /// 100 is a good size). Stream mode: starts just after the first line end in the first
    /// `max_len` validation tokens when there is one (so the snippet starts at a line start).
    /// Lines mode: the first validation line (without `<eos>`; the model's first input is
    /// `NO_INPUT` as in training).
    pub fn probe_tokens(&self, max_len: usize) -> Vec<u32> {
        match &self.layout {
            Layout::Stream { split } => {
                let end = self.tokens.len().min(split + 2 * max_len);
                let val = self.tokens.slice(*split..end);
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
