//! Token text made visible: the one place that decides how a newline, a tab, a space or another
//! invisible character is shown, for every view (the TUI's samples and probe views, headless
//! progress lines, the `rnn-lab probe` printer, and the token strings of a probe report).
//!
//! One glyph per character:
//!
//! | character                         | shown as |
//! |-----------------------------------|----------|
//! | newline `\n`                      | `↵`      |
//! | tab `\t`                          | `⇥`      |
//! | carriage return `\r`              | `␍`      |
//! | other C0 controls U+0000–U+001F   | their Control Picture `␀`…`␟` |
//! | delete U+007F                     | `␡`      |
//! | C1 controls U+0080–U+009F         | `�`      |
//! | space, in a token standing alone  | `␣`      |
//!
//! Every glyph is one terminal cell wide and none is itself escaped, so escaping twice gives
//! the same text as escaping once.

use std::borrow::Cow;

/// How a newline is shown.
pub const NEWLINE: char = '↵';
/// How a tab is shown.
pub const TAB: char = '⇥';
/// How a space is shown where it would otherwise be invisible (a token standing alone).
pub const SPACE: char = '␣';

/// The glyph for an invisible character, or `None` when `c` shows as itself. Spaces show as
/// themselves here (see [`visible_token`] for tokens standing alone).
pub fn glyph(c: char) -> Option<char> {
    match c {
        '\n' => Some(NEWLINE),
        '\t' => Some(TAB),
        // U+2400 + c: the Unicode Control Pictures for U+0000–U+001F (␀ ␁ … ␍ … ␟).
        '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('␡'),
        c if c.is_control() => Some('\u{fffd}'),
        _ => None,
    }
}

/// Running text (a sample, a probe text) made visible: every control character becomes its
/// glyph; spaces stay spaces. Borrows when there is nothing to change.
pub fn visible_text(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| glyph(c).is_none()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(|c| glyph(c).unwrap_or(c)).collect())
    }
}

/// A token standing alone (a table cell, a candidate in a list, a column label, a probe
/// report's token) made visible: like [`visible_text`], and every space is `␣`.
pub fn visible_token(token: &str) -> String {
    token
        .chars()
        .map(|c| if c == ' ' { SPACE } else { glyph(c).unwrap_or(c) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_glyph_per_invisible_character() {
        assert_eq!(visible_token("\n"), "↵");
        assert_eq!(visible_token("\t"), "⇥");
        assert_eq!(visible_token(" "), "␣");
        assert_eq!(visible_token("\r"), "␍");
        assert_eq!(visible_token("\0\u{1b}\u{7f}\u{85}"), "␀␛␡\u{fffd}");
        assert_eq!(visible_token("a b"), "a␣b");
        assert_eq!(visible_token("word"), "word");
        assert_eq!(visible_text("to be,\tor\nnot "), "to be,⇥or↵not ");
    }

    #[test]
    fn plain_text_is_borrowed_and_escaping_is_idempotent() {
        assert!(matches!(visible_text("plain text"), Cow::Borrowed(_)));
        for s in ["a\tb\nc\r\0 d", " ", "\u{9f}x"] {
            let once = visible_token(s);
            assert_eq!(visible_token(&once), once);
            let once = visible_text(s).into_owned();
            assert_eq!(visible_text(&once), once);
        }
    }

    #[test]
    fn every_glyph_is_printable_and_final() {
        for c in (0u32..0xa0).filter_map(char::from_u32) {
            if let Some(g) = glyph(c) {
                assert!(!g.is_control(), "{c:?} → {g:?}");
                assert!(glyph(g).is_none(), "{g:?} is escaped again");
            }
        }
    }
}
