//! A model's parameters as a flat list of named 2-D tensors (biases are `[1, n]`).
//!
//! Gradients and optimizer state use the same type with the same shapes, so clipping,
//! updates, checkpoints and gradient checks are loops over one list.

use ndarray::Array2;

use super::scalar::Scalar;

/// Named tensors in a fixed order.
#[derive(Clone, Debug, PartialEq)]
pub struct Params<F> {
    /// Internal names (see `Model::export` for the checkpoint names).
    pub names: Vec<String>,
    /// Values, one per name.
    pub values: Vec<Array2<F>>,
}

impl<F: Scalar> Params<F> {
    /// An empty list.
    pub fn new() -> Self {
        Params {
            names: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Append a zero tensor; returns its index.
    pub fn push(&mut self, name: impl Into<String>, rows: usize, cols: usize) -> usize {
        self.names.push(name.into());
        self.values.push(Array2::zeros((rows, cols)));
        self.values.len() - 1
    }

    /// Same names and shapes, all zeros.
    pub fn zeros_like(&self) -> Self {
        Params {
            names: self.names.clone(),
            values: self.values.iter().map(|v| Array2::zeros(v.raw_dim())).collect(),
        }
    }

    /// Set every element to zero (no allocation).
    pub fn fill_zero(&mut self) {
        for v in &mut self.values {
            v.fill(F::zero());
        }
    }

    /// Total number of scalars.
    pub fn count(&self) -> usize {
        self.values.iter().map(|v| v.len()).sum()
    }

    /// Global L2 norm √(Σ x²) over every tensor, accumulated in f64.
    pub fn norm(&self) -> f64 {
        self.values
            .iter()
            .flat_map(|v| v.iter())
            .map(|&x| {
                let x = x.f64();
                x * x
            })
            .sum::<f64>()
            .sqrt()
    }

    /// Index and name of the first tensor holding a non-finite value.
    pub fn first_non_finite(&self) -> Option<(usize, F)> {
        self.values
            .iter()
            .enumerate()
            .find_map(|(i, v)| v.iter().find(|x| !x.is_finite()).map(|&x| (i, x)))
    }

    /// Convert every tensor to another element type.
    pub fn cast<G: Scalar>(&self) -> Params<G> {
        Params {
            names: self.names.clone(),
            values: self.values.iter().map(|v| v.mapv(|x| G::of(x.f64()))).collect(),
        }
    }
}

impl<F: Scalar> Default for Params<F> {
    fn default() -> Self {
        Self::new()
    }
}
