//! The help overlay: every key, from the same table the footer and the key mapping are checked
//! against.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::tui::action::{key_table, Ctx};
use crate::tui::probe_view::ProbeView;
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
        let table = key_table();
        let mut lines = Vec::new();
        let section = |title: &str, rows: Vec<(String, String)>, lines: &mut Vec<Line<'static>>| {
            if rows.is_empty() {
                return;
            }
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(Span::styled(title.to_string(), t.title)));
            for (keys, what) in rows {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<13}"), t.key),
                    Span::raw(what),
                ]));
            }
        };
        for (ctx, title) in [
            (Ctx::Global, "Everywhere"),
            (Ctx::Train, "Training screen"),
            (Ctx::Browser, "Experiment browser"),
            (Ctx::Runs, "Runs"),
        ] {
            let rows = table
                .iter()
                .filter(|k| k.ctx == ctx)
                .map(|k| (k.keys.join("/"), k.what.to_string()))
                .collect();
            section(title, rows, &mut lines);
        }
        let probe_rows = ProbeView::key_help()
            .into_iter()
            .map(|(k, w)| (k.to_string(), w.to_string()))
            .collect();
        section("Probes pane (Tab to it)", probe_rows, &mut lines);
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
