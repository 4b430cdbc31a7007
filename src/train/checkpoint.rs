//! Checkpoints: self-contained safetensors files (see docs/checkpoint-format.md).
//!
//! Tensors: the model in the notes' names (`layers.0.fwd.w_u` …), optimizer state as
//! `optim.m.<name>` / `optim.v.<name>`, and the carried truncated-BPTT state as
//! `state.<l>.<dir>.a0` / `.c0`. Metadata (strings): `format` = "rnn-lab-checkpoint",
//! `version`, `config` (resolved experiment TOML), `vocab` (JSON), `spec` (model spec JSON),
//! `step`, `optim` (optimizer spec JSON), `optim_t`, `best_val_loss`, and for tasks other than
//! language models `task` (output names, JSON).
//! Writes are atomic: a temporary file beside the target, fsync, rename.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use thiserror::Error;

use crate::nn::export::NamedTensor;
use crate::nn::{Model, ModelSpec, Params};
use crate::optim::{OptimSpec, Optimizer};

/// Format tag in the metadata.
pub const FORMAT: &str = "rnn-lab-checkpoint";
/// Current format version.
pub const VERSION: &str = "1";

/// A saved truncated-BPTT state (see [`crate::nn::shard::State`]).
pub type CarriedState = crate::nn::shard::State<f32>;

/// What a checkpoint holds.
#[derive(Clone, Debug)]
pub struct CheckpointData {
    /// Resolved experiment config as TOML.
    pub config_toml: String,
    /// Vocabulary as JSON.
    pub vocab_json: String,
    /// Tasks other than language models: the task's output names etc. as JSON
    /// ([`crate::task::data::TaskInfo`]); metadata key `task`.
    pub task_json: Option<String>,
    /// Training steps done.
    pub step: u64,
    /// Best validation loss so far (nats/token).
    pub best_val: Option<f64>,
    /// The model (its spec included).
    pub model: Model<f32>,
    /// Optimizer with state, when saved by a trainer.
    pub optim: Option<Optimizer<f32>>,
    /// Carried state per layer and direction: (a⟨0⟩, c⟨0⟩), each `[B, H]`, and B.
    pub carried: Option<CarriedState>,
}

/// Why a checkpoint could not be read or written. Display is one line naming the file.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not a safetensors file (truncated or corrupted).
    #[error("{path}: not a valid safetensors checkpoint ({reason}); it may be truncated or corrupted")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// Parser's reason.
        reason: String,
    },
    /// A safetensors file, but not one written by rnn-lab (or an unsupported version).
    #[error("{path}: not an rnn-lab checkpoint ({reason})")]
    Foreign {
        /// File.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// Refused to save: a tensor holds NaN or ±∞ (a diverged model). Nothing was written, so the
    /// file at `path`, if any, is still the last good checkpoint.
    #[error("{path}: not saved: tensor `{tensor}` holds a non-finite value ({value}) at {index}")]
    NonFinite {
        /// File that was not written.
        path: PathBuf,
        /// Tensor name as in the file (`layers.0.fwd.w_u`, `optim.m.…`, `state.…`).
        tensor: String,
        /// Flat index of the first non-finite value.
        index: usize,
        /// The value, as text.
        value: String,
    },
}

fn bytes_of(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Write `data` to `path` atomically (temporary file, fsync, rename). A tensor holding NaN or ±∞
/// is refused with [`CheckpointError::NonFinite`] before anything is written: [`load`] would
/// reject the file, and a good checkpoint must never be replaced by a broken one.
pub fn save(path: &Path, data: &CheckpointData) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let model = &data.model;
    let mut named: Vec<NamedTensor<f32>> = model.export();
    if let Some(opt) = &data.optim {
        for (prefix, st) in [("optim.m.", &opt.s1), ("optim.v.", &opt.s2)] {
            if st.values.is_empty() {
                continue;
            }
            for mut t in model.export_from(st) {
                t.name = format!("{prefix}{}", t.name);
                named.push(t);
            }
        }
    }
    if let Some((b, states)) = &data.carried {
        let h = model.spec.hidden;
        for (i, (a0, c0)) in states.iter().enumerate() {
            let (l, d) = (
                i / model.spec.dirs(),
                if i % model.spec.dirs() == 0 { "fwd" } else { "bwd" },
            );
            named.push(NamedTensor {
                name: format!("state.{l}.{d}.a0"),
                shape: vec![*b, h],
                data: a0[..b * h].to_vec(),
            });
            named.push(NamedTensor {
                name: format!("state.{l}.{d}.c0"),
                shape: vec![*b, h],
                data: c0[..b * h].to_vec(),
            });
        }
    }
    for t in &named {
        if let Some((index, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CheckpointError::NonFinite {
                path: path.to_path_buf(),
                tensor: t.name.clone(),
                index,
                value: v.to_string(),
            });
        }
    }
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = named
        .into_iter()
        .map(|t| (t.name, t.shape, bytes_of(&t.data)))
        .collect();
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("version".to_string(), VERSION.to_string());
    meta.insert("config".to_string(), data.config_toml.clone());
    meta.insert("vocab".to_string(), data.vocab_json.clone());
    if let Some(t) = &data.task_json {
        meta.insert("task".to_string(), t.clone());
    }
    meta.insert(
        "spec".to_string(),
        serde_json::to_string(&model.spec).unwrap_or_default(),
    );
    meta.insert("step".to_string(), data.step.to_string());
    if let Some(b) = data.best_val {
        meta.insert("best_val_loss".to_string(), b.to_string());
    }
    if let Some(opt) = &data.optim {
        meta.insert(
            "optim".to_string(),
            serde_json::to_string(&opt.spec).unwrap_or_default(),
        );
        meta.insert("optim_t".to_string(), opt.t.to_string());
    }
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_atomic(path, &bytes).map_err(io)
}

