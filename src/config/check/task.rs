//! `[task]`: the task kind, its data source and its kind-specific keys. A key that does not
//! belong to the chosen kind (or generator) is an error at that key, naming what it is for.

use super::Ctx;
use crate::config::experiment::{TaskSection, TaskSource};
use crate::config::raw::{FormatName, GeneratorName, RawTask};
use crate::config::ConfigError;
use crate::task::data::FileFormat;
use crate::task::generators::{Adding, Copy, FutureTags, Reber, TemporalOrder};
use crate::task::readers::ColumnSpec;
use crate::task::{Synthetic, TaskError, TaskKind};

/// The task kind a generator trains.
fn kind_of(g: GeneratorName) -> TaskKind {
    match g {
        GeneratorName::Adding => TaskKind::Regression,
        GeneratorName::TemporalOrder => TaskKind::Classification,
        GeneratorName::Reber | GeneratorName::Copy | GeneratorName::FutureTags => TaskKind::Tagging,
    }
}

fn gen_name(g: GeneratorName) -> &'static str {
    match g {
        GeneratorName::Adding => "adding",
        GeneratorName::Reber => "reber",
        GeneratorName::TemporalOrder => "temporal_order",
        GeneratorName::Copy => "copy",
        GeneratorName::FutureTags => "future_tags",
    }
}

/// The parameters each generator takes.
fn params_of(g: GeneratorName) -> &'static [&'static str] {
    match g {
        GeneratorName::Adding | GeneratorName::TemporalOrder => &["length"],
        GeneratorName::Reber => &["embedded"],
        GeneratorName::Copy => &["length", "symbols"],
        GeneratorName::FutureTags => &["symbols", "min_len", "max_len", "rule", "distance"],
    }
}

const GENERATOR_PARAMS: [&str; 7] = [
    "length", "symbols", "embedded", "min_len", "max_len", "rule", "distance",
];
const FILE_KEYS: [&str; 6] = [
    "format",
    "token_column",
    "tag_column",
    "separator",
    "unknown_words",
    "word_dropout",
];

