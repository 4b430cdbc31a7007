//! Checkpoints: self-contained safetensors files (see docs/checkpoint-format.md).
//!
//! Tensors: the model in the notes' names (`layers.0.fwd.w_u` …), optimizer state as
//! `optim.m.<name>` / `optim.v.<name>`, and the carried truncated-BPTT state as
//! `state.<l>.<dir>.a0` / `.c0`. Metadata (strings): `format` = "rnn-lab-checkpoint",
//! `version`, `config` (resolved experiment TOML), `vocab` (JSON), `spec` (model spec JSON),
//! `step`, `optim` (optimizer spec JSON), `optim_t`, `best_val_loss`, for tasks other than
//! language models `task` (output names, JSON), and `checksums`: the CRC-32 of every tensor's
//! bytes and of the other metadata, verified on load so that a damaged file is refused naming
//! the damaged tensor (files written before checksums existed still load, with a
//! [`CheckpointData::note`]).
//! Writes are atomic: a temporary file beside the target, fsync, rename.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors};
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
    /// Set by [`load`]: a remark for the user about the file (e.g. it has no checksums because
    /// an older rnn-lab wrote it, so damage to it cannot be detected). Ignored by [`save`].
    pub note: Option<String>,
}

/// Metadata key of the checksums: JSON `{"tensors": {name: crc}, "metadata": crc}`, CRC-32
/// (IEEE) as 8 hex digits.
pub const CHECKSUMS: &str = "checksums";

/// CRC-32 (IEEE 802.3, as zlib and PNG use) of `bytes`, as 8 hex digits.
fn crc_hex(bytes: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(bytes))
}

/// CRC-32 of the metadata other than the checksums themselves: every `key = value` pair in key
/// order, each as `key`, NUL, `value`, NUL.
fn metadata_crc(meta: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = meta.keys().filter(|k| k.as_str() != CHECKSUMS).collect();
    keys.sort();
    let mut h = crc32fast::Hasher::new();
    for k in keys {
        h.update(k.as_bytes());
        h.update(&[0]);
        h.update(meta[k].as_bytes());
        h.update(&[0]);
    }
    format!("{:08x}", h.finalize())
}

/// The stored checksums of a checkpoint.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Checksums {
    /// Tensor name → CRC-32 of its bytes.
    tensors: std::collections::BTreeMap<String, String>,
    /// CRC-32 of the other metadata ([`metadata_crc`]).
    metadata: String,
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
    /// A checksum does not match: the file was changed (a damaged disk, a bad copy) after it
    /// was written.
    #[error("{path}: {what} is damaged (checksum {found}, expected {expected}); the file changed after it was written: use another checkpoint (best.safetensors, an earlier run) or retrain")]
    Damaged {
        /// File.
        path: PathBuf,
        /// `tensor `name`` or `the metadata`.
        what: String,
        /// Stored checksum.
        expected: String,
        /// Checksum of the bytes read.
        found: String,
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
    let mut raw: Vec<(String, Vec<usize>, Vec<u8>)> = named
        .into_iter()
        .map(|t| (t.name, t.shape, bytes_of(&t.data)))
        .collect();
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sums = Checksums::default();
    for (n, _, b) in &raw {
        sums.tensors.insert(n.clone(), crc_hex(b));
    }
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
    sums.metadata = metadata_crc(&meta);
    meta.insert(CHECKSUMS.to_string(), serde_json::to_string(&sums).unwrap_or_default());
    let bytes = serialize(&raw, &meta);
    write_atomic_with(path, &bytes, super::fault::in_save).map_err(io)
}

/// The safetensors bytes of `tensors` (F32, in the order given) and `meta`, byte for byte the
/// same for the same input: the header's keys in sorted order (safetensors' own `serialize`
/// writes the metadata in hash-map order, which changes from process to process), padded with
/// spaces to a multiple of 8 bytes, then the tensors' data back to back.
fn serialize(tensors: &[(String, Vec<usize>, Vec<u8>)], meta: &HashMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new(); // a BTreeMap: keys in sorted order
    let sorted: std::collections::BTreeMap<&String, &String> = meta.iter().collect();
    header.insert("__metadata__".into(), serde_json::json!(sorted));
    let mut at = 0usize;
    for (name, shape, bytes) in tensors {
        header.insert(
            name.clone(),
            serde_json::json!({ "dtype": "F32", "shape": shape, "data_offsets": [at, at + bytes.len()] }),
        );
        at += bytes.len();
    }
    let mut h = serde_json::Value::Object(header).to_string().into_bytes();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + h.len() + at);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    for (_, _, bytes) in tensors {
        out.extend_from_slice(bytes);
    }
    out
}

