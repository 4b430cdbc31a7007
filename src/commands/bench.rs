//! `rnn-lab bench`.

pub mod measure;

use super::gradcheck::cells;
use super::CliError;
use crate::cli::{BenchArgs, BenchModeArg};
use measure::{run as bench_run, BenchMode, BenchOpts};

/// Run the benchmark(s) and print results.
pub fn run(a: &BenchArgs) -> Result<(), CliError> {
    if a.hidden == 0 || a.layers == 0 || a.seq == 0 || a.batch == 0 || a.steps == 0 {
        return Err(CliError::input(
            "--hidden, --layers, --seq, --batch and --steps must be at least 1",
        ));
    }
    let threads = a.threads.unwrap_or_else(default_threads).max(1);
    for cell in cells(a.cell) {
        let o = BenchOpts {
            cell,
            hidden: a.hidden,
            layers: a.layers,
            seq: a.seq,
            batch: a.batch,
            vocab: 65,
            steps: if a.mode == BenchModeArg::Sample && a.steps == 30 {
                2000
            } else {
                a.steps
            },
            warmup: 3,
            mode: if a.mode == BenchModeArg::Train {
                BenchMode::Train
            } else {
                BenchMode::Sample
            },
            threads,
        };
        let r = bench_run(&o).map_err(CliError::input)?;
        if a.json {
            println!("{}", serde_json::to_string(&r).map_err(CliError::other)?);
        } else {
            println!(
                "{:<6} {:<5} H={:<4} L={} T={:<3} B={:<3} threads={}  {:>10.0} tokens/s (median; mean {:.0})  {:.3} ms/{}  peak {:.0} MiB",
                r.mode,
                r.cell,
                r.hidden,
                r.layers,
                r.seq,
                r.batch,
                r.threads,
                r.tokens_per_sec,
                r.tokens_per_sec_mean,
                r.ms_median,
                if r.mode == "train" { "step" } else { "token" },
                r.peak_rss_mib
            );
        }
    }
    Ok(())
}

/// Threads used when none are asked for: the machine's available parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
