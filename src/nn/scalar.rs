//! The element type the core is generic over: f32 for training, f64 for gradient checks.
//! One copy of the math serves both.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, ToPrimitive};

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
}

impl Scalar for f32 {}
impl Scalar for f64 {}
