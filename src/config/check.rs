//! Parse → walk (unknown keys) → serde (types) → check (ranges, defaults) into an [`Experiment`].

use std::fmt::Display;
use std::num::NonZeroU64;
use std::path::Path;

use toml::de::DeTable;

mod task;

use super::experiment::{Batches, DataSection, Experiment, Level, Mode, ModelSection, SamplingSection};
use super::experiment::{TaskSection, TaskSource, TrainingSection};
use super::locate::{closest, line_col, walk, Spans};
use super::raw::{InitName, OptimizerName, RawData, RawFile, RawModel, RawSampling, RawTraining, ScheduleName};
use super::ConfigError;
use crate::nn::dropout::{Dropout, DropoutKind};
use crate::nn::spec::{CellKind, GruVariant, Init, RecurrentInit};
use crate::optim::spec::{OptimSpec, OptimizerKind, Schedule};
use crate::task::data::FileFormat;

/// Message shown when a language model asks for bidirectional layers.
pub const BIDIRECTIONAL_LM: &str = "bidirectional models cannot generate text (they need the future); \
use bidirectional = false for language models";

struct Ctx<'a> {
    text: &'a str,
    path: String,
    spans: Spans,
}

impl Ctx<'_> {
    fn at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        let (line, col) = line_col(self.text, offset);
        let message: String = message.into();
        ConfigError::At {
            path: self.path.clone(),
            line,
            col,
            message: message.replace('\n', " "),
        }
    }

    /// An out-of-range value, reported at its key.
    fn bad(&self, section: &str, key: &str, value: impl Display, why: &str) -> ConfigError {
        self.at(
            self.spans.of(section, key).start,
            format!("`{key}` = {value} in [{section}]: {why}"),
        )
    }

    /// `value` (or `default` when absent), refused when 0: "must be at least 1".
    fn at_least_one<T: Copy + Default + PartialEq + Display>(
        &self,
        section: &str,
        key: &str,
        value: Option<T>,
        default: T,
    ) -> Result<T, ConfigError> {
        let v = value.unwrap_or(default);
        if v == T::default() {
            return Err(self.bad(section, key, v, "must be at least 1"));
        }
        Ok(v)
    }

    /// A key that makes no sense given another key's value.
    fn unused(&self, section: &str, key: &str, why: &str) -> ConfigError {
        self.at(
            self.spans.of(section, key).start,
            format!("`{key}` in [{section}] {why}"),
        )
    }
}

