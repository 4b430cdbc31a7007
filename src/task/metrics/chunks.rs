//! Chunk precision, recall and F1 counted exactly as the CoNLL shared tasks' `conlleval` script
//! (Tjong Kim Sang, version 2004-01-26) counts them.
//!
//! A tag is split at its first `-` into a prefix and a type (`B-NP` → `B`, `NP`; `O` → `O`, "").
//! Reading the tokens in order with the previous token's tag (the first token of a sentence
//! follows an `O`, and a sentence boundary is an `O` token that is not counted), a chunk
//!
//! - **ends** before this token when the previous prefix/current prefix pair is one of
//!   B→B, B→O, B→S, I→B, I→O, I→S, E→E, E→I, E→O, E→S, E→B, S→E, S→I, S→O, S→S, S→B; or the previous prefix is not `O`/`.` and the types differ; or
//!   the previous prefix is `[` or `]`;
//! - **starts** at this token when the pair is B after B, I, O, S or E; S after B, I, O, S or E;
//!   I after O, S or E; E after S, E or O; or the current prefix is not `O`/`.` and the types
//!   differ from the previous token's; or the current prefix is `[` or `]`.
//!
//! So `I-NP` after `O` starts a chunk (IOB1 style), and `I-VP` after `I-NP` ends the NP chunk and
//! starts a VP chunk. A guessed chunk is correct when it starts where a gold chunk starts, with
//! the same type, and both end at the same place: the script tracks "correct so far" from a
//! common start, clears it when exactly one side ends or the current types differ, and counts a
//! correct chunk when both end together with equal types. Precision = correct / guessed chunks,
//! recall = correct / gold chunks, F1 = 2PR / (P + R); the token accuracy counts tags equal in
//! prefix and type.

use std::collections::BTreeMap;

/// A tag's prefix as conlleval distinguishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prefix {
    B,
    I,
    O,
    E,
    S,
    Open,
    Close,
    Dot,
    Other,
}

/// A tag parsed once: prefix and type id (0 = no type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parsed {
    prefix: Prefix,
    kind: u32,
}

const OUTSIDE: Parsed = Parsed {
    prefix: Prefix::O,
    kind: 0,
};

fn end_of_chunk(prev: Parsed, cur: Parsed) -> bool {
    use Prefix::*;
    let pair = matches!(
        (prev.prefix, cur.prefix),
        (B, B)
            | (B, O)
            | (B, S)
            | (I, B)
            | (I, S)
            | (I, O)
            | (E, E)
            | (E, I)
            | (E, O)
            | (E, S)
            | (E, B)
            | (S, E)
            | (S, I)
            | (S, O)
            | (S, S)
            | (S, B)
    );
    pair || (prev.prefix != O && prev.prefix != Dot && prev.kind != cur.kind) || matches!(prev.prefix, Close | Open)
}

fn start_of_chunk(prev: Parsed, cur: Parsed) -> bool {
    use Prefix::*;
    let pair = matches!(
        (prev.prefix, cur.prefix),
        (B, B)
            | (I, B)
            | (O, B)
            | (S, B)
            | (E, B)
            | (B, S)
            | (I, S)
            | (O, S)
            | (S, S)
            | (E, S)
            | (O, I)
            | (S, I)
            | (E, I)
            | (S, E)
            | (E, E)
            | (O, E)
    );
    pair || (cur.prefix != O && cur.prefix != Dot && prev.kind != cur.kind) || matches!(cur.prefix, Open | Close)
}

/// A tag set prepared for chunk counting: the prefix and type of every tag id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkScheme {
    parsed: Vec<Parsed>,
    /// Type names by type id; id 0 is "" (no type).
    types: Vec<String>,
}

impl ChunkScheme {
    /// Parse every tag name (as conlleval: `^([^-]*)-(.*)$`, else the whole tag and no type).
    pub fn new(tags: &[String]) -> ChunkScheme {
        let mut types = vec![String::new()];
        let parsed = tags
            .iter()
            .map(|t| {
                let (p, ty) = t.split_once('-').unwrap_or((t.as_str(), ""));
                let prefix = match p {
                    "B" => Prefix::B,
                    "I" => Prefix::I,
                    "O" => Prefix::O,
                    "E" => Prefix::E,
                    "S" => Prefix::S,
                    "[" => Prefix::Open,
                    "]" => Prefix::Close,
                    "." => Prefix::Dot,
                    _ => Prefix::Other,
                };
                let kind = match types.iter().position(|x| x == ty) {
                    Some(k) => k,
                    None => {
                        types.push(ty.to_string());
                        types.len() - 1
                    }
                } as u32;
                Parsed { prefix, kind }
            })
            .collect();
        ChunkScheme { parsed, types }
    }

