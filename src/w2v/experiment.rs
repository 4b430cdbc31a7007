//! word2vec experiment files: `[task] kind = "word2vec"`, run by `rnn-lab train` and
//! `rnn-lab tui` like any experiment, but driving the word2vec engine instead of a recurrent
//! model. docs/word2vec.md lists every key.
//!
//! The sections follow the other experiments' shape: `[experiment]` (name, seed), `[data]`
//! (files, level, min_count), `[task]` (kind and the word2vec model: arch, objective,
//! negative, dim, window, sample, …, and what to watch while it trains), `[training]` (epochs,
//! learning rate, how often to log, evaluate and checkpoint). Every key is optional except
//! `[task] kind` and `[data] files`; unknown keys and values out of range are errors at their
//! line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::settings::{Arch, Level, Objective, Settings};
use super::W2vError;

/// A checked word2vec experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct W2vExperiment {
    /// The file it was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// `[experiment] name`. Default: the file stem.
    pub name: String,
    /// `[data] files`, as written (relative to the file's folder).
    pub files: Vec<String>,
    /// The engine's settings (`[experiment] seed`, `[data] level`, `min_count`, `[task]`,
    /// `[training] epochs`, `lr`, `min_lr`).
    pub settings: Settings,
    /// `[task] watch`: words whose nearest neighbours are shown as training runs.
    pub watch: Vec<String>,
    /// `[task] neighbours`: how many neighbours of each watched word. Default: 8.
    pub neighbours: usize,
    /// `[task] analogies`: an analogy file (`questions-words.txt` format) scored at every
    /// evaluation, relative to the experiment file's folder.
    pub analogies: Option<String>,
    /// `[task] pairs`: word-similarity files (WordSim-353 format) scored at every evaluation.
    pub pairs: Vec<String>,
    /// `[task] restrict_vocab`: only the N most frequent words answer analogies. Default: 30000
    /// (gensim's `evaluate_word_analogies` default is 300000; 30000 keeps evaluations quick).
    pub restrict_vocab: usize,
    /// `[task] projection`: the N most frequent words drawn in the TUI's PCA view. Default: 300.
    pub projection: usize,
    /// `[training] steps`: stop after this many steps (0 = the whole run). Default: 0.
    pub steps: u64,
    /// `[training] log_every`: a metrics line every N steps. Default: 1.
    pub log_every: u64,
    /// `[training] eval_every`: neighbours, analogies and pairs every N steps (0 = at the end of
    /// each epoch only). Default: 0.
    pub eval_every: u64,
    /// `[training] checkpoint_every`: save the model every N steps (0 = at the end only).
    /// Default: 0.
    pub checkpoint_every: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    experiment: Option<RawExperiment>,
    data: Option<RawData>,
    task: Option<RawTask>,
    training: Option<RawTraining>,
}

type S<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: S<String>,
    seed: S<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    files: S<Vec<String>>,
    level: S<Level>,
    min_count: S<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    kind: S<String>,
    arch: S<Arch>,
    objective: S<Objective>,
    negative: S<usize>,
    ns_exponent: S<f64>,
    table_size: S<usize>,
    dim: S<usize>,
    window: S<usize>,
    sample: S<f64>,
    step_words: S<usize>,
    watch: S<Vec<String>>,
    neighbours: S<usize>,
    analogies: S<String>,
    pairs: S<Vec<String>>,
    restrict_vocab: S<usize>,
    projection: S<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraining {
    epochs: S<u32>,
    lr: S<f64>,
    min_lr: S<f64>,
    steps: S<u64>,
    log_every: S<u64>,
    eval_every: S<u64>,
    checkpoint_every: S<u64>,
}

/// Whether experiment text asks for `[task] kind = "word2vec"` (a quick look: text that does
/// not parse is not, and the ordinary reader reports its errors).
pub fn is_word2vec(text: &str) -> bool {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return false;
    };
    doc.get("task")
        .and_then(|t| t.get("kind"))
        .and_then(|k| k.as_str())
        .is_some_and(|k| k == "word2vec")
}

/// Whether the file at `path` is a word2vec experiment (false when it cannot be read).
pub fn is_word2vec_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| is_word2vec(&t))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

struct At<'a> {
    text: &'a str,
    file: String,
}

impl At<'_> {
    fn err(&self, span: Range<usize>, what: impl Into<String>) -> W2vError {
        let (line, col) = line_col(self.text, span.start);
        W2vError::At {
            file: self.file.clone(),
            line,
            col,
            what: what.into(),
        }
    }
}

fn val<T: Clone>(s: &S<T>) -> Option<T> {
    s.as_ref().map(|x| x.get_ref().clone())
}

fn span<T>(s: &S<T>) -> Range<usize> {
    s.as_ref().map_or(0..0, Spanned::span)
}

