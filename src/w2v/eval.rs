//! Intrinsic evaluation: word analogies (Mikolov et al. 2013's `questions-words.txt`) and word
//! similarity against human scores (WordSim-353, SimLex-999, MEN, RG-65).
//!
//! Matching is case-insensitive by default, as gensim's `evaluate_word_analogies` and
//! `evaluate_word_pairs`: a word stands for the most frequent row whose lower-case form equals
//! its own, and candidates that are case variants of an input are left out. Only the first
//! `restrict` rows (the most frequent words) take part when given. A question or pair with a
//! word outside that vocabulary is not answered; coverage says how many were.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{linalg::general_mat_mul, Array2, ArrayView2};
use serde::Serialize;

use super::vectors::Embeddings;
use super::W2vError;

/// How words of an evaluation file meet the vocabulary.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Matching {
    /// Only the first N rows (most frequent words) count; `None` = all.
    pub restrict: Option<usize>,
    /// Match words exactly instead of ignoring case.
    pub case_sensitive: bool,
}

/// Which row stands for a word, and which "class" (case-folded word) each row belongs to.
struct Lookup {
    rows: usize,
    map: HashMap<String, u32>,
    class: Vec<u32>,
    fold: bool,
}

impl Lookup {
    fn new(emb: &Embeddings, m: Matching) -> Self {
        let rows = m.restrict.map_or(emb.len(), |r| r.min(emb.len()));
        let fold = !m.case_sensitive;
        let mut map = HashMap::with_capacity(rows);
        let mut class = Vec::with_capacity(rows);
        for i in 0..rows as u32 {
            let key = if fold {
                emb.word(i).to_lowercase()
            } else {
                emb.word(i).to_string()
            };
            let rep = *map.entry(key).or_insert(i); // the first (most frequent) row wins
            class.push(rep);
        }
        Lookup { rows, map, class, fold }
    }

    fn get(&self, w: &str) -> Option<u32> {
        if self.fold {
            self.map.get(&w.to_lowercase()).copied()
        } else {
            self.map.get(w).copied()
        }
    }
}

/// One section of an analogy file.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalogySection {
    /// Name after `: `.
    pub name: String,
    /// Questions `a b c d` (a is to b as c is to d).
    pub questions: Vec<[String; 4]>,
}

impl AnalogySection {
    /// Sections named `gram…` are syntactic, the others semantic (as in `questions-words.txt`,
    /// whose first five sections are semantic and the nine `gram` ones syntactic).
    pub fn syntactic(&self) -> bool {
        self.name.starts_with("gram")
    }
}

/// An analogy file: `: section` lines, then `a b c d` lines.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalogySet {
    /// Sections in file order (questions before any header go to a section named "").
    pub sections: Vec<AnalogySection>,
}

/// Read an analogy file.
///
/// # Errors
/// [`W2vError::Line`] for a line that is neither `: section` nor four words.
pub fn read_analogies(path: &Path) -> Result<AnalogySet, W2vError> {
    let text = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    parse_analogies(&text, &path.display().to_string())
}

/// Parse an analogy file's bytes; `file` names it in errors.
///
/// # Errors
/// As [`read_analogies`].
pub fn parse_analogies(bytes: &[u8], file: &str) -> Result<AnalogySet, W2vError> {
    let mut sections: Vec<AnalogySection> = Vec::new();
    for (i, line) in lines(bytes, file)? {
        if let Some(name) = line.strip_prefix(':') {
            sections.push(AnalogySection {
                name: name.trim().to_string(),
                questions: Vec::new(),
            });
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let [a, b, c, d] = w.as_slice() else {
            return Err(W2vError::line(
                file,
                i,
                format!(
                    "expected four words `a b c d` or a `: section` line, found {} word(s)",
                    w.len()
                ),
            ));
        };
        if sections.is_empty() {
            sections.push(AnalogySection {
                name: String::new(),
                questions: Vec::new(),
            });
        }
        if let Some(s) = sections.last_mut() {
            s.questions.push([a, b, c, d].map(|x| x.to_string()));
        }
    }
    Ok(AnalogySet { sections })
}

/// Counts of one group of questions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Questions in the file.
    pub questions: usize,
    /// Questions whose four words are all in the (restricted) vocabulary.
    pub answered: usize,
    /// Answered questions whose top-1 answer is right.
    pub correct: usize,
}

