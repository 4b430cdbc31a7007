//! Running a task model over sequences and keeping its outputs: per step (tagging) or per
//! sequence, as probabilities (softmax heads) or values (regression).

use super::evaluate::length_batches;
use super::seqset::{empty_batch, Labels, SeqSet};
use crate::nn::{HeadKind, Model, NnError, Scalar, Score};

/// Outputs of one sequence: `[len, |Y|]` row-major for tagging, `[|Y|]` otherwise;
/// probabilities for softmax heads, values for regression.
pub type Outputs = Vec<f32>;

/// Softmax of a row in place (f64 inside): p_k = e^(z_k − max z) / Σ_j e^(z_j − max z).
pub fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let sum: f64 = z.iter().map(|&v| (f64::from(v) - m).exp()).sum();
    for v in z.iter_mut() {
        *v = ((f64::from(*v) - m).exp() / sum) as f32;
    }
}

/// The outputs of every sequence of `set`, in the set's order, `batch` at a time (sorted by
/// length), each sequence from a zero state.
///
/// # Errors
/// An [`NnError`] when the set does not fit the model.
pub fn predict<F: Scalar>(model: &Model<F>, set: &SeqSet, batch: usize) -> Result<Vec<Outputs>, NnError> {
    let y = model.spec.outputs;
    let mut out: Vec<Outputs> = vec![Vec::new(); set.len()];
    let mut b = empty_batch();
    let mut features = Vec::new();
    let mut ws = model.workspace();
    for idx in length_batches(set, batch) {
        set.fill_batch(&idx, &mut b, &mut features);
        ws.reset_state();
        model.forward(&b, Score::All, &mut ws)?;
        let rows = idx.len();
        for (r, &i) in idx.iter().enumerate() {
            let o = &mut out[i];
            match set.labels {
                Labels::PerStep(_) => {
                    for k in 0..set.seq_len(i) {
                        let row = (k * rows + r) * y;
                        let at = o.len();
                        o.extend(ws.logits[row..row + y].iter().map(|v| v.f64() as f32));
                        softmax_in_place(&mut o[at..]);
                    }
                }
                _ => {
                    o.extend(ws.logits[r * y..(r + 1) * y].iter().map(|v| v.f64() as f32));
                    if model.spec.head == HeadKind::SeqClassify {
                        softmax_in_place(o);
                    }
                }
            }
        }
    }
    Ok(out)
}
