//! `rnn-lab import`: a PyTorch `state_dict` (an export directory, or a `.safetensors` file with
//! the export's `model.json` and `vocab.json` beside it) back into an rnn-lab checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors};

use super::layout::{self, TensorMap};
use super::{InteropError, ModelJson, FORMAT};
use crate::config::{Experiment, Level, Mode};
use crate::data::Vocab;
use crate::nn::{HeadKind, Model, ModelSpec};
use crate::task::data::TaskInfo;
use crate::task::TaskKind;
use crate::train::checkpoint::{self, CheckpointData};

/// A model read from PyTorch, ready to save as a checkpoint.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The state_dict file read.
    pub weights: PathBuf,
    /// The model with the imported weights.
    pub model: Model<f32>,
    /// Its vocabulary.
    pub vocab: Vocab,
    /// The experiment it belongs to (the export's `config.toml`, or one made from `model.json`).
    pub experiment: Experiment,
    /// Whether `config.toml` was found (false: made up, its `[data] files` is a placeholder).
    pub had_config: bool,
    /// Step recorded in `model.json`.
    pub step: u64,
    /// Tagging, classification and regression models: the task (`task.json`: kind and output
    /// names); `None` for a language model.
    pub task: Option<TaskInfo>,
}

/// The state_dict file and the folder holding `model.json` / `vocab.json` for `source`.
pub fn locate(source: &Path) -> Result<(PathBuf, PathBuf), InteropError> {
    if source.is_dir() {
        Ok((source.join("model.safetensors"), source.to_path_buf()))
    } else if source.is_file() {
        let dir = source
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Ok((source.to_path_buf(), dir.to_path_buf()))
    } else {
        Err(InteropError::not_found(
            source,
            "no such file or folder (give an export folder, or a state_dict .safetensors file with model.json and vocab.json beside it)",
        ))
    }
}

fn read_text(path: &Path, what: &str) -> Result<String, InteropError> {
    fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            InteropError::not_found(
                path,
                format!("missing; import needs the {what} that `rnn-lab export` writes beside the state_dict"),
            )
        } else {
            InteropError::invalid(path, e.to_string())
        }
    })
}

/// Convert IEEE half-precision bits to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits >> 15 == 1 { -1.0f32 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let man = f32::from(bits & 0x3ff);
    match exp {
        0 => sign * man * 2f32.powi(-24), // zero and subnormals: man · 2⁻¹⁴ · 2⁻¹⁰
        0x1f if man == 0.0 => sign * f32::INFINITY,
        0x1f => f32::NAN,
        _ => sign * (1.0 + man / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// Read every tensor of a safetensors `state_dict` as f32 (F32, F64, F16 and BF16 accepted).
/// A common wrapper prefix on every key (`module.` from DistributedDataParallel, `_orig_mod.`
/// from torch.compile) is removed.
pub fn read_state_dict(path: &Path) -> Result<TensorMap<f32>, InteropError> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            InteropError::not_found(path, "no such file")
        } else {
            InteropError::invalid(path, e.to_string())
        }
    })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| {
        InteropError::invalid(
            path,
            format!("not a safetensors state_dict ({e}); save one with safetensors.torch.save_file or model.save(DIR)"),
        )
    })?;
    let bad = |name: &str, why: String| InteropError::invalid(path, format!("tensor `{name}`: {why}"));
    let mut out = TensorMap::new();
    for (name, view) in st.tensors() {
        let d = view.data();
        let vals: Vec<f32> = match view.dtype() {
            Dtype::F32 => d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F64 => d
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect(),
            Dtype::BF16 => d
                .chunks_exact(2)
                .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
                .collect(),
            Dtype::F16 => d
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            other => {
                return Err(bad(
                    &name,
                    format!("dtype {other:?}, expected a float type (F32, F64, F16, BF16)"),
                ))
            }
        };
        if let Some(i) = vals.iter().position(|v| !v.is_finite()) {
            return Err(bad(&name, format!("holds a non-finite value at flat index {i}")));
        }
        out.insert(name, (view.shape().to_vec(), vals));
    }
    for prefix in ["module.", "_orig_mod."] {
        if !out.is_empty() && out.keys().all(|k| k.starts_with(prefix)) {
            out = out
                .into_iter()
                .map(|(k, v)| (k[prefix.len()..].to_string(), v))
                .collect();
        }
    }
    Ok(out)
}