impl Tally {
    /// Top-1 accuracy over the answered questions (0 when none).
    pub fn accuracy(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.correct as f64 / self.answered as f64
        }
    }

    /// Answered / questions.
    pub fn coverage(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            self.answered as f64 / self.questions as f64
        }
    }

    fn add(&mut self, o: &Tally) {
        self.questions += o.questions;
        self.answered += o.answered;
        self.correct += o.correct;
    }
}

/// One section's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionScore {
    /// Section name.
    pub name: String,
    /// Whether it is a `gram…` section.
    pub syntactic: bool,
    /// Its counts.
    #[serde(flatten)]
    pub tally: Tally,
}

/// Analogy results: per section, semantic, syntactic, overall.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalogyReport {
    /// Per section, in file order.
    pub sections: Vec<SectionScore>,
    /// Non-`gram` sections together.
    pub semantic: Tally,
    /// `gram` sections together.
    pub syntactic: Tally,
    /// All questions.
    pub total: Tally,
}

/// Answer every question: the prediction for `a b c ?` is the row closest by cosine to
/// unit(b) − unit(a) + unit(c) among the (restricted) vocabulary, leaving out a, b and c (and
/// their case variants); right when it is d (or a case variant).
pub fn evaluate_analogies(emb: &Embeddings, set: &AnalogySet, m: Matching) -> AnalogyReport {
    let look = Lookup::new(emb, m);
    let dim = emb.dim();
    // Every answerable question, with its section.
    let mut todo: Vec<(usize, [u32; 4])> = Vec::new();
    let mut sections: Vec<SectionScore> = set
        .sections
        .iter()
        .map(|s| SectionScore {
            name: s.name.clone(),
            syntactic: s.syntactic(),
            tally: Tally {
                questions: s.questions.len(),
                ..Tally::default()
            },
        })
        .collect();
    for (si, s) in set.sections.iter().enumerate() {
        for q in &s.questions {
            let ids = [look.get(&q[0]), look.get(&q[1]), look.get(&q[2]), look.get(&q[3])];
            if let [Some(a), Some(b), Some(c), Some(d)] = ids {
                todo.push((si, [a, b, c, d]));
            }
        }
    }
    let units =
        ArrayView2::from_shape((look.rows, dim), &emb.unit_data()[..look.rows * dim]).expect("unit matrix shape");
    const BLOCK: usize = 256;
    let mut queries = Array2::<f32>::zeros((BLOCK, dim));
    let mut scores = Array2::<f32>::zeros((BLOCK, look.rows));
    for block in todo.chunks(BLOCK) {
        for (r, (_, [a, b, c, _])) in block.iter().enumerate() {
            for (k, q) in emb.analogy_query(*a, *b, *c).into_iter().enumerate() {
                queries[[r, k]] = q;
            }
        }
        // scores[r, j] = query_r · unit_j (the query's norm does not change the arg max).
        general_mat_mul(1.0, &queries, &units.t(), 0.0, &mut scores);
        for (r, (si, [a, b, c, d])) in block.iter().enumerate() {
            let skip = [
                look.class[*a as usize],
                look.class[*b as usize],
                look.class[*c as usize],
            ];
            let row = scores.row(r);
            let mut best: Option<(usize, f32)> = None;
            for (j, &s) in row.iter().enumerate() {
                if skip.contains(&look.class[j]) {
                    continue;
                }
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((j, s));
                }
            }
            let t = &mut sections[*si].tally;
            t.answered += 1;
            if best.is_some_and(|(j, _)| look.class[j] == look.class[*d as usize]) {
                t.correct += 1;
            }
        }
    }
    let (mut semantic, mut syntactic, mut total) = (Tally::default(), Tally::default(), Tally::default());
    for s in &sections {
        if s.syntactic {
            syntactic.add(&s.tally);
        } else {
            semantic.add(&s.tally);
        }
        total.add(&s.tally);
    }
    AnalogyReport {
        sections,
        semantic,
        syntactic,
        total,
    }
}

