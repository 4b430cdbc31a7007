//! Loading an experiment's task: its files resolved like a language model's (relative to the
//! experiment file, globs allowed), or its generator's validation and test sets.

use super::data::{generated, load_files, LoadOptions, SplitFiles, TaskData};
use super::encode::VocabSpec;
use super::TaskError;
use crate::config::{Experiment, TaskSource};

/// The task data of a non-language-model experiment.
///
/// # Errors
/// A [`TaskError`] naming the file (and line) of the first problem.
pub fn load_task(exp: &Experiment) -> Result<TaskData, TaskError> {
    match &exp.task.source {
        TaskSource::Generated {
            generator,
            val_size,
            criterion,
        } => Ok(generated(
            generator,
            exp.task.kind,
            exp.seed,
            *val_size,
            criterion.test_size,
        )),
        TaskSource::Files {
            format, unknown_words, ..
        } => {
            let d = &exp.data;
            let files = SplitFiles {
                train: exp.resolve_patterns(&d.train)?,
                valid: exp.resolve_patterns(&d.valid)?,
                test: exp.resolve_patterns(&d.test)?,
            };
            let opts = LoadOptions {
                kind: exp.task.kind,
                format: *format,
                vocab: VocabSpec {
                    level: d.level,
                    lowercase: d.lowercase,
                    split_punctuation: d.split_punctuation,
                    min_count: d.min_count,
                    max_vocab: d.max_vocab,
                    unknown: *unknown_words,
                },
                val_fraction: d.val_fraction,
                seed: exp.seed,
                source: exp
                    .path
                    .as_deref()
                    .map_or_else(|| exp.name.clone(), |p| p.display().to_string()),
            };
            load_files(&files, &opts)
        }
        TaskSource::Text => Err(TaskError::TooSmall {
            source_name: exp.name.clone(),
            why: "a language model has no task data".into(),
        }),
    }
}
