//! Dotted-key overrides (`"model.hidden" = 256`) of an experiment's raw TOML, for sweeps: name
//! a key as the experiment format knows it (with the same did-you-mean as an experiment file),
//! set it in the parsed document, then check the result as an ordinary experiment file.

use super::fields::{self, Field, SECTIONS};
use super::locate::{closest, section_hint, suggestion};

/// Keys of which a file gives at most one: overriding one removes the other.
const EXCLUSIVE: &[(&str, &str)] = &[("training.steps", "training.epochs")];

/// The closest of `candidates` to `word` when close enough to be a typo (the experiment
/// checker's own rule), for files that sit beside experiments (sweep files).
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    closest(word, candidates)
}

/// The field a dotted key `section.key` names.
///
/// # Errors
/// A one-line message in the words of the experiment checker: an unknown section or key with
/// the closest valid name, a key given without its section, or a section given without a key.
pub fn lookup(dotted: &str) -> Result<&'static Field, String> {
    let section_names: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
    let Some((section, key)) = dotted.split_once('.') else {
        if section_names.contains(&dotted) {
            let first = fields::keys_of(dotted).first().copied().unwrap_or("key");
            return Err(format!(
                "`{dotted}` is a section: name one of its keys, e.g. \"{dotted}.{first}\""
            ));
        }
        return Err(match fields::FIELDS.iter().find(|f| f.key == dotted) {
            Some(f) => format!("key `{dotted}` needs its section: write \"{}.{dotted}\"", f.section),
            None => format!("unknown key `{dotted}`: name a key as \"section.key\", e.g. \"model.hidden\""),
        });
    };
    if !section_names.contains(&section) {
        let hint = section_hint(section, &section_names);
        return Err(format!("unknown section [{section}] in \"{dotted}\"{hint}"));
    }
    if let Some(f) = fields::field(section, key) {
        return Ok(f);
    }
    let hint = match fields::FIELDS.iter().find(|f| f.key == key) {
        Some(f) => format!("; it belongs in [{}]: \"{}.{key}\"", f.section, f.section),
        None => suggestion(key, &fields::keys_of(section)),
    };
    Err(format!("unknown key `{key}` in [{section}]{hint}"))
}

/// Set `dotted` = `value` in a parsed experiment document, creating the section if needed.
/// Overriding `training.steps` drops `training.epochs` and the other way round (a file gives
/// one of them).
///
/// # Errors
/// The key names nothing (see [`lookup`]), or the document's section is not a table.
pub fn apply(doc: &mut toml::Table, dotted: &str, value: toml::Value) -> Result<(), String> {
    let field = lookup(dotted)?;
    for (a, b) in EXCLUSIVE {
        let other = if dotted == *a {
            b
        } else if dotted == *b {
            a
        } else {
            continue;
        };
        if let Some((s, k)) = other.split_once('.') {
            if let Some(toml::Value::Table(t)) = doc.get_mut(s) {
                t.remove(k);
            }
        }
    }
    let section = doc
        .entry(field.section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(t) = section else {
        return Err(format!(
            "`{}` in the base experiment is not a section, cannot set \"{dotted}\"",
            field.section
        ));
    };
    t.insert(field.key.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_fields_and_suggests() {
        assert_eq!(lookup("model.hidden").map(|f| f.key), Ok("hidden"));
        let e = lookup("model.hiden").unwrap_err();
        assert!(e.contains("did you mean `hidden`"), "{e}");
        let e = lookup("modle.hidden").unwrap_err();
        assert!(e.contains("did you mean [model]"), "{e}");
        let e = lookup("hidden").unwrap_err();
        assert!(e.contains("\"model.hidden\""), "{e}");
        let e = lookup("training.hidden").unwrap_err();
        assert!(e.contains("belongs in [model]"), "{e}");
        let e = lookup("training").unwrap_err();
        assert!(e.contains("is a section"), "{e}");
    }

    #[test]
    fn apply_sets_and_drops_the_exclusive_twin() {
        let mut doc: toml::Table = toml::from_str("[training]\nepochs = 2.0\nlr = 0.1\n").unwrap();
        apply(&mut doc, "training.steps", toml::Value::Integer(5)).unwrap();
        apply(&mut doc, "model.hidden", toml::Value::Integer(7)).unwrap();
        let t = doc["training"].as_table().unwrap();
        assert_eq!(t.get("steps"), Some(&toml::Value::Integer(5)));
        assert!(t.get("epochs").is_none());
        assert_eq!(doc["model"]["hidden"], toml::Value::Integer(7));
    }
}
