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
//! - the whole-sequence products (input projections, head, weight gradients: M up to T·B or
//!   H, K up to T·B) use the same kernel, with the right operand copied 256 × 16 slices at a
//!   time into an L1-resident buffer; measured against matrixmultiply (`general_mat_mul`,
//!   which the project used before) in docs/performance.md;
//! - everything else (f64 for gradient checks, other CPUs) calls `general_mat_mul`.
//!
//! [`with_simd`] runs a closure compiled a second time with AVX2 + FMA enabled, so the
//! elementwise loops of the cells, the loss and the optimizer vectorise 8 wide without
//! building the whole binary for a newer CPU.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Columns per panel of a packed operand.
pub const NR: usize = 16;

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
/// packed by [`pack_panels`] (rows `k0..k0 + K`). a `[M, K]`, b `[K, N]`, c `[M, N]`; a and b
/// may have any non-negative strides (transposed views included), c needs unit column stride.
///
/// Any size goes to the AVX2/FMA kernel: operands that are not packed already are copied
/// 256 × 16 slices at a time into an L1-resident buffer ("packing on the fly") when more than
/// one block of six rows will read them, or read in place for the one- to six-row products
/// of the time loops. The rest (no AVX2, negative strides, c not row-contiguous, or a small
/// product whose b is not row-contiguous) goes to `general_mat_mul`.
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
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let nonneg = |s: &[isize]| s[0] >= 0 && s[1] >= 0;
        let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
        if nonneg(sa) && nonneg(sb) && sc[1] == 1 && sc[0] >= 0 && has_avx2_fma() {
            let (rsa, csa, ldc) = (sa[0] as usize, sa[1] as usize, sc[0] as usize);
            let bop = if !panels.data.is_empty() {
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
                Some(avx2::BOp {
                    ptr: panels.data[panels.k0 * NR..].as_ptr(),
                    rsb: NR,
                    csb: 1,
                    bps: panels.k_total * NR,
                    packed: true,
                    copy: false,
                })
            } else {
                let (rsb, csb) = (sb[0] as usize, sb[1] as usize);
                // Copy slices when several row blocks reuse them or b is not row-contiguous.
                let copy = m > 6 || csb != 1;
                (copy || csb == 1).then_some(avx2::BOp {
                    ptr: b.as_ptr(),
                    rsb,
                    csb,
                    bps: NR * csb,
                    packed: false,
                    copy,
                })
            };
            if let Some(bop) = bop {
                // SAFETY: AVX2/FMA checked above. The kernel reads a at r·rsa + kk·csa and
                // writes c at r·ldc + j for r < m, kk < k, j < n: inside the views (non-negative
                // strides, unit column stride for c). It reads b element (kk, j) at
                // (j / 16)·bps + kk·rsb + (j mod 16)·csb, only for j < n unless `packed`:
                // inside the view b; packed, up to the panel's 16 columns, whose largest index
                // with k0 + k ≤ k_total is below np·k_total·16 ≤ data.len() (asserted above).
                unsafe { avx2::gemm(m, n, k, a.as_ptr(), rsa, csa, bop, c.as_mut_ptr(), ldc, accumulate) };
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

    /// Rows of a register block.
    const MR: usize = 6;

    /// The right operand B `[k, n]`: element (kk, j) at `ptr + (j / 16)·bps + kk·rsb +
    /// (j mod 16)·csb`.
    #[derive(Clone, Copy)]
    pub struct BOp {
        /// Element (0, 0).
        pub ptr: *const f32,
        /// Row stride.
        pub rsb: usize,
        /// Column stride within a 16-column panel (1 unless `copy`).
        pub csb: usize,
        /// Panel stride.
        pub bps: usize,
        /// Packed by `pack_panels`: a last partial panel is zero-padded to 16 columns.
        pub packed: bool,
        /// Copy each 256 × 16 slice into an aligned buffer before use.
        pub copy: bool,
    }

    /// One K slice of a 16-column panel, 32-byte aligned.
    #[repr(align(32))]
    struct Slice([f32; KC * NR]);

    /// C `[m, n]` (+)= A `[m, k]` · B `[k, n]`; A element (r, kk) at `a + r·rsa + kk·csa`,
    /// C element (r, j) at `c + r·ldc + j`, B as [`BOp`] says.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; every address above, for r < m, kk < k, j < n (and, when B is
    /// `packed`, every column of the last panel) is valid, c's are writable and not aliased
    /// by a or b; `csb == 1` unless `copy`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: BOp,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        let full = n / NR;
        // SAFETY (whole body): offsets stay within the ranges the caller guarantees; the
        // buffers `slice` and `tile` are local.
        unsafe {
            if m == 1 && !b.copy {
                // One row (sampling): four panels at a time keeps eight independent sums.
                let mut p = 0;
                while p + 4 <= full {
                    row4(k, a, csa, b.ptr.add(p * b.bps), b.rsb, b.bps, c.add(p * NR), acc);
                    p += 4;
                }
                while p < full {
                    block::<1>(k, a, rsa, csa, b.ptr.add(p * b.bps), b.rsb, c.add(p * NR), ldc, acc);
                    p += 1;
                }
                // Last partial panel (N not a multiple of 16): plain dot products.
                let bt = b.ptr.add(full * b.bps);
                for j in full * NR..n {
                    let cj = c.add(j);
                    let mut s = if acc { *cj } else { 0.0 };
                    for kk in 0..k {
                        s += *a.add(kk * csa) * *bt.add(kk * b.rsb + (j - full * NR));
                    }
                    *cj = s;
                }
                return;
            }
            let mut slice = Slice([0.0; KC * NR]);
            let mut tile = [0.0f32; MR * NR];
            // K in blocks of KC, so that a block's rows of A and its slice of a B panel
            // stay in L1 together while all row blocks of the panel pass over them.
            let mut k0 = 0;
            while k0 < k {
                let kc = KC.min(k - k0);
                let acc = acc || k0 > 0;
                let ak = a.add(k0 * csa);
                for p in 0..n.div_ceil(NR) {
                    let cols = NR.min(n - p * NR);
                    let src = b.ptr.add(p * b.bps + k0 * b.rsb);
                    let (bp, ldb) = if b.copy || (cols < NR && !b.packed) {
                        // The slice rows k0..k0 + kc of panel p, zero-padded to 16 columns.
                        for kk in 0..kc {
                            let dst = &mut slice.0[kk * NR..(kk + 1) * NR];
                            let row = src.add(kk * b.rsb);
                            if b.csb == 1 && cols == NR {
                                std::ptr::copy_nonoverlapping(row, dst.as_mut_ptr(), NR);
                            } else {
                                for (jj, d) in dst.iter_mut().enumerate() {
                                    *d = if jj < cols { *row.add(jj * b.csb) } else { 0.0 };
                                }
                            }
                        }
                        (slice.0.as_ptr(), NR)
                    } else {
                        (src, b.rsb)
                    };
                    let cp = c.add(p * NR);
                    let mut r = 0;
                    while r < m {
                        let rows = MR.min(m - r);
                        let ar = ak.add(r * rsa);
                        if cols == NR {
                            rows_block(rows, kc, ar, rsa, csa, bp, ldb, cp.add(r * ldc), ldc, acc);
                        } else {
                            // Partial panel: through a 16-wide tile, only `cols` columns stored.
                            for rr in 0..rows {
                                for jj in 0..NR {
                                    tile[rr * NR + jj] = if acc && jj < cols {
                                        *cp.add((r + rr) * ldc + jj)
                                    } else {
                                        0.0
                                    };
                                }
                            }
                            rows_block(rows, kc, ar, rsa, csa, bp, ldb, tile.as_mut_ptr(), NR, true);
                            for rr in 0..rows {
                                for jj in 0..cols {
                                    *cp.add((r + rr) * ldc + jj) = tile[rr * NR + jj];
                                }
                            }
                        }
                        r += rows;
                    }
                }
                k0 += kc;
            }
        }
    }

    /// [`block`] for 1 ≤ `rows` ≤ 6.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows_block(
        rows: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        // SAFETY: as for `block`, with MR = rows.
        unsafe {
            match rows {
                6 => block::<6>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                5 => block::<5>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                4 => block::<4>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                3 => block::<3>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                2 => block::<2>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                1 => block::<1>(k, a, rsa, csa, b, ldb, c, ldc, acc),
                _ => {}
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
        rsa: usize,
        csa: usize,
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
                let ak = a.add(kk * csa);
                for r in 0..MR {
                    let av = _mm256_broadcast_ss(&*ak.add(r * rsa));
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
    #[allow(clippy::too_many_arguments)]
    unsafe fn row4(k: usize, a: *const f32, csa: usize, b: *const f32, ldb: usize, bps: usize, c: *mut f32, acc: bool) {
        // SAFETY: four full panels and one row, within the caller's guarantee.
        unsafe {
            let mut s = [_mm256_setzero_ps(); 8];
            if acc {
                for (q, v) in s.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(c.add(q * 8));
                }
            }
            for kk in 0..k {
                let av = _mm256_broadcast_ss(&*a.add(kk * csa));
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
        for &m in &[1, 2, 3, 5, 6, 7, 12, 13, 16, 32, 64, 100] {
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
                        // Transposed a (strided broadcasts) and transposed b (copied on the fly).
                        let at_own = random(k, m, &mut rng);
                        let at = at_own.t();
                        let mut c = cbig0.clone();
                        let mut cv = c.slice_mut(s![.., 2..n + 2]);
                        mat_mul_f32(&at, &b, Panels::none(), acc, &mut cv);
                        close(&cv, &naive(&at, &b, &c0, acc), &format!("transposed a m{m} k{k} n{n}"));
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
