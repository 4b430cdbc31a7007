//! `[model] embedding_init`: word vectors (word2vec text or binary, `src/w2v/formats.rs`) that
//! start a recurrent model's embedding.
//!
//! The model's vocabulary stays the data's; each of its tokens found in the vectors file (by
//! exact token) takes the file's vector as its embedding row, the others keep the seeded random
//! init. The embedding size follows the file. Only a fresh run reads the file: a resumed run
//! takes the embedding from its checkpoint. `embedding_freeze` keeps the rows as loaded: the
//! trainer zeroes their gradient and the optimizer skips the tensor (`step.rs`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::rundir::expand_latest;
use crate::config::{key_location, Experiment};
use crate::data::Vocab;
use crate::fmt_num::thousands;
use crate::nn::{Model, Scalar};
use crate::w2v::formats;
use crate::w2v::vectors::Embeddings;

/// How much of the model's vocabulary the vectors file covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Vocabulary tokens found in the file (rows copied).
    pub found: usize,
    /// Vocabulary size (embedding rows).
    pub total: usize,
    /// The vectors file as written in the experiment.
    pub file: String,
}

impl fmt::Display for Coverage {
    /// `embedding_init: 9,812 of 10,000 tokens (98.1 %) from vectors.txt`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = 100.0 * self.found as f64 / self.total.max(1) as f64;
        write!(
            f,
            "embedding_init: {} of {} tokens ({pct:.1} %) from {}",
            thousands(self.found as u64),
            thousands(self.total as u64),
            self.file
        )
    }
}

/// The vectors file of `exp`, resolved against the experiment file's folder.
pub fn vectors_path(exp: &Experiment) -> Option<PathBuf> {
    let p = exp.model.embedding_init.as_deref()?;
    let p = Path::new(p);
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        exp.base_dir().join(p)
    })
}

/// Read `exp`'s `embedding_init` file (when it has one) and fix `[model] embedding` to its
/// dimension. A path component `NAME@latest` names the newest run directory of experiment NAME
/// (as for checkpoints: `../runs/conll_vectors@latest/vectors.txt`). Returns the vectors and the
/// file's name for the coverage line (as written, or the run directory `@latest` stood for).
///
/// # Errors
/// One line naming the experiment file, line and column of the key, and the vectors file's own
/// error (missing file, bad header, rows that disagree with it); or `embedding` set to another
/// size than the file's.
pub fn load(exp: &mut Experiment) -> Result<Option<(Embeddings, String)>, String> {
    let Some(path) = vectors_path(exp) else {
        return Ok(None);
    };
    let exp_file = exp.path.clone().unwrap_or_else(|| PathBuf::from(&exp.name));
    let at_key = |e: &dyn fmt::Display| {
        format!(
            "{}: `embedding_init` in [model]: {e}",
            key_location(&exp_file, "model", "embedding_init")
        )
    };
    let written = exp.model.embedding_init.clone().unwrap_or_default();
    let expanded = expand_latest(&path).map_err(|e| at_key(&e))?;
    let shown = if expanded == path {
        written
    } else {
        expanded.display().to_string()
    };
    let vectors = formats::read(&expanded).map_err(|e| at_key(&e))?;
    let dim = vectors.dim();
    if exp.model.embedding != 0 && exp.model.embedding != dim {
        return Err(format!(
            "{}: `embedding` = {} in [model], but the embedding_init file {} holds {dim}-dimensional vectors; \
leave `embedding` out (the size follows the file) or set it to {dim}",
            key_location(&exp_file, "model", "embedding"),
            exp.model.embedding,
            expanded.display()
        ));
    }
    exp.model.embedding = dim;
    Ok(Some((vectors, shown)))
}

/// Copy the vector of every vocabulary token found in `vectors` into its embedding row;
/// the other rows stay as they are. `file` names the vectors in the returned coverage.
///
/// # Panics
/// If the model has no embedding of the vectors' dimension (the caller sized it from the file).
pub fn copy_rows<F: Scalar>(model: &mut Model<F>, vocab: &Vocab, vectors: &Embeddings, file: &str) -> Coverage {
    let e = model.embed.expect("embedding_init needs an embedding");
    let table = &mut model.params.values[e];
    assert_eq!(table.ncols(), vectors.dim(), "embedding size follows the vectors file");
    let mut found = 0;
    for (row, token) in vocab.tokens().iter().enumerate() {
        if let Some(id) = vectors.id(token) {
            table
                .row_mut(row)
                .iter_mut()
                .zip(vectors.vector(id))
                .for_each(|(x, &v)| *x = F::of(f64::from(v)));
            found += 1;
        }
    }
    Coverage {
        found,
        total: vocab.len(),
        file: file.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_line() {
        let c = Coverage {
            found: 9812,
            total: 10_000,
            file: "vectors.txt".into(),
        };
        assert_eq!(
            c.to_string(),
            "embedding_init: 9,812 of 10,000 tokens (98.1 %) from vectors.txt"
        );
    }
}
