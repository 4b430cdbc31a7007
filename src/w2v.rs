//! word2vec (Mikolov et al. 2013): skip-gram and CBOW, trained with negative sampling or
//! hierarchical softmax, frequent-word subsampling and a randomly shrunk window, Hogwild across
//! threads as the original `word2vec.c`; an honest per-example training loss; vectors in the
//! word2vec text and binary formats; the whole model in safetensors; nearest neighbours,
//! analogies and word-similarity evaluation. docs/word2vec.md is the reference.
//!
//! Layout: [`settings`] (what to train), [`vocab`] and [`corpus`] (counting, sentences, the
//! step plan), [`sampling`] (unigram table, subsampling), [`huffman`] (codes for hierarchical
//! softmax), [`kernels`] (dot/axpy, σ and the loss terms), [`engine`] (the training loop and its
//! threads), [`model_file`] (safetensors), [`formats`] (word2vec files), [`vectors`] (cosine
//! queries), [`eval`] (analogy and similarity sets), [`experiment`] (`[task] kind = "word2vec"`
//! files), [`session`] (a run of one in a run directory, with snapshots), [`pca`] (the 2-D map).

pub mod corpus;
pub mod engine;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod formats;
mod hogwild;
pub mod huffman;
pub mod kernels;
pub mod model_file;
pub mod pca;
pub mod sampling;
pub mod session;
pub mod settings;
pub mod vectors;
pub mod vocab;

pub use corpus::Corpus;
pub use engine::{EpochReport, Progress, Report, StepReport, Trainer};
pub use error::W2vError;
pub use settings::{Arch, Level, Objective, Settings};
pub use vectors::Embeddings;
pub use vocab::Vocab;
