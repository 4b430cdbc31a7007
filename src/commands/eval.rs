//! `rnn-lab eval`: cross-entropy (nats/token), bits/token, perplexity and token count with the
//! semantics of DESIGN.md section 2 (see `data::eval`).

use serde::Serialize;

use super::loaded::open;
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

/// Score a file.
pub fn run(a: &EvalArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    if l.task.is_some() {
        return super::eval_task::run(a, &l);
    }
    let Some(file) = &a.file else {
        return Err(CliError::input(format!(
            "{}: a language model is scored on a text file: rnn-lab eval CKPT FILE",
            l.path.display()
        )));
    };
    if l.model.spec.head != HeadKind::PerStep {
        return Err(CliError::input(format!(
            "{}: eval scores language models; this model has a sequence head",
            l.path.display()
        )));
    }
    let text = crate::data::files::read_text(file).map_err(CliError::input)?;
    let mode = l.exp.data.mode;
    let (batches, unknown) = eval_batches(&l.vocab, mode, &text, 32, l.exp.training.seq_len.max(64));
    if unknown > 0 {
        eprintln!(
            "rnn-lab: warning: {unknown} token(s) of {} are not in the vocabulary ({}) and were {}",
            file.display(),
            l.vocab.name_unknown(&text),
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
            "{}: nothing to score (fewer than 2 known tokens)",
            file.display()
        )));
    }
    let nats = sum / count as f64;
    let r = EvalResult {
        file: file.display().to_string(),
        nats_per_token: nats,
        bits_per_token: nats / std::f64::consts::LN_2,
        perplexity: nats.exp(),
        tokens: count,
        unknown,
        mode: format!("{mode:?}").to_lowercase(),
    };
    if a.json {
        println!("{}", serde_json::to_string(&r).map_err(CliError::other)?);
    } else {
        println!(
            "{}: {:.4} nats/token, {:.4} bits/token, perplexity {:.3}, {} tokens scored ({} mode{})",
            r.file,
            r.nats_per_token,
            r.bits_per_token,
            r.perplexity,
            r.tokens,
            r.mode,
            if unknown > 0 {
                format!(", {unknown} unknown")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
