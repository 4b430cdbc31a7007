//! The whole word2vec model in one safetensors file, enough to resume training exactly.
//!
//! Tensors (little-endian, row-major): `syn0` F32 `[V, dim]` (input vectors: the word vectors),
//! `syn1neg` F32 `[V, dim]` (negative sampling) or `syn1` F32 `[V − 1, dim]` (hierarchical
//! softmax: one row per inner node of the Huffman tree), `counts` I64 `[V]`.
//! Metadata (strings): `format` = "rnn-lab-word2vec", `version` = "1", `settings` (JSON of
//! [`Settings`]), `words` (JSON list, row order), `progress` (JSON of [`Progress`]: steps done,
//! seconds, the unfinished epoch's loss sums, finished epochs' losses), `corpus` (JSON of
//! [`CorpusInfo`]: fingerprint, words, sentences, steps per epoch), and any extra entries the
//! caller adds (a run stores its resolved experiment as `config`).
//!
//! The random state needs no tensor: step s draws from ChaCha8(seed, stream s + 1), so the seed
//! in `settings` and the step in `progress` are the whole of it. Writes are atomic.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::corpus::Corpus;
use super::engine::{Progress, Trainer};
use super::settings::{Objective, Settings};
use super::vectors::Embeddings;
use super::vocab::Vocab;
use super::W2vError;

/// Format tag in the metadata.
pub const FORMAT: &str = "rnn-lab-word2vec";
/// Current version.
pub const VERSION: &str = "1";

/// What a model was trained on, to refuse resuming on different data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorpusInfo {
    /// [`Corpus::fingerprint`].
    pub fingerprint: String,
    /// Corpus words (after `min_count`).
    pub words: u64,
    /// Sentences.
    pub sentences: usize,
    /// Steps per epoch.
    pub steps_per_epoch: u64,
}

impl CorpusInfo {
    /// Describe a corpus.
    pub fn of(c: &Corpus) -> Self {
        CorpusInfo {
            fingerprint: c.fingerprint(),
            words: c.words(),
            sentences: c.sentences(),
            steps_per_epoch: c.steps_per_epoch(),
        }
    }
}

/// A model file read back.
#[derive(Clone, Debug)]
pub struct SavedModel {
    /// Training settings.
    pub settings: Settings,
    /// Words and counts.
    pub vocab: Vocab,
    /// Input vectors `[V, dim]`.
    pub syn0: Vec<f32>,
    /// Output vectors (`syn1neg` or `syn1`).
    pub out: Vec<f32>,
    /// Where training was.
    pub progress: Progress,
    /// The corpus it was trained on.
    pub corpus: CorpusInfo,
    /// Extra metadata entries (e.g. `config`).
    pub extra: HashMap<String, String>,
}

fn out_name(s: &Settings) -> &'static str {
    match s.objective {
        Objective::Ns => "syn1neg",
        Objective::Hs => "syn1",
    }
}

/// Save a trainer's model atomically, with `extra` metadata entries.
///
/// # Errors
/// [`W2vError::Write`].
pub fn save(path: &Path, t: &Trainer, extra: &[(&str, &str)]) -> Result<(), W2vError> {
    let s = t.settings();
    let vocab = &t.corpus().vocab;
    let (v, d) = (vocab.len(), s.dim);
    let f32_bytes = |x: &[f32]| x.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let syn0 = f32_bytes(t.syn0());
    let out = f32_bytes(t.out());
    let counts: Vec<u8> = vocab.counts().iter().flat_map(|c| (*c as i64).to_le_bytes()).collect();
    let wr = |e: String| W2vError::Write {
        file: path.display().to_string(),
        why: e,
    };
    let views = vec![
        (
            "syn0".to_string(),
            TensorView::new(Dtype::F32, vec![v, d], &syn0).map_err(|e| wr(e.to_string()))?,
        ),
        (
            out_name(s).to_string(),
            TensorView::new(Dtype::F32, vec![t.out().len() / d, d], &out).map_err(|e| wr(e.to_string()))?,
        ),
        (
            "counts".to_string(),
            TensorView::new(Dtype::I64, vec![v], &counts).map_err(|e| wr(e.to_string()))?,
        ),
    ];
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("version".to_string(), VERSION.to_string());
    meta.insert("settings".to_string(), json(s));
    meta.insert("words".to_string(), json(&vocab.words()));
    meta.insert("progress".to_string(), json(t.progress()));
    meta.insert("corpus".to_string(), json(&CorpusInfo::of(t.corpus())));
    for (k, val) in extra {
        meta.insert((*k).to_string(), (*val).to_string());
    }
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| wr(e.to_string()))?;
    crate::train::checkpoint::write_atomic(path, &bytes).map_err(|e| W2vError::write(path, &e))
}

fn json<T: Serialize>(x: &T) -> String {
    serde_json::to_string(x).unwrap_or_default()
}

