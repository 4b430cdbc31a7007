//! Generation one token at a time: feed the prime, then draw from softmax(z / T) (or the
//! argmax for T = 0, optionally restricted to the top k) and feed the draw back, until EOS or
//! the requested length. Seeded: the same seed gives the same text.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::nn::{Model, Scalar, Workspace, NO_INPUT};

/// Shown in place of a sample that ended at once (its first draw was `<eos>`), so that it
/// is not a blank line.
pub const EMPTY_SAMPLE: &str = "(empty: <eos> at once)";

/// `text` of a sample whose generated tokens were `ids`, or [`EMPTY_SAMPLE`] when none were.
pub fn or_empty_marker(text: String, ids: &[u32]) -> String {
    if ids.is_empty() {
        EMPTY_SAMPLE.to_string()
    } else {
        text
    }
}

/// Seed of a sample: the run's seed, the model's step and which draw at that step it is
/// (0 for the scheduled sample, 1, 2, … for each one asked for by hand), so that asking again
/// draws anew while a replayed session draws the same texts.
pub fn sample_seed(run_seed: u64, step: u64, draw: u64) -> u64 {
    run_seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ draw.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// One sample as text, from zero state: `prime` fed first (its unknown tokens counted and
/// returned), then up to `length` tokens drawn (stopping at `<eos>` when `lines`), decoded as
/// a continuation of the prime; [`EMPTY_SAMPLE`] when the first draw ended it.
pub fn sample_text<F: Scalar>(
    model: &Model<F>,
    vocab: &crate::data::Vocab,
    lines: bool,
    opts_no_stop: &SampleOpts,
    prime: &str,
    seed: u64,
) -> (String, usize) {
    let mut s = Sampler::new(model, seed);
    let (ids_in, unknown) = vocab.encode(prime);
    s.prime(&ids_in);
    let opts = SampleOpts {
        stop: if lines { vocab.eos() } else { None },
        ..*opts_no_stop
    };
    let ids = s.generate(&opts);
    let text = vocab.decode_after(ids_in.last().copied(), &ids);
    (or_empty_marker(text, &ids), unknown)
}

/// Settings of one generation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleOpts {
    /// Softmax temperature; 0 = greedy.
    pub temperature: f64,
    /// Keep the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Maximum tokens to generate.
    pub length: usize,
    /// Stop at this token (line-mode EOS); it is not included in the output.
    pub stop: Option<u32>,
}

/// A running generator: model state for batch 1 plus scratch, no allocation per token.
pub struct Sampler<'m, F> {
    model: &'m Model<F>,
    ws: Workspace<F>,
    probs: Vec<f64>,
    order: Vec<usize>,
    rng: ChaCha8Rng,
    /// Whether x⟨1⟩ = 0 (and any prime) has been fed.
    primed: bool,
}

impl<'m, F: Scalar> Sampler<'m, F> {
    /// A sampler starting from zero state and x⟨1⟩ = 0.
    pub fn new(model: &'m Model<F>, seed: u64) -> Self {
        let mut ws = model.workspace();
        ws.reset_state();
        // The model is borrowed for the sampler's life, so its weights cannot change: pack W_aa
        // once instead of reading it row by row at every token.
        ws.keep_packed_weights();
        Sampler {
            model,
            ws,
            probs: vec![0.0; model.spec.outputs],
            order: (0..model.spec.outputs).collect(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            primed: false,
        }
    }

    /// Restart from zero state.
    pub fn reset(&mut self) {
        self.ws.reset_state();
        self.primed = false;
    }

    /// Run one step on `input`; the logits of the next-token distribution are then in
    /// `self.logits()`.
    pub fn feed(&mut self, input: u32) {
        self.model.forward_layers(&[input], 1, 1, &[], &mut self.ws);
        self.model.forward_head(&mut self.ws);
        self.model.carry_state(&mut self.ws);
    }

    /// Logits after the last `feed`.
    pub fn logits(&self) -> &[F] {
        &self.ws.logits[..self.model.spec.outputs]
    }

    /// Feed a prime sequence (x⟨1⟩ = 0 first, then the tokens); the next draw continues it.
    pub fn prime(&mut self, tokens: &[u32]) {
        self.feed(NO_INPUT);
        for &t in tokens {
            self.feed(t);
        }
        self.primed = true;
    }

    /// Draw one token from the current logits.
    pub fn draw(&mut self, temperature: f64, top_k: usize) -> u32 {
        let z = &self.ws.logits[..self.model.spec.outputs];
        if temperature <= 0.0 {
            // Greedy: argmax (first on ties).
            let mut best = 0;
            for (i, v) in z.iter().enumerate() {
                if *v > z[best] {
                    best = i;
                }
            }
            return best as u32;
        }
        let n = z.len();
        let m = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.f64()));
        for (p, v) in self.probs.iter_mut().zip(z) {
            *p = ((v.f64() - m) / temperature).exp(); // softmax(z / T), unnormalised
        }
        if top_k > 0 && top_k < n {
            // Zero all but the k largest.
            let probs = &self.probs;
            self.order.sort_unstable_by(|&a, &b| probs[b].total_cmp(&probs[a]));
            for &i in &self.order[top_k..] {
                self.probs[i] = 0.0;
            }
        }
        let total: f64 = self.probs.iter().sum();
        let mut u = self.rng.random::<f64>() * total;
        for (i, p) in self.probs.iter().enumerate() {
            if u < *p {
                return i as u32;
            }
            u -= p;
        }
        (n - 1) as u32
    }

    /// Generate up to `opts.length` tokens after the prime (call `prime` first, or start
    /// from x⟨1⟩ = 0). Returns the generated ids without the stop token.
    pub fn generate(&mut self, opts: &SampleOpts) -> Vec<u32> {
        let mut out = Vec::with_capacity(opts.length);
        if !self.primed {
            self.feed(NO_INPUT);
            self.primed = true;
        }
        for _ in 0..opts.length {
            let tok = self.draw(opts.temperature, opts.top_k);
            if Some(tok) == opts.stop {
                break;
            }
            out.push(tok);
            self.feed(tok);
        }
        out
    }
}
