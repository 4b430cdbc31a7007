//! Conversion between the internal fused layout and the checkpoint tensor names of the notes.
//!
//! Internally a layer's W is `[H + X, G·H]` (input-major, gate blocks side by side) so that
//! one product computes every gate. Checkpoints store each gate as the notes write it:
//! `w_g` `[H, H + X]` acting on the column [a⟨t−1⟩; x⟨t⟩], bias `b_g` `[H]`; the head as
//! `head.w_y` `[|Y|, H·dirs]`, `head.b_y` `[|Y|]` (no `head.w_y` with tied weights: the head
//! reads `embed.weight`).

use std::collections::HashMap;

use super::model::Model;
use super::scalar::Scalar;

/// A named tensor in checkpoint layout (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor<F> {
    /// Checkpoint name, e.g. `layers.0.fwd.w_u`.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<F>,
}

/// Where a checkpoint tensor lives in the internal parameter list.
enum Piece {
    /// The whole tensor, same layout.
    Whole(usize),
    /// Whole tensor transposed (`head.w_y`).
    Transposed(usize),
    /// Column block [lo, hi) of a `[rows, G·H]` tensor, transposed to `[hi − lo, rows]`.
    BlockT(usize, usize, usize),
    /// Column block [lo, hi) of a `[1, G·H]` bias, as a vector.
    BiasBlock(usize, usize, usize),
    /// A `[1, n]` bias as a vector.
    Vector(usize),
}

impl<F: Scalar> Model<F> {
    fn pieces(&self) -> Vec<(String, Piece)> {
        let h = self.spec.hidden;
        let dirs = self.spec.dirs();
        let mut out = Vec::new();
        if let Some(e) = self.embed {
            out.push(("embed.weight".to_string(), Piece::Whole(e)));
        }
        for (i, dp) in self.dirs.iter().enumerate() {
            let (l, d) = (i / dirs, i % dirs);
            let p = format!("layers.{l}.{}", if d == 0 { "fwd" } else { "bwd" });
            for (k, g) in self.cell.block_names().iter().enumerate() {
                out.push((format!("{p}.w_{g}"), Piece::BlockT(dp.w, k * h, (k + 1) * h)));
                out.push((format!("{p}.b_{g}"), Piece::BiasBlock(dp.b, k * h, (k + 1) * h)));
            }
            if let Some(bhn) = dp.b_hn {
                out.push((format!("{p}.b_hn"), Piece::Vector(bhn)));
            }
        }
        if !self.spec.tie_weights {
            // Tied weights: the head's matrix is `embed.weight` (one tensor, listed once).
            out.push(("head.w_y".to_string(), Piece::Transposed(self.head_w)));
        }
        out.push(("head.b_y".to_string(), Piece::Vector(self.head_b)));
        out
    }

    /// Every parameter in checkpoint names and layouts, in a fixed order.
    pub fn export(&self) -> Vec<NamedTensor<F>> {
        self.export_from(&self.params)
    }

    /// Same layout for another list shaped like the parameters (optimizer state, gradients).
    pub fn export_from(&self, src: &super::Params<F>) -> Vec<NamedTensor<F>> {
        self.pieces()
            .into_iter()
            .map(|(name, piece)| {
                let (shape, data) = match piece {
                    Piece::Whole(i) => {
                        let v = &src.values[i];
                        (vec![v.nrows(), v.ncols()], v.iter().copied().collect())
                    }
                    Piece::Transposed(i) => {
                        let v = &src.values[i];
                        (vec![v.ncols(), v.nrows()], v.t().iter().copied().collect())
                    }
                    Piece::BlockT(i, lo, hi) => {
                        let v = src.values[i].slice(ndarray::s![.., lo..hi]);
                        (vec![hi - lo, v.nrows()], v.t().iter().copied().collect())
                    }
                    Piece::BiasBlock(i, lo, hi) => (
                        vec![hi - lo],
                        src.values[i].row(0).iter().skip(lo).take(hi - lo).copied().collect(),
                    ),
                    Piece::Vector(i) => (vec![src.values[i].ncols()], src.values[i].iter().copied().collect()),
                };
                NamedTensor { name, shape, data }
            })
            .collect()
    }

    /// Fill a list shaped like the parameters from checkpoint tensors. Errors name the first
    /// missing tensor or wrong shape; extra tensors are ignored by the caller's choice.
    pub fn import_into(
        &self,
        dst: &mut super::Params<F>,
        tensors: &HashMap<String, (Vec<usize>, Vec<F>)>,
    ) -> Result<(), String> {
        for (name, piece) in self.pieces() {
            let (shape, data) = tensors
                .get(&name)
                .ok_or_else(|| format!("tensor `{name}` is missing"))?;
            let expect: Vec<usize> = match &piece {
                Piece::Whole(i) => vec![dst.values[*i].nrows(), dst.values[*i].ncols()],
                Piece::Transposed(i) => vec![dst.values[*i].ncols(), dst.values[*i].nrows()],
                Piece::BlockT(i, lo, hi) => vec![hi - lo, dst.values[*i].nrows()],
                Piece::BiasBlock(_, lo, hi) => vec![hi - lo],
                Piece::Vector(i) => vec![dst.values[*i].ncols()],
            };
            if *shape != expect || data.len() != expect.iter().product::<usize>() {
                return Err(format!("tensor `{name}` has shape {shape:?}, expected {expect:?}"));
            }
            match piece {
                Piece::Whole(i) => dst.values[i].iter_mut().zip(data).for_each(|(d, &s)| *d = s),
                Piece::Transposed(i) => dst.values[i]
                    .view_mut()
                    .reversed_axes()
                    .iter_mut()
                    .zip(data)
                    .for_each(|(d, &s)| *d = s),
                Piece::BlockT(i, lo, hi) => {
                    let v = dst.values[i].slice_mut(ndarray::s![.., lo..hi]);
                    v.reversed_axes().iter_mut().zip(data).for_each(|(d, &s)| *d = s);
                }
                Piece::BiasBlock(i, lo, hi) => dst.values[i]
                    .row_mut(0)
                    .iter_mut()
                    .skip(lo)
                    .take(hi - lo)
                    .zip(data)
                    .for_each(|(d, &s)| *d = s),
                Piece::Vector(i) => dst.values[i].iter_mut().zip(data).for_each(|(d, &s)| *d = s),
            }
        }
        Ok(())
    }
}
