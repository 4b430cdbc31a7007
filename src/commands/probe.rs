//! `rnn-lab probe`: the probe views' data for a checkpoint, as JSON or a table.

pub mod print;

use super::loaded::open;
use super::CliError;
use crate::cli::ProbeArgs;
use crate::infer::probe::probe;

/// Probe a checkpoint on `--text`.
pub fn run(a: &ProbeArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    let (ids, unknown) = l.vocab.encode(&a.text);
    if unknown > 0 {
        eprintln!(
            "rnn-lab: warning: {unknown} token(s) of --text are not in the vocabulary ({}) and were {}",
            l.vocab.name_unknown(&a.text),
            l.vocab.unknown_fate()
        );
    }
    let vocab = &l.vocab;
    let report = probe(&l.model, &ids, l.step, &|t| vocab.display(t))
        .map_err(|e| CliError::input(format!("{}: {e}", l.path.display())))?;
    if a.json {
        println!("{}", print::to_json(&report));
    } else {
        print!("{}", print::to_text(&report, a.units));
    }
    Ok(())
}
