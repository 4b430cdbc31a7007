//! Where things are in the file: byte offsets to line:col, spans of keys, suggestions.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::fields::{self, SECTIONS};

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The closest candidate to `word` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .min_by_key(|(d, c)| (*d, *c))?;
    let limit = (word.chars().count().max(best.1.chars().count()) / 3).max(2);
    if best.0 <= limit {
        return Some(best.1);
    }
    // Prefixes and suffixes also count: `hid` → `hidden`, `batch` → `batch_size`.
    candidates
        .iter()
        .find(|c| word.len() >= 3 && (c.starts_with(word) || c.ends_with(word) || word.starts_with(**c)))
        .copied()
}

/// A hint to append to "unknown key" messages.
pub(crate) fn suggestion(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates) {
        Some(c) => format!(", did you mean `{c}`?"),
        None => format!(" (valid keys: {})", candidates.join(", ")),
    }
}

/// What to add after "unknown section [x]": the closest section as a did-you-mean, else the
/// list of sections.
pub(crate) fn section_hint(name: &str, section_names: &[&str]) -> String {
    match closest(name, section_names) {
        Some(c) => format!(", did you mean [{c}]?"),
        None => format!(
            " (sections: {})",
            section_names
                .iter()
                .map(|s| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Spans of every section header and key found in the file.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// Section name → span of its header key.
    pub sections: HashMap<String, Range<usize>>,
    /// (section, key) → (span of the key, span of the value).
    pub keys: HashMap<(String, String), (Range<usize>, Range<usize>)>,
}

impl Spans {
    /// Span of `key` in `section`, else of the section header, else the file start.
    pub fn of(&self, section: &str, key: &str) -> Range<usize> {
        if let Some((k, _)) = self.keys.get(&(section.to_string(), key.to_string())) {
            return k.clone();
        }
        self.sections.get(section).cloned().unwrap_or(0..0)
    }

    /// The (section, key) whose value contains byte `offset`.
    pub fn key_at(&self, offset: usize) -> Option<(&str, &str)> {
        self.keys
            .iter()
            .filter(|(_, (_, v))| v.start <= offset && offset < v.end.max(v.start + 1))
            .min_by_key(|(_, (_, v))| v.end - v.start)
            .map(|((s, k), _)| (s.as_str(), k.as_str()))
    }
}

/// Walk the parsed document: record spans; return the first unknown section or key as
/// (byte offset, message).
pub(crate) fn walk(doc: &DeTable<'_>, spans: &mut Spans) -> Result<(), (usize, String)> {
    let section_names: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
    for (key, value) in doc.iter() {
        let name: &str = key.get_ref();
        let key_span = key.span();
        let Some(table) = value.get_ref().as_table() else {
            if section_names.contains(&name) {
                return Err((
                    key_span.start,
                    format!("`{name}` must be a section: write [{name}] with its keys below it"),
                ));
            }
            // A key outside any section: say where it belongs if it exists somewhere.
            let msg = match fields::FIELDS.iter().find(|f| f.key == name) {
                Some(f) => format!("key `{name}` must be inside a section: put it under [{}]", f.section),
                None => format!(
                    "unknown top-level key `{name}`; keys go inside the sections {}",
                    section_names
                        .iter()
                        .map(|s| format!("[{s}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err((key_span.start, msg));
        };
        if !section_names.contains(&name) {
            let hint = section_hint(name, &section_names);
            return Err((key_span.start, format!("unknown section [{name}]{hint}")));
        }
        spans.sections.insert(name.to_string(), key_span);
        let valid = fields::keys_of(name);
        for (k, v) in table.iter() {
            let kname: &str = k.get_ref();
            if !valid.contains(&kname) {
                let hint = match fields::FIELDS.iter().find(|f| f.key == kname) {
                    Some(f) => format!("; it belongs in [{}]", f.section),
                    None => suggestion(kname, &valid),
                };
                return Err((k.span().start, format!("unknown key `{kname}` in [{name}]{hint}")));
            }
            if let DeValue::Table(_) = v.get_ref() {
                return Err((
                    k.span().start,
                    format!("`{kname}` in [{name}] must be a value, not a table"),
                ));
            }
            spans
                .keys
                .insert((name.to_string(), kname.to_string()), (k.span(), v.span()));
        }
    }
    Ok(())
}
