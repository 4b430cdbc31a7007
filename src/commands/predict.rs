//! `rnn-lab predict CKPT FILE [--json]`: a task model's outputs for every sequence of a file.
//!
//! - Tagging: a column file back, `token<TAB>tag<TAB>p` per line, a blank line between
//!   sentences; JSON `{"tokens": [...], "tags": [...], "p": [...]}` per sentence.
//! - Classification: `class<TAB>p<TAB>text` per line, with the next two classes;
//!   JSON `{"text", "class", "p", "probs": {class: p, ...}}`.
//! - Regression: `value<TAB>text` per line; JSON `{"text", "value"}`.

use serde_json::json;

use super::loaded::open;
use super::CliError;
use crate::cli::PredictArgs;
use crate::task::input::read_for_predict;
use crate::task::metrics::argmax;
use crate::task::predict::predict;
use crate::task::TaskKind;

/// Predict every sequence of the file.
pub fn run(a: &PredictArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    let Some(task) = &l.task else {
        return Err(CliError::input(format!(
            "{}: this is a language model; predict runs tagging, classification and regression models (use rnn-lab sample or eval)",
            a.checkpoint.display()
        )));
    };
    let text = crate::data::files::read_text(&a.file).map_err(CliError::input)?;
    let read = read_for_predict(&l.exp, task, &text, &a.file).map_err(CliError::input)?;
    if read.unknown > 0 {
        eprintln!(
            "rnn-lab: warning: {} token(s) of {} are not in the vocabulary and were mapped to <unk>",
            read.unknown,
            a.file.display()
        );
    }
    let outs = predict(&l.model, &read.set, 128).map_err(CliError::other)?;
    let y = l.model.spec.outputs;
    let name = |k: usize| task.labels.name(k as u32).to_string();
    let mut out = String::new();
    for ((tokens, text), o) in read.tokens.iter().zip(&read.texts).zip(&outs) {
        match task.kind {
            TaskKind::Tagging => {
                let best: Vec<usize> = o.chunks(y).map(argmax).collect();
                if a.json {
                    let tags: Vec<String> = best.iter().map(|&k| name(k)).collect();
                    let p: Vec<f32> = o.chunks(y).zip(&best).map(|(r, &k)| r[k]).collect();
                    out.push_str(&json!({"tokens": tokens, "tags": tags, "p": p}).to_string());
                    out.push('\n');
                } else {
                    for ((tok, r), &k) in tokens.iter().zip(o.chunks(y)).zip(&best) {
                        out.push_str(&format!("{tok}\t{}\t{:.3}\n", name(k), r[k]));
                    }
                    out.push('\n');
                }
            }
            TaskKind::Classification => {
                let mut order: Vec<usize> = (0..y).collect();
                order.sort_by(|&i, &j| o[j].total_cmp(&o[i]));
                if a.json {
                    let probs: serde_json::Map<String, serde_json::Value> =
                        order.iter().map(|&k| (name(k), json!(o[k]))).collect();
                    out.push_str(
                        &json!({"text": text, "class": name(order[0]), "p": o[order[0]], "probs": probs}).to_string(),
                    );
                    out.push('\n');
                } else {
                    let next: Vec<String> = order
                        .iter()
                        .skip(1)
                        .take(2)
                        .map(|&k| format!("{} {:.3}", name(k), o[k]))
                        .collect();
                    out.push_str(&format!(
                        "{}\t{:.3}\t{text}\t(next: {})\n",
                        name(order[0]),
                        o[order[0]],
                        next.join(", ")
                    ));
                }
            }
            _ => {
                if a.json {
                    out.push_str(&json!({"text": text, "value": o.first()}).to_string());
                    out.push('\n');
                } else {
                    out.push_str(&format!("{:.6}\t{text}\n", o.first().copied().unwrap_or(f32::NAN)));
                }
            }
        }
    }
    print!("{out}");
    Ok(())
}