/// Add "did you mean" to serde's "unknown variant `x`, expected one of `a`, `b`" messages.
fn improve_serde_message(msg: &str) -> String {
    let first_line = msg.lines().next().unwrap_or("").trim().to_string();
    if let Some(rest) = first_line.strip_prefix("unknown variant `") {
        if let Some((word, expected)) = rest.split_once('`') {
            let options: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let list = options
                .iter()
                .map(|o| format!("\"{o}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let mut out = format!("unknown value \"{word}\", expected one of {list}");
            if let Some(c) = closest(word, &options) {
                out.push_str(&format!("; did you mean \"{c}\"?"));
            }
            return out;
        }
    }
    first_line
        .replace("expected usize", "expected a whole number ≥ 0")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list such as [\"book.txt\"]")
}

pub(crate) fn parse(text: &str, path: &Path) -> Result<Experiment, ConfigError> {
    let mut cx = Ctx {
        text,
        path: path.display().to_string(),
        spans: Spans::default(),
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        cx.at(offset, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let mut spans = Spans::default();
    walk(doc.get_ref(), &mut spans).map_err(|(offset, msg)| cx.at(offset, msg))?;
    cx.spans = spans;
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let msg = improve_serde_message(e.message());
        match cx.spans.key_at(offset) {
            Some((section, key)) => cx.at(offset, format!("`{key}` in [{section}]: {msg}")),
            None => cx.at(offset, msg),
        }
    })?;
    check(&cx, raw, path)
}

fn check(cx: &Ctx<'_>, raw: RawFile, path: &Path) -> Result<Experiment, ConfigError> {
    // [experiment]
    let e = raw.experiment.unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = e.name.unwrap_or(stem);
    if name.trim().is_empty() || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(cx.bad(
            "experiment",
            "name",
            format!("{name:?}"),
            "must be a non-empty name without slashes (it names the run directories)",
        ));
    }
    let seed = e.seed.unwrap_or(1);

    let task = task::check_task(cx, raw.task)?;
    let data = check_data(cx, raw.data, &task)?;
    let model = check_model(cx, raw.model.unwrap_or_default(), &task)?;
    let raw_training = raw.training.unwrap_or_default();
    if !task.is_language_model() {
        // Tasks train on whole sequences and generate no text.
        for (key, given) in [
            ("seq_len", raw_training.seq_len.is_some()),
            ("sample_every", raw_training.sample_every.is_some()),
            ("max_val_tokens", raw_training.max_val_tokens.is_some()),
        ] {
            if given {
                return Err(cx.unused(
                    "training",
                    key,
                    &format!(
                        "applies to language models only; a {} task trains on whole sequences",
                        task.kind.name()
                    ),
                ));
            }
        }
        if raw_training.epochs.is_some() && matches!(task.source, TaskSource::Generated { .. }) {
            return Err(cx.unused(
                "training",
                "epochs",
                "does not apply to a generated task (every step draws fresh sequences): give `steps`",
            ));
        }
        if raw.sampling.is_some() {
            let at = cx.spans.sections.get("sampling").map_or(0, |s| s.start);
            return Err(cx.at(
                at,
                format!(
                    "[sampling] applies to language models only; this experiment is a {} task",
                    task.kind.name()
                ),
            ));
        }
    }
    let mut training = check_training(cx, raw_training)?;
    if training.batches != Batches::Contiguous {
        if !task.is_language_model() {
            return Err(cx.unused(
                "training",
                "batches",
                &format!(
                    "applies to language models only; a {} task trains on whole sequences",
                    task.kind.name()
                ),
            ));
        }
        if data.mode != Mode::Stream {
            return Err(cx.unused(
                "training",
                "batches",
                "only applies to mode = \"stream\" (lines mode trains on whole lines)",
            ));
        }
    }
    if !task.is_language_model() {
        training.sample_every = None; // nothing to sample
    }
    let sampling = check_sampling(cx, raw.sampling.unwrap_or_default())?;
    Ok(Experiment {
        path: Some(path.to_path_buf()),
        name,
        seed,
        data,
        model,
        training,
        sampling,
        task,
    })
}

fn check_data(cx: &Ctx<'_>, d: Option<RawData>, task: &TaskSection) -> Result<DataSection, ConfigError> {
    // [data]
    if let TaskSource::Generated { generator, .. } = &task.source {
        if d.is_some() {
            let at = cx.spans.sections.get("data").map_or(0, |s| s.start);
            return Err(cx.at(
                at,
                format!(
                    "[data] does not apply: generator = \"{}\" makes its own sequences; remove [data]",
                    generator.name()
                ),
            ));
        }
        return Ok(DataSection {
            files: Vec::new(),
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
            level: Level::Char,
            mode: Mode::Stream,
            val_fraction: 0.05,
            min_count: 1,
            max_vocab: 0,
            lowercase: false,
            split_punctuation: true,
        });
    }
    let Some(d) = d else {
        return Err(cx.at(
            0,
            if task.is_language_model() {
                "missing [data] section: add [data] with files = [\"your-text.txt\"]"
            } else {
                "missing [data] section: add [data] with train = [\"train-file\"]"
            },
        ));
    };
    if !task.is_language_model() {
        return check_task_data(cx, d, task);
    }
    // A language model trains on `files` (or `train`, the same list under the name tasks use);
    // `valid` replaces the held-out fraction, `test` is what `rnn-lab eval CKPT` scores.
    let (key, files) = match (d.files, d.train) {
        (Some(_), Some(_)) => {
            return Err(cx.unused(
                "data",
                "train",
                "is the same list as `files` for a language model: give one of them",
            ))
        }
        (Some(f), None) => ("files", f),
        (None, Some(t)) => ("train", t),
        (None, None) => {
            return Err(cx.at(
                cx.spans.of("data", "files").start,
                "missing `files` in [data]: list the text files to train on, e.g. files = [\"book.txt\"] \
                 (or train = [...], valid = [...], test = [...])",
            ))
        }
    };
    if files.is_empty() {
        return Err(cx.bad("data", key, "[]", "list at least one file or glob pattern"));
    }
    let files = file_list(cx, key, Some(files))?;
    if d.valid.as_ref().is_some_and(Vec::is_empty) {
        return Err(cx.bad(
            "data",
            "valid",
            "[]",
            "list at least one file, or remove `valid` to hold out val_fraction",
        ));
    }
    let valid = file_list(cx, "valid", d.valid)?;
    let test = file_list(cx, "test", d.test)?;
    if !valid.is_empty() && d.val_fraction.is_some() {
        return Err(cx.unused(
            "data",
            "val_fraction",
            "does not apply when `valid` files are given (nothing is held out of the training text)",
        ));
    }
    let val_fraction = d.val_fraction.unwrap_or(0.05);
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        return Err(cx.bad(
            "data",
            "val_fraction",
            val_fraction,
            "must be between 0 and 1 (exclusive), e.g. 0.05 for 5% validation data",
        ));
    }
    let (min_count, max_vocab) = vocab_limits(cx, d.min_count, d.max_vocab)?;
    let level = d.level.unwrap_or(Level::Char);
    if d.split_punctuation.is_some() && level != Level::Word {
        return Err(cx.unused("data", "split_punctuation", "only applies to level = \"word\""));
    }
    let data = DataSection {
        files,
        train: Vec::new(),
        valid,
        test,
        level,
        mode: d.mode.unwrap_or(Mode::Stream),
        val_fraction,
        min_count,
        max_vocab,
        lowercase: d.lowercase.unwrap_or(false),
        split_punctuation: d.split_punctuation.unwrap_or(true),
    };

    Ok(data)
}

