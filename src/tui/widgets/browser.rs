//! The experiment browser: one row per `experiments/*.toml` with name, cell, size, data and the
//! last run's best validation loss; the selected experiment's details (or its error) below.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use crate::config::Experiment;
use crate::tui::app::App;

use super::ellipsize;
use crate::fmt_num::thousands;

/// "2×128", "1×64 emb 32", "bi 2×128".
pub fn size_text(e: &Experiment) -> String {
    let m = &e.model;
    let bi = if m.bidirectional { "bi " } else { "" };
    let emb = if m.embedding > 0 {
        format!(" emb {}", m.embedding)
    } else {
        String::new()
    };
    format!("{bi}{}×{}{emb}", m.layers, m.hidden)
}

/// The data files, shortened.
pub fn data_text(e: &Experiment) -> String {
    let files = e.data.files.join(", ");
    let lower = |s: String| s.to_lowercase();
    format!(
        "{files} ({}, {})",
        lower(format!("{:?}", e.data.level)),
        lower(format!("{:?}", e.data.mode))
    )
}

/// The browser screen.
pub struct Browser<'a> {
    /// State to show.
    pub app: &'a App,
}

impl Widget for Browser<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let t = &app.theme;
        let b = &app.browser;
        let [list_area, detail_area] = Layout::vertical([Constraint::Min(3), Constraint::Length(7)]).areas(area);
        let block = Block::bordered()
            .border_style(t.border_focus)
            .title(" Experiments (experiments/*.toml) ");
        if b.entries.is_empty() {
            let text = if b.scanned {
                "No experiments found in experiments/. Create experiments/NAME.toml, or run \
                 `rnn-lab path/to/EXP.toml`."
            } else {
                "Reading experiments/…"
            };
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(block)
                .render(area, buf);
            return;
        }
        // The size column fits the widest size ("bi 2×1024 emb 300"); the data column gets what
        // is left, and text too long for it ends in `…` rather than being cut silently.
        let size_w = b
            .entries
            .iter()
            .filter_map(|e| e.experiment.as_ref().ok())
            .map(|x| size_text(x).chars().count())
            .max()
            .unwrap_or(0)
            .max(11) as u16;
        // The name column as wide as the longest name (up to 24), the rest to the data.
        let name_w = b
            .entries
            .iter()
            .map(|e| {
                e.experiment
                    .as_ref()
                    .map_or_else(|_| e.name(), |x| x.name.clone())
                    .chars()
                    .count()
            })
            .max()
            .unwrap_or(0)
            .clamp(4, 24) as u16;
        let widths = [
            Constraint::Length(name_w),
            Constraint::Length(7),
            Constraint::Length(size_w),
            Constraint::Fill(1),
            Constraint::Length(9),
        ];
        // As the table lays them out: inside the borders, after the highlight symbol, 1 apart.
        let inner = list_area.width.saturating_sub(2 + 2);
        let data_w = Layout::horizontal(widths).spacing(1).split(Rect::new(0, 0, inner, 1))[3].width as usize;
        let rows: Vec<Row> = b
            .entries
            .iter()
            .map(|e| {
                let best = e.last_best.map_or("–".into(), |v| format!("{v:.3}"));
                match &e.experiment {
                    Ok(x) => Row::new(vec![
                        x.name.clone(),
                        x.model.cell.name().to_string(),
                        size_text(x),
                        ellipsize(&data_text(x), data_w),
                        best,
                    ]),
                    Err(_) => Row::new(vec![
                        e.name(),
                        "invalid".into(),
                        String::new(),
                        "(see the error below)".into(),
                        best,
                    ])
                    .style(t.error),
                }
            })
            .collect();
        let table = Table::new(rows, widths)
            .header(Row::new(["name", "cell", "size", "data", "best loss"]).style(t.label))
            .row_highlight_style(t.selected)
            .highlight_symbol("▶ ")
            .block(block);
        let mut state = TableState::default().with_selected(Some(b.selected));
        StatefulWidget::render(table, list_area, buf, &mut state);

        let mut lines = Vec::new();
        if let Some(e) = b.entries.get(b.selected) {
            lines.push(Line::from(Span::styled(e.path.display().to_string(), t.dim)));
            match &e.experiment {
                Ok(x) => {
                    let o = &x.training.optim;
                    lines.push(Line::from(format!(
                        "{} {} · {} steps · batch {} × seq {} · lr {:.1e}",
                        x.model.cell.name(),
                        size_text(x),
                        thousands(x.training.steps),
                        x.training.batch_size,
                        x.training.seq_len,
                        o.lr
                    )));
                    lines.push(Line::from(format!("data: {}", ellipsize(&data_text(x), 200))));
                    lines.push(Line::from(vec![
                        Span::styled("Enter", t.key),
                        Span::raw(" open and train  "),
                        Span::styled("e", t.key),
                        Span::raw(" edit  "),
                        Span::styled("r", t.key),
                        Span::raw(" past runs"),
                    ]));
                }
                Err(err) => lines.push(Line::from(Span::styled(err.clone(), t.error))),
            }
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().border_style(t.border).title(" Details "))
            .render(detail_area, buf);
    }
}
