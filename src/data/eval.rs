//! What `rnn-lab eval CKPT FILE` scores (DESIGN.md §2, "Eval semantics").
//!
//! - Stream mode: the file is one sequence y⟨1⟩ … y⟨N⟩ (a `\n` is a token at char level, the end
//!   of each line `<eos>` at word level); the state starts at zero; y⟨1⟩ is the first input and
//!   y⟨2⟩ … y⟨N⟩ are scored (N − 1 targets), the state carried through the whole file.
//! - Lines mode: each non-blank line is its own sequence from a zero state with x⟨1⟩ = 0
//!   (`NO_INPUT`): every token of the line and the `<eos>` after it are scored (n + 1 targets).
//! - Tokens missing from the vocabulary map to `<unk>` and are scored (a char-level vocabulary
//!   without `<unk>` drops them; the count is returned either way, so the caller can warn).

use super::batcher::{lines_batch, stream_batch};
use super::vocab::Vocab;
use crate::config::Mode;
use crate::nn::batch::{Batch, NO_INPUT};

/// The sequences of `text` as eval scores them, and the number of unknown tokens.
/// Stream: one sequence, the file's tokens (inputs `seq[..N-1]`, targets `seq[1..]`).
/// Lines: one sequence per non-blank line, `[NO_INPUT, y⟨1⟩ … y⟨n⟩]` (inputs); the targets are
/// `y⟨1⟩ … y⟨n⟩, <eos>`.
pub fn eval_sequences(vocab: &Vocab, mode: Mode, text: &str) -> (Vec<Vec<u32>>, usize) {
    match mode {
        Mode::Stream => {
            let (ids, unk) = vocab.encode(text);
            (vec![ids], unk)
        }
        Mode::Lines => {
            let lowered;
            let text = if vocab.lowercase {
                lowered = text.to_lowercase();
                lowered.as_str()
            } else {
                text
            };
            let mut unk = 0;
            let mut out = Vec::new();
            for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
                let mut seq = vec![NO_INPUT];
                unk += vocab.encode_line_into(line.trim_end_matches('\r'), &mut seq);
                out.push(seq);
            }
            (out, unk)
        }
    }
}

/// Eval batches of `text`, in order, with the semantics above: stream mode one row (B = 1) in
/// chunks of `seq_len` steps, `reset` only on the first; lines mode `batch` lines per batch
/// (lines are never cut), `reset` always. Returns the batches and the unknown-token count.
pub fn eval_batches(
    vocab: &Vocab,
    mode: Mode,
    text: &str,
    batch: usize,
    seq_len: usize,
) -> (Vec<(Batch, bool)>, usize) {
    let (seqs, unk) = eval_sequences(vocab, mode, text);
    let seq_len = seq_len.max(1);
    let mut out = Vec::new();
    match mode {
        Mode::Stream => {
            let ids = super::tokens::TokenIds::from(seqs[0].clone());
            let scored = ids.len().saturating_sub(1);
            let mut at = 0;
            while at < scored {
                let t = seq_len.min(scored - at);
                out.push((stream_batch(&ids, 0, &[at], t), at == 0));
                at += t;
            }
        }
        Mode::Lines => {
            let eos = vocab.eos().unwrap_or(0);
            let lines: Vec<&[u32]> = seqs.iter().map(|s| &s[1..]).collect();
            for c in lines.chunks(batch.max(1)) {
                out.push((lines_batch(c, usize::MAX, eos), true));
            }
        }
    }
    (out, unk)
}
