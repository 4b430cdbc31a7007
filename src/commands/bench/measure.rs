//! `rnn-lab bench`: training throughput (forward + backward + clip + Adam) of a char-level
//! language model on random tokens, forward-only evaluation, and batch-1 sampling speed, with
//! peak memory and the arithmetic rate reached.
//!
//! Model FLOPs (the figure GFLOP/s is computed from, the same count for PyTorch in
//! bench/compare.py): per token and per layer and direction, 2·H·G·H for the recurrent product
//! and 2·X·G·H for the input product (X = E for an embedding, H·dirs above layer 0, and 0 for a
//! one-hot input, which is a row gather), plus 2·H·dirs·|V| for the head. Training counts each
//! product three times (forward, ∂input, ∂weights); evaluation and sampling once.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::infer::sample::Sampler;
use crate::nn::{Batch, CellKind, HeadKind, InputKind, Model, ModelSpec, Targets, NO_INPUT};
use crate::optim::{clip, OptimSpec, Optimizer};

/// What to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchMode {
    /// Training steps of B × T tokens.
    Train,
    /// Forward passes with loss over B × T tokens (evaluation), no backward.
    Eval,
    /// Batch-1 generation, one token at a time.
    Sample,
}

impl BenchMode {
    fn name(self) -> &'static str {
        match self {
            BenchMode::Train => "train",
            BenchMode::Eval => "eval",
            BenchMode::Sample => "sample",
        }
    }
}

/// Benchmark settings.
#[derive(Clone, Copy, Debug)]
pub struct BenchOpts {
    /// Cell.
    pub cell: CellKind,
    /// Hidden size.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Time steps per batch.
    pub seq: usize,
    /// Sequences per batch.
    pub batch: usize,
    /// Vocabulary (65 = tiny-shakespeare).
    pub vocab: usize,
    /// Embedding size E (None: one-hot input).
    pub embedding: Option<usize>,
    /// Bidirectional layers.
    pub bidirectional: bool,
    /// Masked batches of variable-length sequences (lengths drawn uniformly in [T/4, T]).
    pub variable_length: bool,
    /// Many-to-one classification into this many classes (None: a softmax at every step).
    pub classes: Option<usize>,
    /// Timed steps (train, eval) or tokens per repetition (sample).
    pub steps: usize,
    /// Untimed warm-up steps.
    pub warmup: usize,
    /// Train, eval or sample.
    pub mode: BenchMode,
    /// Threads: the batch is split into this many row shards, one per thread.
    pub threads: usize,
}

/// One benchmark result (one JSON line with `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// "train", "eval" or "sample".
    pub mode: &'static str,
    /// Cell name.
    pub cell: &'static str,
    /// Hidden size.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Time steps.
    pub seq: usize,
    /// Batch (1 for sampling).
    pub batch: usize,
    /// Vocabulary.
    pub vocab: usize,
    /// Embedding size (0 = one-hot input).
    pub embedding: usize,
    /// Bidirectional layers.
    pub bidirectional: bool,
    /// Masked variable-length batches.
    pub variable_length: bool,
    /// Classes of the many-to-one head (0: a softmax at every step).
    pub classes: usize,
    /// Threads (batch row shards).
    pub threads: usize,
    /// Parameters.
    pub params: usize,
    /// Tokens per second (real tokens, padding not counted): the median over timed steps
    /// (train, eval) or repetitions (sample) of tokens / seconds.
    pub tokens_per_sec: f64,
    /// Σ tokens / Σ seconds over the timed steps (what torch_charlm.py reports).
    pub tokens_per_sec_mean: f64,
    /// Median milliseconds per step (train, eval) or per token (sample).
    pub ms_median: f64,
    /// Model FLOPs per token (see the module doc).
    pub flop_per_token: f64,
    /// GFLOP/s reached at the median: flop_per_token × tokens_per_sec.
    pub gflops: f64,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: f64,
    /// Mean loss per token of the last step (sanity: ≈ ln 65 = 4.17 on random data).
    pub final_loss_per_token: f64,
}

/// Peak resident set size of this process in MiB (Linux VmHWM), 0 where unknown.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The model a benchmark times.
pub fn spec(o: &BenchOpts) -> ModelSpec {
    let mut s = ModelSpec::char_lm(o.cell, o.vocab, o.hidden, o.layers);
    s.bidirectional = o.bidirectional;
    if let Some(e) = o.embedding {
        s.input = InputKind::Embedding(e);
    }
    if let Some(k) = o.classes {
        s.head = HeadKind::SeqClassify;
        s.outputs = k;
    }
    s
}

