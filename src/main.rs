//! rnn-lab binary: parse the command line, dispatch, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use rnn_lab::cli::{Cli, Command};
use rnn_lab::commands::{self, CliError};

fn main() -> ExitCode {
    // Behave like other command-line tools when piped into `head`: end quietly on a closed pipe.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnn-lab: error: {e}");
            ExitCode::from(e.code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Some(Command::Train(a)) => commands::train::run(&a),
        Some(Command::Sample(a)) => commands::sample::run(&a),
        Some(Command::Eval(a)) => commands::eval::run(&a),
        Some(Command::Predict(a)) => commands::predict::run(&a),
        Some(Command::Baseline(a)) => commands::baseline::run(&a),
        Some(Command::Suite(a)) => commands::suite::run(&a),
        Some(Command::Check(a)) => commands::check::run(&a),
        Some(Command::Schema) => commands::check::schema(),
        Some(Command::Probe(a)) => commands::probe::run(&a),
        Some(Command::Gradcheck(a)) => commands::gradcheck::run(&a),
        Some(Command::Bench(a)) => commands::bench::run(&a),
        Some(Command::Sweep(a)) => commands::sweep::run(&a),
        Some(Command::SweepPoint(a)) => commands::sweep::point(&a),
        Some(Command::Export(a)) => commands::export::run(&a),
        Some(Command::Import(a)) => commands::import::run(&a),
        Some(Command::W2v(a)) => commands::w2v::run(&a),
        None => match (cli.experiment, cli.headless) {
            (Some(exp), true) => commands::train::run(&rnn_lab::cli::TrainArgs {
                experiment: exp,
                steps: None,
                resume: None,
                out: "runs".into(),
                seed: None,
                json: false,
                threads: None,
                minutes: None,
                on_divergence: rnn_lab::cli::DivergenceArg::Stop,
                max_retries: 3,
            }),
            (None, true) => Err(CliError::input(
                "--headless needs an experiment file: rnn-lab --headless EXPERIMENT.toml",
            )),
            (exp, false) => commands::tui::run(exp),
        },
    }
}
