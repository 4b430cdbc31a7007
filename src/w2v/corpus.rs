//! The training corpus: every line of every file is a sentence (windows never cross a line end),
//! tokens are whitespace-separated words or single non-whitespace characters, tokens seen fewer
//! than `min_count` times are dropped (the window then spans over them, as in `word2vec.c` and
//! gensim), sentences longer than `max_sentence` are cut.
//!
//! The corpus is split once into **steps**: runs of whole sentences of at least `step_words`
//! words (the last one may be shorter). A step is the unit of work a thread takes, the unit of
//! the learning-rate schedule's bookkeeping, of the logged loss, and of checkpoints; every epoch
//! has the same steps in the same order.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::settings::Level;
use super::vocab::Vocab;
use super::W2vError;

/// One step of an epoch: a run of sentences.
#[derive(Clone, Debug, PartialEq)]
pub struct StepPlan {
    /// Sentences (indices into the corpus's sentence list).
    pub sentences: Range<usize>,
    /// Corpus words before this step in the epoch.
    pub word_start: u64,
    /// Corpus words in this step.
    pub words: u64,
}

/// The encoded corpus and its step plan.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The vocabulary (tokens kept, most frequent first).
    pub vocab: Vocab,
    ids: Vec<u32>,
    /// Exclusive end of each sentence in `ids`.
    ends: Vec<usize>,
    steps: Vec<StepPlan>,
    /// Tokens read, before dropping rare ones.
    pub raw_tokens: u64,
    /// Distinct tokens read.
    pub raw_types: usize,
}

/// Options for reading a corpus.
#[derive(Clone, Copy, Debug)]
pub struct CorpusOptions {
    /// Words or characters.
    pub level: Level,
    /// Drop tokens seen fewer times.
    pub min_count: u64,
    /// Cut longer sentences.
    pub max_sentence: usize,
    /// Words per step.
    pub step_words: usize,
}

impl Corpus {
    /// Read and encode files (UTF-8; CRLF and a byte-order mark are accepted).
    ///
    /// # Errors
    /// [`W2vError::Read`] for a missing or non-UTF-8 file; [`W2vError::File`] when nothing is left
    /// to train on.
    pub fn from_files(paths: &[&Path], opts: CorpusOptions) -> Result<Corpus, W2vError> {
        let mut texts = Vec::with_capacity(paths.len());
        for p in paths {
            let t = crate::data::files::read_text(p).map_err(|e| W2vError::Read {
                file: p.display().to_string(),
                why: strip_file(&e.to_string(), &p.display().to_string()),
            })?;
            texts.push((p.display().to_string(), t));
        }
        let refs: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        Corpus::from_texts(&refs, opts)
    }

    /// Encode texts given as (name, text); the names only appear in error messages.
    ///
    /// # Errors
    /// [`W2vError::File`] when no token is seen `min_count` times.
    pub fn from_texts<'t>(texts: &[(&str, &'t str)], opts: CorpusOptions) -> Result<Corpus, W2vError> {
        // Pass 1: provisional ids in order of first appearance, and line ends.
        let mut first: HashMap<&'t str, u32> = HashMap::new();
        let mut counted: Vec<(String, u64)> = Vec::new();
        let mut prov: Vec<u32> = Vec::new();
        let mut line_ends: Vec<usize> = Vec::new();
        for (_, text) in texts {
            for line in text.lines() {
                let mut push = |tok: &'t str| {
                    let id = *first.entry(tok).or_insert_with(|| {
                        counted.push((tok.to_string(), 0));
                        (counted.len() - 1) as u32
                    });
                    counted[id as usize].1 += 1;
                    prov.push(id);
                };
                match opts.level {
                    Level::Word => line.split_whitespace().for_each(&mut push),
                    Level::Char => {
                        for (i, c) in line.char_indices() {
                            if !c.is_whitespace() {
                                push(&line[i..i + c.len_utf8()]);
                            }
                        }
                    }
                }
                line_ends.push(prov.len());
            }
        }
        let raw_tokens = prov.len() as u64;
        let raw_types = counted.len();
        let vocab = Vocab::from_counts(counted.clone(), opts.min_count);
        if vocab.len() < 2 {
            let names: Vec<&str> = texts.iter().map(|(n, _)| *n).collect();
            return Err(W2vError::file(
                &names.join(", "),
                format!(
                    "{} token(s) seen at least min_count = {} times; word2vec needs at least 2 \
                     (lower min_count or give more text)",
                    vocab.len(),
                    opts.min_count
                ),
            ));
        }
        // Pass 2: final ids, dropping rare tokens, cutting long sentences.
        let remap: Vec<Option<u32>> = counted.iter().map(|(w, _)| vocab.id(w)).collect();
        let mut ids = Vec::with_capacity(vocab.total() as usize);
        let mut ends = Vec::new();
        let mut start = 0;
        for &end in &line_ends {
            let mut len = 0;
            for &p in &prov[start..end] {
                if let Some(id) = remap[p as usize] {
                    ids.push(id);
                    len += 1;
                    if len == opts.max_sentence {
                        ends.push(ids.len());
                        len = 0;
                    }
                }
            }
            if len > 0 {
                ends.push(ids.len());
            }
            start = end;
        }
        let steps = plan_steps(&ends, opts.step_words.max(1));
        Ok(Corpus {
            vocab,
            ids,
            ends,
            steps,
            raw_tokens,
            raw_types,
        })
    }

    /// Words in the corpus (after dropping rare tokens).
    pub fn words(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Number of sentences.
    pub fn sentences(&self) -> usize {
        self.ends.len()
    }

    /// Steps per epoch.
    pub fn steps_per_epoch(&self) -> u64 {
        self.steps.len() as u64
    }

    /// The plan of step `i` of an epoch (`i < steps_per_epoch`).
    pub fn step(&self, i: usize) -> &StepPlan {
        &self.steps[i]
    }

    /// The token ids of sentence `s`.
    pub fn sentence(&self, s: usize) -> &[u32] {
        let start = if s == 0 { 0 } else { self.ends[s - 1] };
        &self.ids[start..self.ends[s]]
    }

    /// A 64-bit FNV-1a hash of the encoded corpus (ids and sentence ends) and the vocabulary:
    /// resuming checks it so a model never continues on different data.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for w in self.vocab.words() {
            eat(w.as_bytes());
            eat(&[0]);
        }
        for &id in &self.ids {
            eat(&id.to_le_bytes());
        }
        for &e in &self.ends {
            eat(&(e as u64).to_le_bytes());
        }
        format!("{h:016x}")
    }
}

/// Group sentences into steps of at least `step_words` words.
fn plan_steps(ends: &[usize], step_words: usize) -> Vec<StepPlan> {
    let mut steps = Vec::new();
    let (mut first, mut word_start) = (0usize, 0usize);
    for (s, &end) in ends.iter().enumerate() {
        if end - word_start >= step_words || s + 1 == ends.len() {
            steps.push(StepPlan {
                sentences: first..s + 1,
                word_start: word_start as u64,
                words: (end - word_start) as u64,
            });
            first = s + 1;
            word_start = end;
        }
    }
    steps
}

/// `DataError` messages start with the file name; the caller adds it again.
fn strip_file(msg: &str, file: &str) -> String {
    msg.strip_prefix(file)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_string()
}
