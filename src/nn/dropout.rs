//! Dropout during training: which connections lose units, and the masks of one pass.
//!
//! Places (each with its own rate; 0 = none):
//! - `input`: x⟨t⟩ entering layer 0 (the embedding vector, or the one-hot column);
//! - `hidden`: a⟨t⟩ of layer l entering layer l + 1 (between stacked layers);
//! - `output`: a⟨t⟩ of the top layer entering the head;
//! - `recurrent` (variational only): a⟨t−1⟩ entering the recurrent product W_aa (Gal &
//!   Ghahramani 2016) — never the memory path (LSTM c⟨t−1⟩, the GRU's interpolation);
//! - `embedding`: whole tokens — a token type's input (its embedding row, or its one-hot
//!   column) dropped for a whole sequence (Gal & Ghahramani 2016, §4.2).
//!
//! Kinds: **standard** (Zaremba, Sutskever & Vinyals 2014: a fresh mask at every time step, on
//! the non-recurrent connections only) and **variational** ("locked": one mask per sequence,
//! reused at every time step of the chunk). A kept unit is scaled by 1/(1 − p) (inverted
//! dropout), so evaluation runs the same network with no mask at all: a workspace without a
//! [`DropoutPass`] — every evaluation, sample and probe — applies none.
//!
//! Masks are a pure function of (key, place, batch row, time step, unit): the key comes from
//! (seed, step) ([`step_key`]) and the row is the row's index in the whole batch, so the masks do
//! not depend on how the batch is split across threads, and a resumed run draws the same masks
//! as an uninterrupted one. A pass keeps its masks in [`DropoutBufs`]; backward multiplies the
//! gradients by the same masks, and a gradient check that repeats the forward pass with the same
//! pass draws the same masks (masks held fixed).

use serde::{Deserialize, Serialize};

use super::batch::NO_INPUT;
use super::error::NnError;
use super::scalar::Scalar;

/// How masks vary over time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropoutKind {
    /// A new mask at every time step (Zaremba et al. 2014); no recurrent dropout.
    #[default]
    Standard,
    /// One mask per sequence, the same at every time step (Gal & Ghahramani 2016).
    Variational,
}

/// Dropout rates by place, each in [0, 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    /// Standard or variational masks.
    pub kind: DropoutKind,
    /// On x⟨t⟩ entering layer 0.
    pub input: f64,
    /// On a⟨t⟩ between stacked layers.
    pub hidden: f64,
    /// On the top layer's a⟨t⟩ entering the head.
    pub output: f64,
    /// Variational only: on a⟨t−1⟩ entering the recurrent product.
    pub recurrent: f64,
    /// Whole tokens: a token type's input dropped for a whole sequence.
    pub embedding: f64,
}

impl Dropout {
    /// No dropout anywhere.
    pub const NONE: Dropout = Dropout {
        kind: DropoutKind::Standard,
        input: 0.0,
        hidden: 0.0,
        output: 0.0,
        recurrent: 0.0,
        embedding: 0.0,
    };

    /// Whether any rate is above zero.
    pub fn is_active(&self) -> bool {
        self.rates().iter().any(|&(_, p)| p > 0.0)
    }

    fn rates(&self) -> [(&'static str, f64); 5] {
        [
            ("dropout_input", self.input),
            ("dropout_hidden", self.hidden),
            ("dropout_output", self.output),
            ("dropout_recurrent", self.recurrent),
            ("dropout_embedding", self.embedding),
        ]
    }

    /// Reject rates outside [0, 1) and recurrent dropout with standard masks.
    pub fn check(&self) -> Result<(), NnError> {
        for (field, p) in self.rates() {
            if !(0.0..1.0).contains(&p) {
                return Err(NnError::InvalidSpec {
                    field,
                    value: format!("{p}"),
                    why: "a dropout rate must be in [0, 1)",
                });
            }
        }
        if self.recurrent > 0.0 && self.kind != DropoutKind::Variational {
            return Err(NnError::InvalidSpec {
                field: "dropout_recurrent",
                value: format!("{}", self.recurrent),
                why: "recurrent dropout needs dropout_kind = \"variational\" (a new mask at every step would erase the memory)",
            });
        }
        Ok(())
    }
}

/// The dropout of one training pass over a batch (or a shard's rows of it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutPass {
    /// Rates and kind.
    pub dropout: Dropout,
    /// Key of this pass's masks ([`step_key`]).
    pub key: u64,
    /// Index of this workspace's first row in the whole batch.
    pub row0: usize,
}

