//! The help overlay: every key, read from the one key table (`keys.rs`) that the key mapping
//! and the footer are read from too.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::tui::keys::help_sections;
use crate::tui::theme::Theme;

/// The help overlay.
pub struct Help<'a> {
    /// Styles.
    pub theme: &'a Theme,
    /// Lines scrolled.
    pub scroll: u16,
}

impl Help<'_> {
    /// The help text, one line per key group.
    pub fn lines(&self) -> Vec<Line<'static>> {
        let t = self.theme;
        let mut lines = Vec::new();
        for (title, rows) in help_sections() {
            if rows.is_empty() {
                continue;
            }
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(Span::styled(title, t.title)));
            for row in rows {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<13}", row.keys_text()), t.key),
                    Span::raw(row.help),
                ]));
            }
        }
        lines
    }
}

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = self.lines();
        let width = 62.min(area.width);
        let height = (lines.len() as u16 + 2).min(area.height);
        let popup = super::centered(area, width, height);
        Clear.render(popup, buf);
        let block = Block::bordered()
            .border_style(self.theme.border_focus)
            .title(" Help · ↑↓ scroll · Esc close ");
        let max_scroll = (lines.len() as u16).saturating_sub(height.saturating_sub(2));
        Paragraph::new(lines)
            .block(block)
            .scroll((self.scroll.min(max_scroll), 0))
            .render(popup, buf);
    }
}
