//! Matrices shared by the training threads without locks: Hogwild! (Niu, Recht, Ré & Wright,
//! 2011), as `word2vec.c`, gensim's Cython loops and fastText train.
//!
//! # The unsafety, and why it is the original tool's semantics
//!
//! Every thread reads and writes rows of the input and output matrices through raw pointers,
//! with no lock and no atomic operation. Two threads may update the same row at the same time
//! (frequent words and the negative words drawn from the unigram table most often); one of the
//! two `+=` can then be lost, or a dot product can read a row half-way through another thread's
//! update. `word2vec.c` does exactly this with its `pthread`s over `syn0`/`syn1`/`syn1neg`, and
//! the word2vec literature relies on it: the updates are sparse, each touches a few rows of
//! `dim` floats, collisions are rare and only perturb one SGD step slightly.
//!
//! In Rust's abstract machine such unsynchronised concurrent access is a data race, which is
//! undefined behaviour. What we do to keep the practical risk where the C tool has it:
//! - no reference (`&`/`&mut`) to shared memory ever exists while threads run; each row is
//!   accessed through `*const f32` / `*mut f32` in the kernels of `kernels.rs`, each float loaded
//!   once and stored once per operation, so the compiler has no aliasing promise to exploit;
//! - on x86-64 aligned 4-byte loads and stores are single-copy atomic, so a float is never torn:
//!   a reader sees either the old or the new value of each element;
//! - the owner's buffers are borrowed mutably for the lifetime of [`SharedRows`] (no other code
//!   can touch them while threads run), and the threads are scoped: they have all ended when
//!   the borrow ends, so every write is visible afterwards (thread join synchronises);
//! - the deterministic single-thread mode (`threads = 1`) never shares anything: it is the
//!   same code on one thread, and the tests use it.

use std::marker::PhantomData;

/// A `[rows, dim]` f32 matrix that several threads update without locks.
#[derive(Clone, Copy)]
pub(crate) struct SharedRows<'a> {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
    _owner: PhantomData<&'a mut [f32]>,
}

// SAFETY: see the module documentation: concurrent unsynchronised row updates are the Hogwild
// algorithm itself; the pointer stays valid for 'a because the buffer is mutably borrowed.
unsafe impl Send for SharedRows<'_> {}
// SAFETY: as above.
unsafe impl Sync for SharedRows<'_> {}

impl<'a> SharedRows<'a> {
    /// Share `buf` (`rows · dim` floats) for the lifetime of the borrow.
    pub(crate) fn new(buf: &'a mut [f32], dim: usize) -> Self {
        let rows = buf.len().checked_div(dim).unwrap_or(0);
        SharedRows {
            ptr: buf.as_mut_ptr(),
            rows,
            dim,
            _owner: PhantomData,
        }
    }

    /// Pointer to row `i` (`dim` floats).
    #[inline(always)]
    pub(crate) fn row(&self, i: u32) -> *mut f32 {
        debug_assert!((i as usize) < self.rows, "row {i} of {}", self.rows);
        // SAFETY: i < rows (checked in debug builds; every caller passes a vocabulary id or
        // inner-node index, both below `rows` by construction), so the offset is in the buffer.
        unsafe { self.ptr.add(i as usize * self.dim) }
    }
}
