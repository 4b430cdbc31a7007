//! `rnn-lab probe`: the probe views' data for a checkpoint, as JSON or a table.

pub mod print;

use super::loaded::open;
use super::CliError;
use crate::cli::ProbeArgs;
use crate::infer::probe::{probe, probe_batch};
use crate::task::seqset::empty_batch;
use crate::train::task_ops::probe_sequence;

/// Probe a checkpoint on `--text`.
pub fn run(a: &ProbeArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    let report = match &l.task {
        Some(task) => {
            // A task model: `--text` is one input sequence, labelled with the model's own
            // predictions; the gradient norms are those of its loss (for a sequence head, of
            // the one output at the end).
            let (set, warnings) = probe_sequence(&l.model, task, &l.exp.task.source, &a.text);
            for w in &warnings {
                eprintln!("rnn-lab: warning: {w}");
            }
            let Some(set) = set else {
                return Err(CliError::input(format!(
                    "{}: --text: {}",
                    l.path.display(),
                    warnings.join("; ")
                )));
            };
            let mut batch = empty_batch();
            set.fill_batch(&[0], &mut batch, &mut Vec::new());
            let vocab = &task.vocab;
            let inputs = batch.inputs.clone();
            probe_batch(&l.model, &batch, l.step, &|t| vocab.display(inputs[t]), &|k| {
                task.labels.name(k).to_string()
            })
        }
        None => {
            let (ids, unknown) = l.vocab.encode(&a.text);
            if unknown > 0 {
                eprintln!(
                    "rnn-lab: warning: {unknown} token(s) of --text are not in the vocabulary ({}) and were {}",
                    l.vocab.name_unknown(&a.text),
                    l.vocab.unknown_fate()
                );
            }
            let vocab = &l.vocab;
            probe(&l.model, &ids, l.step, &|t| vocab.display(t))
        }
    }
    .map_err(|e| CliError::input(format!("{}: {e}", l.path.display())))?;
    if a.json {
        println!("{}", print::to_json(&report));
    } else {
        print!("{}", print::to_text(&report, a.units));
    }
    Ok(())
}
