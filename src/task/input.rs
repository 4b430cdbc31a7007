//! Reading a file for a trained task model: `rnn-lab eval` (with the gold labels, in the task's
//! own format) and `rnn-lab predict` (inputs only).
//!
//! | task | eval reads | predict reads |
//! |---|---|---|
//! | tagging from column files | a column file with tags | a column file (the token column; other columns ignored) |
//! | classification / regression, `labelled` | `label<TAB>text` lines | one text per line (a `label<TAB>` prefix is ignored) |
//! | classification, `class_files` | one class file (its stem is the label) | one text per line |
//! | generated, symbols | — (eval draws the solved test) | one sequence of the alphabet's symbols per line |
//! | generated, real values (adding) | — | one sequence per line: `value,marker` pairs separated by spaces |

use std::path::Path;

use super::data::{FileFormat, TaskData, TaskInfo};
use super::encode::{push_text, token_id, LabelSet, UnknownWords};
use super::readers::labelled::class_of;
use super::readers::{read_class_file, read_columns, read_labelled};
use super::seqset::{Labels, SeqSet};
use super::{TaskError, TaskKind};
use crate::config::{Experiment, TaskSource};
use crate::data::Vocab;

/// A task model's task, rebuilt from its checkpoint (no training data).
pub fn task_of(exp: &Experiment, info: &TaskInfo, vocab: Vocab) -> TaskData {
    let labels = |kind| match kind {
        TaskKind::Tagging => Labels::PerStep(Vec::new()),
        TaskKind::Regression => Labels::Real {
            outputs: 1,
            values: Vec::new(),
        },
        _ => Labels::Class(Vec::new()),
    };
    let empty = match info.dense {
        Some(w) => SeqSet::dense(w, &labels(info.kind)),
        None => SeqSet::tokens(&labels(info.kind)),
    };
    TaskData {
        kind: info.kind,
        vocab,
        dense: info.dense,
        labels: LabelSet::new(info.labels.clone()),
        chunks: info.chunks,
        train: empty.clone(),
        valid: empty,
        test: None,
        generator: match &exp.task.source {
            TaskSource::Generated { generator, .. } => Some(generator.clone()),
            _ => None,
        },
        unknown: 0,
        files: Vec::new(),
    }
}

/// What was read: the sequences, each one's text for display, and the unknown tokens.
#[derive(Clone, Debug)]
pub struct Read {
    /// The sequences (placeholder labels when read for prediction).
    pub set: SeqSet,
    /// Per sequence, its tokens as written (one entry per step).
    pub tokens: Vec<Vec<String>>,
    /// Per sequence, its text as written (column files: the tokens joined by spaces).
    pub texts: Vec<String>,
    /// Tokens outside the vocabulary.
    pub unknown: usize,
}

fn unknown_words(exp: &Experiment) -> UnknownWords {
    match &exp.task.source {
        TaskSource::Files { unknown_words, .. } => *unknown_words,
        _ => UnknownWords::Unk,
    }
}

fn format_of(exp: &Experiment) -> Option<FileFormat> {
    match &exp.task.source {
        TaskSource::Files { format, .. } => Some(*format),
        _ => None,
    }
}

fn text_tokens(task: &TaskData, text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    task.vocab.encode_line_into(text.trim(), &mut ids);
    ids.iter().map(|&i| task.vocab.display(i)).collect()
}

/// The display text of each sequence: the raw lines where there are some, else the tokens
/// joined (characters without separator, words and dense steps with spaces).
fn texts_of(tokens: &[Vec<String>], task: &TaskData) -> Vec<String> {
    tokens
        .iter()
        .map(|t| {
            if task.vocab.level == crate::config::Level::Char && task.dense.is_none() {
                t.concat()
            } else {
                t.join(" ")
            }
        })
        .collect()
}

fn unknown_label(file: &str, line: usize, label: &str, task: &TaskData) -> TaskError {
    TaskError::UnknownLabel {
        file: file.to_string(),
        line,
        label: label.to_string(),
        known: task.labels.len(),
    }
}