/// Read `model.json`, with JSON errors at their line and column.
pub fn read_model_json(path: &Path) -> Result<ModelJson, InteropError> {
    let text = read_text(path, "model.json")?;
    let mj: ModelJson = serde_json::from_str(&text).map_err(|e| {
        InteropError::invalid(
            format!("{}:{}:{}", path.display(), e.line(), e.column()),
            // serde_json appends " at line L column C": the location is already in front.
            e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        )
    })?;
    if !mj.format.is_empty() && mj.format != FORMAT {
        return Err(InteropError::invalid(
            path,
            format!("format is {:?}, expected {FORMAT:?}", mj.format),
        ));
    }
    if mj.version > super::VERSION {
        return Err(InteropError::invalid(
            path,
            format!(
                "version {} is newer than this rnn-lab reads ({})",
                mj.version,
                super::VERSION
            ),
        ));
    }
    Ok(mj)
}

/// The experiment of an import: `config.toml` when present (its `[model]` must describe the same
/// network as `model.json`), else one made from `model.json` and the vocabulary.
fn experiment(
    dir: &Path,
    spec: &ModelSpec,
    mj: &ModelJson,
    vocab: &Vocab,
    task: Option<&TaskInfo>,
) -> Result<(Experiment, bool), InteropError> {
    let path = dir.join("config.toml");
    if path.is_file() {
        let exp = crate::config::load(&path).map_err(|e| InteropError::Config(e.to_string()))?;
        let mut theirs = exp.model_spec(vocab.len());
        if let Some(t) = task {
            let kind = exp.task.kind;
            if kind != t.kind {
                return Err(InteropError::invalid(
                    &path,
                    format!(
                        "[task] is a {} experiment but task.json describes a {} model; fix one, or remove config.toml to import with a generated one",
                        kind.name(),
                        t.kind.name()
                    ),
                ));
            }
            theirs.head = spec.head;
            theirs.outputs = spec.outputs;
        }
        if theirs != *spec {
            return Err(InteropError::invalid(
                &path,
                format!(
                    "[model] describes {} {}×{} (embedding {}) but model.json describes {} {}×{} (embedding {}); fix one, or remove config.toml to import with a generated one",
                    theirs.cell.name(),
                    theirs.layers,
                    theirs.hidden,
                    exp.model.embedding,
                    spec.cell.name(),
                    spec.layers,
                    spec.hidden,
                    mj.embedding
                ),
            ));
        }
        return Ok((exp, true));
    }
    let level = match vocab.level {
        Level::Char => "char",
        Level::Word => "word",
    };
    let mode = match mj.mode.unwrap_or(Mode::Stream) {
        Mode::Stream => "stream",
        Mode::Lines => "lines",
    };
    let name: String = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "imported".into())
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut text = format!("[experiment]\nname = {name:?}\n\n");
    // Placeholders for the data: the training data is not part of an export. Column files and
    // generated tasks take no tokenisation keys (a column is one token).
    let tokenised = match task {
        // The adding problem is the one task with real-valued inputs: its generator.
        Some(t) if t.dense.is_some() => {
            text.push_str("[task]\ngenerator = \"adding\"\n");
            false
        }
        Some(t) if t.kind == TaskKind::Tagging => {
            text.push_str("[task]\nkind = \"tagging\"\n\n[data]\ntrain = [\"train.txt\"]\n");
            false
        }
        Some(t) => {
            text.push_str(&format!(
                "[task]\nkind = \"{}\"\n\n[data]\ntrain = [\"train.tsv\"]\nlevel = \"{level}\"\nlowercase = {}\n",
                t.kind.name(),
                vocab.lowercase
            ));
            true
        }
        None => {
            text.push_str(&format!(
                "[data]\nfiles = [\"train.txt\"]\nlevel = \"{level}\"\nmode = \"{mode}\"\nlowercase = {}\n",
                vocab.lowercase
            ));
            true
        }
    };
    if vocab.level == Level::Word && tokenised {
        text.push_str(&format!("split_punctuation = {}\n", vocab.split_punctuation));
    }
    text.push_str(&format!(
        "\n[model]\ncell = \"{}\"\nhidden = {}\nlayers = {}\nembedding = {}\nbidirectional = {}\ngru_variant = \"{}\"\n",
        spec.cell.name(),
        spec.hidden,
        spec.layers,
        mj.embedding,
        spec.bidirectional,
        match spec.gru_variant {
            crate::nn::GruVariant::Course => "course",
            crate::nn::GruVariant::Pytorch => "pytorch",
        }
    ));
    let mut exp = crate::config::parse_str(&text, &path)
        .map_err(|e| InteropError::invalid(dir.join("model.json"), format!("cannot make an experiment: {e}")))?;
    exp.model.init = spec.init;
    exp.model.forget_bias = spec.forget_bias;
    Ok((exp, false))
}

