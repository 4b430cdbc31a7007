//! Reading task files into text-level examples; every error names the file and line.
//!
//! - [`columns`]: CoNLL-style column files for tagging;
//! - [`labelled`]: `label<TAB>text` lines, or one file per class, for classification.
//!
//! Readers borrow from the file text; [`super::encode`] turns their output into ids.

pub mod columns;
pub mod labelled;

pub use columns::{read_columns, ColumnSpec, Sentence, Separator};
pub use labelled::{read_class_file, read_labelled, Example};
