//! The small per-step products of the time loops, and run-time CPU dispatch.
//!
//! Every time step multiplies a block of B ≤ 64 rows by a recurrent weight matrix:
//! forward `[B, H] × W_aa [H, G·H]`, backward `∂pre [B, G·H] × W_aaᵀ [G·H, H]`. A general
//! GEMM (matrixmultiply) repacks the whole weight operand on every call, once per time step;
//! for these shapes the packing costs about a third of the product. Here instead:
//! - f32 on a CPU with AVX2 + FMA uses a register-blocked kernel (6 rows × 16 columns, K in
//!   blocks of 256) on operands packed once per time loop ([`pack_panels`]): W_aa in forward
//!   (when T > 1; a single step, as in sampling, reads W_aa in place) and W_aaᵀ in backward,
//!   reused by all T steps;
//! - everything else (f64 for gradient checks, other CPUs, large M) calls
//!   `general_mat_mul`.
//!
//! [`with_simd`] runs a closure compiled a second time with AVX2 + FMA enabled, so the
//! elementwise loops of the cells, the loss and the optimizer vectorise 8 wide without
//! building the whole binary for a newer CPU.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Columns per panel of a packed operand.
pub const NR: usize = 16;

/// Largest row count the small kernel takes; bigger products go to `general_mat_mul`.
const MAX_ROWS: usize = 64;

/// A right operand B `[K, N]` packed by [`pack_panels`]: panel p (columns 16p..16p+16,
/// zero-padded) holds its `k_total` rows contiguously, element (k, j) at
/// `p·k_total·16 + k·16 + j mod 16`. A product may use rows `k0..k0 + K` of it.
#[derive(Clone, Copy, Debug)]
pub struct Panels<'a, F> {
    /// Packed data (empty: not packed, read B as given).
    pub data: &'a [F],
    /// Rows of the packed matrix.
    pub k_total: usize,
    /// First row used by this product.
    pub k0: usize,
}

impl<F> Panels<'_, F> {
    /// No packed copy: the product reads its operand view.
    pub fn none() -> Self {
        Panels {
            data: &[],
            k_total: 0,
            k0: 0,
        }
    }
}

/// Whether this CPU has AVX2 and FMA (cached by the standard library after the first call).
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Run `f`, compiled with AVX2 + FMA enabled when the CPU has them (the closure and the
/// `#[inline(always)]` bodies it calls are inlined into a `#[target_feature]` function).
/// Results are identical either way: Rust never fuses a multiply and an add on its own.
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if has_avx2_fma() {
            // SAFETY: `run` only needs AVX2 and FMA, and the CPU has both (checked just above).
            return unsafe { run(f) };
        }
    }
    f()
}

/// Pack `b` `[K, N]` (any strides) into 16-column panels, see [`Panels`]. Reuses `out`'s
/// allocation once it is large enough.
pub fn pack_panels(b: &ArrayView2<'_, f32>, out: &mut Vec<f32>) {
    let (k, n) = b.dim();
    let np = n.div_ceil(NR);
    out.clear();
    out.resize(np * k * NR, 0.0);
    for (p, panel) in out.chunks_exact_mut(k * NR).enumerate() {
        let cols = NR.min(n - p * NR);
        for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
            let src = b.row(kk);
            for (jj, d) in dst[..cols].iter_mut().enumerate() {
                *d = src[p * NR + jj];
            }
        }
    }
}

