//! A sequence task's data, loaded: inputs (token vocabulary or dense width), output names, and
//! the training, validation and test sequences; from files or from a generator.
//!
//! Files: the training files are read with the task's format; validation comes from its own
//! files or, without them, from a seeded held-out fraction of the training examples; test files
//! are optional. Generated tasks keep no training set (every training batch is drawn fresh from
//! the seed and step); their validation set is a fixed draw, their test set the "solved" test's
//! fresh sequences.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::encode::{push_examples, push_sentences, push_text, tagging_vocab, text_vocab, LabelSet, VocabSpec};
use super::generators::{stream, InputKind, Synthetic};
use super::metrics::ChunkScheme;
use super::readers::labelled::class_of;
use super::readers::{read_class_file, read_columns, read_labelled, ColumnSpec, Example, Sentence};
use super::seqset::{held_out, Labels, SeqSet};
use super::{TaskError, TaskKind};
use crate::config::Level;
use crate::data::files::read_text;
use crate::data::Vocab;

/// How a file-based task's files are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// CoNLL-style column files (tagging).
    Columns(ColumnSpec),
    /// `label<TAB>text` lines (classification; regression with a number as the label).
    Labelled,
    /// One file per class, the file stem the label (classification).
    ClassFiles,
}

/// The resolved files of each split.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitFiles {
    /// Training files (at least one).
    pub train: Vec<PathBuf>,
    /// Validation files; empty = hold out `val_fraction` of the training examples.
    pub valid: Vec<PathBuf>,
    /// Test files (optional).
    pub test: Vec<PathBuf>,
}

/// How to load a file-based task.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Tagging, classification or regression.
    pub kind: TaskKind,
    /// The files' layout.
    pub format: FileFormat,
    /// Tokenising and vocabulary limits.
    pub vocab: VocabSpec,
    /// Share of the training examples held out for validation when there are no validation files.
    pub val_fraction: f64,
    /// Seed of the held-out split.
    pub seed: u64,
    /// Experiment file or name, for messages.
    pub source: String,
}

/// A loaded sequence task.
#[derive(Clone, Debug)]
pub struct TaskData {
    /// Tagging, classification or regression.
    pub kind: TaskKind,
    /// The input tokens; for dense inputs the names of the values of a step.
    pub vocab: Vocab,
    /// Dense inputs: values per step (`vocab` then names them); `None` for tokens.
    pub dense: Option<usize>,
    /// Names of the outputs: tags, classes, or the regression value(s).
    pub labels: LabelSet,
    /// The tags are chunk tags (IOB/BIO…): report conlleval chunk precision, recall and F1.
    pub chunks: bool,
    /// Training sequences (empty for generated tasks).
    pub train: SeqSet,
    /// Validation sequences.
    pub valid: SeqSet,
    /// Test sequences (files), or the "solved" test set (generated).
    pub test: Option<SeqSet>,
    /// The generator, for generated tasks.
    pub generator: Option<Synthetic>,
    /// Validation and test tokens missing from the vocabulary (mapped to `<unk>`).
    pub unknown: usize,
    /// The files read.
    pub files: Vec<PathBuf>,
}

/// What a checkpoint records of its task besides the config: the output names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Tagging, classification or regression.
    pub kind: TaskKind,
    /// Output names (tags, classes, or the regression value) by id.
    pub labels: Vec<String>,
    /// Chunk tags: conlleval metrics apply.
    pub chunks: bool,
    /// Dense inputs: values per step.
    pub dense: Option<usize>,
}

impl TaskInfo {
    /// JSON for checkpoint metadata.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read [`Self::to_json`] back.
    ///
    /// # Errors
    /// The JSON error, as text.
    pub fn from_json(json: &str) -> Result<TaskInfo, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}

impl TaskData {
    /// What a checkpoint records of this task.
    pub fn info(&self) -> TaskInfo {
        TaskInfo {
            kind: self.kind,
            labels: self.labels.names().to_vec(),
            chunks: self.chunks,
            dense: self.dense,
        }
    }

    /// Number of outputs |Y|.
    pub fn outputs(&self) -> usize {
        self.labels.len()
    }

    /// Input vocabulary size (dense: values per step).
    pub fn input_size(&self) -> usize {
        self.vocab.len()
    }

    /// The vocabulary, for token inputs (`None` for dense inputs).
    pub fn token_vocab(&self) -> Option<&Vocab> {
        self.dense.is_none().then_some(&self.vocab)
    }
}

fn labels_for(kind: TaskKind) -> Labels {
    match kind {
        TaskKind::Tagging => Labels::PerStep(Vec::new()),
        TaskKind::Regression => Labels::Real {
            outputs: 1,
            values: Vec::new(),
        },
        _ => Labels::Class(Vec::new()),
    }
}

