//! `rnn-lab export CKPT --pytorch DIR`: write a checkpoint as a PyTorch export directory
//! (see [`crate::interop`] for the files).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};

use super::layout::{self, torch_module};
use super::{InteropError, ModelJson, FORMAT};
use crate::config::Mode;
use crate::data::Vocab;
use crate::nn::{CellKind, GruVariant, HeadKind, Model, ModelSpec, NO_INPUT};
use crate::train::checkpoint::{self, write_atomic};

/// `model.py`, written into every export.
pub const MODEL_PY: &str = include_str!("python/model.py");
/// `course_gru.py`, written for course-GRU models.
pub const COURSE_GRU_PY: &str = include_str!("python/course_gru.py");
/// The export's README.md, with `{{placeholders}}` for the model's facts.
const README_TEMPLATE: &str = include_str!("python/README.template.md");

/// Sequences in `check.safetensors`.
pub const CHECK_BATCH: usize = 2;
/// Time steps in `check.safetensors`.
pub const CHECK_STEPS: usize = 16;

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The folder.
    pub dir: PathBuf,
    /// Files written, in order.
    pub files: Vec<String>,
    /// The architecture.
    pub model: ModelJson,
}

/// The resolved config's `[data] mode`, read loosely: export works on any checkpoint rnn-lab can
/// load, including ones whose experiment a newer rnn-lab wrote.
fn mode_of(config_toml: &str) -> Mode {
    let table: toml::Table = toml::from_str(config_toml).unwrap_or_default();
    match table.get("data").and_then(|d| d.get("mode")).and_then(|m| m.as_str()) {
        Some("lines") => Mode::Lines,
        _ => Mode::Stream,
    }
}

/// Serialise named f32 tensors (plus i64 ones) as safetensors bytes with `meta`.
fn safetensors_bytes(
    f32s: &[(String, Vec<usize>, Vec<f32>)],
    i64s: &[(String, Vec<usize>, Vec<i64>)],
    meta: HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let mut raw: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (n, s, d) in f32s {
        raw.push((
            n.clone(),
            Dtype::F32,
            s.clone(),
            d.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ));
    }
    for (n, s, d) in i64s {
        raw.push((
            n.clone(),
            Dtype::I64,
            s.clone(),
            d.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ));
    }
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, t, s, b)| TensorView::new(*t, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::serialize(views, Some(meta)).map_err(|e| e.to_string())
}

/// The fixed input of `check.safetensors`, time-major (`t·B + b`) as the core takes it: row 0 a
/// spread of token ids, row 1 the same from x⟨1⟩ = 0 (no input, as at the start of a line).
pub fn check_inputs(vocab: usize) -> Vec<u32> {
    let mut v = vec![0; CHECK_STEPS * CHECK_BATCH];
    for t in 0..CHECK_STEPS {
        v[t * CHECK_BATCH] = ((7 * t + 3) % vocab) as u32;
        v[t * CHECK_BATCH + 1] = if t == 0 { NO_INPUT } else { ((5 * t + 1) % vocab) as u32 };
    }
    v
}

/// rnn-lab's outputs on [`check_inputs`], batch-first: `[B, T, |Y|]` for per-step heads,
/// `[B, |Y|]` for sequence heads. Returns (shape, values).
pub fn check_logits(model: &Model<f32>) -> (Vec<usize>, Vec<f32>) {
    let (b, t, y) = (CHECK_BATCH, CHECK_STEPS, model.spec.outputs);
    let inputs = check_inputs(model.spec.vocab);
    let mut ws = model.workspace();
    model.forward_layers(&inputs, t, b, &[], &mut ws);
    model.forward_head(&mut ws);
    if model.spec.head == HeadKind::PerStep {
        let mut out = Vec::with_capacity(b * t * y);
        for row in 0..b {
            for step in 0..t {
                let r = step * b + row;
                out.extend_from_slice(&ws.logits[r * y..(r + 1) * y]);
            }
        }
        (vec![b, t, y], out)
    } else {
        (vec![b, y], ws.logits[..b * y].to_vec())
    }
}