/// `[data]` of a task read from files: `train` (required), `valid`, `test`; no `files` or `mode`.
fn check_task_data(cx: &Ctx<'_>, d: RawData, task: &TaskSection) -> Result<DataSection, ConfigError> {
    let kind = task.kind.name();
    if d.files.is_some() {
        return Err(cx.unused(
            "data",
            "files",
            &format!("is for language models; a {kind} task reads `train` (and `valid`, `test`)"),
        ));
    }
    if d.mode.is_some() {
        return Err(cx.unused(
            "data",
            "mode",
            &format!("applies to language models only; a {kind} task's sequences are its sentences or examples"),
        ));
    }
    let columns = matches!(
        task.source,
        TaskSource::Files {
            format: FileFormat::Columns(_),
            ..
        }
    );
    if columns && d.level.is_some() {
        return Err(cx.unused(
            "data",
            "level",
            "does not apply to column files: each line's token is one token",
        ));
    }
    let Some(train) = d.train.clone() else {
        return Err(cx.at(
            cx.spans.sections.get("data").map_or(0, |s| s.start),
            format!("missing `train` in [data]: list the {kind} task's training files, e.g. train = [\"train.txt\"]"),
        ));
    };
    if train.is_empty() {
        return Err(cx.bad("data", "train", "[]", "list at least one file or glob pattern"));
    }
    let train = file_list(cx, "train", Some(train))?;
    let valid = file_list(cx, "valid", d.valid)?;
    let test = file_list(cx, "test", d.test)?;
    let val_fraction = d.val_fraction.unwrap_or(0.05);
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        return Err(cx.bad(
            "data",
            "val_fraction",
            val_fraction,
            "must be between 0 and 1 (exclusive)",
        ));
    }
    if !valid.is_empty() && d.val_fraction.is_some() {
        return Err(cx.unused(
            "data",
            "val_fraction",
            "does not apply when `valid` files are given (nothing is held out of `train`)",
        ));
    }
    let (min_count, max_vocab) = vocab_limits(cx, d.min_count, d.max_vocab)?;
    let level = if columns {
        Level::Word
    } else {
        d.level.unwrap_or(Level::Char)
    };
    if d.split_punctuation.is_some() && (columns || level != Level::Word) {
        return Err(cx.unused(
            "data",
            "split_punctuation",
            "only applies to level = \"word\" text (not to column files)",
        ));
    }
    Ok(DataSection {
        files: Vec::new(),
        train,
        valid,
        test,
        level,
        mode: Mode::Lines,
        val_fraction,
        min_count,
        max_vocab,
        lowercase: d.lowercase.unwrap_or(false),
        split_punctuation: d.split_punctuation.unwrap_or(true),
    })
}