/// Read and check a word2vec experiment file.
///
/// # Errors
/// [`W2vError::Read`] if it cannot be read; [`W2vError::Line`] (`file:line:col: message`) for
/// anything wrong inside it.
pub fn load(path: &Path) -> Result<W2vExperiment, W2vError> {
    let bytes = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        W2vError::file(
            &path.display().to_string(),
            format!("not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()),
        )
    })?;
    parse_str(&text, path)
}

/// Check word2vec experiment text as if read from `path`.
///
/// # Errors
/// [`W2vError::At`] at the place of the first problem.
pub fn parse_str(text: &str, path: &Path) -> Result<W2vExperiment, W2vError> {
    let at = At {
        text,
        file: path.display().to_string(),
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().replace('\n', " ");
        at.err(e.span().unwrap_or(0..0), msg)
    })?;
    let task = raw.task.unwrap_or_default();
    match &task.kind {
        Some(k) if k.get_ref() == "word2vec" => {}
        Some(k) => {
            return Err(at.err(
                k.span(),
                format!(
                    "[task] kind = \"{}\": this reader is for kind = \"word2vec\"",
                    k.get_ref()
                ),
            ))
        }
        None => return Err(at.err(0..0, "[task] kind = \"word2vec\" is missing")),
    }
    let ex = raw.experiment.unwrap_or_default();
    let data = raw.data.unwrap_or_default();
    let tr = raw.training.unwrap_or_default();
    let files = val(&data.files).unwrap_or_default();
    if files.is_empty() {
        let sp = if data.files.is_some() { span(&data.files) } else { 0..0 };
        return Err(at.err(
            sp,
            "[data] files: give the text files to train on, e.g. files = [\"../../shared/data/ptb/ptb.train.txt\"]",
        ));
    }
    let mut s = Settings::new(val(&task.arch).unwrap_or(Arch::Skipgram));
    s.objective = val(&task.objective).unwrap_or(s.objective);
    s.negative = val(&task.negative).unwrap_or(s.negative);
    s.ns_exponent = val(&task.ns_exponent).unwrap_or(s.ns_exponent);
    s.table_size = val(&task.table_size).unwrap_or(s.table_size);
    s.dim = val(&task.dim).unwrap_or(s.dim);
    s.window = val(&task.window).unwrap_or(s.window);
    s.sample = val(&task.sample).unwrap_or(s.sample);
    s.step_words = val(&task.step_words).unwrap_or(s.step_words);
    s.level = val(&data.level).unwrap_or(s.level);
    s.min_count = val(&data.min_count).unwrap_or(s.min_count);
    s.epochs = val(&tr.epochs).unwrap_or(s.epochs);
    s.lr = val(&tr.lr).unwrap_or(s.lr);
    s.min_lr = val(&tr.min_lr).unwrap_or(s.lr * 1e-4);
    s.seed = val(&ex.seed).unwrap_or(s.seed);
    if let Err(W2vError::Settings(m)) = s.check() {
        // The message starts with the key's name: put it at that key.
        let key = m.split(" =").next().unwrap_or("");
        let sp = match key {
            "dim" => span(&task.dim),
            "window" => span(&task.window),
            "negative" => span(&task.negative),
            "ns_exponent" => span(&task.ns_exponent),
            "table_size" => span(&task.table_size),
            "sample" => span(&task.sample),
            "step_words" => span(&task.step_words),
            "min_count" => span(&data.min_count),
            "epochs" => span(&tr.epochs),
            "lr" => span(&tr.lr),
            "min_lr" if tr.min_lr.is_some() => span(&tr.min_lr),
            "min_lr" => span(&tr.lr),
            _ => 0..0,
        };
        return Err(at.err(sp, m));
    }
    let neighbours = val(&task.neighbours).unwrap_or(8);
    if neighbours == 0 || neighbours > 100 {
        return Err(at.err(
            span(&task.neighbours),
            format!("neighbours = {neighbours}: must be 1 to 100"),
        ));
    }
    let restrict_vocab = val(&task.restrict_vocab).unwrap_or(30_000);
    if restrict_vocab == 0 {
        return Err(at.err(span(&task.restrict_vocab), "restrict_vocab = 0: must be at least 1"));
    }
    let projection = val(&task.projection).unwrap_or(300);
    if projection == 1 || projection > 5000 {
        return Err(at.err(
            span(&task.projection),
            format!("projection = {projection}: must be 0 (off) or 2 to 5000 words"),
        ));
    }
    let log_every = val(&tr.log_every).unwrap_or(1);
    if log_every == 0 {
        return Err(at.err(span(&tr.log_every), "log_every = 0: must be at least 1"));
    }
    let watch = val(&task.watch).unwrap_or_default();
    if let Some(w) = watch
        .iter()
        .find(|w| w.trim().is_empty() || w.chars().any(char::is_whitespace))
    {
        return Err(at.err(
            span(&task.watch),
            format!("watch: `{w}` is not a single token (no spaces)"),
        ));
    }
    let name = val(&ex.name).unwrap_or_else(|| {
        path.file_stem()
            .map_or_else(|| "word2vec".to_string(), |s| s.to_string_lossy().into_owned())
    });
    Ok(W2vExperiment {
        path: path.to_path_buf(),
        name,
        files,
        settings: s,
        watch,
        neighbours,
        analogies: val(&task.analogies),
        pairs: val(&task.pairs).unwrap_or_default(),
        restrict_vocab,
        projection,
        steps: val(&tr.steps).unwrap_or(0),
        log_every,
        eval_every: val(&tr.eval_every).unwrap_or(0),
        checkpoint_every: val(&tr.checkpoint_every).unwrap_or(0),
    })
}