/// Read an export folder (or state_dict file) into a model rnn-lab can open.
pub fn read(source: &Path) -> Result<Imported, InteropError> {
    let (weights, dir) = locate(source)?;
    let mj_path = dir.join("model.json");
    let mj = read_model_json(&mj_path)?;
    let vocab_path = dir.join("vocab.json");
    let vocab = Vocab::from_json(&read_text(&vocab_path, "vocab.json")?)
        .map_err(|e| InteropError::invalid(&vocab_path, e.to_string()))?;
    let spec = mj.spec();
    spec.check()
        .map_err(|e| InteropError::invalid(&mj_path, e.to_string()))?;
    if vocab.len() != spec.vocab {
        return Err(InteropError::invalid(
            &vocab_path,
            format!(
                "holds {} tokens but model.json says vocab_size = {}",
                vocab.len(),
                spec.vocab
            ),
        ));
    }
    let task = read_task(&dir.join("task.json"), &spec)?;
    if task.is_none() && (spec.head != HeadKind::PerStep || spec.outputs != spec.vocab) {
        return Err(InteropError::invalid(
            &mj_path,
            "this model has a sequence head or outputs other than its vocabulary, and no task.json beside it (the task kind and output names that rnn-lab export writes for tagging, classification and regression models)",
        ));
    }
    if task.is_none() && spec.bidirectional {
        return Err(InteropError::invalid(
            &mj_path,
            "bidirectional and no task.json beside it: a language model is unidirectional (a bidirectional model needs the future); tagging, classification and regression models need the task.json that rnn-lab export writes",
        ));
    }
    let sd = read_state_dict(&weights)?;
    let notes = layout::from_torch(&spec, &sd).map_err(|source| InteropError::Tensor {
        path: weights.clone(),
        source,
    })?;
    let mut model = Model::<f32>::new(spec.clone(), 0).map_err(|e| InteropError::invalid(&mj_path, e.to_string()))?;
    let mut params = model.params.clone();
    model
        .import_into(&mut params, &notes)
        .map_err(|e| InteropError::invalid(&weights, e))?;
    model.params = params;
    let (experiment, had_config) = experiment(&dir, &spec, &mj, &vocab, task.as_ref())?;
    Ok(Imported {
        weights,
        model,
        vocab,
        experiment,
        had_config,
        step: mj.step,
        task,
    })
}