/// Write bytes to `path` through a temporary file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, bytes, || Ok(()))
}

/// [`write_atomic`], calling `hook` between writing the temporary file and renaming it (the
/// fault injection of the reliability trials, `fault.rs`).
fn write_atomic_with(path: &Path, bytes: &[u8], hook: fn() -> std::io::Result<()>) -> std::io::Result<()> {
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
        hook()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        remove_stale_temporaries(dir, Some(&name));
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Remove `.{name}.{pid}.tmp` files (any name when `name` is `None`) left in `dir` by writers
/// that died mid-write (`kill -9`, a power cut): those whose process no longer exists. A live
/// writer's file is left alone. Called after every save, and on resume for the checkpoint's
/// folder.
pub fn remove_stale_temporaries(dir: &Path, name: Option<&str>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix('.'))
            .filter(|f| name.is_none_or(|n| f.strip_prefix(n).is_some_and(|r| r.starts_with('.'))))
            .and_then(|r| r.strip_suffix(".tmp"))
            .and_then(|r| r.rsplit('.').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let gone =
            unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Read a checkpoint.
pub fn load(path: &Path) -> Result<CheckpointData, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, path)
}

/// A checkpoint from its bytes (`path` names it in errors): every check of [`load`] — the
/// safetensors header, the checksums, the metadata, the tensors' names, dtypes, shapes and
/// finiteness. Never panics, whatever the bytes (fuzzed: `fuzz/`, `tests/fuzz_props.rs`).
pub fn parse(bytes: &[u8], path: &Path) -> Result<CheckpointData, CheckpointError> {
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let foreign = |reason: String| CheckpointError::Foreign {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(e.to_string()))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("format") {
        Some(f) if f == FORMAT => {}
        _ => return Err(foreign("no `format: rnn-lab-checkpoint` metadata".into())),
    }
    if meta.get("version").map(String::as_str) != Some(VERSION) {
        return Err(foreign(format!("unsupported version {:?}", meta.get("version"))));
    }
    let note = verify(path, &st, &meta)?;
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
        note,
    })
}

/// Check the stored checksums against the bytes read: `Ok(None)` when they all match,
/// `Ok(Some(note))` for a file without checksums (written by an older rnn-lab), and
/// [`CheckpointError::Damaged`] naming the first damaged tensor (or the metadata).
fn verify(
    path: &Path,
    st: &SafeTensors<'_>,
    meta: &HashMap<String, String>,
) -> Result<Option<String>, CheckpointError> {
    let Some(stored) = meta.get(CHECKSUMS) else {
        return Ok(Some(format!(
            "{}: no checksums (written by an rnn-lab older than checksums): damage to it cannot be detected; saving it again (resume and save) adds them",
            path.display()
        )));
    };
    let sums: Checksums = serde_json::from_str(stored).map_err(|e| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("metadata `{CHECKSUMS}`: {e}"),
    })?;
    let damaged = |what: String, expected: &str, found: String| CheckpointError::Damaged {
        path: path.to_path_buf(),
        what,
        expected: expected.to_string(),
        found,
    };
    let found = metadata_crc(meta);
    if found != sums.metadata {
        return Err(damaged("the metadata".into(), &sums.metadata, found));
    }
    let mut names = st.names();
    names.sort();
    for name in &names {
        let view = st.tensor(name).map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let found = crc_hex(view.data());
        match sums.tensors.get(*name) {
            Some(expected) if *expected == found => {}
            Some(expected) => return Err(damaged(format!("tensor `{name}`"), expected, found)),
            None => {
                return Err(damaged(
                    format!("tensor `{name}` (not in the checksum list)"),
                    "none",
                    found,
                ))
            }
        }
    }
    if let Some(missing) = sums.tensors.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(damaged(
            format!("tensor `{missing}` (missing from the file)"),
            &sums.tensors[missing],
            "none".into(),
        ));
    }
    Ok(None)
}
