//! Classification and regression examples: `label<TAB>text` lines, or one file per class.
//!
//! - `label<TAB>text`: one example per non-blank line; the label is everything before the first
//!   tab (trimmed), the text everything after it. For regression the label is the number.
//! - One file per class: the file's stem is the label (`names/Arabic.txt` → `Arabic`), every
//!   non-blank line is one example's text (`../shared/data/names/` is 18 such files).

use std::path::Path;

use crate::task::TaskError;

/// One example, borrowing its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example<'a> {
    /// 1-based line in its file.
    pub line: usize,
    /// The label as written.
    pub label: &'a str,
    /// The text (trailing `\r` removed, otherwise as written).
    pub text: &'a str,
}

/// Read `label<TAB>text` lines.
///
/// # Errors
/// [`TaskError::NoTab`], [`TaskError::EmptyLabel`], [`TaskError::NoText`] at the line;
/// [`TaskError::Empty`] when the file has no example.
pub fn read_labelled<'a>(text: &'a str, file: &str) -> Result<Vec<Example<'a>>, TaskError> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: fn(String, usize) -> TaskError| e(file.to_string(), i + 1);
        let Some((label, body)) = line.split_once('\t') else {
            return Err(at(|file, line| TaskError::NoTab { file, line }));
        };
        let label = label.trim();
        if label.is_empty() {
            return Err(at(|file, line| TaskError::EmptyLabel { file, line }));
        }
        if body.trim().is_empty() {
            return Err(TaskError::NoText {
                file: file.to_string(),
                line: i + 1,
                label: label.to_string(),
            });
        }
        out.push(Example {
            line: i + 1,
            label,
            text: body,
        });
    }
    if out.is_empty() {
        return Err(TaskError::Empty {
            file: file.to_string(),
            what: "examples",
        });
    }
    Ok(out)
}

/// The label of a one-file-per-class file: its stem.
pub fn class_of(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// Read one class file: every non-blank line is an example of class `label`.
///
/// # Errors
/// [`TaskError::EmptyClassFile`] when the file has no non-blank line.
pub fn read_class_file<'a>(text: &'a str, file: &str, label: &'a str) -> Result<Vec<Example<'a>>, TaskError> {
    let out: Vec<Example<'a>> = text
        .split('\n')
        .enumerate()
        .map(|(i, raw)| (i, raw.strip_suffix('\r').unwrap_or(raw)))
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Example {
            line: i + 1,
            label,
            text: l,
        })
        .collect();
    if out.is_empty() {
        return Err(TaskError::EmptyClassFile {
            file: file.to_string(),
            label: label.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_lines() {
        let ex = read_labelled("pos\tgood film\n\nneg\tbad\tvery\r\n", "r.tsv").unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!((ex[0].label, ex[0].text, ex[0].line), ("pos", "good film", 1));
        assert_eq!((ex[1].label, ex[1].text, ex[1].line), ("neg", "bad\tvery", 3));
    }

    #[test]
    fn located_errors() {
        let e = read_labelled("a\tx\nb\t  \n", "r.tsv").unwrap_err();
        assert_eq!(e.to_string(), "r.tsv:2: label `b` has no text after the tab");
        let e = read_labelled("a\tx\nno tab here\n", "r.tsv").unwrap_err();
        assert_eq!(e.to_string(), "r.tsv:2: expected `label<TAB>text`, found no tab");
        let e = read_labelled("\tx\n", "r.tsv").unwrap_err();
        assert_eq!(e.to_string(), "r.tsv:1: empty label before the tab");
        let e = read_class_file("\n \n", "names/Korean.txt", "Korean").unwrap_err();
        assert_eq!(
            e.to_string(),
            "names/Korean.txt: empty class file: class `Korean` would have no examples (one example per non-blank line)"
        );
    }

    #[test]
    fn class_files() {
        assert_eq!(class_of(Path::new("data/names/Arabic.txt")), "Arabic");
        let ex = read_class_file("Khoury\nNahas", "Arabic.txt", "Arabic").unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!((ex[1].label, ex[1].text, ex[1].line), ("Arabic", "Nahas", 2));
    }
}
