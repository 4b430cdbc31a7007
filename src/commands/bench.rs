//! `rnn-lab bench`.

pub mod measure;

use super::gradcheck::cells;
use super::CliError;
use crate::cli::{BenchArgs, BenchModeArg};
use measure::{run as bench_run, BenchMode, BenchOpts};

/// Run the benchmark(s) and print results.
pub fn run(a: &BenchArgs) -> Result<(), CliError> {
    if a.hidden == 0
        || a.layers == 0
        || a.seq == 0
        || a.batch == 0
        || a.steps == 0
        || a.embedding == Some(0)
        || a.classes == Some(0)
    {
        return Err(CliError::input(
            "--hidden, --layers, --seq, --batch, --steps, --embedding and --classes must be at least 1",
        ));
    }
    if a.classes.is_some() && a.mode == BenchModeArg::Sample {
        return Err(CliError::input(
            "--classes cannot sample: a classifier has no next token to draw",
        ));
    }
    if a.bidirectional && a.mode == BenchModeArg::Sample {
        return Err(CliError::input(
            "--bidirectional cannot sample: a bidirectional model needs the future",
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
            embedding: a.embedding,
            bidirectional: a.bidirectional,
            variable_length: a.variable_length,
            classes: a.classes,
            steps: if a.mode == BenchModeArg::Sample && a.steps == 30 {
                2000
            } else {
                a.steps
            },
            warmup: 3,
            mode: match a.mode {
                BenchModeArg::Train => BenchMode::Train,
                BenchModeArg::Eval => BenchMode::Eval,
                BenchModeArg::Sample => BenchMode::Sample,
            },
            threads,
        };
        let r = bench_run(&o).map_err(CliError::input)?;
        if a.json {
            println!("{}", serde_json::to_string(&r).map_err(CliError::other)?);
        } else {
            let mut shape = String::new();
            if r.embedding > 0 {
                shape.push_str(&format!(" E={}", r.embedding));
            }
            if r.bidirectional {
                shape.push_str(" bi");
            }
            if r.variable_length {
                shape.push_str(" var-len");
            }
            if r.classes > 0 {
                shape.push_str(&format!(" classes={}", r.classes));
            }
            println!(
                "{:<6} {:<5} H={:<4} L={} T={:<3} B={:<3}{shape} threads={}  {:>10.0} tokens/s (median; mean {:.0})  {:.3} ms/{}  {:.1} GFLOP/s  peak {:.0} MiB",
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
                if r.mode == "sample" { "token" } else { "step" },
                r.gflops,
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