/// The key of the masks of training step `step` of a run seeded with `seed`.
pub fn step_key(seed: u64, step: u64) -> u64 {
    mix(mix(seed ^ 0xD7A5_0E7C_3B1F_9A21) ^ step)
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Places, so masks of different places are independent.
mod place {
    pub const INPUT: u64 = 1;
    pub const TOKEN: u64 = 2;
    /// + layer·dirs + direction.
    pub const OUT: u64 = 1 << 16;
    /// + layer·dirs + direction.
    pub const REC: u64 = 2 << 16;
}

/// The stream of one mask row: (place, sequence, time step; `t = 0` for masks shared by every step).
#[inline]
fn row_seed(key: u64, place: u64, seq: u64, t: u64) -> u64 {
    mix(mix(mix(key ^ place) ^ seq) ^ t)
}

/// Fill `out` (`width` units) with a mask row: each unit 0 with probability p, else 1/(1 − p).
/// Unit j uses 32 bits of mix(seed + ⌊j/2⌋·γ): two units per 64-bit draw.
fn fill_row<F: Scalar>(out: &mut [F], seed: u64, p: f64) {
    let threshold = (p * 4_294_967_296.0) as u64; // dropped when u32 < p·2³²
    let keep = F::of(1.0 / (1.0 - p));
    for (i, pair) in out.chunks_mut(2).enumerate() {
        let z = mix(seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        for (k, v) in pair.iter_mut().enumerate() {
            let u = (z >> (32 * k)) & 0xFFFF_FFFF;
            *v = if u < threshold { F::zero() } else { keep };
        }
    }
}

/// One unit's keep factor (0 or 1/(1 − p)) from its own draw.
#[inline]
fn unit_factor(seed: u64, p: f64) -> f64 {
    let u = (mix(seed) >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0); // uniform in [0, 1)
    if u < p {
        0.0
    } else {
        1.0 / (1.0 - p)
    }
}

/// Masks of one layer and direction, and the masked values backward needs.
#[derive(Clone, Debug, Default)]
pub struct DirDrop<F> {
    /// Mask on this layer's output a⟨t⟩ `[R, H]` (empty: no dropout there).
    pub out_mask: Vec<F>,
    /// a⟨t⟩ ∗ out_mask `[R, H]`: what the layer above (or the head) reads.
    pub out: Vec<F>,
    /// Variational recurrent mask on a⟨t−1⟩ `[B, H]` (empty: none).
    pub rec_mask: Vec<F>,
    /// The recurrent product's input at every step, rec_mask ∗ a⟨t−1⟩, `[R, H]` in time order.
    pub rec_in: Vec<F>,
}

/// The masks of the last forward pass (when it had a [`DropoutPass`]).
#[derive(Clone, Debug, Default)]
pub struct DropoutBufs<F> {
    /// Whether the last forward pass applied dropout.
    pub active: bool,
    /// Per row `[R]`: the factor of the row's token input — whole-token dropout, and for one-hot
    /// input also input dropout at the token's unit (empty: none).
    pub token: Vec<F>,
    /// Embedding input: the mask on x⟨t⟩ `[R, E]` (empty: none).
    pub input: Vec<F>,
    /// Per layer and direction (`l · dirs + d`).
    pub dirs: Vec<DirDrop<F>>,
}

/// The shape of the pass the masks are drawn for.
pub struct Shape<'a> {
    /// Input tokens `[R]` (time-major).
    pub inputs: &'a [u32],
    /// Time steps T.
    pub steps: usize,
    /// Rows B.
    pub batch: usize,
    /// Hidden size H.
    pub hidden: usize,
    /// Layers L.
    pub layers: usize,
    /// Directions.
    pub dirs: usize,
    /// Embedding width E, or `None` for one-hot input.
    pub embedding: Option<usize>,
}

impl<F: Scalar> DropoutBufs<F> {
    /// Draw the masks of `pass` for a batch of `shape` (or switch dropout off with `None`).
    pub fn begin(&mut self, pass: Option<&DropoutPass>, s: &Shape<'_>) {
        let Some(pass) = pass.filter(|p| p.dropout.is_active()) else {
            self.active = false;
            return;
        };
        self.active = true;
        let d = &pass.dropout;
        let (b, h) = (s.batch, s.hidden);
        let rows = s.steps * b;
        let variational = d.kind == DropoutKind::Variational;
        // Row r = t·B + j is sequence row0 + j at step t; variational masks use t = 0 for all steps.
        let seq = |r: usize| (pass.row0 + r % b) as u64;
        let step = |r: usize| if variational { 0 } else { (r / b) as u64 + 1 };

        // Token factors: whole-token dropout (per sequence and token type), times input dropout
        // at the token's unit for one-hot input (a one-hot column has one non-zero unit).
        self.token.clear();
        let one_hot_input = s.embedding.is_none() && d.input > 0.0;
        if d.embedding > 0.0 || one_hot_input {
            self.token.reserve(rows);
            for (r, &tok) in s.inputs.iter().enumerate().take(rows) {
                let mut f = 1.0;
                if tok != NO_INPUT {
                    let tok = u64::from(tok);
                    if d.embedding > 0.0 {
                        f *= unit_factor(row_seed(pass.key, place::TOKEN, seq(r), 0) ^ mix(tok), d.embedding);
                    }
                    if one_hot_input {
                        f *= unit_factor(row_seed(pass.key, place::INPUT, seq(r), step(r)) ^ mix(tok), d.input);
                    }
                }
                self.token.push(F::of(f));
            }
        }
        self.input.clear();
        if let (Some(e), true) = (s.embedding, d.input > 0.0) {
            fill(&mut self.input, rows, b, e, variational, |r, row| {
                fill_row(row, row_seed(pass.key, place::INPUT, seq(r), step(r)), d.input)
            });
        }
        let n = s.layers * s.dirs;
        self.dirs.resize_with(n, DirDrop::default);
        for (i, dd) in self.dirs.iter_mut().enumerate() {
            let p = if i / s.dirs + 1 < s.layers { d.hidden } else { d.output };
            dd.out_mask.clear();
            if p > 0.0 {
                let pl = place::OUT + i as u64;
                fill(&mut dd.out_mask, rows, b, h, variational, |r, row| {
                    fill_row(row, row_seed(pass.key, pl, seq(r), step(r)), p)
                });
                if dd.out.len() < rows * h {
                    dd.out.resize(rows * h, F::zero());
                }
            }
            dd.rec_mask.clear();
            if variational && d.recurrent > 0.0 {
                let pl = place::REC + i as u64;
                dd.rec_mask.resize(b * h, F::zero());
                for (j, row) in dd.rec_mask.chunks_exact_mut(h).enumerate() {
                    fill_row(row, row_seed(pass.key, pl, (pass.row0 + j) as u64, 0), d.recurrent);
                }
                if dd.rec_in.len() < rows * h {
                    dd.rec_in.resize(rows * h, F::zero());
                }
            }
        }
    }

    /// The output of layer-direction `i` as the layer above (or the head) reads it: the masked
    /// copy when this pass dropped units there, else `a` itself.
    #[inline]
    pub fn output<'a>(&'a self, i: usize, a: &'a [F]) -> &'a [F] {
        match self.dirs.get(i) {
            Some(d) if self.active && !d.out_mask.is_empty() => &d.out,
            _ => a,
        }
    }

    /// Layer-direction `i`'s output mask, when this pass has one.
    #[inline]
    pub fn out_mask(&self, i: usize) -> Option<&[F]> {
        self.dirs
            .get(i)
            .filter(|d| self.active && !d.out_mask.is_empty())
            .map(|d| d.out_mask.as_slice())
    }

    /// Whether layer-direction `i` has a recurrent mask in this pass.
    #[inline]
    pub fn has_rec(&self, i: usize) -> bool {
        self.active && self.dirs.get(i).is_some_and(|d| !d.rec_mask.is_empty())
    }

    /// Per-row token factors `[R]`, when this pass has them.
    #[inline]
    pub fn token(&self) -> Option<&[F]> {
        (self.active && !self.token.is_empty()).then_some(self.token.as_slice())
    }

    /// The embedding-input mask `[R, E]`, when this pass has one.
    #[inline]
    pub fn input(&self) -> Option<&[F]> {
        (self.active && !self.input.is_empty()).then_some(self.input.as_slice())
    }

    /// out = a ∗ out_mask for layer-direction `i` over `n` values (after the layer's forward).
    pub fn apply_out(&mut self, i: usize, a: &[F], n: usize) {
        if let Some(d) = self.dirs.get_mut(i).filter(|d| !d.out_mask.is_empty()) {
            for ((o, &x), &m) in d.out[..n].iter_mut().zip(&a[..n]).zip(&d.out_mask[..n]) {
                *o = x * m;
            }
        }
    }
}

/// Fill a `[rows, width]` mask: every row from `row_fn`, or, for variational masks, the first B
/// rows (t = 0) copied to every later step.
fn fill<F: Scalar>(
    out: &mut Vec<F>,
    rows: usize,
    b: usize,
    width: usize,
    variational: bool,
    mut row_fn: impl FnMut(usize, &mut [F]),
) {
    out.clear();
    out.resize(rows * width, F::zero());
    let first = if variational { b.min(rows) } else { rows };
    for (r, row) in out.chunks_exact_mut(width).enumerate().take(first) {
        row_fn(r, row);
    }
    if variational {
        for r in b..rows {
            out.copy_within((r - b) * width..(r - b + 1) * width, r * width);
        }
    }
}

/// x ∗= m elementwise over the first `n` values.
#[inline]
pub fn mul_in_place<F: Scalar>(x: &mut [F], m: &[F], n: usize) {
    for (v, &k) in x[..n].iter_mut().zip(&m[..n]) {
        *v *= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(inputs: &[u32], steps: usize, batch: usize, embedding: Option<usize>) -> Shape<'_> {
        Shape {
            inputs,
            steps,
            batch,
            hidden: 64,
            layers: 2,
            dirs: 1,
            embedding,
        }
    }

    fn pass(kind: DropoutKind, p: f64, row0: usize) -> DropoutPass {
        DropoutPass {
            dropout: Dropout {
                kind,
                input: p,
                hidden: p,
                output: p,
                recurrent: if kind == DropoutKind::Variational { p } else { 0.0 },
                embedding: p,
            },
            key: step_key(7, 3),
            row0,
        }
    }

    /// Kept units are 1/(1 − p), dropped ones 0, and the dropped share is near p.
    #[test]
    fn masks_scale_kept_units_and_drop_about_p() {
        let inputs: Vec<u32> = (0..8 * 16).map(|i| i % 5).collect();
        for p in [0.1, 0.3, 0.5] {
            let mut bufs = DropoutBufs::<f64>::default();
            bufs.begin(
                Some(&pass(DropoutKind::Standard, p, 0)),
                &shape(&inputs, 8, 16, Some(32)),
            );
            let m = bufs.out_mask(0).expect("hidden mask");
            let keep = 1.0 / (1.0 - p);
            assert!(m.iter().all(|&v| v == 0.0 || (v - keep).abs() < 1e-12));
            let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64 / m.len() as f64;
            assert!((dropped - p).abs() < 0.02, "p {p}: dropped {dropped}");
            // E[m] = 1: inverted dropout keeps the expected activation.
            let mean = m.iter().sum::<f64>() / m.len() as f64;
            assert!((mean - 1.0).abs() < 0.05, "p {p}: mean {mean}");
        }
    }

    /// Variational masks are the same at every time step; standard masks are not.
    #[test]
    fn variational_masks_repeat_across_time_steps() {
        let (t, b, e) = (6, 4, 32);
        let inputs: Vec<u32> = (0..t * b).map(|i| (i % 3) as u32).collect();
        let mut v = DropoutBufs::<f64>::default();
        v.begin(
            Some(&pass(DropoutKind::Variational, 0.5, 0)),
            &shape(&inputs, t, b, Some(e)),
        );
        let mut s = DropoutBufs::<f64>::default();
        s.begin(
            Some(&pass(DropoutKind::Standard, 0.5, 0)),
            &shape(&inputs, t, b, Some(e)),
        );
        let (vin, sin) = (v.input().expect("input mask"), s.input().expect("input mask"));
        for step in 1..t {
            for j in 0..b {
                let row = |m: &[f64], tt: usize| m[(tt * b + j) * e..(tt * b + j + 1) * e].to_vec();
                assert_eq!(
                    row(vin, step),
                    row(vin, 0),
                    "variational input mask changes at t = {step}"
                );
                let vo = v.out_mask(0).expect("hidden mask");
                assert_eq!(
                    vo[(step * b + j) * 64..(step * b + j + 1) * 64],
                    vo[j * 64..(j + 1) * 64]
                );
            }
        }
        assert!((0..b).any(|j| sin[(b + j) * e..(b + j + 1) * e] != sin[j * e..(j + 1) * e]));
        // Different sequences get different masks.
        assert_ne!(vin[..e], vin[e..2 * e]);
        // The recurrent mask exists only for variational dropout, one row per sequence.
        assert!(v.has_rec(0) && !s.has_rec(0));
        assert_eq!(v.dirs[0].rec_mask.len(), b * 64);
    }

    /// Whole-token dropout: the same token type in the same sequence is kept or dropped
    /// together, at every step.
    #[test]
    fn token_dropout_drops_whole_token_types_per_sequence() {
        let (t, b) = (40, 3);
        let inputs: Vec<u32> = (0..t * b).map(|i| ((i * 7) % 4) as u32).collect();
        let mut bufs = DropoutBufs::<f64>::default();
        let mut p = pass(DropoutKind::Standard, 0.0, 0);
        p.dropout.embedding = 0.5;
        bufs.begin(Some(&p), &shape(&inputs, t, b, Some(8)));
        let tok = bufs.token().expect("token factors");
        for j in 0..b {
            for v in 0..4u32 {
                let fs: Vec<f64> = (0..t)
                    .map(|s| s * b + j)
                    .filter(|&r| inputs[r] == v)
                    .map(|r| tok[r])
                    .collect();
                assert!(fs.windows(2).all(|w| w[0] == w[1]), "row {j} token {v}: {fs:?}");
            }
        }
        assert!(tok.contains(&0.0) && tok.contains(&2.0));
    }

    /// A mask depends on the row's index in the whole batch, not on how the batch is cut.
    #[test]
    fn masks_do_not_depend_on_the_shard_cut() {
        let (t, b) = (3, 6);
        let inputs: Vec<u32> = (0..t * b).map(|i| (i % 5) as u32).collect();
        let mut whole = DropoutBufs::<f64>::default();
        whole.begin(Some(&pass(DropoutKind::Standard, 0.4, 0)), &shape(&inputs, t, b, None));
        // Rows 2..6 as a shard of their own.
        let sub: Vec<u32> = (0..t).flat_map(|s| inputs[s * b + 2..s * b + 6].to_vec()).collect();
        let mut part = DropoutBufs::<f64>::default();
        part.begin(Some(&pass(DropoutKind::Standard, 0.4, 2)), &shape(&sub, t, 4, None));
        for s in 0..t {
            for j in 0..4 {
                let (w, p) = ((s * b + 2 + j) * 64, (s * 4 + j) * 64);
                assert_eq!(
                    whole.out_mask(1).unwrap()[w..w + 64],
                    part.out_mask(1).unwrap()[p..p + 64]
                );
                assert_eq!(whole.token().unwrap()[s * b + 2 + j], part.token().unwrap()[s * 4 + j]);
            }
        }
    }

    #[test]
    fn no_pass_or_zero_rates_mean_no_masks() {
        let inputs = vec![0u32; 4];
        let mut bufs = DropoutBufs::<f32>::default();
        bufs.begin(None, &shape(&inputs, 2, 2, None));
        assert!(!bufs.active && bufs.output(0, &[1.0]) == [1.0]);
        let p = DropoutPass {
            dropout: Dropout::NONE,
            key: 1,
            row0: 0,
        };
        bufs.begin(Some(&p), &shape(&inputs, 2, 2, None));
        assert!(!bufs.active);
    }

    #[test]
    fn check_rejects_bad_rates_and_standard_recurrent() {
        assert!(Dropout {
            output: 1.0,
            ..Dropout::NONE
        }
        .check()
        .is_err());
        assert!(Dropout {
            input: -0.1,
            ..Dropout::NONE
        }
        .check()
        .is_err());
        assert!(Dropout {
            recurrent: 0.2,
            ..Dropout::NONE
        }
        .check()
        .is_err());
        let v = Dropout {
            kind: DropoutKind::Variational,
            recurrent: 0.2,
            ..Dropout::NONE
        };
        assert!(v.check().is_ok());
    }
}
