//! Reading corpus files in pieces, so that memory does not grow with the file: at most one line
//! (or 1 MiB of a longer line) is held at a time. Each piece is checked on the way: UTF-8
//! (invalid bytes located by their byte offset in the file), no NUL byte (binary data); a
//! leading byte-order mark is dropped and CRLF line ends become LF, as `read_text` does for a
//! whole file.
//!
//! [`walk`] feeds the tokens of a list of files to a [`Visit`] the way the dataset sees them
//! (see `dataset.rs`): characters or words, line ends of non-blank lines, the `\n` put between
//! files in character-level stream mode, and the "empty file" check.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::vocab::words;
use super::DataError;
use crate::config::{Level, Mode};

/// Longest piece of a line handed out at once (longer lines come in several pieces).
pub(crate) const PIECE: usize = 1 << 20;

/// A file read piece by piece.
pub(crate) struct Pieces {
    reader: BufReader<File>,
    file: String,
    buf: Vec<u8>,
    carry: Vec<u8>,
    /// File bytes moved into `buf` or `carry` so far.
    consumed: u64,
    first: bool,
}

impl Pieces {
    /// Open `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, DataError> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(|e| DataError::Io {
            file: file.clone(),
            why: e.to_string(),
        })?;
        Ok(Pieces {
            reader: BufReader::with_capacity(1 << 16, f),
            file,
            buf: Vec::new(),
            carry: Vec::new(),
            consumed: 0,
            first: true,
        })
    }

    /// The next piece and whether it ends a line (then it ends with `\n`); `None` at the end.
    pub(crate) fn next_piece(&mut self) -> Result<Option<(&str, bool)>, DataError> {
        let io = |e: std::io::Error, file: &str| DataError::Io {
            file: file.to_string(),
            why: e.to_string(),
        };
        self.buf.clear();
        self.buf.append(&mut self.carry);
        let (mut ends_line, mut eof) = (false, false);
        while self.buf.len() < PIECE {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e, &self.file)),
            };
            if avail.is_empty() {
                eof = true;
                break;
            }
            let take = avail.len().min(PIECE - self.buf.len());
            let (n, nl) = match memchr::memchr(b'\n', &avail[..take]) {
                Some(p) => (p + 1, true),
                None => (take, false),
            };
            self.buf.extend_from_slice(&avail[..n]);
            self.reader.consume(n);
            self.consumed += n as u64;
            if nl {
                ends_line = true;
                break;
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        // File offset of buf[0].
        let mut start = self.consumed - self.buf.len() as u64;
        if std::mem::take(&mut self.first) && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
            start += 3;
        }
        if ends_line && self.buf.ends_with(b"\r\n") {
            let n = self.buf.len();
            self.buf.remove(n - 2);
        }
        // A full piece in the middle of a line: cut after its last blank in the second half (so
        // words stay whole), and carry the rest over to the next piece.
        let mut cut = self.buf.len();
        if !ends_line && !eof {
            if let Some(p) = self.buf[PIECE / 2..].iter().rposition(|b| matches!(b, b' ' | b'\t')) {
                cut = PIECE / 2 + p + 1;
            }
        }
        let valid = match std::str::from_utf8(&self.buf[..cut]) {
            Ok(_) => cut,
            Err(e) => e.valid_up_to(),
        };
        if let Some(p) = memchr::memchr(0, &self.buf[..valid]) {
            return Err(DataError::Binary {
                file: self.file.clone(),
                offset: start + p as u64,
            });
        }
        if valid < cut {
            // An incomplete character at the cut of a full piece goes on in the next piece;
            // anything else is not UTF-8.
            let incomplete = std::str::from_utf8(&self.buf[valid..cut])
                .err()
                .is_some_and(|e| e.error_len().is_none());
            if incomplete && cut == self.buf.len() && !ends_line && !eof {
                cut = valid;
            } else {
                return Err(DataError::NotUtf8 {
                    file: self.file.clone(),
                    offset: (start + valid as u64) as usize,
                    byte: self.buf[valid],
                });
            }
        }
        self.carry.extend_from_slice(&self.buf[cut..]);
        self.buf.truncate(cut);
        if cut == 0 {
            // Only an incomplete character so far (cannot happen with PIECE ≥ 4): read on.
            return self.next_piece();
        }
        // Checked above.
        let text = std::str::from_utf8(&self.buf).map_err(|e| DataError::Io {
            file: self.file.clone(),
            why: e.to_string(),
        })?;
        Ok(Some((text, ends_line)))
    }
}

/// A token as the corpus spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// A character (character level).
    Char(char),
    /// A word (word level), possibly the specials `<unk>` / `<eos>` written in the text.
    Word(&'a str),
}

/// What [`walk`] reports.
pub(crate) trait Visit {
    /// The next token.
    fn token(&mut self, t: Tok<'_>);
    /// The end of a non-blank line (line-based modes: word level, or lines mode).
    fn line_end(&mut self);
}

/// How to read: the `[data]` settings that shape the token stream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Characters or words.
    pub level: Level,
    /// Stream or lines.
    pub mode: Mode,
    /// Lower-case the text first.
    pub lowercase: bool,
    /// Word level: split punctuation off.
    pub split_punctuation: bool,
}

fn emit<V: Visit>(text: &str, shape: Shape, v: &mut V) {
    match shape.level {
        Level::Char => text.chars().for_each(|c| v.token(Tok::Char(c))),
        Level::Word => words(text, shape.split_punctuation, |w| v.token(Tok::Word(w))),
    }
}