/// A `[data]` list of files or glob patterns (`files`, `train`, `valid`, `test`; absent = empty),
/// refused if one name is empty.
fn file_list(cx: &Ctx<'_>, key: &str, v: Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let v = v.unwrap_or_default();
    if let Some(f) = v.iter().find(|f| f.trim().is_empty()) {
        return Err(cx.bad("data", key, format!("[.. {f:?} ..]"), "file names must not be empty"));
    }
    Ok(v)
}

/// `[data] min_count` (default 1, at least 1) and `max_vocab` (default 0 = no limit, else at
/// least 3), the same for language models and tasks.
fn vocab_limits(
    cx: &Ctx<'_>,
    min_count: Option<usize>,
    max_vocab: Option<usize>,
) -> Result<(usize, usize), ConfigError> {
    let min_count = min_count.unwrap_or(1);
    if min_count == 0 {
        return Err(cx.bad("data", "min_count", 0, "must be at least 1 (1 keeps every token)"));
    }
    let max_vocab = max_vocab.unwrap_or(0);
    if max_vocab == 1 || max_vocab == 2 {
        return Err(cx.bad("data", "max_vocab", max_vocab, "must be 0 (no limit) or at least 3"));
    }
    Ok((min_count, max_vocab))
}

fn check_model(cx: &Ctx<'_>, m: RawModel, task: &TaskSection) -> Result<ModelSection, ConfigError> {
    // [model]
    let hidden = cx.at_least_one("model", "hidden", m.hidden, 128)?;
    let layers = cx.at_least_one("model", "layers", m.layers, 1)?;
    let bidirectional = m.bidirectional.unwrap_or(false);
    if bidirectional && task.is_language_model() {
        // A language model generates left to right: it cannot read the future.
        return Err(cx.at(cx.spans.of("model", "bidirectional").start, BIDIRECTIONAL_LM));
    }
    if let TaskSource::Generated { generator, .. } = &task.source {
        if m.embedding.is_some_and(|e| e > 0)
            && matches!(generator.input(), crate::task::generators::InputKind::Dense(_))
        {
            return Err(cx.unused(
                "model",
                "embedding",
                &format!(
                    "does not apply: generator = \"{}\" feeds real values, not tokens",
                    generator.name()
                ),
            ));
        }
    }
    let embedding_init = match m.embedding_init.clone() {
        Some(p) if p.trim().is_empty() => {
            return Err(cx.bad(
                "model",
                "embedding_init",
                "\"\"",
                "must name a vectors file (word2vec text or binary), e.g. \"vectors.txt\"",
            ))
        }
        Some(p) => {
            if let TaskSource::Generated { generator, .. } = &task.source {
                return Err(cx.unused(
                    "model",
                    "embedding_init",
                    &format!(
                        "does not apply: generator = \"{}\" has no words to look up (word vectors start models that read text)",
                        generator.name()
                    ),
                ));
            }
            if m.embedding == Some(0) {
                return Err(cx.bad(
                    "model",
                    "embedding",
                    0,
                    "means one-hot input, which word vectors cannot start; leave `embedding` out (the size follows the vectors file)",
                ));
            }
            Some(p)
        }
        None => None,
    };
    if m.embedding_freeze == Some(true) && m.tie_weights == Some(true) {
        return Err(cx.unused(
            "model",
            "embedding_freeze",
            "cannot be true with tie_weights = true: the tied embedding is also the output layer, which must train",
        ));
    }
    if m.embedding_freeze.is_some() && embedding_init.is_none() {
        return Err(cx.unused(
            "model",
            "embedding_freeze",
            "only applies with `embedding_init` (a random embedding is always trained)",
        ));
    }
    let init = match m.init.unwrap_or(InitName::Uniform) {
        InitName::Uniform => {
            let k = m.init_range.unwrap_or(0.08);
            if !(k.is_finite() && k > 0.0) {
                return Err(cx.bad("model", "init_range", k, "must be a positive number, e.g. 0.08"));
            }
            Init::Uniform(k)
        }
        InitName::Xavier | InitName::Pytorch => {
            if m.init_range.is_some() {
                return Err(cx.unused("model", "init_range", "only applies to init = \"uniform\""));
            }
            if m.init == Some(InitName::Xavier) {
                Init::Xavier
            } else {
                Init::Pytorch
            }
        }
    };
    let embedding = m.embedding.unwrap_or(0);
    let tie_weights = m.tie_weights.unwrap_or(false);
    if tie_weights {
        if embedding == 0 {
            return Err(cx.bad(
                "model",
                "tie_weights",
                true,
                &format!("tying needs an embedding whose size is the hidden size: add embedding = {hidden}"),
            ));
        }
        if embedding != hidden {
            return Err(cx.bad(
                "model",
                "tie_weights",
                true,
                &format!(
                    "tying needs embedding = hidden (the head reads a⟨t⟩ of size {hidden}; the embedding has size {embedding})"
                ),
            ));
        }
    }
    let cell = m.cell.unwrap_or(CellKind::Lstm);
    let dropout = check_dropout(cx, &m, cell)?;
    let forget_bias = m.forget_bias.unwrap_or(1.0);
    if !forget_bias.is_finite() {
        return Err(cx.bad("model", "forget_bias", forget_bias, "must be a finite number"));
    }
    let model = ModelSection {
        cell,
        hidden,
        layers,
        bidirectional,
        embedding,
        embedding_init,
        embedding_freeze: m.embedding_freeze.unwrap_or(false),
        gru_variant: m.gru_variant.unwrap_or(GruVariant::Course),
        init,
        init_recurrent: m.init_recurrent.unwrap_or(RecurrentInit::Same),
        forget_bias,
        tie_weights,
        dropout,
    };

    Ok(model)
}