/// Model FLOPs per token of one forward pass (see the module doc).
pub fn forward_flop_per_token(s: &ModelSpec) -> f64 {
    let (h, g, dirs) = (s.hidden as f64, s.cell.gates() as f64, s.dirs() as f64);
    let mut f = 0.0;
    for l in 0..s.layers {
        let x = match (l, s.input) {
            (0, InputKind::OneHot) => 0.0,
            _ => s.input_width(l) as f64,
        };
        f += dirs * (2.0 * h * g * h + 2.0 * x * g * h);
    }
    // A many-to-one head runs once per sequence, not per token: left out (it is 2·H·dirs·K
    // per sequence, under 1% of a sequence's products for the shapes benchmarked).
    match s.head {
        HeadKind::PerStep => f + 2.0 * h * dirs * s.outputs as f64,
        HeadKind::SeqClassify | HeadKind::SeqRegress => f,
    }
}

/// Random batches: tokens uniform over the vocabulary; with `variable_length`, row lengths
/// uniform in [T/4, T], padded at the end (mask 0, no input).
fn batches(o: &BenchOpts, rng: &mut ChaCha8Rng) -> Vec<Batch> {
    let (t_n, b_n) = (o.seq, o.batch);
    (0..8)
        .map(|_| {
            let n = t_n * b_n;
            let mut x: Vec<u32> = (0..n).map(|_| rng.random_range(0..o.vocab as u32)).collect();
            let y: Vec<u32> = (0..n).map(|_| rng.random_range(0..o.vocab as u32)).collect();
            let targets = match o.classes {
                Some(k) => Targets::Class((0..b_n).map(|_| rng.random_range(0..k as u32)).collect()),
                None => Targets::PerStep(y),
            };
            let mut b = Batch::dense(t_n, b_n, Vec::new(), targets);
            if o.variable_length {
                let lens: Vec<usize> = (0..b_n).map(|_| rng.random_range((t_n / 4).max(1)..=t_n)).collect();
                b.mask = (0..n).map(|i| u8::from(i / b_n < lens[i % b_n])).collect();
                for (xi, &m) in x.iter_mut().zip(&b.mask) {
                    if m == 0 {
                        *xi = NO_INPUT;
                    }
                }
            }
            b.inputs = x;
            b
        })
        .collect()
}

