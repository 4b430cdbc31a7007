//! Tokens and the token ↔ id table.
//!
//! - Char level: one token per Unicode scalar value (`char`), so CJK text works unchanged.
//! - Word level: text is split on whitespace, then punctuation is split off into tokens of its
//!   own: a word is a run of letters and digits, keeping `'`, `’` and `-` between two letters or
//!   digits (`don't`, `snack-food`) and `.` `,` between two digits (`3.5`, `1,000`); every other
//!   non-space character is a one-character token, except that a clitic written apart (`'s`,
//!   `'re`, `'ll`, `'ve`, `'d`, `'m`, `'t`, as in pre-tokenised PTB text) stays one token.
//!   A whitespace-separated `<word>` (like PTB's
//!   `<unk>`) stays one token; `<unk>` and `<eos>` written in the text are the special tokens.
//!
//! Ids: the specials first (`<unk>` then `<eos>`, each only when present), then the tokens by
//! count in the data, most frequent first, ties broken by the token's text (codepoint order).
//! `<unk>` is present at word level always, at char level only when `min_count`/`max_vocab`
//! dropped some character. `<eos>` is present in lines mode, and at word level in stream mode
//! (where it stands for each line end, as in PTB).

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::DataError;
use crate::config::Level;

/// FNV-1a: token lookups hash short strings, where SipHash's set-up cost dominates; the keys are
/// the corpus' own tokens, not attacker-chosen.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;

/// Text of the unknown-token special.
pub const UNK: &str = "<unk>";
/// Text of the end-of-sequence special.
pub const EOS: &str = "<eos>";

/// A vocabulary: token texts by id, plus how text is cut into tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Vocab {
    /// Char or word tokens.
    pub level: Level,
    /// Text is lower-cased before encoding.
    pub lowercase: bool,
    /// Word level: punctuation is split off words ([`split_words`]); false = whitespace only.
    #[serde(default = "yes")]
    pub split_punctuation: bool,
    /// Token text by id.
    tokens: Vec<String>,
    /// Id of `<unk>`, if present.
    unk: Option<u32>,
    /// Id of `<eos>`, if present.
    eos: Option<u32>,
    /// Token text → id (rebuilt after deserialising).
    #[serde(skip)]
    index: HashMap<String, u32>,
    /// Char level: id of each ASCII character, `u32::MAX` if absent (rebuilt after deserialising).
    #[serde(skip)]
    ascii: Vec<u32>,
}

impl PartialEq for Vocab {
    fn eq(&self, o: &Self) -> bool {
        self.level == o.level
            && self.lowercase == o.lowercase
            && self.split_punctuation == o.split_punctuation
            && self.tokens == o.tokens
            && self.unk == o.unk
            && self.eos == o.eos
    }
}

/// Counts of tokens in a corpus, gathered before the vocabulary is built.
#[derive(Debug)]
pub struct Counts {
    ascii: [u64; 128],
    other: HashMap<String, u64>,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            ascii: [0; 128],
            other: HashMap::default(),
        }
    }
}

impl Counts {
    /// Count one char-level token.
    #[inline]
    pub fn add_char(&mut self, c: char) {
        if (c as u32) < 128 {
            self.ascii[c as usize] += 1;
        } else {
            let mut buf = [0u8; 4];
            let s: &str = c.encode_utf8(&mut buf);
            match self.other.get_mut(s) {
                Some(n) => *n += 1,
                None => {
                    self.other.insert(s.to_string(), 1);
                }
            }
        }
    }

    /// Count one word-level token (the specials written in text are not counted).
    #[inline]
    pub fn add_word(&mut self, w: &str) {
        if w == UNK || w == EOS {
            return;
        }
        match self.other.get_mut(w) {
            Some(n) => *n += 1,
            None => {
                self.other.insert(w.to_string(), 1);
            }
        }
    }

    /// Add `n` occurrences of a token (either level).
    pub fn add_count(&mut self, token: &str, n: u64) {
        match self.other.get_mut(token) {
            Some(c) => *c += n,
            None => {
                self.other.insert(token.to_string(), n);
            }
        }
    }

