//! The arithmetic of one word2vec update: dot products and `y += a·x` over rows of the shared
//! matrices (AVX2 + FMA when the CPU has them, plain loops otherwise), and σ with the loss term
//! computed exactly.
//!
//! The row functions take raw pointers because the rows live in buffers that several training
//! threads read and write at once without locks (see `hogwild.rs` for why that is sound enough
//! and what it costs); they never create references to shared memory.

/// Row arithmetic, chosen once per step ([`Avx2`] or [`Plain`]).
pub(crate) trait Rows: Copy + Send + Sync + 'static {
    /// Σ_i a[i]·b[i] over `n` floats.
    ///
    /// # Safety
    /// `a` and `b` point to `n` readable floats.
    unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32;
    /// y[i] += alpha·x[i] for i < n.
    ///
    /// # Safety
    /// `x` points to `n` readable floats, `y` to `n` writable floats, and the two ranges do not
    /// overlap.
    unsafe fn axpy(alpha: f32, x: *const f32, y: *mut f32, n: usize);
    /// Ask the cache for the `n` floats at `p` (a hint; no effect on results).
    #[inline(always)]
    fn prefetch(p: *const f32, n: usize) {
        let _ = (p, n);
    }
}

/// Plain loops: any CPU, and the reference the AVX2 version is tested against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plain;

impl Rows for Plain {
    #[inline(always)]
    unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
        // Four partial sums, so the compiler can keep them in separate registers.
        let mut s = [0.0f32; 4];
        let mut i = 0;
        while i + 4 <= n {
            for (j, sj) in s.iter_mut().enumerate() {
                *sj += *a.add(i + j) * *b.add(i + j);
            }
            i += 4;
        }
        let mut t = (s[0] + s[1]) + (s[2] + s[3]);
        while i < n {
            t += *a.add(i) * *b.add(i);
            i += 1;
        }
        t
    }

    #[inline(always)]
    unsafe fn axpy(alpha: f32, x: *const f32, y: *mut f32, n: usize) {
        for i in 0..n {
            *y.add(i) += alpha * *x.add(i);
        }
    }
}

/// AVX2 + FMA: 8 floats per instruction, two accumulators for the dot product. Only used after
/// [`has_avx2_fma`] said yes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Rows for Avx2 {
    #[inline(always)]
    unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
        avx2::dot(a, b, n)
    }

    #[inline(always)]
    unsafe fn axpy(alpha: f32, x: *const f32, y: *mut f32, n: usize) {
        avx2::axpy(alpha, x, y, n)
    }

    #[inline(always)]
    fn prefetch(p: *const f32, n: usize) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // One hint per 64-byte line; prefetching never faults, even for a bad address.
        let mut off = 0;
        while off < n {
            // SAFETY: `_mm_prefetch` only hints the cache (SSE, always present on x86-64).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off).cast::<i8>()) };
            off += 16;
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Rows for Avx2 {
    #[inline(always)]
    unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
        Plain::dot(a, b, n)
    }

    #[inline(always)]
    unsafe fn axpy(alpha: f32, x: *const f32, y: *mut f32, n: usize) {
        Plain::axpy(alpha, x, y, n)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a.add(i)), _mm256_loadu_ps(b.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a.add(i + 8)), _mm256_loadu_ps(b.add(i + 8)), acc1);
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a.add(i)), _mm256_loadu_ps(b.add(i)), acc0);
            i += 8;
        }
        // Horizontal sum of the 8 lanes.
        let acc = _mm256_add_ps(acc0, acc1);
        let s4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        let s1 = _mm_add_ss(s2, _mm_shuffle_ps::<1>(s2, s2));
        let mut t = _mm_cvtss_f32(s1);
        while i < n {
            t += *a.add(i) * *b.add(i);
            i += 1;
        }
        t
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy(alpha: f32, x: *const f32, y: *mut f32, n: usize) {
        let va = _mm256_set1_ps(alpha);
        let mut i = 0;
        while i + 8 <= n {
            let r = _mm256_fmadd_ps(va, _mm256_loadu_ps(x.add(i)), _mm256_loadu_ps(y.add(i)));
            _mm256_storeu_ps(y.add(i), r);
            i += 8;
        }
        while i < n {
            *y.add(i) += alpha * *x.add(i);
            i += 1;
        }
    }
}

/// Whether this CPU has AVX2 and FMA.
pub fn has_avx2_fma() -> bool {
    crate::nn::gemm::has_avx2_fma()
}

/// σ(x) and the loss term of one binary prediction with `label` 1 (the true word, or a Huffman
/// turn with code 0) or 0 (a negative word, or code 1):
///
/// - label 1: −log σ(x)  = max(−x, 0) + ln(1 + e^(−|x|))
/// - label 0: −log σ(−x) = max(x, 0)  + ln(1 + e^(−|x|))
///
/// Both from the one e = e^(−|x|) ∈ (0, 1], so neither overflows for any finite x. Unlike
/// `word2vec.c`'s 1000-entry table there is no clamp at |x| = 6: the gradient and the loss are
/// those of the objective for every x (the table drops the hierarchical-softmax update and makes
/// the gradient of negative sampling 0 or ±α beyond it).
#[inline(always)]
pub fn sigmoid_and_loss(x: f32, label: bool) -> (f32, f32) {
    let e = (-x.abs()).exp();
    let s = 1.0 / (1.0 + e);
    let sigma = if x >= 0.0 { s } else { e * s };
    let margin = if label { -x } else { x };
    (sigma, margin.max(0.0) + (1.0 + e).ln())
}