/// Run one benchmark.
pub fn run(o: &BenchOpts) -> Result<BenchResult, crate::nn::error::NnError> {
    let spec = spec(o);
    let fwd_flop = forward_flop_per_token(&spec);
    let mut model = Model::<f32>::new(spec, 1)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let params = model.param_count();
    let mut loss = 0.0;
    // (real tokens, seconds) of every timed step (sampling: of every repetition).
    let mut timed: Vec<(f64, f64)> = Vec::new();
    match o.mode {
        BenchMode::Train | BenchMode::Eval => {
            let batches = batches(o, &mut rng);
            let mut shards = crate::nn::Sharded::new(&model, o.threads);
            let mut grads = model.params.zeros_like();
            let mut opt = Optimizer::new(OptimSpec::adam(2e-3), &model.params)?;
            // A stream (truncated BPTT) carries the state from batch to batch; separate
            // sequences (variable length, bidirectional) start from zero every batch.
            let stream = !o.variable_length && !o.bidirectional;
            for i in 0..o.warmup + o.steps {
                let b = &batches[i % batches.len()];
                let t0 = Instant::now();
                let st = if o.mode == BenchMode::Train {
                    if !stream {
                        shards.reset_state();
                    }
                    // forward → zero_grad → backward (one shard per thread) → clip → update
                    let st = shards.forward_backward(&model, b, &mut grads)?;
                    clip(&mut grads, Some(5.0), None)?;
                    opt.step(&mut model.params, &grads);
                    if stream {
                        shards.carry_state(&model);
                    }
                    st
                } else {
                    // Evaluation as a run's validation does it (`trainer::mean_loss`): the rows
                    // split over the threads, forward only.
                    shards.reset_state();
                    shards.forward(&model, b)?
                };
                if i >= o.warmup {
                    // Real tokens (a classifier's loss counts sequences, not tokens).
                    let tokens = if b.mask.is_empty() {
                        b.steps * b.batch
                    } else {
                        b.mask.iter().filter(|&&m| m == 1).count()
                    };
                    timed.push((tokens as f64, t0.elapsed().as_secs_f64()));
                }
                loss = st.mean();
            }
        }
        BenchMode::Sample => {
            let mut s = Sampler::new(&model, 0);
            for rep in 0..o.warmup.max(1) + 5 {
                s.reset();
                let t0 = Instant::now();
                let mut tok = NO_INPUT;
                for _ in 0..o.steps {
                    s.feed(tok);
                    tok = s.draw(1.0, 0);
                }
                if rep >= o.warmup.max(1) {
                    timed.push((o.steps as f64, t0.elapsed().as_secs_f64()));
                }
            }
        }
    }
    let tokens_per_sec = median(&mut timed.iter().map(|&(n, t)| n / t).collect::<Vec<_>>());
    let mean = timed.iter().map(|x| x.0).sum::<f64>() / timed.iter().map(|x| x.1).sum::<f64>();
    let med = median(&mut timed.iter().map(|x| x.1).collect::<Vec<_>>());
    let flop_per_token = if o.mode == BenchMode::Train {
        3.0 * fwd_flop
    } else {
        fwd_flop
    };
    Ok(BenchResult {
        mode: o.mode.name(),
        cell: o.cell.name(),
        hidden: o.hidden,
        layers: o.layers,
        seq: if o.mode == BenchMode::Sample { 1 } else { o.seq },
        batch: if o.mode == BenchMode::Sample { 1 } else { o.batch },
        vocab: o.vocab,
        embedding: o.embedding.unwrap_or(0),
        bidirectional: o.bidirectional,
        variable_length: o.variable_length,
        classes: o.classes.unwrap_or(0),
        threads: o.threads,
        params,
        tokens_per_sec,
        tokens_per_sec_mean: mean,
        ms_median: 1000.0 * med
            / if o.mode == BenchMode::Sample {
                o.steps as f64
            } else {
                1.0
            },
        flop_per_token,
        gflops: flop_per_token * tokens_per_sec / 1e9,
        peak_rss_mib: peak_rss_mib(),
        final_loss_per_token: loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(mode: BenchMode) -> BenchOpts {
        BenchOpts {
            cell: CellKind::Lstm,
            hidden: 8,
            layers: 1,
            seq: 8,
            batch: 4,
            vocab: 65,
            embedding: None,
            bidirectional: false,
            variable_length: false,
            classes: None,
            steps: 2,
            warmup: 1,
            mode,
            threads: 2,
        }
    }

    /// The FLOP count worked out by hand for three shapes.
    #[test]
    fn flop_count_by_hand() {
        // One-hot LSTM H = 128: recurrent 2·128·512, no input product, head 2·128·65.
        let mut o = opts(BenchMode::Train);
        o.hidden = 128;
        assert_eq!(forward_flop_per_token(&spec(&o)), (2 * 128 * 512 + 2 * 128 * 65) as f64);
        // Embedding E = 16, 2 layers, GRU H = 10: recurrent 2·10·30 each, inputs 2·16·30 and 2·10·30.
        o.cell = CellKind::Gru;
        o.hidden = 10;
        o.layers = 2;
        o.embedding = Some(16);
        let want = 2 * (2 * 10 * 30) + 2 * 16 * 30 + 2 * 10 * 30 + 2 * 10 * 65;
        assert_eq!(forward_flop_per_token(&spec(&o)), want as f64);
        // Bidirectional RNN H = 4, 2 layers, one-hot: layer 1 reads both directions (X = 8).
        o.cell = CellKind::Rnn;
        o.hidden = 4;
        o.embedding = None;
        o.bidirectional = true;
        let want = 2 * (2 * 4 * 4) + 2 * (2 * 4 * 4 + 2 * 8 * 4) + 2 * 4 * 2 * 65;
        assert_eq!(forward_flop_per_token(&spec(&o)), want as f64);
    }

    /// Every mode runs on a tiny model; the loss on random tokens is near ln 65, and a masked
    /// batch counts only its real tokens.
    #[test]
    fn every_mode_runs_and_counts_real_tokens() {
        for mode in [BenchMode::Train, BenchMode::Eval, BenchMode::Sample] {
            let r = run(&opts(mode)).expect("bench");
            assert_eq!(r.mode, mode.name());
            assert!(r.tokens_per_sec > 0.0 && r.gflops > 0.0);
            if mode != BenchMode::Sample {
                assert!(
                    (r.final_loss_per_token - 65f64.ln()).abs() < 0.5,
                    "{}",
                    r.final_loss_per_token
                );
            }
        }
        let mut o = opts(BenchMode::Eval);
        o.variable_length = true;
        o.bidirectional = true;
        o.embedding = Some(5);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let bs = batches(&o, &mut rng);
        for b in &bs {
            let real = b.mask.iter().filter(|&&m| m == 1).count();
            assert!(real >= o.batch * (o.seq / 4) && real < o.seq * o.batch, "{real}");
            for t in 0..o.seq {
                for r in 0..o.batch {
                    // Padding only at the end of a row.
                    if t > 0 && b.mask[t * o.batch + r] == 1 {
                        assert_eq!(b.mask[(t - 1) * o.batch + r], 1);
                    }
                }
            }
        }
        let r = run(&o).expect("bench");
        assert!(r.final_loss_per_token.is_finite() && r.embedding == 5 && r.bidirectional);
        // A classifier: the loss is per sequence (near ln 7 on random labels), the rate counts
        // tokens, and the head is left out of the FLOP count.
        o.classes = Some(7);
        for mode in [BenchMode::Train, BenchMode::Eval] {
            o.mode = mode;
            let r = run(&o).expect("bench");
            assert_eq!(r.classes, 7);
            assert!(
                (r.final_loss_per_token - 7f64.ln()).abs() < 0.7,
                "{}",
                r.final_loss_per_token
            );
            let per_token = forward_flop_per_token(&spec(&o));
            assert_eq!(per_token, (2 * (2 * 8 * 32 + 2 * 5 * 32)) as f64);
        }
    }
}