pub(super) fn check_task(cx: &Ctx<'_>, t: Option<RawTask>) -> Result<TaskSection, ConfigError> {
    let Some(t) = t else {
        return Ok(TaskSection::default());
    };
    let given: Vec<(&str, bool)> = vec![
        ("format", t.format.is_some()),
        ("token_column", t.token_column.is_some()),
        ("tag_column", t.tag_column.is_some()),
        ("separator", t.separator.is_some()),
        ("unknown_words", t.unknown_words.is_some()),
        ("word_dropout", t.word_dropout.is_some()),
        ("generator", t.generator.is_some()),
        ("length", t.length.is_some()),
        ("symbols", t.symbols.is_some()),
        ("embedded", t.embedded.is_some()),
        ("min_len", t.min_len.is_some()),
        ("max_len", t.max_len.is_some()),
        ("rule", t.rule.is_some()),
        ("distance", t.distance.is_some()),
        ("val_size", t.val_size.is_some()),
        ("test_size", t.test_size.is_some()),
        ("max_wrong", t.max_wrong.is_some()),
    ];
    let is_given = |key: &str| given.iter().any(|(k, g)| *k == key && *g);
    let kind = match (t.kind, t.generator) {
        (Some(k), Some(g)) if k != kind_of(g) => {
            return Err(cx.unused(
                "task",
                "generator",
                &format!(
                    "= \"{}\" is a {} task, but kind = \"{}\"; set kind = \"{}\" or leave kind out",
                    gen_name(g),
                    kind_of(g).name(),
                    k.name(),
                    kind_of(g).name()
                ),
            ))
        }
        (Some(k), _) => k,
        (None, Some(g)) => kind_of(g),
        (None, None) => TaskKind::LanguageModel,
    };
    if kind == TaskKind::LanguageModel {
        if let Some((key, _)) = given.iter().find(|(_, g)| *g) {
            return Err(cx.unused(
                "task",
                key,
                "does not apply to kind = \"language_model\" (the default); set kind to \"tagging\", \"classification\" or \"regression\"",
            ));
        }
        return Ok(TaskSection::default());
    }
    let source = match t.generator {
        Some(g) => {
            if let Some(key) = FILE_KEYS.iter().find(|k| is_given(k)) {
                return Err(cx.unused(
                    "task",
                    key,
                    &format!(
                        "is for tasks read from files; generator = \"{}\" reads none",
                        gen_name(g)
                    ),
                ));
            }
            let own = params_of(g);
            if let Some(key) = GENERATOR_PARAMS.iter().find(|k| is_given(k) && !own.contains(k)) {
                return Err(cx.unused(
                    "task",
                    key,
                    &format!(
                        "does not apply to generator = \"{}\" (its parameters: {})",
                        gen_name(g),
                        if own.is_empty() {
                            "none".to_string()
                        } else {
                            own.join(", ")
                        }
                    ),
                ));
            }
            let generator = match g {
                GeneratorName::Adding => Synthetic::Adding(Adding {
                    length: t.length.unwrap_or(Adding::default().length),
                }),
                GeneratorName::Reber => Synthetic::Reber(Reber {
                    embedded: t.embedded.unwrap_or(true),
                }),
                GeneratorName::TemporalOrder => Synthetic::TemporalOrder(TemporalOrder {
                    length: t.length.unwrap_or(TemporalOrder::default().length),
                }),
                GeneratorName::Copy => {
                    let d = Copy::default();
                    Synthetic::Copy(Copy {
                        length: t.length.unwrap_or(d.length),
                        symbols: t.symbols.unwrap_or(d.symbols),
                    })
                }
                GeneratorName::FutureTags => {
                    let d = FutureTags::default();
                    Synthetic::FutureTags(FutureTags {
                        symbols: t.symbols.unwrap_or(d.symbols),
                        min_len: t.min_len.unwrap_or(d.min_len),
                        max_len: t.max_len.unwrap_or(d.max_len),
                        rule: t.rule.unwrap_or(d.rule),
                        distance: t.distance.unwrap_or(d.distance),
                    })
                }
            };
            if let Err(TaskError::BadParam { name, value, why, .. }) = generator.check() {
                return Err(cx.bad("task", name, value, &why));
            }
            let mut criterion = generator.criterion();
            if let Some(n) = t.test_size {
                if n == 0 {
                    return Err(cx.bad("task", "test_size", 0, "must be at least 1"));
                }
                criterion.test_size = n;
            }
            if let Some(w) = t.max_wrong {
                if !(0.0..1.0).contains(&w) {
                    return Err(cx.bad(
                        "task",
                        "max_wrong",
                        w,
                        "must be in [0, 1): the share of test sequences allowed to be wrong",
                    ));
                }
                criterion.max_wrong = w;
            }
            let val_size = t.val_size.unwrap_or(1000);
            if val_size == 0 {
                return Err(cx.bad("task", "val_size", 0, "must be at least 1"));
            }
            TaskSource::Generated {
                generator,
                val_size,
                criterion,
            }
        }
        None => {
            if let Some(key) = GENERATOR_PARAMS
                .iter()
                .chain(&["val_size", "test_size", "max_wrong"])
                .find(|k| is_given(k))
            {
                return Err(cx.unused(
                    "task",
                    key,
                    "is a parameter of the built-in generators; give `generator` (adding, reber, temporal_order, copy, future_tags) or remove it",
                ));
            }
            let format = match (kind, t.format) {
                (TaskKind::Tagging, None | Some(FormatName::Columns)) => FormatName::Columns,
                (TaskKind::Tagging, Some(_)) => {
                    return Err(cx.unused(
                        "task",
                        "format",
                        "must be \"columns\" for tagging (one token per line with its tag)",
                    ))
                }
                (_, Some(FormatName::Columns)) => {
                    return Err(cx.unused(
                        "task",
                        "format",
                        &format!(
                            "= \"columns\" is for tagging; {} reads \"labelled\" (label<TAB>text){}",
                            kind.name(),
                            if kind == TaskKind::Classification {
                                " or \"class_files\""
                            } else {
                                ""
                            }
                        ),
                    ))
                }
                (TaskKind::Regression, Some(FormatName::ClassFiles)) => {
                    return Err(cx.unused(
                        "task",
                        "format",
                        "= \"class_files\" is for classification; regression reads \"labelled\" (number<TAB>text)",
                    ))
                }
                (_, f) => f.unwrap_or(FormatName::Labelled),
            };
            if format != FormatName::Columns {
                for key in ["token_column", "tag_column", "separator", "unknown_words"] {
                    if is_given(key) {
                        return Err(cx.unused(
                            "task",
                            key,
                            &format!("is for tagging from column files; this task is {}", kind.name()),
                        ));
                    }
                }
            }
            let format = match format {
                FormatName::Columns => {
                    let token_column = t.token_column.unwrap_or(1);
                    if token_column == 0 {
                        return Err(cx.bad("task", "token_column", 0, "columns are numbered from 1"));
                    }
                    if t.tag_column == Some(0) {
                        return Err(cx.bad("task", "tag_column", 0, "columns are numbered from 1"));
                    }
                    if t.tag_column == Some(token_column) {
                        return Err(cx.bad(
                            "task",
                            "tag_column",
                            token_column,
                            "is the token column too; give the tags' column",
                        ));
                    }
                    FileFormat::Columns(ColumnSpec {
                        token_column,
                        tag_column: t.tag_column,
                        separator: t.separator.unwrap_or_default(),
                    })
                }
                FormatName::Labelled => FileFormat::Labelled,
                FormatName::ClassFiles => FileFormat::ClassFiles,
            };
            let word_dropout = t.word_dropout.unwrap_or(0.0);
            if !(0.0..1.0).contains(&word_dropout) {
                return Err(cx.bad("task", "word_dropout", word_dropout, "must be in [0, 1), e.g. 0.1"));
            }
            TaskSource::Files {
                format,
                unknown_words: t.unknown_words.unwrap_or_default(),
                word_dropout,
            }
        }
    };
    Ok(TaskSection { kind, source })
}
