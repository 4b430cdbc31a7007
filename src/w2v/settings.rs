//! What to train: the architecture, the objective and the hyper-parameters, with the original
//! `word2vec.c` defaults. [`Settings::check`] rejects values that cannot train.

use serde::{Deserialize, Serialize};

use super::W2vError;

/// Which word predicts which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Skip-gram: each context word's input vector predicts the centre word (as `word2vec.c`
    /// and gensim do it; the objective is symmetric in expectation).
    Skipgram,
    /// Continuous bag of words: the mean of the context's input vectors predicts the centre word.
    Cbow,
}

/// The output layer and its loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Negative sampling: the true word against `negative` words drawn from the unigram
    /// distribution raised to `ns_exponent`.
    Ns,
    /// Hierarchical softmax over a Huffman tree of the vocabulary.
    Hs,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Whitespace-separated words.
    Word,
    /// Every character that is not whitespace (e.g. Chinese characters).
    Char,
}

/// Training settings. Every field's default is the original tool's unless said otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Skip-gram or CBOW (default skip-gram; `word2vec.c` and gensim default to CBOW).
    pub arch: Arch,
    /// Negative sampling or hierarchical softmax (default negative sampling).
    pub objective: Objective,
    /// Negative words per example (default 5).
    pub negative: usize,
    /// Exponent of the unigram counts for drawing negatives (default 0.75).
    pub ns_exponent: f64,
    /// Entries in the negative-sampling table (default 10⁸, as `word2vec.c`).
    pub table_size: usize,
    /// Vector dimension (default 100).
    pub dim: usize,
    /// Largest distance between centre and context word (default 5); each centre word uses a
    /// window drawn uniformly from 1..=window.
    pub window: usize,
    /// Subsampling threshold t (default 10⁻³; 0 turns subsampling off).
    pub sample: f64,
    /// Words seen fewer times are dropped from the corpus (default 5).
    pub min_count: u64,
    /// Passes over the corpus (default 5).
    pub epochs: u32,
    /// Starting learning rate (default 0.025 skip-gram, 0.05 CBOW).
    pub lr: f64,
    /// Floor the learning rate decays linearly to (default lr × 10⁻⁴, as `word2vec.c`).
    pub min_lr: f64,
    /// Corpus words per training step (default 10,000; whole sentences).
    pub step_words: usize,
    /// Longer sentences are cut into pieces of this many words (default 10,000, as gensim).
    pub max_sentence: usize,
    /// Words or characters.
    pub level: Level,
    /// Seed of the initial vectors and of every step's random numbers.
    pub seed: u64,
}

impl Settings {
    /// The defaults for an architecture (the learning rate depends on it).
    pub fn new(arch: Arch) -> Self {
        let lr = Self::default_lr(arch);
        Settings {
            arch,
            objective: Objective::Ns,
            negative: 5,
            ns_exponent: 0.75,
            table_size: 100_000_000,
            dim: 100,
            window: 5,
            sample: 1e-3,
            min_count: 5,
            epochs: 5,
            lr,
            min_lr: lr * 1e-4,
            step_words: 10_000,
            max_sentence: 10_000,
            level: Level::Word,
            seed: 1,
        }
    }

    /// The original tool's starting learning rate: 0.025 for skip-gram, 0.05 for CBOW.
    pub fn default_lr(arch: Arch) -> f64 {
        match arch {
            Arch::Skipgram => 0.025,
            Arch::Cbow => 0.05,
        }
    }

    /// Reject settings that cannot train.
    ///
    /// # Errors
    /// [`W2vError::Settings`] naming the key and the allowed range.
    pub fn check(&self) -> Result<(), W2vError> {
        let bad = |m: String| Err(W2vError::Settings(m));
        if self.dim == 0 || self.dim > 10_000 {
            return bad(format!("dim = {}: must be 1 to 10000", self.dim));
        }
        if self.window == 0 || self.window > 1000 {
            return bad(format!("window = {}: must be 1 to 1000", self.window));
        }
        if self.objective == Objective::Ns && (self.negative == 0 || self.negative > 1000) {
            return bad(format!(
                "negative = {}: must be 1 to 1000 with negative sampling",
                self.negative
            ));
        }
        if !(self.ns_exponent.is_finite() && (-10.0..=10.0).contains(&self.ns_exponent)) {
            return bad(format!(
                "ns_exponent = {}: must be a number between -10 and 10",
                self.ns_exponent
            ));
        }
        if self.table_size < 1000 || self.table_size > 1_000_000_000 {
            return bad(format!("table_size = {}: must be 1000 to 10^9", self.table_size));
        }
        if !(self.sample.is_finite() && self.sample >= 0.0 && self.sample < 1.0) {
            return bad(format!(
                "sample = {}: must be 0 (off) or a small fraction such as 1e-3",
                self.sample
            ));
        }
        if self.min_count == 0 {
            return bad("min_count = 0: must be at least 1".to_string());
        }
        if self.epochs == 0 {
            return bad("epochs = 0: must be at least 1".to_string());
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return bad(format!(
                "lr = {}: must be positive (0.025 is the skip-gram default)",
                self.lr
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= self.lr) {
            return bad(format!(
                "min_lr = {}: must be between 0 and lr = {}",
                self.min_lr, self.lr
            ));
        }
        if self.step_words == 0 {
            return bad("step_words = 0: must be at least 1".to_string());
        }
        if self.max_sentence == 0 {
            return bad("max_sentence = 0: must be at least 1".to_string());
        }
        Ok(())
    }

    /// One-line description, e.g. "skip-gram, negative sampling k=5, 100-d, window 5".
    pub fn describe(&self) -> String {
        let arch = match self.arch {
            Arch::Skipgram => "skip-gram",
            Arch::Cbow => "CBOW",
        };
        let obj = match self.objective {
            Objective::Ns => format!("negative sampling k={}", self.negative),
            Objective::Hs => "hierarchical softmax".to_string(),
        };
        format!("{arch}, {obj}, {}-d, window {}", self.dim, self.window)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new(Arch::Skipgram)
    }
}