/// Read `text` (the file `path`) with its gold labels for `rnn-lab eval`.
///
/// # Errors
/// A located [`TaskError`]: the file's own format errors, a label the model does not know, a
/// regression target that is not a number; generated tasks read no file.
pub fn read_for_eval(exp: &Experiment, task: &TaskData, text: &str, path: &Path) -> Result<Read, TaskError> {
    let file = path.display().to_string();
    let mut set = SeqSet::tokens(&task.valid.labels);
    let mut tokens = Vec::new();
    let mut raw_texts: Vec<String> = Vec::new();
    let mut unknown = 0;
    match format_of(exp) {
        Some(FileFormat::Columns(spec)) => {
            let uw = unknown_words(exp);
            for s in read_columns(text, &file, &spec, true)? {
                for (k, (w, tag)) in s.tokens.iter().zip(&s.tags).enumerate() {
                    let id = token_id(&task.vocab, w, uw);
                    unknown += usize::from(task.vocab.token(id).starts_with("<unk"));
                    set.tokens.push(id);
                    let Some(t) = task.labels.id(tag) else {
                        return Err(unknown_label(&file, s.line + k, tag, task));
                    };
                    if let Labels::PerStep(v) = &mut set.labels {
                        v.push(t);
                    }
                }
                set.end_seq();
                tokens.push(s.tokens.iter().map(|w| w.to_string()).collect());
            }
        }
        Some(f @ (FileFormat::Labelled | FileFormat::ClassFiles)) => {
            let stem = class_of(path);
            let ex = if f == FileFormat::ClassFiles {
                read_class_file(text, &file, &stem)?
            } else {
                read_labelled(text, &file)?
            };
            for e in &ex {
                unknown += push_text(e.text, &task.vocab, &mut set);
                match &mut set.labels {
                    Labels::Class(v) => match task.labels.id(e.label) {
                        Some(c) => v.push(c),
                        None => return Err(unknown_label(&file, e.line, e.label, task)),
                    },
                    Labels::Real { values, .. } => match e.label.parse::<f64>() {
                        Ok(x) if x.is_finite() => values.push(x),
                        _ => {
                            return Err(TaskError::NotANumber {
                                file: file.clone(),
                                line: e.line,
                                label: e.label.to_string(),
                            })
                        }
                    },
                    Labels::PerStep(_) => {}
                }
                set.end_seq();
                tokens.push(text_tokens(task, e.text));
                raw_texts.push(e.text.trim().to_string());
            }
        }
        None => return Err(TaskError::TooSmall {
            source_name: file,
            why:
                "a generated task is evaluated on its own fresh test sequences: run `rnn-lab eval CKPT` without a file"
                    .into(),
        }),
    }
    let texts = if raw_texts.len() == tokens.len() {
        raw_texts
    } else {
        texts_of(&tokens, task)
    };
    Ok(Read {
        set,
        tokens,
        texts,
        unknown,
    })
}

/// Read `text` (the file `path`) as inputs for `rnn-lab predict` (labels are placeholders).
///
/// # Errors
/// A located [`TaskError`]: a column file without the token column, a ragged line, a line of a
/// generated task with a symbol outside its alphabet or a malformed `value,marker` pair.
pub fn read_for_predict(exp: &Experiment, task: &TaskData, text: &str, path: &Path) -> Result<Read, TaskError> {
    let file = path.display().to_string();
    let mut set = match task.dense {
        Some(w) => SeqSet::dense(w, &task.valid.labels),
        None => SeqSet::tokens(&task.valid.labels),
    };
    let mut tokens = Vec::new();
    let mut raw_texts: Vec<String> = Vec::new();
    let mut unknown = 0;
    let close = |set: &mut SeqSet| {
        let now = set.features.len().checked_div(set.width).unwrap_or(set.tokens.len());
        let n = now - set.starts[set.starts.len() - 1];
        match &mut set.labels {
            Labels::PerStep(v) => v.extend(std::iter::repeat_n(0, n)),
            Labels::Class(v) => v.push(0),
            Labels::Real { values, outputs } => values.extend(std::iter::repeat_n(0.0, *outputs)),
        }
        set.end_seq();
    };
    match format_of(exp) {
        Some(FileFormat::Columns(spec)) => {
            let uw = unknown_words(exp);
            for s in read_columns(text, &file, &spec, false)? {
                for w in &s.tokens {
                    let id = token_id(&task.vocab, w, uw);
                    unknown += usize::from(task.vocab.token(id).starts_with("<unk"));
                    set.tokens.push(id);
                }
                close(&mut set);
                tokens.push(s.tokens.iter().map(|w| w.to_string()).collect());
            }
        }
        Some(_) => {
            for raw in text.split('\n') {
                let line = raw.strip_suffix('\r').unwrap_or(raw);
                let body = line.split_once('\t').map_or(line, |(_, t)| t);
                if body.trim().is_empty() {
                    continue;
                }
                unknown += push_text(body, &task.vocab, &mut set);
                close(&mut set);
                tokens.push(text_tokens(task, body));
                raw_texts.push(body.trim().to_string());
            }
        }
        None => {
            for (i, raw) in text.split('\n').enumerate() {
                let line = raw.trim();
                if line.is_empty() {
                    continue;
                }
                let mut shown = Vec::new();
                if let Some(w) = task.dense {
                    for pair in line.split_whitespace() {
                        let vals: Vec<f32> = pair.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                        if vals.len() != w || vals.iter().any(|v| !v.is_finite()) {
                            return Err(TaskError::BadInput {
                                file: file.clone(),
                                line: i + 1,
                                why: format!("`{pair}`: expected {w} numbers separated by commas, e.g. 0.5,1"),
                            });
                        }
                        set.features.extend_from_slice(&vals);
                        shown.push(pair.to_string());
                    }
                } else {
                    for c in line.chars() {
                        match task.vocab.char_id(c) {
                            Some(id) => set.tokens.push(id),
                            None => {
                                return Err(TaskError::BadInput {
                                    file: file.clone(),
                                    line: i + 1,
                                    why: format!(
                                        "`{c}` is not one of the task's symbols ({})",
                                        task.vocab.tokens().join("")
                                    ),
                                })
                            }
                        }
                        shown.push(c.to_string());
                    }
                }
                close(&mut set);
                tokens.push(shown);
            }
        }
    }
    if set.is_empty() {
        return Err(TaskError::Empty {
            file,
            what: "sequences",
        });
    }
    let texts = if raw_texts.len() == tokens.len() {
        raw_texts
    } else {
        texts_of(&tokens, task)
    };
    Ok(Read {
        set,
        tokens,
        texts,
        unknown,
    })
}