/// `task.json` when it is there (`None`: a language model), checked against the model: the head
/// of its kind, one output per name.
fn read_task(path: &Path, spec: &ModelSpec) -> Result<Option<TaskInfo>, InteropError> {
    if !path.is_file() {
        return Ok(None);
    }
    let info = TaskInfo::from_json(&read_text(path, "task.json")?).map_err(|e| InteropError::invalid(path, e))?;
    let head = match info.kind {
        TaskKind::Tagging => HeadKind::PerStep,
        TaskKind::Classification => HeadKind::SeqClassify,
        TaskKind::Regression => HeadKind::SeqRegress,
        other => {
            return Err(InteropError::invalid(
                path,
                format!(
                    "kind {:?}: import reads tagging, classification and regression models",
                    other.name()
                ),
            ))
        }
    };
    if spec.head != head {
        return Err(InteropError::invalid(
            path,
            format!(
                "a {} model needs the {head:?} head, but model.json says {:?}",
                info.kind.name(),
                spec.head
            ),
        ));
    }
    if info.labels.len() != spec.outputs {
        return Err(InteropError::invalid(
            path,
            format!(
                "{} output names, but model.json says outputs = {}",
                info.labels.len(),
                spec.outputs
            ),
        ));
    }
    if info.dense.is_some_and(|w| w != spec.vocab) {
        return Err(InteropError::invalid(
            path,
            format!(
                "{} real-valued inputs per step, but model.json says vocab_size = {}",
                info.dense.unwrap_or_default(),
                spec.vocab
            ),
        ));
    }
    Ok(Some(info))
}

impl Imported {
    /// The checkpoint: model, vocabulary, experiment, step; no optimizer or carried state, so a
    /// `--resume` starts a fresh optimizer from these weights.
    pub fn checkpoint(&self) -> CheckpointData {
        CheckpointData {
            config_toml: self.experiment.to_toml(),
            vocab_json: self.vocab.to_json(),
            task_json: self.task.as_ref().map(TaskInfo::to_json),
            step: self.step,
            best_val: None,
            model: self.model.clone(),
            optim: None,
            carried: None,
            note: None,
        }
    }
}

/// `checkpoint::save`, with a failed write reported as a write failure (exit 1).
fn save(path: &Path, data: &CheckpointData) -> Result<(), InteropError> {
    checkpoint::save(path, data).map_err(|e| match e {
        checkpoint::CheckpointError::Io { path, source } => InteropError::io(path, source),
        other => other.into(),
    })
}

/// Where an import went.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// One checkpoint file.
    Checkpoint(PathBuf),
    /// A run directory (config.toml, latest/best.safetensors, empty metrics.jsonl).
    RunDir(PathBuf),
}

/// Save `imp` to `out`: a `.safetensors` path is one checkpoint file (an existing one is replaced
/// only with `force`); any other path is a run directory to create, which must not exist or be
/// empty, so the TUI's runs screen can continue it.
pub fn write(imp: &Imported, out: &Path, force: bool) -> Result<Written, InteropError> {
    let data = imp.checkpoint();
    if out.extension().is_some_and(|e| e == "safetensors") {
        if out.exists() && !force {
            return Err(InteropError::Exists {
                path: out.to_path_buf(),
                hint: "pass --force to replace it".into(),
            });
        }
        save(out, &data)?;
        return Ok(Written::Checkpoint(out.to_path_buf()));
    }
    if out.exists() {
        let empty = fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            return Err(InteropError::Exists {
                path: out.to_path_buf(),
                hint:
                    "a run directory must be new or empty; pick another --out (or end it in .safetensors for one file)"
                        .into(),
            });
        }
    }
    fs::create_dir_all(out).map_err(|e| InteropError::io(out, e))?;
    let io = |p: PathBuf| move |e: std::io::Error| InteropError::io(p, e);
    fs::write(out.join("config.toml"), imp.experiment.to_toml()).map_err(io(out.join("config.toml")))?;
    save(&out.join("latest.safetensors"), &data)?;
    save(&out.join("best.safetensors"), &data)?;
    fs::write(out.join("metrics.jsonl"), "").map_err(io(out.join("metrics.jsonl")))?;
    Ok(Written::RunDir(out.to_path_buf()))
}
