//! A checkpoint opened for inference: model, vocabulary and the experiment it came from.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::config::Experiment;
use crate::data::Vocab;
use crate::nn::Model;
use crate::task::data::{TaskData, TaskInfo};
use crate::task::input::task_of;
use crate::train::checkpoint;
use crate::train::rundir::{self, Pick};

/// What `sample`, `eval` and `probe` need from a checkpoint.
pub struct Loaded {
    /// The model.
    pub model: Model<f32>,
    /// Its vocabulary.
    pub vocab: Vocab,
    /// The resolved experiment it was trained with.
    pub exp: Experiment,
    /// Training steps done.
    pub step: u64,
    /// Tasks other than language models: the task, rebuilt from the checkpoint.
    pub task: Option<TaskData>,
    /// The checkpoint file it was read from.
    pub path: PathBuf,
}

/// The checkpoint file a command-line argument names (a file, a run directory, or
/// `runs/NAME@latest`; see [`rundir::resolve`]). When that is not the argument itself, says on
/// stderr which file it is, so the output can be traced to a run.
pub fn checkpoint_arg(arg: &Path, pick: Pick) -> Result<PathBuf, CliError> {
    let path = rundir::resolve(arg, pick).map_err(CliError::input)?;
    if path != arg {
        eprintln!("rnn-lab: {} → {}", arg.display(), path.display());
    }
    Ok(path)
}

/// Open a checkpoint (a file, a run directory's best checkpoint, or `runs/NAME@latest`'s);
/// every failure is bad input naming the file.
pub fn open(arg: &Path) -> Result<Loaded, CliError> {
    let path = checkpoint_arg(arg, Pick::Best)?;
    let path = path.as_path();
    let c = checkpoint::load(path).map_err(CliError::input)?;
    let vocab = Vocab::from_json(&c.vocab_json)
        .map_err(|e| CliError::input(format!("{}: vocabulary metadata: {e}", path.display())))?;
    let exp = crate::config::parse_str(&c.config_toml, path)
        .map_err(|e| CliError::input(format!("{}: config metadata: {e}", path.display())))?;
    if vocab.len() != c.model.spec.vocab {
        return Err(CliError::input(format!(
            "{}: vocabulary has {} tokens but the model expects {}",
            path.display(),
            vocab.len(),
            c.model.spec.vocab
        )));
    }
    let task = if exp.task.is_language_model() {
        None
    } else {
        let info = c
            .task_json
            .as_deref()
            .ok_or_else(|| {
                CliError::input(format!(
                    "{}: a {} checkpoint without its task metadata",
                    path.display(),
                    exp.task.kind.name()
                ))
            })
            .and_then(|j| {
                TaskInfo::from_json(j).map_err(|e| CliError::input(format!("{}: task metadata: {e}", path.display())))
            })?;
        if info.labels.len() != c.model.spec.outputs {
            return Err(CliError::input(format!(
                "{}: the task has {} outputs but the model {}",
                path.display(),
                info.labels.len(),
                c.model.spec.outputs
            )));
        }
        Some(task_of(&exp, &info, vocab.clone()))
    };
    if let Some(note) = &c.note {
        eprintln!("rnn-lab: note: {note}");
    }
    Ok(Loaded {
        model: c.model,
        vocab,
        exp,
        step: c.step,
        task,
        path: path.to_path_buf(),
    })
}
