//! `rnn-lab bench`: training throughput (forward + backward + clip + Adam) of a char-level
//! language model on random tokens, and batch-1 sampling speed, with peak memory.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::infer::sample::Sampler;
use crate::nn::{Batch, CellKind, Model, ModelSpec, Targets};
use crate::optim::{clip, OptimSpec, Optimizer};

/// What to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchMode {
    /// Training steps of B × T tokens.
    Train,
    /// Batch-1 generation, one token at a time.
    Sample,
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
    /// Timed steps (train) or tokens per repetition (sample).
    pub steps: usize,
    /// Untimed warm-up steps.
    pub warmup: usize,
    /// Train or sample.
    pub mode: BenchMode,
    /// Threads: the batch is split into this many row shards, one per thread.
    pub threads: usize,
}

/// One benchmark result (one JSON line with `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// "train" or "sample".
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
    /// Threads (batch row shards).
    pub threads: usize,
    /// Parameters.
    pub params: usize,
    /// Tokens per second from the median step (train) or median repetition (sample).
    pub tokens_per_sec: f64,
    /// Tokens per second from the mean (what torch_charlm.py reports).
    pub tokens_per_sec_mean: f64,
    /// Median milliseconds per step (train) or per token (sample).
    pub ms_median: f64,
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

/// Run one benchmark.
pub fn run(o: &BenchOpts) -> Result<BenchResult, crate::nn::error::NnError> {
    let spec = ModelSpec::char_lm(o.cell, o.vocab, o.hidden, o.layers);
    let mut model = Model::<f32>::new(spec, 1)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let params = model.param_count();
    let mut loss = 0.0;
    let (mut times, tokens_per_unit) = match o.mode {
        BenchMode::Train => {
            let n = o.seq * o.batch;
            let batches: Vec<Batch> = (0..8)
                .map(|_| {
                    let x: Vec<u32> = (0..n).map(|_| rng.random_range(0..o.vocab as u32)).collect();
                    let y: Vec<u32> = (0..n).map(|_| rng.random_range(0..o.vocab as u32)).collect();
                    Batch::dense(o.seq, o.batch, x, Targets::PerStep(y))
                })
                .collect();
            let mut shards = crate::nn::Sharded::new(&model, o.threads);
            let mut grads = model.params.zeros_like();
            let mut opt = Optimizer::new(OptimSpec::adam(2e-3), &model.params)?;
            let mut times = Vec::with_capacity(o.steps);
            for i in 0..o.warmup + o.steps {
                let b = &batches[i % batches.len()];
                let t0 = Instant::now();
                // forward → zero_grad → backward (one shard per thread) → clip → update
                let st = shards.forward_backward(&model, b, &mut grads)?;
                clip(&mut grads, Some(5.0), None)?;
                opt.step(&mut model.params, &grads);
                shards.carry_state(&model);
                if i >= o.warmup {
                    times.push(t0.elapsed().as_secs_f64());
                }
                loss = st.mean();
            }
            (times, n as f64)
        }
        BenchMode::Sample => {
            let mut times = Vec::new();
            let mut s = Sampler::new(&model, 0);
            for rep in 0..o.warmup.max(1) + 5 {
                s.reset();
                let t0 = Instant::now();
                let mut tok = crate::nn::NO_INPUT;
                for _ in 0..o.steps {
                    s.feed(tok);
                    tok = s.draw(1.0, 0);
                }
                if rep >= o.warmup.max(1) {
                    times.push(t0.elapsed().as_secs_f64());
                }
            }
            (times, o.steps as f64)
        }
    };
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let med = median(&mut times);
    Ok(BenchResult {
        mode: if o.mode == BenchMode::Train { "train" } else { "sample" },
        cell: o.cell.name(),
        hidden: o.hidden,
        layers: o.layers,
        seq: if o.mode == BenchMode::Train { o.seq } else { 1 },
        batch: if o.mode == BenchMode::Train { o.batch } else { 1 },
        vocab: o.vocab,
        threads: o.threads,
        params,
        tokens_per_sec: tokens_per_unit / med,
        tokens_per_sec_mean: tokens_per_unit / mean,
        ms_median: 1000.0 * med
            / if o.mode == BenchMode::Train {
                1.0
            } else {
                o.steps as f64
            },
        peak_rss_mib: peak_rss_mib(),
        final_loss_per_token: loss,
    })
}
