//! rnn-lab binary: parse the command line, dispatch, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use rnn_lab::cli::{Cli, Command};
use rnn_lab::commands::{self, CliError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The matrix-product thread pool reads this once, on first use.
    if let Some(Command::Bench(b)) = &cli.command {
        if let Some(t) = b.threads {
            std::env::set_var("MATMUL_NUM_THREADS", t.max(1).to_string());
        }
    }
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
        Some(Command::Gradcheck(a)) => commands::gradcheck::run(&a),
        Some(Command::Bench(a)) => commands::bench::run(&a),
        Some(_) | None => Err(CliError::other("this command is not wired yet")),
    }
}