/// A generated task: the generator's alphabet as a char vocabulary (dense tasks: its width),
/// `val_size` validation sequences and the criterion's test set.
pub fn generated(g: &Synthetic, kind: TaskKind, seed: u64, val_size: usize, test_size: usize) -> TaskData {
    let (vocab, dense) = match g.input() {
        InputKind::Symbols(names) => (Vocab::from_tokens(Level::Char, false, names), None),
        InputKind::Dense(names) => {
            let n = names.len();
            (Vocab::from_tokens(Level::Word, false, names), Some(n))
        }
    };
    TaskData {
        kind,
        vocab,
        dense,
        labels: LabelSet::new(g.output_names()),
        chunks: false,
        train: g.empty_set(),
        valid: g.generate(seed, stream::VALID, val_size),
        test: Some(g.generate(seed, stream::TEST, test_size)),
        generator: Some(g.clone()),
        unknown: 0,
        files: Vec::new(),
    }
}

fn read_all(files: &[PathBuf]) -> Result<Vec<(String, String)>, TaskError> {
    files
        .iter()
        .map(|f| Ok((f.display().to_string(), read_text(f)?)))
        .collect()
}

/// `train` split into training and held-out validation items (a `val_fraction` of them, by
/// `rng`); `None` when there are fewer than two.
fn split_off_valid<T: Clone>(train: &[T], val_fraction: f64, rng: &mut impl rand::Rng) -> Option<(Vec<T>, Vec<T>)> {
    if train.len() < 2 {
        return None;
    }
    let (tr, va) = held_out(train.len(), val_fraction, rng);
    Some((
        tr.iter().map(|&i| train[i].clone()).collect(),
        va.iter().map(|&i| train[i].clone()).collect(),
    ))
}

/// Load a file-based task.
///
/// # Errors
/// A [`TaskError`] naming the file and line of the first problem; [`TaskError::TooSmall`] when
/// there are fewer than two training examples to split.
pub fn load_files(files: &SplitFiles, opts: &LoadOptions) -> Result<TaskData, TaskError> {
    let train_text = read_all(&files.train)?;
    let valid_text = read_all(&files.valid)?;
    let test_text = read_all(&files.test)?;
    let mut all_files = files.train.clone();
    all_files.extend(files.valid.iter().cloned());
    all_files.extend(files.test.iter().cloned());
    let split_rng = || crate::data::dataset::rng(opts.seed, crate::data::dataset::stream::SPLIT);
    let too_small = |n: usize| TaskError::TooSmall {
        source_name: opts.source.clone(),
        why: format!(
            "the training files hold {n} example(s); at least 2 are needed to hold some out for \
             validation (or give validation files)"
        ),
    };
    match opts.format {
        FileFormat::Columns(spec) => {
            let mut train = parse_columns(&train_text, &spec)?;
            let mut valid = parse_columns(&valid_text, &spec)?;
            let test = parse_columns(&test_text, &spec)?;
            if files.valid.is_empty() {
                (train, valid) = split_off_valid(&train, opts.val_fraction, &mut split_rng())
                    .ok_or_else(|| too_small(train.len()))?;
            }
            let vocab = tagging_vocab(&train, &opts.vocab);
            let tags = LabelSet::by_count(
                train
                    .iter()
                    .chain(&valid)
                    .chain(&test)
                    .flat_map(|s| s.tags.iter().copied()),
            );
            let encode = |sents: &[Sentence]| {
                let mut set = SeqSet::tokens(&Labels::PerStep(Vec::new()));
                let unk = push_sentences(sents, &vocab, opts.vocab.unknown, &tags, &mut set);
                (set, unk)
            };
            let (tr, _) = encode(&train);
            let (va, u1) = encode(&valid);
            let (te, u2) = encode(&test);
            Ok(TaskData {
                kind: TaskKind::Tagging,
                chunks: ChunkScheme::is_chunk_tagset(tags.names()),
                vocab,
                dense: None,
                labels: tags,
                train: tr,
                valid: va,
                test: (!test.is_empty()).then_some(te),
                generator: None,
                unknown: u1 + u2,
                files: all_files,
            })
        }
        FileFormat::Labelled | FileFormat::ClassFiles => {
            let stems: Vec<Vec<String>> = [&files.train, &files.valid, &files.test]
                .iter()
                .map(|fs| fs.iter().map(|f| class_of(f)).collect())
                .collect();
            let mut train = parse_examples(&train_text, &stems[0], opts)?;
            let mut valid = parse_examples(&valid_text, &stems[1], opts)?;
            let test = parse_examples(&test_text, &stems[2], opts)?;
            if files.valid.is_empty() {
                (train, valid) = split_off_valid(&train, opts.val_fraction, &mut split_rng())
                    .ok_or_else(|| too_small(train.len()))?;
            }
            let vocab = text_vocab(&train, &opts.vocab);
            let labels = if opts.kind == TaskKind::Regression {
                LabelSet::new(vec!["value".to_string()])
            } else {
                LabelSet::by_count(train.iter().chain(&valid).chain(&test).map(|e| e.label))
            };
            let encode = |ex: &[Example]| {
                let mut set = SeqSet::tokens(&labels_for(opts.kind));
                let unk = if opts.kind == TaskKind::Regression {
                    let mut unk = 0;
                    for e in ex {
                        unk += push_text(e.text, &vocab, &mut set);
                        if let Labels::Real { values, .. } = &mut set.labels {
                            values.push(e.label.parse().unwrap_or(f64::NAN));
                        }
                        set.end_seq();
                    }
                    unk
                } else {
                    push_examples(ex, &vocab, &labels, &mut set)
                };
                (set, unk)
            };
            let (tr, _) = encode(&train);
            let (va, u1) = encode(&valid);
            let (te, u2) = encode(&test);
            Ok(TaskData {
                kind: opts.kind,
                chunks: false,
                vocab,
                dense: None,
                labels,
                train: tr,
                valid: va,
                test: (!test.is_empty()).then_some(te),
                generator: None,
                unknown: u1 + u2,
                files: all_files,
            })
        }
    }
}

