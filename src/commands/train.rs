//! `rnn-lab train` and `rnn-lab --headless`.

use super::CliError;
use crate::cli::{DivergenceArg, TrainArgs};
use crate::headless::{self, HeadlessError};
use crate::train::{OnDivergence, RunOptions};

/// Train headless.
pub fn run(a: &TrainArgs) -> Result<(), CliError> {
    if crate::w2v::experiment::is_word2vec_file(&a.experiment) {
        return super::w2v::experiment::run(a);
    }
    let exp = crate::config::load(&a.experiment).map_err(CliError::input)?;
    let time_limit = match a.minutes {
        Some(m) if m.is_finite() && m > 0.0 => Some(std::time::Duration::from_secs_f64(m * 60.0)),
        Some(m) => return Err(CliError::input(format!("--minutes {m}: must be a positive number"))),
        None => None,
    };
    if a.threads == Some(0) {
        return Err(CliError::input("--threads must be at least 1"));
    }
    if a.steps == Some(0) {
        return Err(CliError::input("--steps must be at least 1"));
    }
    let resume = match &a.resume {
        Some(r) => Some(super::loaded::checkpoint_arg(r, crate::train::rundir::Pick::Latest)?),
        None => None,
    };
    let opts = RunOptions {
        steps: a.steps,
        resume,
        out: Some(a.out.clone()),
        seed: a.seed,
        threads: a.threads,
        time_limit,
        on_divergence: match a.on_divergence {
            DivergenceArg::Stop => OnDivergence::Stop,
            DivergenceArg::LowerLr => OnDivergence::LowerLr {
                max_retries: a.max_retries,
            },
        },
        ..RunOptions::default()
    };
    let has_test = exp.task.is_language_model() && !exp.data.test.is_empty();
    let run_dir = headless::run(exp, opts, a.json).map_err(|e| match e {
        HeadlessError::Run(r) if r.is_input() => CliError::input(r),
        HeadlessError::Run(r) => CliError::other(r),
        HeadlessError::Diverged(m) => CliError::diverged(m),
        HeadlessError::Failed(m) => CliError::other(m),
    })?;
    // A language model with `[data] test` files: the final model's score on them.
    if let (true, Some(dir)) = (has_test, run_dir) {
        let l = super::loaded::open(&dir.join("latest.safetensors"))?;
        if let Some(r) = super::eval::score_test(&l)? {
            eprintln!("rnn-lab: test (final model): {}", r.line());
        }
    }
    Ok(())
}