/// Write bytes to `path` through a temporary file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Read a checkpoint.
pub fn load(path: &Path) -> Result<CheckpointData, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let foreign = |reason: String| CheckpointError::Foreign {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("format") {
        Some(f) if f == FORMAT => {}
        _ => return Err(foreign("no `format: rnn-lab-checkpoint` metadata".into())),
    }
    if meta.get("version").map(String::as_str) != Some(VERSION) {
        return Err(foreign(format!("unsupported version {:?}", meta.get("version"))));
    }
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| foreign(format!("metadata `{k}` is missing")))
    };
    let spec: ModelSpec = serde_json::from_str(&get("spec")?).map_err(|e| corrupt(format!("metadata `spec`: {e}")))?;
    let step: u64 = get("step")?
        .parse()
        .map_err(|_| corrupt("metadata `step` is not a number".into()))?;
    let best_val = meta.get("best_val_loss").and_then(|s| s.parse().ok());
    let mut model = Model::<f32>::new(spec, 0).map_err(|e| corrupt(format!("metadata `spec`: {e}")))?;

    let mut tensors: HashMap<String, (Vec<usize>, Vec<f32>)> = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(corrupt(format!("tensor `{name}` is {:?}, expected F32", view.dtype())));
        }
        let vals: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some((i, _)) = vals.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(corrupt(format!("tensor `{name}` holds a non-finite value at {i}")));
        }
        tensors.insert(name, (view.shape().to_vec(), vals));
    }
    let mut params = model.params.clone();
    model.import_into(&mut params, &tensors).map_err(corrupt)?;
    model.params = params;

    let optim = match (meta.get("optim"), meta.get("optim_t")) {
        (Some(o), Some(t)) => {
            let spec: OptimSpec = serde_json::from_str(o).map_err(|e| corrupt(format!("metadata `optim`: {e}")))?;
            let mut opt = Optimizer::new(spec, &model.params).map_err(|e| corrupt(e.to_string()))?;
            opt.t = t
                .parse()
                .map_err(|_| corrupt("metadata `optim_t` is not a number".into()))?;
            for (prefix, st) in [("optim.m.", &mut opt.s1), ("optim.v.", &mut opt.s2)] {
                if st.values.is_empty() {
                    continue;
                }
                let sub: HashMap<String, (Vec<usize>, Vec<f32>)> = tensors
                    .iter()
                    .filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_string(), v.clone())))
                    .collect();
                let mut p: Params<f32> = st.clone();
                model
                    .import_into(&mut p, &sub)
                    .map_err(|e| corrupt(format!("optimizer state: {e}")))?;
                *st = p;
            }
            Some(opt)
        }
        _ => None,
    };
    let mut carried = None;
    let dirs = model.spec.dirs();
    let key = |i: usize, s: &str| {
        format!(
            "state.{}.{}.{s}",
            i / dirs,
            if i.is_multiple_of(dirs) { "fwd" } else { "bwd" }
        )
    };
    if let Some((shape, _)) = tensors.get(&key(0, "a0")) {
        let b = shape.first().copied().unwrap_or(0);
        let mut v = Vec::new();
        for i in 0..model.dirs.len() {
            let a0 = tensors.get(&key(i, "a0")).map(|t| t.1.clone());
            let c0 = tensors.get(&key(i, "c0")).map(|t| t.1.clone());
            match (a0, c0) {
                (Some(a), Some(c)) if a.len() == b * model.spec.hidden && c.len() == a.len() => v.push((a, c)),
                _ => {
                    return Err(corrupt(format!(
                        "carried state `{}` is missing or misshapen",
                        key(i, "a0")
                    )))
                }
            }
        }
        carried = Some((b, v));
    }
    Ok(CheckpointData {
        config_toml: get("config")?,
        vocab_json: get("vocab")?,
        task_json: meta.get("task").cloned(),
        step,
        best_val,
        model,
        optim,
        carried,
    })
}