/// A word-similarity file: `word1 word2 score` per line (tab- or space-separated).
#[derive(Clone, Debug, PartialEq)]
pub struct PairSet {
    /// (word1, word2, human score).
    pub pairs: Vec<(String, String, f64)>,
}

/// Read a word-similarity file (CRLF line ends accepted; `#` lines are comments).
///
/// # Errors
/// [`W2vError::Line`] for a line that is not two words and a number.
pub fn read_pairs(path: &Path) -> Result<PairSet, W2vError> {
    let text = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    parse_pairs(&text, &path.display().to_string())
}

/// Parse a word-similarity file's bytes; `file` names it in errors.
///
/// # Errors
/// As [`read_pairs`].
pub fn parse_pairs(bytes: &[u8], file: &str) -> Result<PairSet, W2vError> {
    let mut pairs = Vec::new();
    for (i, line) in lines(bytes, file)? {
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let [a, b, s] = f.as_slice() else {
            return Err(W2vError::line(
                file,
                i,
                format!("expected `word1 word2 score`, found {} field(s)", f.len()),
            ));
        };
        let score: f64 = s
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| W2vError::line(file, i, format!("score `{s}` is not a number")))?;
        pairs.push((a.to_string(), b.to_string(), score));
    }
    Ok(PairSet { pairs })
}

/// Similarity results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairsReport {
    /// Pairs in the file.
    pub pairs: usize,
    /// Pairs with both words in the (restricted) vocabulary.
    pub covered: usize,
    /// Spearman's ρ between human scores and cosine similarities over the covered pairs (ties
    /// get their average rank); `None` with fewer than 2 pairs or constant scores.
    pub spearman: Option<f64>,
    /// Pearson's r over the same pairs.
    pub pearson: Option<f64>,
}

impl PairsReport {
    /// covered / pairs.
    pub fn coverage(&self) -> f64 {
        if self.pairs == 0 {
            0.0
        } else {
            self.covered as f64 / self.pairs as f64
        }
    }
}

/// Score every pair whose two words are known by cosine, and correlate with the human scores.
pub fn evaluate_pairs(emb: &Embeddings, set: &PairSet, m: Matching) -> PairsReport {
    let look = Lookup::new(emb, m);
    let (mut human, mut model) = (Vec::new(), Vec::new());
    for (a, b, s) in &set.pairs {
        if let (Some(x), Some(y)) = (look.get(a), look.get(b)) {
            human.push(*s);
            model.push(f64::from(emb.cosine(x, y)));
        }
    }
    PairsReport {
        pairs: set.pairs.len(),
        covered: human.len(),
        spearman: spearman(&human, &model),
        pearson: pearson(&human, &model),
    }
}

/// Ranks 1..=n, ties sharing the mean of the ranks they span (e.g. [10, 20, 20, 30] →
/// [1, 2.5, 2.5, 4]).
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) hold equal values: ranks i+1..=j+1, mean (i + j)/2 + 1.
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson's r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²); `None` for fewer than 2 points or a
/// constant side.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n as f64, y.iter().sum::<f64>() / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Spearman's ρ: Pearson's r of the average ranks (the tie-correct form, as scipy's
/// `spearmanr`).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Non-empty lines with their 1-based numbers, trailing whitespace (and CR) removed.
fn lines<'a>(bytes: &'a [u8], file: &str) -> Result<Vec<(usize, &'a str)>, W2vError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        W2vError::line(file, line, "not UTF-8 text")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Ok(text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect())
}
