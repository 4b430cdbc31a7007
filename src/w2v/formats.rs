//! The word2vec vector files of the original tool, which gensim's
//! `KeyedVectors.load_word2vec_format` reads:
//!
//! - **text**: a header line `WORDS DIMENSIONS`, then one line per word: the word and its
//!   numbers, separated by single spaces. We write each float in the shortest form that reads
//!   back to the same f32, so text round-trips exactly.
//! - **binary**: the same header line, then per word: the word's UTF-8 bytes, a space, the
//!   numbers as little-endian f32, and a newline (as `word2vec.c`; gensim writes no newline and
//!   we read both, skipping whitespace before each word).
//!
//! Rows are in vocabulary order, most frequent first. Reading checks the file against its
//! header: every disagreement is a one-line error naming the file and the line (text) or the
//! vector and byte offset (binary).

use std::fmt::Write as _;
use std::path::Path;

use super::vectors::Embeddings;
use super::W2vError;

/// Which of the two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line of text per word.
    Text,
    /// Raw little-endian f32 after each word.
    Binary,
}

impl Format {
    /// Binary for a `.bin` file name, text otherwise.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("bin") => Format::Binary,
            _ => Format::Text,
        }
    }
}

/// The bytes of a vectors file. `data` is row-major `[words.len(), dim]`.
pub fn encode(words: &[String], dim: usize, data: &[f32], format: Format) -> Vec<u8> {
    assert_eq!(words.len() * dim, data.len(), "matrix shape");
    let mut out = format!("{} {}\n", words.len(), dim).into_bytes();
    let rows = data.chunks_exact(dim.max(1));
    match format {
        Format::Text => {
            let mut line = String::new();
            for (w, row) in words.iter().zip(rows) {
                line.clear();
                line.push_str(w);
                for x in row {
                    // Shortest decimal that parses back to the same f32 (Rust's Display); an
                    // exponent for tiny magnitudes keeps lines short. Both forms read in Python.
                    if *x != 0.0 && x.abs() < 1e-4 {
                        let _ = write!(line, " {x:e}");
                    } else {
                        let _ = write!(line, " {x}");
                    }
                }
                line.push('\n');
                out.extend_from_slice(line.as_bytes());
            }
        }
        Format::Binary => {
            for (w, row) in words.iter().zip(rows) {
                out.extend_from_slice(w.as_bytes());
                out.push(b' ');
                for x in row {
                    out.extend_from_slice(&x.to_le_bytes());
                }
                out.push(b'\n');
            }
        }
    }
    out
}

/// Write a vectors file atomically (temporary file, fsync, rename).
///
/// # Errors
/// [`W2vError::Write`].
pub fn write(path: &Path, words: &[String], dim: usize, data: &[f32], format: Format) -> Result<(), W2vError> {
    let bytes = encode(words, dim, data, format);
    crate::train::checkpoint::write_atomic(path, &bytes).map_err(|e| W2vError::write(path, &e))
}

/// Read a vectors file, text or binary (told apart by the first row: text when everything after
/// the word parses as numbers).
///
/// # Errors
/// [`W2vError`] naming the file and the line or vector where the file disagrees with its header
/// or ends early.
pub fn read(path: &Path) -> Result<Embeddings, W2vError> {
    let bytes = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    parse(&bytes, &path.display().to_string())
}

/// Parse the bytes of a vectors file; `file` names it in errors.
///
/// # Errors
/// As [`read`].
pub fn parse(bytes: &[u8], file: &str) -> Result<Embeddings, W2vError> {
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let header = String::from_utf8_lossy(&bytes[..header_end]);
    let nums: Vec<&str> = header.split_whitespace().collect();
    let parsed = match nums.as_slice() {
        [n, d] => n.parse::<usize>().ok().zip(d.parse::<usize>().ok()),
        _ => None,
    };
    let Some((n, dim)) = parsed else {
        let shown: String = header.chars().take(40).collect();
        return Err(W2vError::line(
            file,
            1,
            format!("expected a header `WORDS DIMENSIONS` (two whole numbers), found `{shown}`"),
        ));
    };
    if dim == 0 {
        return Err(W2vError::line(file, 1, "the header's dimension is 0"));
    }
    let body = &bytes[(header_end + 1).min(bytes.len())..];
    if looks_like_text(body) {
        parse_text(body, file, n, dim)
    } else {
        parse_binary(body, file, n, dim, header_end + 1)
    }
}