/// c ← a · b, or c ← c + a · b when `accumulate` (f32). `panels`, when not empty, is `b`
/// packed by [`pack_panels`] (rows `k0..k0 + K`). a `[M, K]`, b `[K, N]`, c `[M, N]`.
pub fn mat_mul_f32(
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    panels: Panels<'_, f32>,
    accumulate: bool,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "product shapes [{m}, {k}] × {:?} → {:?}",
        b.dim(),
        c.dim()
    );
    #[cfg(target_arch = "x86_64")]
    {
        let rows_ok = |s: &[isize]| s[1] == 1 && s[0] >= 0;
        if m > 0 && m <= MAX_ROWS && k > 0 && n > 0 && rows_ok(a.strides()) && rows_ok(c.strides()) && has_avx2_fma() {
            let (lda, ldc) = (a.strides()[0] as usize, c.strides()[0] as usize);
            if !panels.data.is_empty() {
                assert!(
                    panels.k0 + k <= panels.k_total,
                    "packed rows {}..{} of {}",
                    panels.k0,
                    panels.k0 + k,
                    panels.k_total
                );
                assert!(
                    panels.data.len() >= n.div_ceil(NR) * panels.k_total * NR,
                    "packed operand too short"
                );
                let bp = &panels.data[panels.k0 * NR..];
                // SAFETY: AVX2/FMA checked above. The kernel reads a[r·lda + kk] and writes
                // c[r·ldc + j] for r < m, kk < k, j < n: inside the views (unit column stride,
                // non-negative row stride). It reads packed element (kk, j) at
                // (j / 16)·k_total·16 + kk·16 + j mod 16 (from row k0): the largest such index,
                // with k0 + k ≤ k_total, is below np·k_total·16 ≤ data.len() (asserted above).
                unsafe {
                    avx2::gemm(
                        m,
                        n,
                        k,
                        a.as_ptr(),
                        lda,
                        bp.as_ptr(),
                        NR,
                        panels.k_total * NR,
                        c.as_mut_ptr(),
                        ldc,
                        accumulate,
                    )
                };
                return;
            }
            if rows_ok(b.strides()) {
                // SAFETY: as above for a and c; b is read at kk·ldb + j for kk < k, j < n, which
                // is element (kk, j) of the view b (unit column stride): in bounds.
                unsafe {
                    avx2::gemm(
                        m,
                        n,
                        k,
                        a.as_ptr(),
                        lda,
                        b.as_ptr(),
                        b.strides()[0] as usize,
                        NR,
                        c.as_mut_ptr(),
                        ldc,
                        accumulate,
                    )
                };
                return;
            }
        }
    }
    let _ = panels;
    general_mat_mul(1.0, a, b, if accumulate { 1.0 } else { 0.0 }, c);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::NR;

    /// Depth of a K block (A block 6 × 256 and B slice 256 × 16: 6 KiB + 16 KiB).
    const KC: usize = 256;

    /// C `[m, n]` (+)= A `[m, k]` · B `[k, n]`, row-major with leading dimensions lda, ldc.
    /// B element (kk, j) is at `b + (j / 16)·bps + kk·ldb + j mod 16`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; every address above, for r < m, kk < k, j < n, is valid
    /// (and c's are writable and not aliased by a or b).
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        bps: usize,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        let full = n / NR;
        // SAFETY (whole body): offsets stay within the ranges the caller guarantees.
        unsafe {
            if m == 1 {
                // One row (sampling): four panels at a time keeps eight independent sums.
                let mut p = 0;
                while p + 4 <= full {
                    row4(k, a, b.add(p * bps), ldb, bps, c.add(p * NR), acc);
                    p += 4;
                }
                while p < full {
                    block::<1>(k, a, lda, b.add(p * bps), ldb, c.add(p * NR), ldc, acc);
                    p += 1;
                }
            } else {
                // K in blocks of KC, so that a block's rows of A and its slice of a B panel
                // stay in L1 together while all row blocks of the panel pass over them.
                let mut k0 = 0;
                while k0 < k {
                    let kc = KC.min(k - k0);
                    let acc = acc || k0 > 0;
                    let (a, b) = (a.add(k0), b.add(k0 * ldb));
                    for p in 0..full {
                        let (bp, cp) = (b.add(p * bps), c.add(p * NR));
                        let mut r = 0;
                        while r + 6 <= m {
                            block::<6>(kc, a.add(r * lda), lda, bp, ldb, cp.add(r * ldc), ldc, acc);
                            r += 6;
                        }
                        let (ar, cr) = (a.add(r * lda), cp.add(r * ldc));
                        match m - r {
                            1 => block::<1>(kc, ar, lda, bp, ldb, cr, ldc, acc),
                            2 => block::<2>(kc, ar, lda, bp, ldb, cr, ldc, acc),
                            3 => block::<3>(kc, ar, lda, bp, ldb, cr, ldc, acc),
                            4 => block::<4>(kc, ar, lda, bp, ldb, cr, ldc, acc),
                            5 => block::<5>(kc, ar, lda, bp, ldb, cr, ldc, acc),
                            _ => {}
                        }
                    }
                    k0 += kc;
                }
            }
            // Last partial panel (N not a multiple of 16): plain dot products.
            let j0 = full * NR;
            if j0 < n {
                let bt = b.add(full * bps);
                for r in 0..m {
                    for j in j0..n {
                        let cj = c.add(r * ldc + j);
                        let mut s = if acc { *cj } else { 0.0 };
                        for kk in 0..k {
                            s += *a.add(r * lda + kk) * *bt.add(kk * ldb + (j - j0));
                        }
                        *cj = s;
                    }
                }
            }
        }
    }

    /// MR rows × 16 columns: C_blk (+)= Σ_k a[·, k] ⊗ b[k, 0..16], 2·MR accumulators.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const MR: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        // SAFETY: addresses within the caller's guarantee (r < MR ≤ rows left, 16 columns of a full panel).
        unsafe {
            let mut lo = [_mm256_setzero_ps(); MR];
            let mut hi = [_mm256_setzero_ps(); MR];
            if acc {
                for r in 0..MR {
                    lo[r] = _mm256_loadu_ps(c.add(r * ldc));
                    hi[r] = _mm256_loadu_ps(c.add(r * ldc + 8));
                }
            }
            for kk in 0..k {
                let b0 = _mm256_loadu_ps(b.add(kk * ldb));
                let b1 = _mm256_loadu_ps(b.add(kk * ldb + 8));
                for r in 0..MR {
                    let av = _mm256_broadcast_ss(&*a.add(r * lda + kk));
                    lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
                    hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
                }
            }
            for r in 0..MR {
                _mm256_storeu_ps(c.add(r * ldc), lo[r]);
                _mm256_storeu_ps(c.add(r * ldc + 8), hi[r]);
            }
        }
    }

    /// One row × four panels (64 columns): eight independent accumulators.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn row4(k: usize, a: *const f32, b: *const f32, ldb: usize, bps: usize, c: *mut f32, acc: bool) {
        // SAFETY: four full panels and one row, within the caller's guarantee.
        unsafe {
            let mut s = [_mm256_setzero_ps(); 8];
            if acc {
                for (q, v) in s.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(c.add(q * 8));
                }
            }
            for kk in 0..k {
                let av = _mm256_broadcast_ss(&*a.add(kk));
                for (q, v) in s.iter_mut().enumerate() {
                    let bq = b.add((q / 2) * bps + kk * ldb + (q % 2) * 8);
                    *v = _mm256_fmadd_ps(av, _mm256_loadu_ps(bq), *v);
                }
            }
            for (q, v) in s.iter().enumerate() {
                _mm256_storeu_ps(c.add(q * 8), *v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| rng.random_range(-1.0..1.0))
    }

    fn naive(a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, c0: &Array2<f32>, acc: bool) -> Array2<f64> {
        let (m, k) = a.dim();
        let n = b.ncols();
        Array2::from_shape_fn((m, n), |(i, j)| {
            let s: f64 = (0..k).map(|kk| a[[i, kk]] as f64 * b[[kk, j]] as f64).sum();
            s + if acc { c0[[i, j]] as f64 } else { 0.0 }
        })
    }

    fn close(got: &ArrayViewMut2<'_, f32>, want: &Array2<f64>, what: &str) {
        for ((i, j), &w) in want.indexed_iter() {
            let g = got[[i, j]] as f64;
            assert!(
                (g - w).abs() <= 1e-5 * (1.0 + w.abs()) * 8.0,
                "{what}: ({i}, {j}) got {g}, want {w}"
            );
        }
    }

    /// Every shape class: M = 1 (row path), remainders of 6, N with a partial panel,
    /// operands sliced out of bigger matrices (strides), packed and transposed operands,
    /// packed sub-ranges of rows, overwrite and accumulate.
    #[test]
    fn small_products_match_naive() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for &m in &[1, 2, 3, 5, 6, 7, 12, 13, 16, 32, 64] {
            for &k in &[1, 3, 16, 17, 64, 300] {
                for &n in &[1, 5, 16, 17, 40, 64, 80] {
                    // a and c live inside wider buffers: row strides > their widths.
                    let abig = random(m, k + 3, &mut rng);
                    let a = abig.slice(s![.., 1..k + 1]);
                    let bbig = random(k + 2, n + 5, &mut rng);
                    let b = bbig.slice(s![2.., 3..n + 3]);
                    let bt_own = random(n, k, &mut rng);
                    let bt = bt_own.t();
                    for acc in [false, true] {
                        let cbig0 = random(m, n + 4, &mut rng);
                        let c0 = cbig0.slice(s![.., 2..n + 2]).to_owned();
                        // Row-major operand read in place.
                        let mut cbig = cbig0.clone();
                        let mut c = cbig.slice_mut(s![.., 2..n + 2]);
                        mat_mul_f32(&a, &b, Panels::none(), acc, &mut c);
                        close(
                            &c,
                            &naive(&a, &b, &c0, acc),
                            &format!("in place m{m} k{k} n{n} acc{acc}"),
                        );
                        // Untouched outside the view.
                        assert_eq!(cbig.slice(s![.., ..2]), cbig0.slice(s![.., ..2]));
                        assert_eq!(cbig.slice(s![.., n + 2..]), cbig0.slice(s![.., n + 2..]));
                        // Transposed operand: general_mat_mul unless packed.
                        let mut c = cbig0.clone();
                        let mut cv = c.slice_mut(s![.., 2..n + 2]);
                        mat_mul_f32(&a, &bt, Panels::none(), acc, &mut cv);
                        close(&cv, &naive(&a, &bt, &c0, acc), "transposed");
                        // Packed, whole and as a sub-range of rows of a taller packed matrix.
                        let tall_own = random(k + 7, n, &mut rng);
                        let mut packed = Vec::new();
                        pack_panels(&tall_own.view(), &mut packed);
                        for k0 in [0, 7] {
                            let sub = tall_own.slice(s![k0..k0 + k, ..]);
                            let mut c = cbig0.clone();
                            let mut cv = c.slice_mut(s![.., 2..n + 2]);
                            let p = Panels {
                                data: &packed,
                                k_total: k + 7,
                                k0,
                            };
                            mat_mul_f32(&a, &sub, p, acc, &mut cv);
                            close(
                                &cv,
                                &naive(&a, &sub, &c0, acc),
                                &format!("packed k0 {k0} m{m} k{k} n{n}"),
                            );
                        }
                        pack_panels(&bt, &mut packed);
                        let mut c = cbig0.clone();
                        let mut cv = c.slice_mut(s![.., 2..n + 2]);
                        mat_mul_f32(
                            &a,
                            &bt,
                            Panels {
                                data: &packed,
                                k_total: k,
                                k0: 0,
                            },
                            acc,
                            &mut cv,
                        );
                        close(&cv, &naive(&a, &bt, &c0, acc), "packed transposed");
                    }
                }
            }
        }
    }

    #[test]
    fn packing_pads_with_zeros() {
        let b = Array2::from_shape_fn((3, 18), |(i, j)| (i * 100 + j) as f32);
        let mut p = vec![7.0; 5];
        pack_panels(&b.view(), &mut p);
        assert_eq!(p.len(), 2 * 3 * NR);
        assert_eq!(p[NR + 2], 102.0); // panel 0, row 1, column 2
        assert_eq!(p[3 * NR + NR + 1], 117.0); // panel 1, row 1, column 17
        assert_eq!(p[3 * NR + NR + 2], 0.0); // padding
    }
}
