//! CoNLL-style column files: one token per line, columns separated by whitespace or tabs, a
//! blank line between sentences.
//!
//! CoNLL-2000 chunking is `word POS chunk` (single spaces); the UD English EWT extract is
//! `FORM<TAB>UPOS<TAB>XPOS`. Which column is the token and which the tag is configurable
//! (1-based; the tag defaults to the last column). Every token line of a file must have as many
//! columns as its first token line. A `-DOCSTART-` line (CoNLL-2003) ends a sentence and is
//! otherwise skipped.

use serde::{Deserialize, Serialize};

use crate::task::TaskError;

/// How the columns of a line are separated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Separator {
    /// Tabs if the file's first token line holds a tab, whitespace otherwise. Default.
    #[default]
    Auto,
    /// Tabs only (a token may then contain spaces).
    Tab,
    /// Any run of spaces or tabs.
    Whitespace,
}

/// Which columns to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// 1-based column of the token. Default: 1.
    pub token_column: usize,
    /// 1-based column of the tag; `None` = the last column. Default: the last column.
    pub tag_column: Option<usize>,
    /// Column separator. Default: auto.
    pub separator: Separator,
}

impl Default for ColumnSpec {
    fn default() -> Self {
        ColumnSpec {
            token_column: 1,
            tag_column: None,
            separator: Separator::Auto,
        }
    }
}

/// One sentence of a column file, borrowing its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// 1-based line of the first token.
    pub line: usize,
    /// Tokens in order.
    pub tokens: Vec<&'a str>,
    /// Tags, one per token; empty when the file is read without tags.
    pub tags: Vec<&'a str>,
}

/// Read the sentences of a column file's text. `file` names it in errors. With `with_tags`
/// false only the token column is required (prediction input).
///
/// # Errors
/// [`TaskError::MissingColumn`] for a token line without the token or tag column,
/// [`TaskError::Ragged`] for a line whose column count differs from the first token line's,
/// [`TaskError::Empty`] when there is no token at all.
pub fn read_columns<'a>(
    text: &'a str,
    file: &str,
    spec: &ColumnSpec,
    with_tags: bool,
) -> Result<Vec<Sentence<'a>>, TaskError> {
    let mut out = Vec::new();
    let mut cur = Sentence {
        line: 0,
        tokens: Vec::new(),
        tags: Vec::new(),
    };
    // (columns, line) of the first token line; the separator is fixed by it.
    let mut first: Option<(usize, usize)> = None;
    let mut tabs = spec.separator == Separator::Tab;
    let mut fields: Vec<&'a str> = Vec::with_capacity(8);
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let lineno = i + 1;
        if line.trim().is_empty() || line.starts_with("-DOCSTART-") {
            if !cur.tokens.is_empty() {
                out.push(std::mem::replace(
                    &mut cur,
                    Sentence {
                        line: 0,
                        tokens: Vec::new(),
                        tags: Vec::new(),
                    },
                ));
            }
            continue;
        }
        if first.is_none() && spec.separator == Separator::Auto {
            tabs = line.contains('\t');
        }
        fields.clear();
        if tabs {
            fields.extend(line.split('\t'));
        } else {
            fields.extend(line.split_whitespace());
        }
        let n = fields.len();
        let tag_col = spec.tag_column.unwrap_or(n.max(2));
        let missing = |what: &'static str, column: usize| TaskError::MissingColumn {
            file: file.to_string(),
            line: lineno,
            found: n,
            what,
            column,
            need: if with_tags {
                spec.token_column.max(spec.tag_column.unwrap_or(2))
            } else {
                spec.token_column
            },
        };
        if n < spec.token_column {
            return Err(missing("token", spec.token_column));
        }
        if with_tags && n < tag_col {
            return Err(missing("tag", tag_col));
        }
        match first {
            None => first = Some((n, lineno)),
            Some((expected, first_line)) if expected != n => {
                return Err(TaskError::Ragged {
                    file: file.to_string(),
                    line: lineno,
                    found: n,
                    expected,
                    first_line,
                });
            }
            Some(_) => {}
        }
        let token = fields[spec.token_column - 1].trim();
        if token.is_empty() {
            return Err(missing("token", spec.token_column));
        }
        if cur.tokens.is_empty() {
            cur.line = lineno;
        }
        cur.tokens.push(token);
        if with_tags {
            let tag = fields[tag_col - 1].trim();
            if tag.is_empty() {
                return Err(missing("tag", tag_col));
            }
            cur.tags.push(tag);
        }
    }
    if !cur.tokens.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err(TaskError::Empty {
            file: file.to_string(),
            what: "sentences",
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(tag: Option<usize>) -> ColumnSpec {
        ColumnSpec {
            token_column: 1,
            tag_column: tag,
            separator: Separator::Auto,
        }
    }

    #[test]
    fn conll2000_style() {
        let text = "Confidence NN B-NP\nin IN B-PP\n\nthe DT B-NP\npound NN I-NP\n\n";
        let s = read_columns(text, "t.txt", &spec(None), true).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["Confidence", "in"]);
        assert_eq!(s[0].tags, ["B-NP", "B-PP"]);
        assert_eq!(s[1].line, 4);
        let pos = read_columns(text, "t.txt", &spec(Some(2)), true).unwrap();
        assert_eq!(pos[1].tags, ["DT", "NN"]);
    }

    #[test]
    fn tabs_keep_spaces_in_tokens() {
        let text = "New York\tPROPN\tNNP\nis\tAUX\tVBZ\n";
        let s = read_columns(text, "u.tsv", &spec(Some(2)), true).unwrap();
        assert_eq!(s[0].tokens, ["New York", "is"]);
        assert_eq!(s[0].tags, ["PROPN", "AUX"]);
    }

    #[test]
    fn located_errors() {
        let e = read_columns("a NN B-NP\nb\n", "f.txt", &spec(Some(3)), true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.txt:2: 1 column(s), but the tag column is column 3; every token line needs 3 columns (a blank line separates sentences)"
        );
        let e = read_columns("a NN B-NP\n\nb NN\n", "f.txt", &spec(None), true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.txt:3: ragged line: 2 column(s), but the file's first token line (line 1) has 3"
        );
        let e = read_columns("x\ny\n", "g.txt", &spec(None), true).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("g.txt:1: 1 column(s), but the tag column is column 2"),
            "{e}"
        );
        // Without tags (prediction input) one column is enough.
        assert_eq!(
            read_columns("x\ny\n", "g.txt", &spec(None), false).unwrap()[0].tokens,
            ["x", "y"]
        );
        let e = read_columns("\n\n", "h.txt", &spec(None), true).unwrap_err();
        assert_eq!(e.to_string(), "h.txt: no sentences in the file");
    }
}