impl W2vExperiment {
    /// The folder relative paths are read from: the experiment file's.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// A path of the file, relative to [`Self::base_dir`] unless absolute.
    pub fn resolve(&self, p: &str) -> PathBuf {
        self.base_dir().join(p)
    }

    /// The corpus files, each checked to exist.
    ///
    /// # Errors
    /// [`W2vError::File`] naming the experiment file and the missing data file.
    pub fn corpus_files(&self) -> Result<Vec<PathBuf>, W2vError> {
        self.files
            .iter()
            .map(|f| {
                let p = self.resolve(f);
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(W2vError::file(
                        &self.path.display().to_string(),
                        format!("data file `{f}` not found (resolved to {})", p.display()),
                    ))
                }
            })
            .collect()
    }
}

impl W2vExperiment {
    /// The experiment with every key filled in, as TOML in the file's shape (`rnn-lab check`).
    pub fn to_toml(&self) -> String {
        use toml::{Table, Value};
        let s = &self.settings;
        // An enum's name in the file (its serde name).
        fn enum_name<T: Serialize>(v: &T) -> Value {
            let json = serde_json::to_value(v).ok();
            Value::String(json.and_then(|j| j.as_str().map(str::to_string)).unwrap_or_default())
        }
        let mut experiment = Table::new();
        experiment.insert("name".into(), Value::String(self.name.clone()));
        experiment.insert("seed".into(), Value::Integer(s.seed as i64));
        let mut data = Table::new();
        data.insert(
            "files".into(),
            Value::Array(self.files.iter().cloned().map(Value::String).collect()),
        );
        data.insert("level".into(), enum_name(&s.level));
        data.insert("min_count".into(), Value::Integer(s.min_count as i64));
        let mut task = Table::new();
        task.insert("kind".into(), Value::String("word2vec".into()));
        task.insert("arch".into(), enum_name(&s.arch));
        task.insert("objective".into(), enum_name(&s.objective));
        task.insert("negative".into(), Value::Integer(s.negative as i64));
        task.insert("ns_exponent".into(), Value::Float(s.ns_exponent));
        task.insert("table_size".into(), Value::Integer(s.table_size as i64));
        task.insert("dim".into(), Value::Integer(s.dim as i64));
        task.insert("window".into(), Value::Integer(s.window as i64));
        task.insert("sample".into(), Value::Float(s.sample));
        task.insert("step_words".into(), Value::Integer(s.step_words as i64));
        task.insert(
            "watch".into(),
            Value::Array(self.watch.iter().cloned().map(Value::String).collect()),
        );
        task.insert("neighbours".into(), Value::Integer(self.neighbours as i64));
        if let Some(a) = &self.analogies {
            task.insert("analogies".into(), Value::String(a.clone()));
        }
        task.insert(
            "pairs".into(),
            Value::Array(self.pairs.iter().cloned().map(Value::String).collect()),
        );
        task.insert("restrict_vocab".into(), Value::Integer(self.restrict_vocab as i64));
        task.insert("projection".into(), Value::Integer(self.projection as i64));
        let mut training = Table::new();
        training.insert("epochs".into(), Value::Integer(i64::from(s.epochs)));
        training.insert("lr".into(), Value::Float(s.lr));
        training.insert("min_lr".into(), Value::Float(s.min_lr));
        training.insert("steps".into(), Value::Integer(self.steps as i64));
        training.insert("log_every".into(), Value::Integer(self.log_every as i64));
        training.insert("eval_every".into(), Value::Integer(self.eval_every as i64));
        training.insert("checkpoint_every".into(), Value::Integer(self.checkpoint_every as i64));
        let mut out = String::new();
        for (name, t) in [
            ("experiment", experiment),
            ("data", data),
            ("task", task),
            ("training", training),
        ] {
            out.push_str(&format!("[{name}]\n{}\n", toml::to_string(&t).unwrap_or_default()));
        }
        out.trim_end().to_string() + "\n"
    }
}
