//! `rnn-lab eval`: cross-entropy (nats/token), bits/token, perplexity and token count with the
//! semantics of DESIGN.md section 2 (see `data::eval`).

use serde::Serialize;

use super::loaded::{open, Loaded};
use super::CliError;
use crate::cli::EvalArgs;
use crate::data::eval_batches;
use crate::nn::{HeadKind, Score};

/// One evaluation result.
#[derive(Debug, Serialize)]
pub struct EvalResult {
    /// File scored.
    pub file: String,
    /// Mean cross-entropy per scored token, nats.
    pub nats_per_token: f64,
    /// Same in bits.
    pub bits_per_token: f64,
    /// e^(nats per token).
    pub perplexity: f64,
    /// Tokens scored.
    pub tokens: usize,
    /// Tokens not in the vocabulary (mapped to `<unk>` or dropped).
    pub unknown: usize,
    /// "stream" or "lines".
    pub mode: String,
}

/// Score a file, or, without one, the experiment's `[data] test` files.
pub fn run(a: &EvalArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    if l.task.is_some() {
        return super::eval_task::run(a, &l);
    }
    let r = match &a.file {
        Some(file) => {
            let text = crate::data::files::read_text(file).map_err(CliError::input)?;
            score(&l, &file.display().to_string(), &text)?
        }
        None => score_test(&l)?.ok_or_else(|| {
            CliError::input(format!(
                "{}: a language model is scored on a text file: rnn-lab eval CKPT FILE \
                 (or give [data] test = [\"test.txt\"] in the experiment)",
                l.path.display()
            ))
        })?,
    };
    if a.json {
        println!("{}", serde_json::to_string(&r).map_err(CliError::other)?);
    } else {
        println!("{}", r.line());
    }
    Ok(())
}

/// Score a language-model checkpoint on its experiment's `[data] test` files, read as one text
/// (in order, a `\n` between files); `None` when the experiment has none. The experiment is the
/// run's `config.toml` beside the checkpoint (data paths relative to the run directory) when it
/// is the same experiment, else the checkpoint's own.
///
/// # Errors
/// Bad input naming the file: a test entry that matches no file, an unreadable file.
pub fn score_test(l: &Loaded) -> Result<Option<EvalResult>, CliError> {
    let beside = crate::train::rundir::experiment_beside(&l.path, &l.exp);
    let exp = &beside;
    if exp.data.test.is_empty() {
        return Ok(None);
    }
    let files = exp.resolve_patterns(&exp.data.test).map_err(CliError::input)?;
    let mut text = String::new();
    for f in &files {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&crate::data::files::read_text(f).map_err(CliError::input)?);
    }
    // Named by the canonical path: a run directory's config reaches shared data through `..`
    // (runs/x/../../data/…), which is right but unreadable in a report.
    let name = files
        .iter()
        .map(|f| {
            std::fs::canonicalize(f)
                .unwrap_or_else(|_| f.clone())
                .display()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(" + ");
    score(l, &name, &text).map(Some)
}

impl EvalResult {
    /// The one-line human-readable form (perplexity first for word-level models, where it is
    /// the usual figure).
    pub fn line(&self) -> String {
        let unknown = if self.unknown > 0 {
            format!(", {} unknown", self.unknown)
        } else {
            String::new()
        };
        format!(
            "{}: {:.4} nats/token, {:.4} bits/token, perplexity {:.3}, {} tokens scored ({} mode{unknown})",
            self.file, self.nats_per_token, self.bits_per_token, self.perplexity, self.tokens, self.mode,
        )
    }
}

/// Score `text` (named `name` in messages) with the semantics of `data::eval`: stream mode one
/// sequence, the state carried through it; lines mode each line from a zero state.
///
/// # Errors
/// A model that is not a language model; nothing to score.
pub fn score(l: &Loaded, name: &str, text: &str) -> Result<EvalResult, CliError> {
    if l.model.spec.head != HeadKind::PerStep {
        return Err(CliError::input(format!(
            "{}: eval scores language models; this model has a sequence head",
            l.path.display()
        )));
    }
    let mode = l.exp.data.mode;
    let (batches, unknown) = eval_batches(&l.vocab, mode, text, 32, l.exp.training.seq_len.max(64));
    if unknown > 0 {
        eprintln!(
            "rnn-lab: warning: {unknown} token(s) of {name} are not in the vocabulary ({}) and were {}",
            l.vocab.name_unknown(text),
            if l.vocab.unk().is_some() {
                "mapped to <unk> and scored"
            } else {
                "dropped (the vocabulary has no <unk>)"
            }
        );
    }
    let mut ws = l.model.workspace();
    let (mut sum, mut count) = (0.0, 0usize);
    for (b, reset) in &batches {
        if *reset {
            ws.reset_state();
        }
        let st = l.model.forward(b, Score::All, &mut ws).map_err(CliError::other)?;
        sum += st.sum;
        count += st.count;
        l.model.carry_state(&mut ws);
    }
    if count == 0 {
        return Err(CliError::input(format!(
            "{name}: nothing to score (fewer than 2 known tokens)"
        )));
    }
    let nats = sum / count as f64;
    Ok(EvalResult {
        file: name.to_string(),
        nats_per_token: nats,
        bits_per_token: nats / std::f64::consts::LN_2,
        perplexity: nats.exp(),
        tokens: count,
        unknown,
        mode: format!("{mode:?}").to_lowercase(),
    })
}