    /// True when the tags look like chunk tags: every tag is `O` or `X-TYPE` with X one of
    /// B, I, E, S, and at least one is not `O` (CoNLL-2000 chunks, NER tags; not POS tags).
    pub fn is_chunk_tagset(tags: &[String]) -> bool {
        let mut any = false;
        for t in tags {
            match t.split_once('-') {
                Some(("B" | "I" | "E" | "S", ty)) if !ty.is_empty() => any = true,
                None if t == "O" => {}
                _ => return false,
            }
        }
        any
    }

    /// Type names by id (id 0 is the empty type).
    pub fn types(&self) -> &[String] {
        &self.types
    }
}

/// Counts for one chunk type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkTally {
    /// Chunks in the gold tags ("phrases").
    pub gold: usize,
    /// Chunks in the guessed tags ("found").
    pub guessed: usize,
    /// Guessed chunks that match a gold chunk exactly ("correct").
    pub correct: usize,
}

impl ChunkTally {
    /// correct / guessed (0 when nothing was guessed).
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.guessed)
    }

    /// correct / gold (0 when there is no gold chunk).
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.gold)
    }

    /// 2PR / (P + R) (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// conlleval's running counts over a corpus, fed one sentence at a time.
#[derive(Clone, Debug)]
pub struct ChunkCounter {
    scheme: ChunkScheme,
    /// Overall counts.
    pub total: ChunkTally,
    /// Counts per type id (index into [`ChunkScheme::types`]).
    pub by_type: Vec<ChunkTally>,
    /// Tokens counted.
    pub tokens: usize,
    /// Tokens whose guessed tag equals the gold tag.
    pub correct_tags: usize,
    in_correct: bool,
    last_gold: Parsed,
    last_guess: Parsed,
}

impl ChunkCounter {
    /// A counter for tags of `scheme`.
    pub fn new(scheme: ChunkScheme) -> ChunkCounter {
        let n = scheme.types.len();
        ChunkCounter {
            scheme,
            total: ChunkTally::default(),
            by_type: vec![ChunkTally::default(); n],
            tokens: 0,
            correct_tags: 0,
            in_correct: false,
            last_gold: OUTSIDE,
            last_guess: OUTSIDE,
        }
    }

    /// One token (or a sentence boundary when `tags` is `None`: an uncounted `O`/`O` token).
    fn step(&mut self, tags: Option<(u32, u32)>) {
        let (gold, guess) = match tags {
            Some((g, p)) => (self.parse(g), self.parse(p)),
            None => (OUTSIDE, OUTSIDE),
        };
        let end_gold = end_of_chunk(self.last_gold, gold);
        let end_guess = end_of_chunk(self.last_guess, guess);
        let start_gold = start_of_chunk(self.last_gold, gold);
        let start_guess = start_of_chunk(self.last_guess, guess);
        if self.in_correct {
            if end_gold && end_guess && self.last_guess.kind == self.last_gold.kind {
                self.in_correct = false;
                self.total.correct += 1;
                self.by_type[self.last_gold.kind as usize].correct += 1;
            } else if end_gold != end_guess || guess.kind != gold.kind {
                self.in_correct = false;
            }
        }
        if start_gold && start_guess && guess.kind == gold.kind {
            self.in_correct = true;
        }
        if start_gold {
            self.total.gold += 1;
            self.by_type[gold.kind as usize].gold += 1;
        }
        if start_guess {
            self.total.guessed += 1;
            self.by_type[guess.kind as usize].guessed += 1;
        }
        if let Some((g, p)) = tags {
            self.tokens += 1;
            // Equal prefix and type: the same tag.
            self.correct_tags += usize::from(g == p);
        }
        self.last_gold = gold;
        self.last_guess = guess;
    }

    fn parse(&self, id: u32) -> Parsed {
        self.scheme.parsed.get(id as usize).copied().unwrap_or(OUTSIDE)
    }

    /// Count one sentence: gold and guessed tag ids, same length. A boundary follows it.
    pub fn sentence(&mut self, gold: &[u32], guessed: &[u32]) {
        for (&g, &p) in gold.iter().zip(guessed) {
            self.step(Some((g, p)));
        }
        self.step(None);
    }

    /// The final counts (a chunk still open at the end is closed as conlleval's last line does;
    /// after [`Self::sentence`] none is).
    pub fn finish(mut self) -> ChunkReport {
        if self.in_correct {
            self.total.correct += 1;
            self.by_type[self.last_gold.kind as usize].correct += 1;
            self.in_correct = false;
        }
        let mut by_type: BTreeMap<String, ChunkTally> = BTreeMap::new();
        for (k, t) in self.by_type.iter().enumerate() {
            if k != 0 && (t.gold > 0 || t.guessed > 0) {
                by_type.insert(self.scheme.types[k].clone(), *t);
            }
        }
        ChunkReport {
            total: self.total,
            by_type,
            tokens: self.tokens,
            correct_tags: self.correct_tags,
        }
    }
}

/// What conlleval prints: overall counts, per-type counts, token accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkReport {
    /// Overall chunk counts.
    pub total: ChunkTally,
    /// Counts per chunk type, by type name.
    pub by_type: BTreeMap<String, ChunkTally>,
    /// Tokens.
    pub tokens: usize,
    /// Tokens tagged right.
    pub correct_tags: usize,
}

