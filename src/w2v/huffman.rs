//! The Huffman tree of hierarchical softmax, built as `word2vec.c`'s `CreateBinaryTree`.
//!
//! Words are leaves; the V − 1 inner nodes each own an output vector (`syn1`, row = inner index,
//! root = V − 2). A word's path from the root visits inner nodes `points` and turns by `codes`;
//! P(w | h) = Π_d σ((1 − 2·code_d) · h·syn1[point_d]), so the loss of one example is
//! Σ_d −log σ((1 − 2·code_d) · h·syn1[point_d]), and the gradient's "label" at node d is
//! 1 − code_d (as in the original: g = (1 − code − σ(f)) · α).

/// Codes and points of every word, flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct Huffman {
    offsets: Vec<usize>,
    codes: Vec<u8>,
    points: Vec<u32>,
}

impl Huffman {
    /// Build from counts sorted most frequent first (as [`super::Vocab`] keeps them).
    /// Needs at least two words.
    ///
    /// Two queues as in the original: leaves from the rarest up (`pos1`), inner nodes in the
    /// order made (`pos2`); each round joins the two smallest, the leaf queue winning only when
    /// strictly smaller; the second-smallest child gets code 1.
    pub fn new(counts: &[u64]) -> Huffman {
        let v = counts.len();
        assert!(v >= 2, "a Huffman tree needs at least two words");
        const UNUSED: u64 = 1_000_000_000_000_000; // word2vec.c's 1e15
        let mut count = vec![UNUSED; 2 * v];
        count[..v].copy_from_slice(counts);
        let mut parent = vec![0usize; 2 * v];
        let mut binary = vec![0u8; 2 * v];
        let (mut pos1, mut pos2) = (v as isize - 1, v);
        let pick = |count: &[u64], pos1: &mut isize, pos2: &mut usize| {
            if *pos1 >= 0 && count[*pos1 as usize] < count[*pos2] {
                *pos1 -= 1;
                (*pos1 + 1) as usize
            } else {
                *pos2 += 1;
                *pos2 - 1
            }
        };
        for a in 0..v - 1 {
            let min1 = pick(&count, &mut pos1, &mut pos2);
            let min2 = pick(&count, &mut pos1, &mut pos2);
            count[v + a] = count[min1] + count[min2];
            parent[min1] = v + a;
            parent[min2] = v + a;
            binary[min2] = 1;
        }
        let root = 2 * v - 2;
        let mut offsets = Vec::with_capacity(v + 1);
        let (mut codes, mut points) = (Vec::new(), Vec::new());
        let (mut code, mut point) = (Vec::new(), Vec::new());
        for a in 0..v {
            code.clear();
            point.clear();
            let mut b = a;
            while b != root {
                code.push(binary[b]);
                b = parent[b];
                point.push((b - v) as u32); // the inner node above b
            }
            offsets.push(codes.len());
            // Root first: reverse the leaf-to-root walk.
            codes.extend(code.iter().rev());
            points.extend(point.iter().rev());
        }
        offsets.push(codes.len());
        Huffman { offsets, codes, points }
    }

    /// The code bits of word `w`, root first.
    pub fn code(&self, w: u32) -> &[u8] {
        &self.codes[self.offsets[w as usize]..self.offsets[w as usize + 1]]
    }

    /// The inner nodes on word `w`'s path, root (V − 2) first, parallel to [`Self::code`].
    pub fn points(&self, w: u32) -> &[u32] {
        &self.points[self.offsets[w as usize]..self.offsets[w as usize + 1]]
    }

    /// Number of inner nodes (V − 1): the rows of `syn1`.
    pub fn inner_nodes(&self) -> usize {
        self.offsets.len() - 2
    }
}