/// Whether the bytes are a word2vec model file (safetensors with our format tag).
pub fn is_model(bytes: &[u8]) -> bool {
    SafeTensors::read_metadata(bytes)
        .ok()
        .and_then(|(_, h)| h.metadata().as_ref().and_then(|m| m.get("format").cloned()))
        .is_some_and(|f| f == FORMAT)
}

/// Read a model file.
///
/// # Errors
/// [`W2vError::File`] naming what is wrong (not safetensors, not a word2vec model, a missing or
/// misshapen tensor, non-finite values).
pub fn load(path: &Path) -> Result<SavedModel, W2vError> {
    let bytes = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    parse(&bytes, &path.display().to_string())
}

/// Parse the bytes of a model file; `file` names it in errors.
///
/// # Errors
/// As [`load`].
pub fn parse(bytes: &[u8], file: &str) -> Result<SavedModel, W2vError> {
    let bad = |what: String| W2vError::file(file, what);
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
        bad(format!(
            "not a safetensors file ({e}); it may be truncated or corrupted"
        ))
    })?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| {
        bad(format!(
            "not a safetensors file ({e}); it may be truncated or corrupted"
        ))
    })?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("format").map(String::as_str) {
        Some(FORMAT) => {}
        Some(other) => return Err(bad(format!("a `{other}` file, not a word2vec model"))),
        None => return Err(bad("not an rnn-lab word2vec model (no `format` metadata)".to_string())),
    }
    if meta.get("version").map(String::as_str) != Some(VERSION) {
        return Err(bad(format!(
            "unsupported word2vec model version {:?}",
            meta.get("version")
        )));
    }
    let get = |k: &str| meta.get(k).ok_or_else(|| bad(format!("metadata `{k}` is missing")));
    let settings: Settings =
        serde_json::from_str(get("settings")?).map_err(|e| bad(format!("metadata `settings`: {e}")))?;
    let words: Vec<String> = serde_json::from_str(get("words")?).map_err(|e| bad(format!("metadata `words`: {e}")))?;
    let progress: Progress =
        serde_json::from_str(get("progress")?).map_err(|e| bad(format!("metadata `progress`: {e}")))?;
    let corpus: CorpusInfo =
        serde_json::from_str(get("corpus")?).map_err(|e| bad(format!("metadata `corpus`: {e}")))?;
    let (v, d) = (words.len(), settings.dim);
    let tensor = |name: &str, dtype: Dtype, shape: Vec<usize>| {
        let view = st
            .tensor(name)
            .map_err(|_| bad(format!("tensor `{name}` is missing")))?;
        if view.dtype() != dtype || view.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor `{name}` is {:?} {:?}, expected {dtype:?} {shape:?}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view.data().to_vec())
    };
    let floats = |name: &str, rows: usize| -> Result<Vec<f32>, W2vError> {
        let raw = tensor(name, Dtype::F32, vec![rows, d])?;
        let vals: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = vals.iter().position(|x| !x.is_finite()) {
            return Err(bad(format!(
                "tensor `{name}` holds a non-finite value at row {}",
                i / d.max(1)
            )));
        }
        Ok(vals)
    };
    let syn0 = floats("syn0", v)?;
    let out = match settings.objective {
        Objective::Ns => floats("syn1neg", v)?,
        Objective::Hs => floats("syn1", v.saturating_sub(1))?,
    };
    let counts: Vec<u64> = tensor("counts", Dtype::I64, vec![v])?
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])).max(0) as u64)
        .collect();
    let known = ["format", "version", "settings", "words", "progress", "corpus"];
    let extra = meta
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(SavedModel {
        settings,
        vocab: Vocab::from_sorted(words, counts),
        syn0,
        out,
        progress,
        corpus,
        extra,
    })
}

impl SavedModel {
    /// The input vectors with their words.
    pub fn embeddings(&self) -> Embeddings {
        Embeddings::new(self.vocab.words().to_vec(), self.settings.dim, self.syn0.clone())
    }

    /// Continue training on `corpus`, which must be the one the model was trained on.
    ///
    /// # Errors
    /// [`W2vError::File`] (naming `file`) when the corpus differs.
    pub fn resume(self, corpus: Corpus, file: &str) -> Result<Trainer, W2vError> {
        let now = CorpusInfo::of(&corpus);
        if now != self.corpus || corpus.vocab.words() != self.vocab.words() {
            return Err(W2vError::file(
                file,
                format!(
                    "trained on a different corpus ({} words, fingerprint {}) than the one given now ({} words, fingerprint {}); \
                     resume with the same files and settings",
                    self.corpus.words, self.corpus.fingerprint, now.words, now.fingerprint
                ),
            ));
        }
        Trainer::from_parts(self.settings, corpus, self.syn0, self.out, self.progress)
    }
}