    fn into_sorted(self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.other.into_iter().collect();
        for (i, &n) in self.ascii.iter().enumerate() {
            if n > 0 {
                v.push((char::from(i as u8).to_string(), n));
            }
        }
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

fn yes() -> bool {
    true
}

/// Word-level tokens of one line: [`split_words`], or whitespace-separated pieces when
/// `split_punctuation` is false.
pub fn words<'a>(line: &'a str, split_punctuation: bool, mut f: impl FnMut(&'a str)) {
    if split_punctuation {
        split_words(line, f);
    } else {
        line.split_whitespace().for_each(&mut f);
    }
}

/// Cut one line (no `\n` inside) into word-level tokens.
pub fn split_words<'a>(line: &'a str, mut f: impl FnMut(&'a str)) {
    for piece in line.split_whitespace() {
        // The common case, a plain ASCII word or number: one token, no per-character work.
        if piece.bytes().all(|b| b.is_ascii_alphanumeric()) {
            f(piece);
            continue;
        }
        if piece.len() > 2
            && piece.starts_with('<')
            && piece.ends_with('>')
            && piece[1..piece.len() - 1]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_')
        {
            f(piece);
            continue;
        }
        let mut start: Option<usize> = None;
        let mut prev: Option<char> = None;
        let mut it = piece.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            let next = it.peek().map(|&(_, n)| n);
            let joins = match c {
                '\'' | '’' | '-' => {
                    prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric)
                }
                '.' | ',' => prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit()),
                _ => false,
            };
            // A clitic written apart, as in pre-tokenised text (PTB's `'s`, `'re`, `'ll`): one token.
            let clitic = c == '\'' && start.is_none() && is_clitic(&piece[i + 1..]);
            if c.is_alphanumeric() || (joins && start.is_some()) || clitic {
                start.get_or_insert(i);
            } else {
                if let Some(s) = start.take() {
                    f(&piece[s..i]);
                }
                f(&piece[i..i + c.len_utf8()]);
            }
            prev = Some(c);
        }
        if let Some(s) = start {
            f(&piece[s..]);
        }
    }
}

/// True if `rest` starts with a clitic (`s`, `re`, `ve`, `ll`, `d`, `m`, `t`) that ends the
/// word there.
fn is_clitic(rest: &str) -> bool {
    let run = rest.find(|c: char| !c.is_alphanumeric()).map_or(rest, |e| &rest[..e]);
    matches!(run.to_lowercase().as_str(), "s" | "re" | "ve" | "ll" | "d" | "m" | "t")
}

fn no_space_before(t: &str) -> bool {
    matches!(
        t,
        "." | "," | "!" | "?" | ";" | ":" | ")" | "]" | "}" | "%" | "…" | "，" | "。" | "！" | "？" | "；" | "："
    )
}

fn no_space_after(t: &str) -> bool {
    matches!(t, "(" | "[" | "{" | "\n")
}

impl Vocab {
    /// Build from counts: keep tokens seen at least `min_count` times, at most `max_vocab`
    /// tokens in all (0 = no limit, specials included), ids as described in the module docs.
    /// `with_eos` adds `<eos>`; `<unk>` is added at word level, or when a token was dropped.
    pub fn build(
        level: Level,
        lowercase: bool,
        counts: Counts,
        with_eos: bool,
        min_count: usize,
        max_vocab: usize,
    ) -> Vocab {
        let sorted = counts.into_sorted();
        let total = sorted.len();
        let mut kept: Vec<String> = sorted
            .into_iter()
            .filter(|(_, n)| *n >= min_count as u64)
            .map(|(t, _)| t)
            .collect();
        let mut with_unk = level == Level::Word || kept.len() < total;
        let specials = |u: bool| usize::from(u) + usize::from(with_eos);
        if max_vocab > 0 && kept.len() + specials(with_unk) > max_vocab {
            with_unk = true;
            kept.truncate(max_vocab.saturating_sub(specials(true)));
        }
        let mut tokens = Vec::with_capacity(kept.len() + 2);
        let mut unk = None;
        let mut eos = None;
        if with_unk {
            unk = Some(tokens.len() as u32);
            tokens.push(UNK.to_string());
        }
        if with_eos {
            eos = Some(tokens.len() as u32);
            tokens.push(EOS.to_string());
        }
        tokens.extend(kept);
        Vocab::indexed(level, lowercase, tokens, unk, eos)
    }

