//! The element type the core is generic over: f32 for training, f64 for gradient checks.
//! One copy of the math serves both.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, ToPrimitive};

use super::gemm::Panels;

/// A floating-point element usable by the core (implemented for `f32` and `f64`).
pub trait Scalar:
    LinalgScalar
    + Float
    + FromPrimitive
    + ToPrimitive
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Convert from f64 (exact for f64, rounded for f32).
    #[inline]
    fn of(x: f64) -> Self {
        <Self as FromPrimitive>::from_f64(x).unwrap_or_else(Self::nan)
    }
    /// Convert to f64.
    #[inline]
    fn f64(self) -> f64 {
        ToPrimitive::to_f64(&self).unwrap_or(f64::NAN)
    }
    /// tanh for the cells: exact for f64 (gradient checks), a fast branch-free rational
    /// approximation for f32 (training), accurate to a few ulp.
    #[inline]
    fn tanh_fast(self) -> Self {
        self.tanh()
    }

    /// Logistic sigmoid σ(x) = 1 / (1 + e^−x), computed without overflow.
    #[inline]
    fn sigmoid(self) -> Self {
        if self >= Self::zero() {
            Self::one() / (Self::one() + (-self).exp())
        } else {
            let e = self.exp();
            e / (Self::one() + e)
        }
    }

    /// c ← a · b, or c ← c + a · b when `accumulate`: the per-step products of the time loops. `panels`, when not empty, is `b` packed by [`Scalar::pack_panels`].
    /// Default (f64): `general_mat_mul`, exactly as before.
    #[inline]
    fn small_mat_mul(
        a: &ArrayView2<'_, Self>,
        b: &ArrayView2<'_, Self>,
        panels: Panels<'_, Self>,
        accumulate: bool,
        c: &mut ArrayViewMut2<'_, Self>,
    ) {
        let _ = panels;
        let beta = if accumulate { Self::one() } else { Self::zero() };
        general_mat_mul(Self::one(), a, b, beta, c);
    }

    /// c ← a · b, or c ← c + a · b when `accumulate`, for any shapes and non-negative strides:
    /// the whole-sequence products (input projections, head, weight gradients).
    #[inline]
    fn mat_mul(a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>, accumulate: bool, c: &mut ArrayViewMut2<'_, Self>) {
        Self::small_mat_mul(a, b, Panels::none(), accumulate, c);
    }

    /// Pack `b` for [`Scalar::small_mat_mul`] into `out`; the default leaves `out` empty
    /// (the product then reads `b` directly).
    #[inline]
    fn pack_panels(b: &ArrayView2<'_, Self>, out: &mut Vec<Self>) {
        let _ = b;
        out.clear();
    }
}

impl Scalar for f32 {
    #[inline]
    fn tanh_fast(self) -> f32 {
        tanh_f32(self)
    }

    /// σ(x) = (1 + tanh(x / 2)) / 2.
    #[inline]
    fn sigmoid(self) -> f32 {
        0.5 + 0.5 * tanh_f32(0.5 * self)
    }

    /// The AVX2/FMA kernel of [`super::gemm`] where it applies (any size).
    #[inline]
    fn small_mat_mul(
        a: &ArrayView2<'_, f32>,
        b: &ArrayView2<'_, f32>,
        panels: Panels<'_, f32>,
        accumulate: bool,
        c: &mut ArrayViewMut2<'_, f32>,
    ) {
        super::gemm::mat_mul_f32(a, b, panels, accumulate, c);
    }

    /// 16-column panels, only where the kernel will read them.
    #[inline]
    fn pack_panels(b: &ArrayView2<'_, f32>, out: &mut Vec<f32>) {
        if super::gemm::has_avx2_fma() {
            super::gemm::pack_panels(b, out);
        } else {
            out.clear();
        }
    }
}

/// tanh(x) as a [13/6] rational function of x on [−7.9988, 7.9988] (clamped outside, where
/// tanh is ±1 in f32). Coefficients: the minimax fit used by Eigen's fast float tanh.
/// Branch-free, so loops over it vectorise (plain multiply-add: `mul_add` would be a libm
/// call on the baseline x86-64 target). Max error vs `f32::tanh` is checked in tests.
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_7e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    let x = x.clamp(-7.998_811_7, 7.998_811_7);
    let x2 = x * x;
    let mut p = x2 * A13 + A11;
    p = x2 * p + A9;
    p = x2 * p + A7;
    p = x2 * p + A5;
    p = x2 * p + A3;
    p = x2 * p + A1;
    p *= x;
    let mut q = x2 * B6 + B4;
    q = x2 * q + B2;
    q = x2 * q + B0;
    p / q
}

impl Scalar for f64 {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_matches_std() {
        let mut worst = 0.0f32;
        let mut x = -12.0f32;
        while x < 12.0 {
            worst = worst.max((tanh_f32(x) - x.tanh()).abs());
            x += 0.0007;
        }
        assert!(worst < 5e-7, "max abs error {worst}"); // ≤ 4 ulp near ±1
        assert_eq!(tanh_f32(0.0), 0.0);
        assert!((0.5f32.sigmoid() - 1.0 / (1.0 + (-0.5f32).exp())).abs() < 1e-7);
        assert!((Scalar::sigmoid(-30.0f32)).abs() < 1e-7);
    }
}