/// Text when the first row is a word followed by at least one number and nothing else.
fn looks_like_text(body: &[u8]) -> bool {
    let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let Ok(line) = std::str::from_utf8(&body[..end]) else {
        return false;
    };
    let mut fields = line.split_ascii_whitespace().skip(1).peekable();
    fields.peek().is_some() && fields.all(|f| f.parse::<f32>().is_ok())
}

fn parse_text(body: &[u8], file: &str, n: usize, dim: usize) -> Result<Embeddings, W2vError> {
    // Reserve for the rows the body can hold (a row has at least 2 bytes per number), not for
    // what the header claims: a header claiming 10⁹ words must not allocate for them.
    let rows = n.min(body.len() / dim.saturating_mul(2).max(1) + 1);
    let mut words = Vec::with_capacity(rows);
    let mut data = Vec::with_capacity(rows.saturating_mul(dim).min(body.len()));
    let mut lines = body.split(|&b| b == b'\n').enumerate().peekable();
    let mut last_line = 1;
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 2;
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(W2vError::line(file, line_no, "not UTF-8 text"));
        };
        let line = line.trim_end_matches(['\r', ' ', '\t']);
        if line.is_empty() {
            // Blank lines may end the file; anywhere else they are a missing row.
            if lines.clone().all(|(_, r)| r.iter().all(|b| b.is_ascii_whitespace())) {
                break;
            }
            return Err(W2vError::line(file, line_no, "empty line among the rows"));
        }
        last_line = line_no;
        if words.len() == n {
            return Err(W2vError::line(
                file,
                line_no,
                format!(
                    "row {} but the header says {n} words: the header disagrees with the rows",
                    n + 1
                ),
            ));
        }
        let mut fields = line.split([' ', '\t']).filter(|f| !f.is_empty());
        let word = fields.next().unwrap_or_default();
        let start = data.len();
        for (k, f) in fields.enumerate() {
            match f.parse::<f32>() {
                Ok(x) => data.push(x),
                Err(_) => {
                    let shown: String = f.chars().take(20).collect();
                    return Err(W2vError::line(
                        file,
                        line_no,
                        format!("`{shown}` (number {}) is not a number", k + 1),
                    ));
                }
            }
        }
        let got = data.len() - start;
        if got != dim {
            return Err(W2vError::line(
                file,
                line_no,
                format!(
                    "`{word}` has {got} numbers but the header says {dim} dimensions: the header disagrees with the rows"
                ),
            ));
        }
        words.push(word.to_string());
    }
    if words.len() < n {
        return Err(W2vError::line(
            file,
            last_line + 1,
            format!(
                "the file ends after {} rows but the header says {n} words: truncated, or the header disagrees with the rows",
                words.len()
            ),
        ));
    }
    Ok(Embeddings::new(words, dim, data))
}

fn parse_binary(body: &[u8], file: &str, n: usize, dim: usize, offset: usize) -> Result<Embeddings, W2vError> {
    let width = dim.saturating_mul(4);
    // As in parse_text: no more rows reserved than the body can hold.
    let rows = n.min(body.len() / width + 1);
    let mut words = Vec::with_capacity(rows);
    let mut data = Vec::with_capacity(rows.saturating_mul(dim).min(body.len() / 4));
    let mut at = 0;
    let truncated = |k: usize, word: &str, at: usize| {
        W2vError::file(
            file,
            format!(
                "truncated: the header says {n} vectors of {dim} floats, the file ends in vector {} ({word}) at byte {} of {}",
                k + 1,
                offset + at,
                offset + body.len()
            ),
        )
    };
    for k in 0..n {
        while at < body.len() && body[at].is_ascii_whitespace() {
            at += 1;
        }
        let Some(space) = body[at..].iter().position(|&b| b == b' ') else {
            return Err(truncated(k, "no word", body.len()));
        };
        let word = String::from_utf8_lossy(&body[at..at + space]).into_owned();
        at += space + 1;
        if body.len() - at < width {
            let shown = format!("`{}`", word.chars().take(30).collect::<String>());
            return Err(truncated(k, &shown, body.len()));
        }
        data.extend(
            body[at..at + width]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        at += width;
        words.push(word);
    }
    let rest = &body[at.min(body.len())..];
    if let Some(extra) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
        return Err(W2vError::file(
            file,
            format!(
                "{} bytes after the header's {n} vectors (from byte {}): the header disagrees with the rows",
                rest.len() - extra,
                offset + at + extra
            ),
        ));
    }
    Ok(Embeddings::new(words, dim, data))
}