/// Write `ckpt` as a PyTorch export into `out` (created if needed). An existing
/// `out/model.safetensors` is replaced only with `force`: it may hold weights trained since.
pub fn export(ckpt: &Path, out: &Path, force: bool) -> Result<ExportSummary, InteropError> {
    let c = checkpoint::load(ckpt)?;
    let vocab = Vocab::from_json(&c.vocab_json)
        .map_err(|e| InteropError::invalid(ckpt, format!("vocabulary metadata: {e}")))?;
    let spec = &c.model.spec;
    if vocab.len() != spec.vocab {
        return Err(InteropError::invalid(
            ckpt,
            format!(
                "vocabulary has {} tokens but the model expects {}",
                vocab.len(),
                spec.vocab
            ),
        ));
    }
    if out.exists() && !out.is_dir() {
        return Err(InteropError::invalid(
            out,
            "not a folder: --pytorch takes the folder to write into",
        ));
    }
    let weights = out.join("model.safetensors");
    if weights.exists() && !force {
        return Err(InteropError::Exists {
            path: weights,
            hint: "it may hold weights trained since the export; pass --force to replace it, or pick another folder"
                .into(),
        });
    }
    fs::create_dir_all(out).map_err(|e| InteropError::io(out, e))?;
    let mj = ModelJson::of(spec, mode_of(&c.config_toml), c.step);
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), InteropError> {
        let p = out.join(name);
        write_atomic(&p, bytes).map_err(|e| InteropError::io(&p, e))?;
        files.push(name.to_string());
        Ok(())
    };

    let sd = layout::to_torch(spec, &c.model.export()).map_err(|source| InteropError::Tensor {
        path: ckpt.to_path_buf(),
        source,
    })?;
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = sd.into_iter().map(|t| (t.name, t.shape, t.data)).collect();
    let mut meta = HashMap::new();
    // `format: pt` is what safetensors.torch.save_file-compatible readers look for.
    meta.insert("format".to_string(), "pt".to_string());
    meta.insert("rnn-lab".to_string(), FORMAT.to_string());
    let bytes = safetensors_bytes(&tensors, &[], meta).map_err(|e| InteropError::invalid(&weights, e))?;
    write("model.safetensors", &bytes)?;

    let json =
        serde_json::to_string_pretty(&mj).map_err(|e| InteropError::invalid(out.join("model.json"), e.to_string()))?;
    write("model.json", format!("{json}\n").as_bytes())?;
    let vocab_pretty = serde_json::from_str::<serde_json::Value>(&c.vocab_json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(|e| InteropError::invalid(ckpt, format!("vocabulary metadata: {e}")))?;
    write("vocab.json", format!("{vocab_pretty}\n").as_bytes())?;
    write("config.toml", c.config_toml.as_bytes())?;
    if let Some(task) = &c.task_json {
        // Tagging, classification and regression models: the output names (tags, classes) by
        // head row, which import needs to make the checkpoint again.
        let pretty = serde_json::from_str::<serde_json::Value>(task)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .map_err(|e| InteropError::invalid(ckpt, format!("task metadata: {e}")))?;
        write("task.json", format!("{pretty}\n").as_bytes())?;
    }
    write("model.py", MODEL_PY.as_bytes())?;
    if spec.cell == CellKind::Gru && spec.gru_variant == GruVariant::Course {
        write("course_gru.py", COURSE_GRU_PY.as_bytes())?;
    }
    let (shape, logits) = check_logits(&c.model);
    let inputs: Vec<i64> = {
        // Batch-first for PyTorch; no input is -1.
        let tm = check_inputs(spec.vocab);
        let mut v = Vec::with_capacity(tm.len());
        for row in 0..CHECK_BATCH {
            for t in 0..CHECK_STEPS {
                let tok = tm[t * CHECK_BATCH + row];
                v.push(if tok == NO_INPUT { -1 } else { i64::from(tok) });
            }
        }
        v
    };
    let check = safetensors_bytes(
        &[("logits".into(), shape, logits)],
        &[("inputs".into(), vec![CHECK_BATCH, CHECK_STEPS], inputs)],
        HashMap::from([("rnn-lab".to_string(), "check".to_string())]),
    )
    .map_err(|e| InteropError::invalid(out.join("check.safetensors"), e))?;
    write("check.safetensors", &check)?;
    let readme = readme(spec, &mj, &vocab, ckpt, out);
    write("README.md", readme.as_bytes())?;
    Ok(ExportSummary {
        dir: out.to_path_buf(),
        files,
        model: mj,
    })
}

/// The three lines that load an export from `dir`.
pub fn three_lines(dir: &str) -> String {
    format!(
        "import sys; sys.path.insert(0, {dir:?})\nfrom model import load\nmodel, vocab = load({dir:?})   # an nn.Module with the weights, and the vocabulary\n"
    )
}

/// The export's README: `python/README.template.md` with this model's facts filled in.
fn readme(spec: &ModelSpec, mj: &ModelJson, vocab: &Vocab, ckpt: &Path, out: &Path) -> String {
    let input = if mj.embedding == 0 {
        format!("one-hot input of size {} (no parameters: `F.one_hot`)", spec.vocab)
    } else {
        format!("nn.Embedding({}, {})", spec.vocab, mj.embedding)
    };
    let module = torch_module(spec.cell, spec.gru_variant);
    let course = if module == "CourseGRU" {
        "\nPyTorch has no course GRU (Γr multiplies c⟨t−1⟩ *before* the recurrent product), so\n\
         `course_gru.py` implements it as `CourseGRU`, an nn.Module with nn.GRU's signature and\n\
         parameter names. Its time loop runs in Python: on a GPU it is slower than cuDNN's nn.GRU\n\
         (`gru_variant = \"pytorch\"` exports to nn.GRU itself).\n"
    } else {
        ""
    };
    let level = match vocab.level {
        crate::config::Level::Char => "character",
        crate::config::Level::Word => "word",
    };
    let fill: [(&str, String); 15] = [
        ("title", spec.cell.name().to_uppercase()),
        ("ckpt", ckpt.display().to_string()),
        ("step", mj.step.to_string()),
        ("cell", spec.cell.name().to_string()),
        ("layers", spec.layers.to_string()),
        ("hidden", spec.hidden.to_string()),
        (
            "dirs",
            if spec.bidirectional { ", bidirectional" } else { "" }.to_string(),
        ),
        ("input", input),
        ("module", module.to_string()),
        ("gates", mj.gate_order.join(", ")),
        ("hd", (spec.hidden * spec.dirs()).to_string()),
        ("outputs", spec.outputs.to_string()),
        ("vocab", vocab.len().to_string()),
        ("level", level.to_string()),
        ("course", course.to_string()),
    ];
    let mut s = README_TEMPLATE.replace("{{three}}", &three_lines(&out.display().to_string()));
    for (k, v) in fill {
        s = s.replace(&format!("{{{{{k}}}}}"), &v);
    }
    s
}
