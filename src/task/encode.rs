//! From text-level examples to ids: token vocabularies (the language models' [`Vocab`]), label
//! sets, and the [`SeqSet`]s the trainer batches.
//!
//! - Tagging: a column file's token is one word-level token as written (no further splitting);
//!   the vocabulary is built from the training sentences only, so words first seen in validation
//!   or test data are `<unk>` as they would be for new text (with `min_count = 2` the training
//!   data's single-occurrence words are `<unk>` too, which trains its embedding).
//! - Classification: the text is cut into char or word tokens exactly as language models cut a
//!   line ([`Vocab::encode_line_into`]).
//! - Labels (tags, classes) are numbered most frequent first, ties by name, over every split:
//!   the output layer has a unit for each label seen anywhere.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::readers::{Example, Sentence};
use super::seqset::{Labels, SeqSet};
use crate::config::Level;
use crate::data::vocab::{words, Counts, Vocab};

/// Names of the output classes (tags or classes) by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSet {
    names: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl LabelSet {
    /// Labels from their names in id order.
    pub fn new(names: Vec<String>) -> LabelSet {
        let index = names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect();
        LabelSet { names, index }
    }

    /// Labels numbered by count (most frequent first), ties by name.
    pub fn by_count<'a>(labels: impl IntoIterator<Item = &'a str>) -> LabelSet {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for l in labels {
            *counts.entry(l).or_default() += 1;
        }
        let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        LabelSet::new(v.into_iter().map(|(n, _)| n.to_string()).collect())
    }

    /// Read back after deserialising (the index is rebuilt).
    pub fn reindexed(self) -> LabelSet {
        LabelSet::new(self.names)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there is no label.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Id of a label name.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// Name of label `id` (`""` out of range).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    /// All names by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What a tagging token outside the vocabulary becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownWords {
    /// `<unk>`. Default.
    #[default]
    Unk,
    /// A word-shape class such as `<unk-Cap-ing>` ([`signature`]): capitalisation, digits,
    /// hyphens and a common suffix survive, which is most of what a tagger needs to guess an
    /// unseen word's tag. Training words seen fewer than `min_count` times are replaced by their
    /// class, so every class has a trained embedding.
    Signature,
}

/// The word-shape class of an unknown word: `<unk-SHAPE-SUFFIX>`. SHAPE is `num` (digits and
/// number punctuation only), `punct` (no letter or digit), `Caps` (every letter upper-case, two
/// or more letters), `Cap` (first letter upper-case), `low` otherwise; `-dig` and `-hyph` are
/// added when the word holds a digit or a hyphen. SUFFIX is the first of a fixed list of English
/// suffixes the lower-cased word ends with (`ing`, `ed`, `ly`, `ion`, `s`, …), or nothing.
pub fn signature(word: &str) -> String {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let digits = word.chars().filter(char::is_ascii_digit).count();
    let upper = word.chars().filter(|c| c.is_uppercase()).count();
    let shape = if letters == 0 && digits > 0 && word.chars().all(|c| c.is_ascii_digit() || ".,:/-".contains(c)) {
        "num"
    } else if letters == 0 && digits == 0 {
        "punct"
    } else if letters > 1 && upper == letters {
        "Caps"
    } else if word.chars().next().is_some_and(char::is_uppercase) {
        "Cap"
    } else {
        "low"
    };
    let mut s = format!("<unk-{shape}");
    if shape != "num" && digits > 0 {
        s.push_str("-dig");
    }
    if shape != "num" && shape != "punct" && word.contains('-') {
        s.push_str("-hyph");
    }
    const SUFFIXES: [&str; 24] = [
        "ing", "ed", "ly", "ion", "ness", "ment", "ity", "able", "ible", "ful", "less", "ous", "ive", "ist", "ism",
        "ize", "ise", "est", "er", "al", "ic", "an", "y", "s",
    ];
    if letters >= 3 {
        let lower = word.to_lowercase();
        if let Some(suf) = SUFFIXES
            .iter()
            .find(|suf| lower.ends_with(*suf) && lower.len() > suf.len() + 1)
        {
            s.push('-');
            s.push_str(suf);
        }
    }
    s.push('>');
    s
}