/// `dropout` and the per-place keys into the rates by place.
fn check_dropout(cx: &Ctx<'_>, m: &RawModel, cell: CellKind) -> Result<Dropout, ConfigError> {
    let rate = |key: &str, v: Option<f64>| -> Result<Option<f64>, ConfigError> {
        match v {
            Some(p) if !(0.0..1.0).contains(&p) => Err(cx.bad(
                "model",
                key,
                p,
                "a dropout rate must be in [0, 1): the share of units dropped, e.g. 0.3",
            )),
            v => Ok(v),
        }
    };
    let all = rate("dropout", m.dropout)?.unwrap_or(0.0);
    let kind = m.dropout_kind.unwrap_or(DropoutKind::Standard);
    let recurrent = rate("dropout_recurrent", m.dropout_recurrent)?.unwrap_or(0.0);
    if recurrent > 0.0 && kind != DropoutKind::Variational {
        return Err(cx.unused(
            "model",
            "dropout_recurrent",
            "needs dropout_kind = \"variational\": one mask per sequence (a new mask at every step would wipe the memory)",
        ));
    }
    if recurrent > 0.0 && cell == CellKind::Gru {
        return Err(cx.unused(
            "model",
            "dropout_recurrent",
            "is implemented for cell = \"lstm\" and \"rnn\"; for a GRU use dropout on the other connections",
        ));
    }
    Ok(Dropout {
        kind,
        input: rate("dropout_input", m.dropout_input)?.unwrap_or(all),
        hidden: rate("dropout_hidden", m.dropout_hidden)?.unwrap_or(all),
        output: rate("dropout_output", m.dropout_output)?.unwrap_or(all),
        recurrent,
        embedding: rate("dropout_embedding", m.dropout_embedding)?.unwrap_or(0.0),
    })
}