    /// The vocabulary of `tokens` (ids in order) with its specials at `unk` and `eos`, indexed.
    fn indexed(level: Level, lowercase: bool, tokens: Vec<String>, unk: Option<u32>, eos: Option<u32>) -> Vocab {
        let mut v = Vocab {
            level,
            lowercase,
            split_punctuation: true,
            tokens,
            unk,
            eos,
            index: HashMap::default(),
            ascii: Vec::new(),
        };
        v.reindex();
        v
    }

    /// A vocabulary from an explicit token list (tests, synthetic tasks); specials are recognised
    /// by their text.
    pub fn from_tokens(level: Level, lowercase: bool, tokens: Vec<String>) -> Vocab {
        let unk = tokens.iter().position(|t| t == UNK).map(|i| i as u32);
        let eos = tokens.iter().position(|t| t == EOS).map(|i| i as u32);
        Vocab::indexed(level, lowercase, tokens, unk, eos)
    }

    /// The same vocabulary with word-level punctuation splitting on or off.
    #[must_use]
    pub fn with_split_punctuation(mut self, split: bool) -> Vocab {
        self.split_punctuation = split;
        self
    }

    fn reindex(&mut self) {
        self.index = self
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        self.ascii = vec![u32::MAX; 128];
        if self.level == Level::Char {
            for (i, t) in self.tokens.iter().enumerate() {
                let mut cs = t.chars();
                if let (Some(c), None) = (cs.next(), cs.next()) {
                    if (c as u32) < 128 {
                        self.ascii[c as usize] = i as u32;
                    }
                }
            }
        }
    }

    /// JSON for checkpoint metadata: `{"level", "lowercase", "tokens", "unk", "eos"}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read [`Self::to_json`] output back, checking it is consistent.
    ///
    /// # Errors
    /// [`DataError::VocabJson`] for malformed JSON, no tokens, duplicates or misplaced specials.
    pub fn from_json(json: &str) -> Result<Vocab, DataError> {
        let mut v: Vocab = serde_json::from_str(json).map_err(|e| DataError::VocabJson(e.to_string()))?;
        let bad = |why: &str| Err(DataError::VocabJson(why.to_string()));
        if v.tokens.is_empty() {
            return bad("no tokens");
        }
        for (special, text) in [(v.unk, UNK), (v.eos, EOS)] {
            if let Some(id) = special {
                if v.tokens.get(id as usize).map(String::as_str) != Some(text) {
                    return bad(&format!("{text} id {id} does not hold {text}"));
                }
            }
        }
        v.reindex();
        if v.index.len() != v.tokens.len() {
            return bad("duplicate tokens");
        }
        Ok(v)
    }

    /// Number of tokens |V|, specials included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True if there are no tokens (never for a built vocabulary).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Id of `<eos>`, if present.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// Id of `<unk>`, if present.
    pub fn unk(&self) -> Option<u32> {
        self.unk
    }

    /// Text of token `id` (`<unk>`/`<eos>` for the specials; `""` for an id out of range).
    pub fn token(&self, id: u32) -> &str {
        self.tokens.get(id as usize).map_or("", String::as_str)
    }

    /// Token text made visible for views ([`super::token::visible_token`]: `\n` → `↵`,
    /// `\t` → `⇥`, space → `␣`, other control characters → their glyphs).
    pub fn display(&self, id: u32) -> String {
        super::token::visible_token(self.token(id))
    }

    /// Id of a token text, if present.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }

    /// All token texts by id.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Id of one character (char level), if present.
    #[inline]
    pub fn char_id(&self, c: char) -> Option<u32> {
        if (c as u32) < 128 && self.level == Level::Char {
            let id = self.ascii[c as usize];
            return (id != u32::MAX).then_some(id);
        }
        let mut buf = [0u8; 4];
        self.index.get(&*c.encode_utf8(&mut buf)).copied()
    }

    /// Append the ids of one line (no `\n` inside, already lower-cased if the vocabulary
    /// lower-cases) to `out`; returns how many tokens were unknown (mapped to `<unk>`, or dropped
    /// when there is no `<unk>`).
    pub fn encode_line_into(&self, line: &str, out: &mut Vec<u32>) -> usize {
        let mut unknown = 0;
        let mut push = |id: Option<u32>, out: &mut Vec<u32>| match id.or(self.unk) {
            Some(i) if id.is_some() => out.push(i),
            Some(u) => {
                unknown += 1;
                out.push(u);
            }
            None => unknown += 1,
        };
        match self.level {
            Level::Char => {
                for c in line.chars() {
                    push(self.char_id(c), out);
                }
            }
            Level::Word => words(line, self.split_punctuation, |w| push(self.id(w), out)),
        }
        unknown
    }