/// How tokens are turned into ids.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VocabSpec {
    /// Char or word tokens (tagging: always one token per column-file token).
    pub level: Level,
    /// Lower-case before counting and encoding.
    pub lowercase: bool,
    /// Word level: split punctuation off (classification text only).
    pub split_punctuation: bool,
    /// Tokens seen fewer times in the training data become `<unk>`.
    pub min_count: usize,
    /// Keep at most this many tokens, specials included (0 = no limit).
    pub max_vocab: usize,
    /// Tagging: what a word outside the vocabulary becomes.
    pub unknown: UnknownWords,
}

fn lowered(s: &str, lower: bool) -> std::borrow::Cow<'_, str> {
    if lower {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Word vocabulary of the training sentences' tokens (always with `<unk>`). With
/// [`UnknownWords::Signature`] the words seen fewer than `min_count` times count as their
/// signature instead.
pub fn tagging_vocab(train: &[Sentence<'_>], spec: &VocabSpec) -> Vocab {
    let mut words: HashMap<std::borrow::Cow<'_, str>, (u64, &str)> = HashMap::new();
    for s in train {
        for t in &s.tokens {
            words.entry(lowered(t, spec.lowercase)).or_insert((0, t)).0 += 1;
        }
    }
    let mut counts = Counts::default();
    let mut min_count = spec.min_count;
    if spec.unknown == UnknownWords::Signature {
        for (w, (n, original)) in &words {
            if *n >= spec.min_count as u64 {
                counts.add_count(w, *n);
            } else {
                counts.add_count(&signature(original), *n);
            }
        }
        min_count = 1;
    } else {
        for (w, (n, _)) in &words {
            counts.add_count(w, *n);
        }
    }
    Vocab::build(Level::Word, spec.lowercase, counts, false, min_count, spec.max_vocab).with_split_punctuation(false)
}

/// Id of one column-file token: the word, else its signature (when asked for and known), else
/// `<unk>`.
pub fn token_id(vocab: &Vocab, token: &str, unknown: UnknownWords) -> u32 {
    let t = lowered(token, vocab.lowercase);
    vocab
        .id(&t)
        .or_else(|| match unknown {
            UnknownWords::Signature => vocab.id(&signature(token)),
            UnknownWords::Unk => None,
        })
        .or(vocab.unk())
        .unwrap_or(0)
}

/// Append sentences to a per-step-labelled set; tags missing from `tags` are a bug of the
/// caller (the label set is built from every split).
pub fn push_sentences(
    sents: &[Sentence<'_>],
    vocab: &Vocab,
    unknown_words: UnknownWords,
    tags: &LabelSet,
    out: &mut SeqSet,
) -> usize {
    let mut unknown = 0;
    for s in sents {
        for (t, tag) in s.tokens.iter().zip(&s.tags) {
            let id = token_id(vocab, t, unknown_words);
            unknown += usize::from(vocab.token(id).starts_with("<unk"));
            out.tokens.push(id);
            if let Labels::PerStep(v) = &mut out.labels {
                v.push(tags.id(tag).unwrap_or(0));
            }
        }
        if s.tags.is_empty() {
            if let Labels::PerStep(v) = &mut out.labels {
                v.resize(out.tokens.len(), 0);
            }
        }
        out.end_seq();
    }
    unknown
}

/// Vocabulary of classification texts (training examples only).
pub fn text_vocab(train: &[Example<'_>], spec: &VocabSpec) -> Vocab {
    let mut counts = Counts::default();
    for e in train {
        let text = lowered(e.text, spec.lowercase);
        match spec.level {
            Level::Char => text.chars().for_each(|c| counts.add_char(c)),
            Level::Word => words(&text, spec.split_punctuation, |w| counts.add_word(w)),
        }
    }
    Vocab::build(
        spec.level,
        spec.lowercase,
        counts,
        false,
        spec.min_count,
        spec.max_vocab,
    )
    .with_split_punctuation(spec.split_punctuation)
}

/// Append one text's tokens to `out` (not closing the sequence); returns the unknown tokens.
/// A text with no known token at all gets one `<unk>` (or id 0) so no sequence is empty.
pub fn push_text(text: &str, vocab: &Vocab, out: &mut SeqSet) -> usize {
    let before = out.tokens.len();
    let unknown = vocab.encode_line_into(&lowered(text.trim(), vocab.lowercase), &mut out.tokens);
    if out.tokens.len() == before {
        out.tokens.push(vocab.unk().unwrap_or(0));
    }
    unknown
}

/// Append classification examples (`Labels::Class`).
pub fn push_examples(examples: &[Example<'_>], vocab: &Vocab, classes: &LabelSet, out: &mut SeqSet) -> usize {
    let mut unknown = 0;
    for e in examples {
        unknown += push_text(e.text, vocab, out);
        if let Labels::Class(v) = &mut out.labels {
            v.push(classes.id(e.label).unwrap_or(0));
        }
        out.end_seq();
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::readers::{read_columns, read_labelled, ColumnSpec};

    fn spec(level: Level, min_count: usize) -> VocabSpec {
        VocabSpec {
            level,
            lowercase: false,
            split_punctuation: true,
            min_count,
            max_vocab: 0,
            unknown: UnknownWords::Unk,
        }
    }

    #[test]
    fn signatures() {
        for (w, s) in [
            ("running", "<unk-low-ing>"),
            ("Obama", "<unk-Cap>"),
            ("NASA", "<unk-Caps>"),
            ("1,000.5", "<unk-num>"),
            ("3-year-old", "<unk-low-dig-hyph>"),
            ("well-known", "<unk-low-hyph>"),
            ("Rockets", "<unk-Cap-s>"),
            ("--", "<unk-punct>"),
            ("is", "<unk-low>"),
        ] {
            assert_eq!(signature(w), s, "{w}");
        }
        // Rare training words become their class; an unseen word finds its class.
        let text = "the DT\nrunning VBG\n\nthe DT\njumping VBG\n";
        let train = read_columns(text, "t", &ColumnSpec::default(), true).unwrap();
        let v = tagging_vocab(
            &train,
            &VocabSpec {
                unknown: UnknownWords::Signature,
                ..spec(Level::Word, 2)
            },
        );
        assert_eq!(v.tokens(), ["<unk>", "<unk-low-ing>", "the"]);
        assert_eq!(
            v.token(token_id(&v, "swimming", UnknownWords::Signature)),
            "<unk-low-ing>"
        );
        assert_eq!(v.token(token_id(&v, "Zed", UnknownWords::Signature)), "<unk>");
    }

    #[test]
    fn tagging_ids_from_training_words() {
        let text = "the DT B-NP\ncat NN I-NP\n\nthe DT B-NP\ndog NN I-NP\n";
        let train = read_columns(text, "t", &ColumnSpec::default(), true).unwrap();
        let v = tagging_vocab(&train, &spec(Level::Word, 2));
        // Only `the` is seen twice: the vocabulary is <unk>, the.
        assert_eq!(v.tokens(), ["<unk>", "the"]);
        let tags = LabelSet::by_count(train.iter().flat_map(|s| s.tags.iter().copied()));
        assert_eq!(tags.names(), ["B-NP", "I-NP"]);
        let mut set = SeqSet::tokens(&Labels::PerStep(Vec::new()));
        let unknown = push_sentences(&train, &v, UnknownWords::Unk, &tags, &mut set);
        assert_eq!(unknown, 2);
        assert_eq!(set.tokens, [1, 0, 1, 0]);
        assert_eq!(set.labels, Labels::PerStep(vec![0, 1, 0, 1]));
        assert_eq!(set.starts, [0, 2, 4]);
    }

    #[test]
    fn classification_chars_and_words() {
        let ex = read_labelled("a\tab\nb\tba b\n", "r").unwrap();
        let v = text_vocab(&ex, &spec(Level::Char, 1));
        let classes = LabelSet::by_count(ex.iter().map(|e| e.label));
        let mut set = SeqSet::tokens(&Labels::Class(Vec::new()));
        push_examples(&ex, &v, &classes, &mut set);
        assert_eq!(set.len(), 2);
        assert_eq!(set.seq_len(1), 4); // "ba b": b, a, space, b
        assert_eq!(set.labels, Labels::Class(vec![0, 1]));
        let w = text_vocab(&ex, &spec(Level::Word, 1));
        let mut set = SeqSet::tokens(&Labels::Class(Vec::new()));
        push_examples(&ex, &w, &classes, &mut set);
        assert_eq!(set.seq_len(1), 2);
    }
}
