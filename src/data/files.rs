//! `[data] files`: paths and glob patterns relative to the experiment file's folder, and reading
//! them as UTF-8 text.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::DataError;
use crate::config::{Experiment, Mode};

impl Experiment {
    /// The folder data paths are relative to: the experiment file's folder (or the current
    /// directory for an experiment without a file).
    pub fn base_dir(&self) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Expand `[data] files` into existing files: each entry is a path or a glob pattern
    /// (`*` and `?` within a path component, `**` for any number of folders; names starting with
    /// `.` only match a pattern that starts with `.`), relative to [`Self::base_dir`]. Each
    /// entry's matches are sorted; a file matched twice is kept once, at its first place.
    ///
    /// # Errors
    /// [`DataError::NotFound`] for an entry that matches nothing, naming it, the experiment file,
    /// the absolute path looked at and what to do.
    pub fn resolve_files(&self) -> Result<Vec<PathBuf>, DataError> {
        self.resolve_patterns(&self.data.files)
    }

    /// [`Self::resolve_files`] for any list of entries (a task's `train`, `valid`, `test`).
    ///
    /// # Errors
    /// [`DataError::NotFound`] for an entry that matches nothing.
    pub fn resolve_patterns(&self, patterns: &[String]) -> Result<Vec<PathBuf>, DataError> {
        let base = self.base_dir();
        let mut out: Vec<PathBuf> = Vec::new();
        for pattern in patterns {
            let full = base.join(pattern);
            let mut found = Vec::new();
            if has_wildcard(pattern) {
                let comps: Vec<String> = Path::new(pattern)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let start = if Path::new(pattern).is_absolute() {
                    PathBuf::new()
                } else {
                    base.clone()
                };
                expand(&start, &comps, &mut found);
                found.sort();
            } else if full.is_file() {
                found.push(full.clone());
            }
            if found.is_empty() {
                return Err(DataError::NotFound {
                    experiment: self
                        .path
                        .as_deref()
                        .map_or_else(|| self.name.clone(), |p| p.display().to_string()),
                    pattern: pattern.clone(),
                    resolved: absolute(&full).display().to_string(),
                    hint: self.data_hint(pattern, has_wildcard(pattern)),
                });
            }
            for f in found {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        Ok(out)
    }

    /// How to get data for this experiment, for "not found" and "empty" messages.
    pub(crate) fn data_hint(&self, pattern: &str, glob: bool) -> String {
        let what = match (self.task.is_language_model(), self.data.mode) {
            (false, _) => "the task's files",
            (true, Mode::Lines) => "a UTF-8 text file with one name (or other sequence) per line",
            (true, Mode::Stream) => "any UTF-8 text file (a book, say)",
        };
        let mut hint = String::new();
        if glob {
            hint.push_str("the pattern matches no file; ");
        }
        if pattern.contains("shared/data") {
            hint.push_str(
                "it is one of the public corpora kept in ../shared/data beside the repo (see its README); or ",
            );
        }
        // Name the list the entry came from, so the message says where it is.
        let d = &self.data;
        let has = |list: &[String]| list.iter().any(|p| p == pattern);
        let key = if has(&d.valid) {
            "valid"
        } else if has(&d.test) {
            "test"
        } else if self.task.is_language_model() {
            // `files` and `train` are one list; files with a `valid` list are written `train`.
            if d.valid.is_empty() {
                "files"
            } else {
                "train"
            }
        } else if has(&d.train) {
            "train"
        } else {
            "train/valid/test"
        };
        hint.push_str(&format!("point [data] {key} at {what}"));
        hint
    }
}

fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// `p` made absolute (against the current folder) and with `.`/`..` folded, for messages and
/// for paths written into sweep points (the file need not exist).
pub fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Shell-style match of one path component: `*` any run of characters, `?` one character,
/// `[abc]` / `[a-z]` / `[!x]` one character from a set.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| match_from(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && match_from(&p[1..], &n[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(2).position(|&c| c == ']').map(|i| i + 2) else {
                return n.first() == Some(&'[') && match_from(&p[1..], &n[1..]);
            };
            let Some(&c) = n.first() else { return false };
            let (negate, set) = match p[1] {
                '!' | '^' => (true, &p[2..close]),
                _ => (false, &p[1..close]),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != negate && match_from(&p[close + 1..], &n[1..])
        }
        Some(&lit) => n.first() == Some(&lit) && match_from(&p[1..], &n[1..]),
    }
}

fn expand(dir: &Path, comps: &[String], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = comps.split_first() else {
        if dir.is_file() {
            out.push(dir.to_path_buf());
        }
        return;
    };
    let at = |d: &Path| {
        if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d.to_path_buf()
        }
    };
    if first == "**" {
        expand(dir, rest, out);
        if let Ok(entries) = fs::read_dir(at(dir)) {
            for e in entries.flatten() {
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                // Do not follow symlinked folders: no loops.
                if !hidden && e.file_type().is_ok_and(|t| t.is_dir()) {
                    expand(&dir.join(e.file_name()), comps, out);
                }
            }
        }
    } else if has_wildcard(first) {
        if let Ok(entries) = fs::read_dir(at(dir)) {
            for e in entries.flatten() {
                if wildcard_match(first, &e.file_name().to_string_lossy()) {
                    expand(&dir.join(e.file_name()), rest, out);
                }
            }
        }
    } else {
        expand(&dir.join(first), rest, out);
    }
}

/// Read a data file as UTF-8 text: a leading byte-order mark is dropped and CRLF line ends become
/// LF.
///
/// # Errors
/// [`DataError::Io`] if it cannot be read; [`DataError::NotUtf8`] with the offset of the first
/// bad byte.
pub fn read_text(path: &Path) -> Result<String, DataError> {
    let file = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| DataError::Io {
        file: file.clone(),
        why: e.to_string(),
    })?;
    let mut text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[offset];
            return Err(DataError::NotUtf8 { file, offset, byte });
        }
    };
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    if text.contains('\r') {
        text = text.replace("\r\n", "\n");
    }
    Ok(text)
}
