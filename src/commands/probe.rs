//! `rnn-lab probe`: the probe views' data for a checkpoint, as JSON or a table.

pub mod print;

use super::loaded::{open, Loaded};
use super::CliError;
use crate::cli::ProbeArgs;
use crate::infer::probe::{probe, probe_batch, ProbeReport};
use crate::task::data::TaskData;
use crate::task::load::load_task;
use crate::task::seqset::empty_batch;
use crate::train::rundir::experiment_beside;
use crate::train::task_ops::{probe_sequence, probe_task_sequence};

/// Probe a checkpoint on `--text`, or a task model on a validation sequence.
pub fn run(a: &ProbeArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    let report = match (&l.task, &a.text) {
        (Some(task), Some(text)) => probe_task_text(&l, task, text)?,
        (Some(task), None) => probe_validation(&l, task, a.sequence.unwrap_or(0))?,
        (None, Some(text)) => {
            if a.sequence.is_some() {
                return Err(bad(
                    &l,
                    "--sequence is for task models; a language model is probed on --text",
                ));
            }
            let (ids, unknown) = l.vocab.encode(text);
            if unknown > 0 {
                eprintln!(
                    "rnn-lab: warning: {unknown} token(s) of --text are not in the vocabulary ({}) and were {}",
                    l.vocab.name_unknown(text),
                    l.vocab.unknown_fate()
                );
            }
            let vocab = &l.vocab;
            probe(&l.model, &ids, l.step, &|t| vocab.display(t)).map_err(|e| bad(&l, &e.to_string()))?
        }
        (None, None) => return Err(bad(&l, "a language model is probed on a text: give --text")),
    };
    if a.json {
        println!("{}", print::to_json(&report));
    } else {
        print!("{}", print::to_text(&report, a.units));
    }
    Ok(())
}

/// Bad input about the checkpoint: one line naming it.
fn bad(l: &Loaded, what: &str) -> CliError {
    CliError::input(format!("{}: {what}", l.path.display()))
}

/// A task model on `--text`: one input sequence, labelled with the model's own predictions;
/// the gradient norms are those of its loss (for a sequence head, of the one output at the end).
fn probe_task_text(l: &Loaded, task: &TaskData, text: &str) -> Result<ProbeReport, CliError> {
    let (set, warnings) = probe_sequence(&l.model, task, &l.exp.task.source, text);
    for w in &warnings {
        eprintln!("rnn-lab: warning: {w}");
    }
    let Some(set) = set else {
        return Err(bad(
            l,
            &format!(
                "--text: {} (leave --text out to probe a validation sequence)",
                warnings.join("; ")
            ),
        ));
    };
    let mut batch = empty_batch();
    set.fill_batch(&[0], &mut batch, &mut Vec::new());
    let vocab = &task.vocab;
    let inputs = batch.inputs.clone();
    probe_batch(&l.model, &batch, l.step, &|t| vocab.display(inputs[t]), &|k| {
        task.labels.name(k).to_string()
    })
    .map_err(|e| bad(l, &e.to_string()))
}

/// A task model on validation sequence `i` with its true labels, read from the experiment's
/// data (the run's `config.toml` beside the checkpoint, else the checkpoint's own) as the TUI's
/// `p` does; dense inputs (the adding problem's pairs) show as their values.
fn probe_validation(l: &Loaded, task: &TaskData, i: usize) -> Result<ProbeReport, CliError> {
    let exp = experiment_beside(&l.path, &l.exp);
    let data = load_task(&exp).map_err(|e| bad(l, &format!("cannot read the validation data to probe: {e}")))?;
    if data.vocab.tokens() != task.vocab.tokens() || data.labels.names() != task.labels.names() {
        return Err(bad(
            l,
            "the experiment's data differs from the checkpoint's (the data changed since): probe a --text instead",
        ));
    }
    let n = data.valid.len();
    if i >= n {
        return Err(bad(
            l,
            &format!("--sequence {i}: the validation data has {n} sequence(s)"),
        ));
    }
    probe_task_sequence(&l.model, &data, &data.valid, i, l.step).map_err(|e| bad(l, &e.to_string()))
}
