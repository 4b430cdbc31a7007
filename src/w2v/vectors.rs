//! Word vectors for queries: cosine nearest neighbours and analogies (3CosAdd).

use std::collections::HashMap;

use super::W2vError;

/// Words with their vectors, rows in file order (most frequent first for word2vec files), and
/// the unit-length copies every cosine query uses.
#[derive(Clone, Debug)]
pub struct Embeddings {
    words: Vec<String>,
    dim: usize,
    data: Vec<f32>,
    unit: Vec<f32>,
    index: HashMap<String, u32>,
}

impl Embeddings {
    /// From words and a row-major `[words, dim]` matrix. A word listed twice keeps its first
    /// row for look-ups. A zero vector stays zero (cosine 0 with everything).
    pub fn new(words: Vec<String>, dim: usize, data: Vec<f32>) -> Self {
        assert_eq!(words.len() * dim, data.len(), "matrix shape");
        let mut unit = data.clone();
        if dim > 0 {
            for row in unit.chunks_exact_mut(dim) {
                let norm = row.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
                if norm > 0.0 {
                    row.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
                }
            }
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            index.entry(w.clone()).or_insert(i as u32);
        }
        Embeddings {
            words,
            dim,
            data,
            unit,
            index,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in row order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Word of row `i`.
    pub fn word(&self, i: u32) -> &str {
        &self.words[i as usize]
    }

    /// Row of a word (the first, if listed twice).
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// The raw matrix, row-major `[len, dim]`.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Raw vector of row `i`.
    pub fn vector(&self, i: u32) -> &[f32] {
        &self.data[i as usize * self.dim..(i as usize + 1) * self.dim]
    }

    /// Unit-length vector of row `i` (zero stays zero).
    pub fn unit(&self, i: u32) -> &[f32] {
        &self.unit[i as usize * self.dim..(i as usize + 1) * self.dim]
    }

    /// The unit-length matrix, row-major `[len, dim]`.
    pub fn unit_data(&self) -> &[f32] {
        &self.unit
    }

    /// Row of a word, or a one-line error naming `file` with the closest words as a hint.
    ///
    /// # Errors
    /// [`W2vError::NotInVocab`].
    pub fn lookup(&self, word: &str, file: &str) -> Result<u32, W2vError> {
        self.id(word).ok_or_else(|| W2vError::NotInVocab {
            file: file.to_string(),
            word: word.to_string(),
            size: self.len(),
            hint: self.suggest(word),
        })
    }

    fn suggest(&self, word: &str) -> String {
        let lower = word.to_lowercase();
        if lower != word && self.id(&lower).is_some() {
            return format!(", did you mean `{lower}`?");
        }
        let best = self
            .words
            .iter()
            .map(|w| (strsim::levenshtein(word, w), w))
            .filter(|(d, _)| *d <= 2.max(word.chars().count() / 4))
            .min_by_key(|(d, _)| *d);
        best.map_or_else(String::new, |(_, w)| format!(", did you mean `{w}`?"))
    }

    /// Cosine similarity of two rows.
    pub fn cosine(&self, a: u32, b: u32) -> f32 {
        dot(self.unit(a), self.unit(b))
    }

    /// The `n` rows most similar by cosine to `query` (any length; it is normalised), among the
    /// first `restrict` rows (all when `None`), leaving out `exclude`; best first.
    pub fn nearest(&self, query: &[f32], n: usize, exclude: &[u32], restrict: Option<usize>) -> Vec<(u32, f32)> {
        let norm = query.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
        let scale = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
        let rows = restrict.map_or(self.len(), |r| r.min(self.len()));
        let mut best: Vec<(u32, f32)> = Vec::with_capacity(n + 1);
        for i in 0..rows as u32 {
            if exclude.contains(&i) {
                continue;
            }
            let s = dot(query, self.unit(i)) * scale;
            if best.len() < n || s > best[best.len() - 1].1 {
                let at = best.partition_point(|&(_, b)| b >= s);
                best.insert(at, (i, s));
                best.truncate(n);
            }
        }
        best
    }

    /// Nearest neighbours of row `i`, itself left out.
    pub fn neighbours(&self, i: u32, n: usize) -> Vec<(u32, f32)> {
        self.nearest(self.unit(i), n, &[i], None)
    }

    /// a : b :: c : ? — the rows closest by cosine to unit(b) − unit(a) + unit(c) (3CosAdd over
    /// unit vectors, as `word2vec.c`'s `word-analogy` and gensim's `most_similar`), leaving out
    /// a, b and c.
    pub fn analogy(&self, a: u32, b: u32, c: u32, n: usize) -> Vec<(u32, f32)> {
        let q = self.analogy_query(a, b, c);
        self.nearest(&q, n, &[a, b, c], None)
    }

    /// unit(b) − unit(a) + unit(c).
    pub fn analogy_query(&self, a: u32, b: u32, c: u32) -> Vec<f32> {
        let (ua, ub, uc) = (self.unit(a), self.unit(b), self.unit(c));
        (0..self.dim).map(|k| ub[k] - ua[k] + uc[k]).collect()
    }
}

/// Σ a·b (f32, any length).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
