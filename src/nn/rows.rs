//! Helpers for the cells' row loops: cut a flat `[B, W]` buffer into rows, a row into its gate
//! blocks, and re-slice every operand of a row kernel to exactly H elements.
//!
//! Why the re-slicing: a row kernel loops `for j in 0..h` over a dozen slices. If each slice is
//! first cut to length `h` (`&x[..h]`, one check per slice, outside the loop), the compiler knows
//! every `x[j]` is in bounds, drops the per-element checks and vectorises the loop 8 wide (AVX2).
//! [`fit!`] does that cut for a list of slices, shared or mutable, in one line.
//!
//! Why the row kernels are separate functions taking one `&mut [F]` per output: `&mut`
//! arguments are known not to alias each other (locals from `split_at_mut` are not, and the
//! vectoriser gives up when a loop needs more than a few run-time overlap checks). They are
//! `#[inline(always)]` into the `with_simd` bodies, which keeps that knowledge.

/// A slice that can be cut to its first `n` elements keeping its mutability.
pub trait Fit: Sized {
    /// The first `n` elements (panics if shorter: a sizing bug).
    fn fit(self, n: usize) -> Self;
}

impl<T> Fit for &[T] {
    #[inline(always)]
    fn fit(self, n: usize) -> Self {
        &self[..n]
    }
}

impl<T> Fit for &mut [T] {
    #[inline(always)]
    fn fit(self, n: usize) -> Self {
        &mut self[..n]
    }
}

/// `fit!(h; x, y, z)` re-binds each slice `x`, `y`, `z` to its first `h` elements (shared
/// slices stay shared, mutable stay mutable), so loops over `0..h` index them without checks.
macro_rules! fit {
    ($n:expr; $($x:ident),+ $(,)?) => {
        let n = $n;
        $( let $x = $crate::nn::rows::Fit::fit($x, n); )+
    };
}
pub(crate) use fit;

/// Row `r` of a flat row-major buffer of rows `w` wide.
#[inline(always)]
pub fn row<T>(buf: &[T], r: usize, w: usize) -> &[T] {
    &buf[r * w..(r + 1) * w]
}

/// Row `r` of a flat row-major buffer of rows `w` wide, mutable.
#[inline(always)]
pub fn row_mut<T>(buf: &mut [T], r: usize, w: usize) -> &mut [T] {
    &mut buf[r * w..(r + 1) * w]
}

/// The first `G` blocks of `h` elements of a row (a gate row `[G·H]` → its G gate blocks).
#[inline(always)]
pub fn blocks<const G: usize, T>(row: &[T], h: usize) -> [&[T]; G] {
    let mut it = row.chunks_exact(h);
    std::array::from_fn(|_| it.next().expect("row holds G blocks of h"))
}

/// The first `G` blocks of `h` elements of a row, mutable and disjoint.
#[inline(always)]
pub fn blocks_mut<const G: usize, T>(row: &mut [T], h: usize) -> [&mut [T]; G] {
    let mut it = row.chunks_exact_mut(h);
    std::array::from_fn(|_| it.next().expect("row holds G blocks of h"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_and_keeps_mutability() {
        let a = [1, 2, 3, 4];
        let mut b = [5, 6, 7];
        let (x, y) = (&a[..], &mut b[..]);
        fit!(2; x, y);
        y[1] = x[1];
        assert_eq!((x.len(), y.len()), (2, 2));
        assert_eq!(b, [5, 2, 7]);
    }

    #[test]
    fn rows_and_blocks() {
        let mut buf: Vec<u32> = (0..12).collect();
        assert_eq!(row(&buf, 1, 6), &[6, 7, 8, 9, 10, 11]);
        let [p, q, r] = blocks::<3, _>(row(&buf, 0, 6), 2);
        assert_eq!((p, q, r), (&[0, 1][..], &[2, 3][..], &[4, 5][..]));
        let [p, q] = blocks_mut::<2, _>(row_mut(&mut buf, 1, 6), 3);
        p[0] = 100;
        q[2] = 200;
        assert_eq!(buf[6], 100);
        assert_eq!(buf[11], 200);
    }
}