fn check_training(cx: &Ctx<'_>, t: RawTraining) -> Result<TrainingSection, ConfigError> {
    // [training]
    let opt = t.optimizer.unwrap_or(OptimizerName::Adam);
    let opt_name = match opt {
        OptimizerName::Sgd => "sgd",
        OptimizerName::Adagrad => "adagrad",
        OptimizerName::Rmsprop => "rmsprop",
        OptimizerName::Adam => "adam",
    };
    let only_for = |key: &str, given: bool, wanted: &[OptimizerName], names: &str| {
        if given && !wanted.contains(&opt) {
            Err(cx.unused(
                "training",
                key,
                &format!("only applies to optimizer = {names} (optimizer is \"{opt_name}\")"),
            ))
        } else {
            Ok(())
        }
    };
    only_for("momentum", t.momentum.is_some(), &[OptimizerName::Sgd], "\"sgd\"")?;
    only_for("beta1", t.beta1.is_some(), &[OptimizerName::Adam], "\"adam\"")?;
    only_for("beta2", t.beta2.is_some(), &[OptimizerName::Adam], "\"adam\"")?;
    only_for("decay", t.decay.is_some(), &[OptimizerName::Rmsprop], "\"rmsprop\"")?;
    only_for(
        "eps",
        t.eps.is_some(),
        &[OptimizerName::Adagrad, OptimizerName::Rmsprop, OptimizerName::Adam],
        "\"adagrad\", \"rmsprop\" or \"adam\"",
    )?;
    let unit = |key: &str, v: f64| {
        if (0.0..1.0).contains(&v) {
            Ok(v)
        } else {
            Err(cx.bad("training", key, v, "must be in [0, 1)"))
        }
    };
    let eps = t.eps.unwrap_or(1e-8);
    if !(eps.is_finite() && eps > 0.0) {
        return Err(cx.bad("training", "eps", eps, "must be a small positive number, e.g. 1e-8"));
    }
    let (kind, default_lr) = match opt {
        OptimizerName::Sgd => (
            OptimizerKind::Sgd {
                momentum: unit("momentum", t.momentum.unwrap_or(0.0))?,
            },
            1.0,
        ),
        OptimizerName::Adagrad => (OptimizerKind::Adagrad { eps }, 0.1),
        OptimizerName::Rmsprop => (
            OptimizerKind::Rmsprop {
                decay: unit("decay", t.decay.unwrap_or(0.95))?,
                eps,
            },
            2e-3,
        ),
        OptimizerName::Adam => (
            OptimizerKind::Adam {
                beta1: unit("beta1", t.beta1.unwrap_or(0.9))?,
                beta2: unit("beta2", t.beta2.unwrap_or(0.999))?,
                eps,
            },
            2e-3,
        ),
    };
    let lr = t.lr.unwrap_or(default_lr);
    if !(lr.is_finite() && lr > 0.0) {
        return Err(cx.bad(
            "training",
            "lr",
            lr,
            "the learning rate must be a positive number, e.g. 0.002",
        ));
    }

    if t.steps.is_some() && t.epochs.is_some() {
        return Err(cx.unused(
            "training",
            "epochs",
            "cannot be given together with `steps`: give one of them",
        ));
    }
    let (steps, epochs) = match (t.steps, t.epochs) {
        (_, Some(ep)) => {
            if !(ep.is_finite() && ep > 0.0) {
                return Err(cx.bad("training", "epochs", ep, "must be a positive number"));
            }
            (0, Some(ep))
        }
        (Some(0), None) => return Err(cx.bad("training", "steps", 0, "must be at least 1")),
        (s, None) => (s.unwrap_or(2000), None),
    };

    let sched = t.schedule.unwrap_or(ScheduleName::Constant);
    let sched_only = |key: &str, given: bool, wanted: ScheduleName, name: &str| {
        if given && sched != wanted {
            Err(cx.unused("training", key, &format!("only applies to schedule = \"{name}\"")))
        } else {
            Ok(())
        }
    };
    sched_only("step_every", t.step_every.is_some(), ScheduleName::Step, "step")?;
    if t.step_gamma.is_some() && !matches!(sched, ScheduleName::Step | ScheduleName::EpochStep) {
        return Err(cx.unused(
            "training",
            "step_gamma",
            "only applies to schedule = \"step\" or \"epoch_step\"",
        ));
    }
    sched_only(
        "decay_after_epochs",
        t.decay_after_epochs.is_some(),
        ScheduleName::EpochStep,
        "epoch_step",
    )?;
    sched_only(
        "min_lr_factor",
        t.min_lr_factor.is_some(),
        ScheduleName::Cosine,
        "cosine",
    )?;
    let schedule = match sched {
        ScheduleName::Constant => Schedule::Constant,
        ScheduleName::Step => {
            let every = cx.at_least_one("training", "step_every", t.step_every, 1000)?;
            let gamma = t.step_gamma.unwrap_or(0.5);
            if !(gamma > 0.0 && gamma <= 1.0) {
                return Err(cx.bad("training", "step_gamma", gamma, "must be in (0, 1], e.g. 0.5"));
            }
            Schedule::Step { every, gamma }
        }
        ScheduleName::EpochStep => {
            let after = cx.at_least_one("training", "decay_after_epochs", t.decay_after_epochs, 1)?;
            let gamma = t.step_gamma.unwrap_or(0.5);
            if !(gamma > 0.0 && gamma <= 1.0) {
                return Err(cx.bad("training", "step_gamma", gamma, "must be in (0, 1], e.g. 0.5"));
            }
            // `steps_per_epoch` is filled by `Experiment::resolve_epochs` once the data is loaded.
            Schedule::EpochStep {
                after,
                gamma,
                steps_per_epoch: 0,
            }
        }
        ScheduleName::Cosine => {
            let min_factor = t.min_lr_factor.unwrap_or(0.1);
            if !(0.0..=1.0).contains(&min_factor) {
                return Err(cx.bad("training", "min_lr_factor", min_factor, "must be in [0, 1]"));
            }
            // `total` is the run length; with `epochs` it is filled by `Experiment::resolve_epochs`.
            Schedule::Cosine {
                total: steps,
                min_factor,
            }
        }
    };
    let clip = |key: &str, v: Option<f64>, default: f64| {
        let v = v.unwrap_or(default);
        if !(v.is_finite() && v >= 0.0) {
            return Err(cx.bad(
                "training",
                key,
                v,
                "must be a positive number, or 0 to turn clipping off",
            ));
        }
        Ok(if v == 0.0 { None } else { Some(v) })
    };
    let optim = OptimSpec {
        kind,
        lr,
        schedule,
        clip_norm: clip("clip_norm", t.clip_norm, 5.0)?,
        clip_value: clip("clip_value", t.clip_value, 0.0)?,
        weight_decay: {
            let wd = t.weight_decay.unwrap_or(0.0);
            if !(wd.is_finite() && wd >= 0.0) {
                return Err(cx.bad("training", "weight_decay", wd, "must be ≥ 0, e.g. 0.01 (0 = none)"));
            }
            wd
        },
        warmup: t.warmup_steps.unwrap_or(0),
    };
    let batch_size = cx.at_least_one("training", "batch_size", t.batch_size, 32)?;
    let seq_len = cx.at_least_one("training", "seq_len", t.seq_len, 64)?;
    let Some(log_every) = NonZeroU64::new(t.log_every.unwrap_or(10)) else {
        return Err(cx.bad("training", "log_every", 0, "must be at least 1"));
    };
    let divergence_factor = t.divergence_factor.unwrap_or(10.0);
    if !(divergence_factor.is_finite() && (divergence_factor == 0.0 || divergence_factor > 1.0)) {
        return Err(cx.bad(
            "training",
            "divergence_factor",
            divergence_factor,
            "must be above 1 (e.g. 10), or 0 to turn the loss blow-up check off",
        ));
    }
    let divergence_window = cx.at_least_one("training", "divergence_window", t.divergence_window, 100)?;
    let training = TrainingSection {
        optim,
        batch_size,
        seq_len,
        steps,
        epochs,
        log_every,
        // 0 in the file = no periodic one (`None`); what that means for each is in its doc.
        eval_every: NonZeroU64::new(t.eval_every.unwrap_or(200)),
        checkpoint_every: NonZeroU64::new(t.checkpoint_every.unwrap_or(500)),
        sample_every: NonZeroU64::new(t.sample_every.unwrap_or(200)),
        probe_every: NonZeroU64::new(t.probe_every.unwrap_or(100)),
        max_val_tokens: t.max_val_tokens.unwrap_or(100_000),
        loss: t.loss.unwrap_or_default(),
        batches: t.batches.unwrap_or_default(),
        divergence_factor,
        divergence_window,
    };

    Ok(training)
}

fn check_sampling(cx: &Ctx<'_>, s: RawSampling) -> Result<SamplingSection, ConfigError> {
    // [sampling]
    let temperature = s.temperature.unwrap_or(0.8);
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err(cx.bad(
            "sampling",
            "temperature",
            temperature,
            "must be ≥ 0 (0 = greedy), e.g. 0.8",
        ));
    }
    let length = cx.at_least_one("sampling", "length", s.length, 200)?;
    let sampling = SamplingSection {
        temperature,
        top_k: s.top_k.unwrap_or(0),
        length,
        prime: s.prime.unwrap_or_default(),
    };

    Ok(sampling)
}