fn parse_columns<'a>(texts: &'a [(String, String)], spec: &ColumnSpec) -> Result<Vec<Sentence<'a>>, TaskError> {
    let mut out = Vec::new();
    for (f, t) in texts {
        out.extend(read_columns(t, f, spec, true)?);
    }
    Ok(out)
}

fn parse_examples<'a>(
    texts: &'a [(String, String)],
    stems: &'a [String],
    opts: &LoadOptions,
) -> Result<Vec<Example<'a>>, TaskError> {
    let mut out = Vec::new();
    for ((f, t), stem) in texts.iter().zip(stems) {
        let ex = if opts.format == FileFormat::ClassFiles {
            read_class_file(t, f, stem)?
        } else {
            read_labelled(t, f)?
        };
        // Regression labels must be numbers, checked where they are written.
        if opts.kind == TaskKind::Regression {
            if let Some(e) = ex.iter().find(|e| !e.label.parse::<f64>().is_ok_and(f64::is_finite)) {
                return Err(TaskError::NotANumber {
                    file: f.clone(),
                    line: e.line,
                    label: e.label.to_string(),
                });
            }
        }
        out.extend(ex);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::readers::Separator;

    fn opts(kind: TaskKind, format: FileFormat) -> LoadOptions {
        LoadOptions {
            kind,
            format,
            vocab: VocabSpec {
                level: Level::Char,
                lowercase: false,
                split_punctuation: true,
                min_count: 1,
                max_vocab: 0,
                unknown: Default::default(),
            },
            val_fraction: 0.25,
            seed: 1,
            source: "test.toml".into(),
        }
    }

    fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn columns_with_held_out_sentences() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..8 {
            text.push_str(&format!("w{i} NN B-NP\nx VB B-VP\n\n"));
        }
        let train = write(dir.path(), "train.txt", &text);
        let test = write(dir.path(), "test.txt", "w0 NN B-NP\nnew NN I-NP\n");
        let files = SplitFiles {
            train: vec![train],
            valid: vec![],
            test: vec![test],
        };
        let spec = ColumnSpec {
            token_column: 1,
            tag_column: Some(3),
            separator: Separator::Auto,
        };
        let d = load_files(&files, &opts(TaskKind::Tagging, FileFormat::Columns(spec))).unwrap();
        assert_eq!((d.train.len(), d.valid.len()), (6, 2));
        assert!(d.chunks);
        assert_eq!(d.labels.names(), ["B-NP", "B-VP", "I-NP"]);
        let t = d.test.as_ref().unwrap();
        assert_eq!(t.len(), 1);
        // `new` is unknown; so is `w0` when its sentence went to validation.
        assert!(d.unknown >= 1);
    }

    #[test]
    fn class_files_and_regression() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "Alpha.txt", "ab\nabc\naab\n");
        let b = write(dir.path(), "Beta.txt", "xy\nxyz\n");
        let files = SplitFiles {
            train: vec![a, b],
            ..SplitFiles::default()
        };
        let d = load_files(&files, &opts(TaskKind::Classification, FileFormat::ClassFiles)).unwrap();
        assert_eq!(d.labels.names(), ["Alpha", "Beta"]);
        assert_eq!(d.train.len() + d.valid.len(), 5);
        let r = write(dir.path(), "r.tsv", "0.5\tab\n1.5\tba\n-2\tb\n7\taa\n");
        let files = SplitFiles {
            train: vec![r.clone()],
            ..SplitFiles::default()
        };
        let d = load_files(&files, &opts(TaskKind::Regression, FileFormat::Labelled)).unwrap();
        let Labels::Real { values, .. } = &d.train.labels else {
            panic!()
        };
        assert_eq!(values.len(), 3);
        let bad = write(dir.path(), "bad.tsv", "0.5\tab\nx\tba\n");
        let files = SplitFiles {
            train: vec![bad.clone()],
            ..SplitFiles::default()
        };
        let e = load_files(&files, &opts(TaskKind::Regression, FileFormat::Labelled)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}:2: regression target `x` is not a number", bad.display())
        );
    }

    #[test]
    fn generated_task() {
        let g = Synthetic::Copy(crate::task::generators::Copy { length: 5, symbols: 2 });
        let d = generated(&g, TaskKind::Tagging, 3, 10, 20);
        assert_eq!(d.input_size(), 10);
        assert_eq!(d.outputs(), 9);
        assert_eq!((d.valid.len(), d.test.as_ref().unwrap().len()), (10, 20));
        assert!(d.train.is_empty());
    }
}
