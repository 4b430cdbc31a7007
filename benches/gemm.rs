//! The product kernel alone (`rnn_lab::nn::gemm::mat_mul_f32`), on one thread, on the three
//! shapes one LSTM training step spends most of its time in, for one shard of 16 batch rows
//! (B = 32 split over 2 threads) and T = 64:
//!
//! - forward recurrent product, every step: a⟨t−1⟩ `[16, H]` × W_aa `[H, 4H]` (packed once);
//! - backward recurrent product, every step: ∂pre `[16, 4H]` × W_aaᵀ `[4H, H]` (packed once);
//! - weight gradient, once per step: ∂W_aa = Aᵀ `[H, T·16]` × ∂Pre `[T·16, 4H]`, A read
//!   transposed in place.
//!
//! Criterion's throughput is in FLOP (2·M·K·N per product), so "elem/s" reads as FLOP/s; divide
//! by the one-thread FMA peak (`../shared/bench/fma_peak.c` with OMP_NUM_THREADS=1) for the
//! kernel's ceiling in docs/performance.md ("What bounds the large rows"):
//!
//!     /work/bin/cpu-exclusive cargo bench --bench gemm
//!
//! Tests assert no timings (CI is a loaded 2-core machine); this is where the kernel is watched.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use rnn_lab::nn::gemm::{mat_mul_f32, pack_panels, Panels};

/// Rows of one shard: B = 32 over 2 threads.
const ROWS: usize = 16;
/// Time steps of the benchmark's sequences.
const T: usize = 64;

/// A deterministic matrix with entries in [−0.5, 0.5) (no RNG: the values do not matter).
fn matrix(rows: usize, cols: usize, salt: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        (((i * 31 + j * 17 + salt * 7) % 101) as f32) / 101.0 - 0.5
    })
}

fn bench_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm_products");
    for &h in &[128usize, 256, 512] {
        let g = 4 * h;

        // Forward: [16, H] × packed W_aa [H, 4H].
        let a = matrix(ROWS, h, 1);
        let w = matrix(h, g, 2);
        let mut packed = Vec::new();
        pack_panels(&w.view(), &mut packed);
        let mut out = Array2::<f32>::zeros((ROWS, g));
        group.throughput(Throughput::Elements((2 * ROWS * h * g) as u64));
        group.bench_with_input(BenchmarkId::new("forward_step", h), &h, |bch, _| {
            let panels = Panels {
                data: &packed,
                k_total: h,
                k0: 0,
            };
            bch.iter(|| mat_mul_f32(&a.view(), &w.view(), panels, false, &mut out.view_mut()));
            black_box(&out);
        });

        // Backward: [16, 4H] × packed W_aaᵀ [4H, H].
        let d = matrix(ROWS, g, 3);
        let wt = w.t().to_owned();
        let mut packed_t = Vec::new();
        pack_panels(&wt.view(), &mut packed_t);
        let mut out_b = Array2::<f32>::zeros((ROWS, h));
        group.throughput(Throughput::Elements((2 * ROWS * g * h) as u64));
        group.bench_with_input(BenchmarkId::new("backward_step", h), &h, |bch, _| {
            let panels = Panels {
                data: &packed_t,
                k_total: g,
                k0: 0,
            };
            bch.iter(|| mat_mul_f32(&d.view(), &wt.view(), panels, false, &mut out_b.view_mut()));
            black_box(&out_b);
        });

        // Weight gradient over the whole sequence: Aᵀ [H, T·16] × ∂Pre [T·16, 4H].
        let acts = matrix(T * ROWS, h, 4);
        let dpre = matrix(T * ROWS, g, 5);
        let mut dw = Array2::<f32>::zeros((h, g));
        group.throughput(Throughput::Elements((2 * h * T * ROWS * g) as u64));
        group.bench_with_input(BenchmarkId::new("weight_gradient", h), &h, |bch, _| {
            bch.iter(|| mat_mul_f32(&acts.t(), &dpre.view(), Panels::none(), false, &mut dw.view_mut()));
            black_box(&dw);
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gemm);
criterion_main!(benches);
