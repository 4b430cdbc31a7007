//! The corpus's token ids, stored no wider than the vocabulary needs: one byte per token for a
//! vocabulary of at most 256 tokens (every character-level corpus of a Latin-script text), two
//! up to 65,536, four beyond. A 1 GB character-level corpus is then 1 GB of ids, not 4.

use std::ops::Range;

/// Token ids of a corpus, 1, 2 or 4 bytes each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenIds {
    /// Vocabulary of at most 256 tokens.
    U8(Vec<u8>),
    /// Vocabulary of at most 65,536 tokens.
    U16(Vec<u16>),
    /// Anything larger.
    U32(Vec<u32>),
}

impl Default for TokenIds {
    fn default() -> Self {
        TokenIds::U8(Vec::new())
    }
}

impl TokenIds {
    /// Empty, for ids below `vocab`, with room for `capacity` tokens.
    pub fn with_capacity(vocab: usize, capacity: usize) -> Self {
        if vocab <= 1 << 8 {
            TokenIds::U8(Vec::with_capacity(capacity))
        } else if vocab <= 1 << 16 {
            TokenIds::U16(Vec::with_capacity(capacity))
        } else {
            TokenIds::U32(Vec::with_capacity(capacity))
        }
    }

    /// Append `id` (which must be below the vocabulary size given at creation).
    #[inline]
    pub fn push(&mut self, id: u32) {
        match self {
            TokenIds::U8(v) => v.push(id as u8),
            TokenIds::U16(v) => v.push(id as u16),
            TokenIds::U32(v) => v.push(id),
        }
    }

    /// Tokens held.
    pub fn len(&self) -> usize {
        match self {
            TokenIds::U8(v) => v.len(),
            TokenIds::U16(v) => v.len(),
            TokenIds::U32(v) => v.len(),
        }
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per token (1, 2 or 4).
    pub fn width(&self) -> usize {
        match self {
            TokenIds::U8(_) => 1,
            TokenIds::U16(_) => 2,
            TokenIds::U32(_) => 4,
        }
    }

    /// Token `i`. Panics when out of range, like slice indexing.
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            TokenIds::U8(v) => u32::from(v[i]),
            TokenIds::U16(v) => u32::from(v[i]),
            TokenIds::U32(v) => v[i],
        }
    }

    /// Tokens `r` as u32 ids (a copy: batches are built from a few thousand at a time).
    pub fn slice(&self, r: Range<usize>) -> Vec<u32> {
        match self {
            TokenIds::U8(v) => v[r].iter().map(|&x| u32::from(x)).collect(),
            TokenIds::U16(v) => v[r].iter().map(|&x| u32::from(x)).collect(),
            TokenIds::U32(v) => v[r].to_vec(),
        }
    }

    /// Drop unused capacity.
    pub fn shrink_to_fit(&mut self) {
        match self {
            TokenIds::U8(v) => v.shrink_to_fit(),
            TokenIds::U16(v) => v.shrink_to_fit(),
            TokenIds::U32(v) => v.shrink_to_fit(),
        }
    }

    /// Keep the first `n` tokens.
    pub fn truncate(&mut self, n: usize) {
        match self {
            TokenIds::U8(v) => v.truncate(n),
            TokenIds::U16(v) => v.truncate(n),
            TokenIds::U32(v) => v.truncate(n),
        }
    }
}

impl From<Vec<u32>> for TokenIds {
    fn from(v: Vec<u32>) -> Self {
        TokenIds::U32(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_follows_the_vocabulary() {
        for (vocab, width, id) in [
            (2, 1, 1),
            (256, 1, 255),
            (257, 2, 256),
            (65_536, 2, 65_535),
            (65_537, 4, 65_536),
        ] {
            let mut t = TokenIds::with_capacity(vocab, 4);
            t.push(0);
            t.push(id);
            t.push(3);
            assert_eq!(t.width(), width, "vocab {vocab}");
            assert_eq!((t.len(), t.get(1)), (3, id));
            assert_eq!(t.slice(1..3), vec![id, 3]);
            t.truncate(1);
            assert_eq!(t.slice(0..1), vec![0]);
        }
    }
}