    /// Encode text: lower-cased if the vocabulary is, cut into tokens as in training. A `\n` is
    /// the `\n` token when the vocabulary has one (char-level stream); otherwise the end of a
    /// non-empty line is `<eos>` when the vocabulary has it, and nothing if not. Returns the ids
    /// and how many tokens were unknown: mapped to `<unk>`, or dropped when there is no `<unk>`.
    pub fn encode(&self, text: &str) -> (Vec<u32>, usize) {
        let lowered;
        let text = if self.lowercase {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let mut out = Vec::with_capacity(text.len());
        let mut unknown = 0;
        let newline = if self.level == Level::Char {
            self.char_id('\n')
        } else {
            None
        };
        let mut lines = text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let before = out.len();
            unknown += self.encode_line_into(line, &mut out);
            if lines.peek().is_some() {
                if let Some(nl) = newline {
                    out.push(nl);
                } else if let Some(e) = self.eos {
                    if out.len() > before || !line.trim().is_empty() {
                        out.push(e);
                    }
                }
            }
        }
        (out, unknown)
    }

    /// The distinct tokens of `text` that are not in the vocabulary, in order of first
    /// appearance (after lower-casing when the vocabulary lower-cases), for warnings.
    pub fn unknown_tokens(&self, text: &str) -> Vec<String> {
        let lowered;
        let text = if self.lowercase {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let mut seen: Vec<String> = Vec::new();
        let mut note = |t: &str| {
            if !seen.iter().any(|s| s == t) {
                seen.push(t.to_string());
            }
        };
        for line in text.split('\n') {
            match self.level {
                Level::Char => {
                    for c in line.chars().filter(|&c| self.char_id(c).is_none()) {
                        note(c.encode_utf8(&mut [0u8; 4]));
                    }
                }
                Level::Word => words(line, self.split_punctuation, |w| {
                    if self.id(w).is_none() {
                        note(w)
                    }
                }),
            }
        }
        seen
    }

    /// The unknown tokens of `text` for a warning: up to eight, quoted, then how many more
    /// (`'é', '™' and 3 more`).
    pub fn name_unknown(&self, text: &str) -> String {
        let all = self.unknown_tokens(text);
        let shown: Vec<String> = all.iter().take(8).map(|t| format!("{t:?}")).collect();
        let mut s = shown.join(", ");
        if all.len() > shown.len() {
            s += &format!(" and {} more", all.len() - shown.len());
        }
        s
    }

    /// What happened to unknown tokens with this vocabulary.
    pub fn unknown_fate(&self) -> &'static str {
        if self.unk().is_some() {
            "mapped to <unk>"
        } else {
            "dropped (the vocabulary has no <unk>)"
        }
    }

    /// Text of a token sequence. Char level concatenates; word level joins with spaces, with no
    /// space before closing punctuation or after opening brackets. `<eos>` becomes `\n`;
    /// `<unk>` is written `<unk>` (word level) or `�` (char level). `NO_INPUT` and ids out of
    /// range are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.decode_after(None, ids)
    }

    /// [`Self::decode`] of `ids` as a continuation of text that ended with token `prev` (the last
    /// prime or previously printed token): at word level it starts with the space that
    /// `decode(prev ++ ids)` would put between them, so generated text can be printed piece by
    /// piece after the prime.
    pub fn decode_after(&self, prev: Option<u32>, ids: &[u32]) -> String {
        let mut s = String::new();
        let mut prev: Option<&str> = prev.and_then(|p| {
            let t = self.tokens.get(p as usize)?;
            Some(if Some(p) == self.eos { "\n" } else { t.as_str() })
        });
        for &id in ids {
            let Some(tok) = self.tokens.get(id as usize) else {
                continue;
            };
            let text: &str = if Some(id) == self.eos {
                "\n"
            } else if Some(id) == self.unk && self.level == Level::Char {
                "\u{fffd}"
            } else {
                tok
            };
            if self.level == Level::Word {
                if let Some(p) = prev {
                    if text != "\n" && !no_space_after(p) && !no_space_before(text) {
                        s.push(' ');
                    }
                }
            }
            s.push_str(text);
            prev = Some(text);
        }
        s
    }
}
