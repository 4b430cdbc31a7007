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
use super::vocab::{split_words, Counts, Vocab};
use super::DataError;
use crate::config::{Experiment, Level, Mode};

/// Random stream ids, so split and batching draw independent numbers from one seed.
pub(crate) mod stream {
    /// Lines-mode train/validation shuffle.
    pub const SPLIT: u64 = 1 << 48;
    /// Per-epoch line permutation or stream offset (the epoch is added).
    pub const EPOCH: u64 = 2 << 48;
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

    // Pass 1: count tokens.
    let mut counts = Counts::default();
    let stream_chars = d.level == Level::Char && d.mode == Mode::Stream;
    for (i, t) in texts.iter().enumerate() {
        match (d.level, d.mode) {
            (Level::Char, Mode::Stream) => {
                t.chars().for_each(|c| counts.add_char(c));
                if i + 1 < texts.len() && !t.ends_with('\n') {
                    counts.add_char('\n');
                }
            }
            (Level::Char, Mode::Lines) => {
                lines_of(t).for_each(|l| l.chars().for_each(|c| counts.add_char(c)))
            }
            (Level::Word, _) => lines_of(t).for_each(|l| split_words(l, |w| counts.add_word(w))),
        }
    }
    let with_eos = d.mode == Mode::Lines || d.level == Level::Word;
    let vocab = Vocab::build(
        d.level,
        d.lowercase,
        counts,
        with_eos,
        d.min_count,
        d.max_vocab,
    );

    // Pass 2: encode.
    let total_bytes: usize = texts.iter().map(String::len).sum();
    let mut tokens: Vec<u32> = Vec::with_capacity(if d.level == Level::Char {
        total_bytes
    } else {
        total_bytes / 4
    });
    let mut unknown = 0;
    let mut lines: Vec<Range<usize>> = Vec::new();
    let newline = vocab.char_id('\n');
    for (i, t) in texts.iter().enumerate() {
        if stream_chars {
            unknown += vocab.encode_line_into(t, &mut tokens);
            if i + 1 < texts.len() && !t.ends_with('\n') {
                tokens.extend(newline);
            }
            continue;
        }
        for l in lines_of(t) {
            let start = tokens.len();
            unknown += vocab.encode_line_into(l, &mut tokens);
            match d.mode {
                Mode::Lines => {
                    if tokens.len() > start {
                        lines.push(start..tokens.len());
                    }
                }
                Mode::Stream => tokens.extend(vocab.eos()),
            }
        }
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