/// Feed the tokens of `files` to `v`. Character-level stream mode sees every character (line
/// ends included) and a `\n` between files that do not end with one; the other modes see the
/// non-blank lines (without their `\n`), each followed by [`Visit::line_end`].
///
/// # Errors
/// A [`DataError`] naming the file: unreadable, not UTF-8 (with the byte offset), binary (a NUL
/// byte, with its offset), or empty (only whitespace), with `empty_hint` for the last.
pub(crate) fn walk<V: Visit>(
    files: &[PathBuf],
    shape: Shape,
    empty_hint: &dyn Fn(&str) -> String,
    v: &mut V,
) -> Result<(), DataError> {
    let stream_chars = shape.level == Level::Char && shape.mode == Mode::Stream;
    for (i, path) in files.iter().enumerate() {
        let mut pieces = Pieces::open(path)?;
        let mut any = false; // a non-blank character in the file
        let mut last = None; // the file's last character (stream chars)
        let mut nonblank = false; // the current line has a non-blank character
        let mut pending = String::new(); // a blank start of a long line, until we know
        while let Some((text, ends_line)) = pieces.next_piece()? {
            let text: Cow<'_, str> = if shape.lowercase {
                Cow::Owned(text.to_lowercase())
            } else {
                Cow::Borrowed(text)
            };
            if stream_chars {
                any = any || text.chars().any(|c| !c.is_whitespace());
                last = text.chars().next_back().or(last);
                emit(&text, shape, v);
                continue;
            }
            let body = text.strip_suffix('\n').unwrap_or(&text);
            if nonblank {
                emit(body, shape, v);
            } else if body.trim().is_empty() {
                if !ends_line {
                    pending.push_str(body);
                }
            } else {
                nonblank = true;
                any = true;
                if !pending.is_empty() {
                    emit(&std::mem::take(&mut pending), shape, v);
                }
                emit(body, shape, v);
            }
            if ends_line {
                if nonblank {
                    v.line_end();
                }
                nonblank = false;
                pending.clear();
            }
        }
        if nonblank {
            v.line_end();
        }
        if !any {
            let file = path.display().to_string();
            return Err(DataError::Empty {
                hint: empty_hint(&file),
                file,
            });
        }
        if stream_chars && i + 1 < files.len() && last != Some('\n') {
            v.token(Tok::Char('\n'));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<String>);
    impl Visit for Collect {
        fn token(&mut self, t: Tok<'_>) {
            self.0.push(match t {
                Tok::Char(c) => c.to_string(),
                Tok::Word(w) => w.to_string(),
            });
        }
        fn line_end(&mut self) {
            self.0.push("⏎".into());
        }
    }

    fn shape(level: Level, mode: Mode) -> Shape {
        Shape {
            level,
            mode,
            lowercase: false,
            split_punctuation: false,
        }
    }

    fn walked(bytes: &[u8], s: Shape) -> Result<Vec<String>, DataError> {
        let d = tempfile::tempdir().map_err(|e| DataError::Io {
            file: "tmp".into(),
            why: e.to_string(),
        })?;
        let p = d.path().join("f.txt");
        std::fs::write(&p, bytes).map_err(|e| DataError::Io {
            file: "f".into(),
            why: e.to_string(),
        })?;
        let mut c = Collect::default();
        walk(&[p], s, &|_| String::new(), &mut c)?;
        Ok(c.0)
    }

    #[test]
    fn long_lines_come_in_pieces_with_the_same_tokens() {
        // 3 MiB of words on one line, a multi-byte character straddling every piece boundary.
        let line: String = (0..400_000)
            .map(|i| if i % 3 == 0 { "é fox " } else { "dog " })
            .collect();
        let text = format!("{line}\nend\n");
        let w = walked(text.as_bytes(), shape(Level::Word, Mode::Stream)).expect("walk");
        let expect: Vec<String> = line
            .split_whitespace()
            .map(String::from)
            .chain(["⏎".to_string(), "end".into(), "⏎".into()])
            .collect();
        assert_eq!(w, expect);
        let c = walked("é".repeat(PIECE).as_bytes(), shape(Level::Char, Mode::Stream)).expect("walk");
        assert_eq!(c.len(), PIECE);
        assert!(c.iter().all(|x| x == "é"));
    }

    #[test]
    fn offsets_of_bad_bytes_are_file_offsets() {
        let mut b = "x".repeat(PIECE + 10).into_bytes();
        b.extend_from_slice(b"\xff");
        match walked(&b, shape(Level::Char, Mode::Stream)) {
            Err(DataError::NotUtf8 { offset, byte, .. }) => assert_eq!((offset, byte), (PIECE + 10, 0xff)),
            other => panic!("{other:?}"),
        }
        match walked(b"\xEF\xBB\xBFab\x00", shape(Level::Char, Mode::Stream)) {
            Err(DataError::Binary { offset, .. }) => assert_eq!(offset, 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bom_crlf_blank_lines_and_lines_mode() {
        let w = walked(b"\xEF\xBB\xBFab\r\n \r\n\r\ncd", shape(Level::Char, Mode::Lines)).expect("walk");
        assert_eq!(w, ["a", "b", "⏎", "c", "d", "⏎"]);
        let s = walked(b"a\r\nb", shape(Level::Char, Mode::Stream)).expect("walk");
        assert_eq!(s, ["a", "\n", "b"]);
    }
}