impl ChunkReport {
    /// Token accuracy (0 with no tokens).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct_tags, self.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    /// Tag ids: 0 `O`, 1 `B-NP`, 2 `I-NP`, 3 `B-VP`, 4 `I-VP`, 5 `B-PP`.
    fn scheme() -> ChunkScheme {
        ChunkScheme::new(&names(&["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP"]))
    }

    /// Two sentences worked through as conlleval reads them (gold / guessed):
    ///
    /// ```text
    /// sentence 1                    starts (gold, guess)   in_correct    counts after the token
    ///   1 B-NP  B-NP                 O→B, O→B same type     set           gold 1, guess 1
    ///   2 I-NP  I-NP                 –, –                   kept
    ///   3 B-VP  B-VP                 I→B ends both, NP = NP: correct 1; starts both, set
    ///                                                                     gold 2, guess 2
    ///   4 I-VP  B-VP                 guess B→B ends, gold B→I does not: cleared; guess starts
    ///                                                                     guess 3
    ///   5 O     O                    both end (nothing in progress)
    ///   6 B-NP  I-NP                 O→B, O→I (I after O starts a chunk), same type: set
    ///                                                                     gold 3, guess 4
    ///   7 I-NP  I-NP                 –
    ///   boundary (O, O)              I→O ends both, NP = NP: correct 2
    /// sentence 2
    ///   1 B-PP  B-NP                 both start, types differ: not set    gold 4, guess 5
    ///   2 B-NP  I-NP                 gold starts (B→B); guess B→I continues NP     gold 5
    ///   3 I-NP  I-VP                 guess: type change ends NP, starts VP          guess 6
    ///   4 O     O                    ends
    /// ```
    /// Gold chunks 5 (NP 3, VP 1, PP 1), guessed 6 (NP 3, VP 3), correct 2 (both NP).
    /// Precision 2/6, recall 2/5, F1 = 2·(1/3)(2/5) / (1/3 + 2/5) = 4/11 = 36.36 %.
    /// Tokens 11, tags right 6 (1, 2, 3, 5, 7 and sentence 2's O): accuracy 6/11.
    /// Per type: NP P = 2/3, R = 2/3; VP P = 0, R = 0; PP P = 0 (none guessed), R = 0.
    #[test]
    fn conlleval_worked_example() {
        let mut c = ChunkCounter::new(scheme());
        c.sentence(&[1, 2, 3, 4, 0, 1, 2], &[1, 2, 3, 3, 0, 2, 2]);
        c.sentence(&[5, 1, 2, 0], &[1, 2, 4, 0]);
        let r = c.finish();
        assert_eq!(
            r.total,
            ChunkTally {
                gold: 5,
                guessed: 6,
                correct: 2
            }
        );
        assert_eq!((r.tokens, r.correct_tags), (11, 6));
        assert!((r.total.precision() - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.total.recall() - 0.4).abs() < 1e-12);
        assert!((r.total.f1() - 4.0 / 11.0).abs() < 1e-12);
        assert_eq!(
            r.by_type["NP"],
            ChunkTally {
                gold: 3,
                guessed: 3,
                correct: 2
            }
        );
        assert_eq!(
            r.by_type["VP"],
            ChunkTally {
                gold: 1,
                guessed: 3,
                correct: 0
            }
        );
        assert_eq!(
            r.by_type["PP"],
            ChunkTally {
                gold: 1,
                guessed: 0,
                correct: 0
            }
        );
    }

    /// IOBES: gold `S-PER O B-LOC E-LOC`, guessed `S-PER O B-LOC I-LOC`. The guessed LOC chunk
    /// (B then I) ends at the boundary exactly where the gold one (B then E) ends, so conlleval
    /// counts both chunks correct although one tag differs: 2 / 2 chunks, 3 / 4 tags.
    #[test]
    fn iobes_end_tags() {
        let tags = names(&["O", "S-PER", "B-LOC", "E-LOC", "I-LOC"]);
        let mut c = ChunkCounter::new(ChunkScheme::new(&tags));
        c.sentence(&[1, 0, 2, 3], &[1, 0, 2, 4]);
        let r = c.finish();
        assert_eq!(
            r.total,
            ChunkTally {
                gold: 2,
                guessed: 2,
                correct: 2
            }
        );
        assert_eq!(r.correct_tags, 3);
    }

    #[test]
    fn tag_sets() {
        assert!(ChunkScheme::is_chunk_tagset(&names(&["O", "B-NP", "I-NP", "B-VP"])));
        assert!(!ChunkScheme::is_chunk_tagset(&names(&["NOUN", "VERB", "PUNCT"])));
        assert!(!ChunkScheme::is_chunk_tagset(&names(&["O"])));
        assert!(!ChunkScheme::is_chunk_tagset(&names(&["O", "B-NP", "-LRB-"])));
    }
}
