//! `rnn-lab import SOURCE --out CKPT|RUN_DIR`: a PyTorch state_dict back into rnn-lab
//! (see [`crate::interop::import_dir`]).

use super::export::cli_error;
use super::CliError;
use crate::cli::ImportArgs;
use crate::interop::import_dir::{read, write, Written};
use crate::interop::layout::torch_module;

/// Read, save, and say how to open the result.
pub fn run(a: &ImportArgs) -> Result<(), CliError> {
    let imp = read(&a.source).map_err(cli_error)?;
    let written = write(&imp, &a.out, a.force).map_err(cli_error)?;
    let s = &imp.model.spec;
    let ckpt = match &written {
        Written::Checkpoint(p) => p.clone(),
        Written::RunDir(d) => d.join("latest.safetensors"),
    };
    eprintln!(
        "rnn-lab: imported {} ({} {}×{}, step {}) → {}",
        imp.weights.display(),
        torch_module(s.cell, s.gru_variant),
        s.layers,
        s.hidden,
        imp.step,
        match &written {
            Written::Checkpoint(p) => p.display().to_string(),
            Written::RunDir(d) => format!("run directory {}", d.display()),
        }
    );
    if !imp.had_config {
        eprintln!(
            "rnn-lab: note: no config.toml beside the state_dict; the checkpoint's experiment names `train.txt` as its data: edit [data] files before training on"
        );
    }
    println!("rnn-lab probe {} --text \"…\"", ckpt.display());
    if let Written::RunDir(d) = &written {
        println!(
            "TUI: rnn-lab, then r (runs), o {} (or select it under runs/), t continues it",
            d.display()
        );
    }
    Ok(())
}
