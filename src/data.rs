//! Corpus reading, vocabulary, train/validation split and batching.
