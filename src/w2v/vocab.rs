//! The training vocabulary: every token seen at least `min_count` times, most frequent first
//! (ties in order of first appearance), with its count. Index 0 is the most frequent word, which
//! is also the order of rows in the vector files.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Words and counts, most frequent first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "VocabRepr", into = "VocabRepr")]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, u32>,
}

/// Serialised form: two parallel lists.
#[derive(Serialize, Deserialize)]
struct VocabRepr {
    words: Vec<String>,
    counts: Vec<u64>,
}

impl From<VocabRepr> for Vocab {
    fn from(r: VocabRepr) -> Self {
        Vocab::from_sorted(r.words, r.counts)
    }
}

impl From<Vocab> for VocabRepr {
    fn from(v: Vocab) -> Self {
        VocabRepr {
            words: v.words,
            counts: v.counts,
        }
    }
}

impl Vocab {
    /// Keep the tokens counted at least `min_count` times, most frequent first; ties keep the
    /// order of `counted` (first appearance).
    pub fn from_counts(counted: Vec<(String, u64)>, min_count: u64) -> Self {
        let mut kept: Vec<(String, u64)> = counted.into_iter().filter(|(_, c)| *c >= min_count).collect();
        kept.sort_by_key(|w| std::cmp::Reverse(w.1)); // stable: ties stay in first-appearance order
        let (words, counts) = kept.into_iter().unzip();
        Vocab::from_sorted(words, counts)
    }

    /// From lists already in order (e.g. read back from a model file).
    pub fn from_sorted(words: Vec<String>, counts: Vec<u64>) -> Self {
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        Vocab { words, counts, index }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Index of a word.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Word of an index.
    pub fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    /// All words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Counts, parallel to [`Self::words`].
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Sum of all counts: the corpus length after dropping rare words.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}
