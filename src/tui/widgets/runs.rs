//! The runs screen: run directories (headless or TUI) on the left, their loss curves overlaid
//! on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, StatefulWidget, Widget, Wrap};

use crate::tui::app::App;

use super::loss_chart::{LossChart, Series, SeriesKind};
use super::thousands;

/// The runs screen.
pub struct Runs<'a> {
    /// State to show.
    pub app: &'a App,
}

impl Widget for Runs<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let t = &app.theme;
        let r = &app.runs;
        let list_w = (area.width * 2 / 5).clamp(24, 48);
        let [left, right] = Layout::horizontal([Constraint::Length(list_w), Constraint::Min(10)]).areas(area);
        let list_block = Block::bordered().border_style(t.border_focus).title(" Runs (runs/) ");
        if r.entries.is_empty() {
            let text = if r.scanned {
                "No run directories in runs/ yet. Train something, or press o to open a \
                 directory by path."
            } else {
                "Reading runs/…"
            };
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(list_block)
                .render(left, buf);
        } else {
            let mut color = 0;
            let items: Vec<ListItem> = r
                .entries
                .iter()
                .map(|e| {
                    let mark = if e.overlay {
                        let s = Span::styled("■ ", t.run(color));
                        color += 1;
                        s
                    } else {
                        Span::raw("□ ")
                    };
                    let best = e.best_val.map_or("–".into(), |v| format!("{v:.3}"));
                    ListItem::new(vec![
                        Line::from(vec![mark, Span::raw(e.name.clone())]),
                        Line::from(Span::styled(
                            format!(
                                "   {} steps · best {best}{}",
                                thousands(e.steps),
                                if e.has_probe { " · probe" } else { "" }
                            ),
                            t.dim,
                        )),
                    ])
                })
                .collect();
            let list = List::new(items).block(list_block).highlight_style(t.selected);
            let mut state = ListState::default().with_selected(Some(r.selected));
            StatefulWidget::render(list, left, buf, &mut state);
        }

        let mut series = Vec::new();
        for (color, e) in r.entries.iter().filter(|e| e.overlay).enumerate() {
            let style = t.run(color);
            series.push(Series {
                name: format!("{} train", e.name),
                history: &e.train,
                kind: SeriesKind::Smoothed,
                style,
            });
            if !e.val.is_empty() {
                series.push(Series {
                    name: String::new(),
                    history: &e.val,
                    kind: SeriesKind::Line,
                    style: style.add_modifier(ratatui::style::Modifier::DIM),
                });
            }
        }
        if !app.run.train.is_empty() {
            series.push(Series {
                name: "current run".into(),
                history: &app.run.train,
                kind: SeriesKind::Smoothed,
                style: t.loss_smooth,
            });
        }
        LossChart {
            series,
            settings: app.chart,
            block: Block::bordered()
                .border_style(t.border)
                .title(" Loss overlay (smoothed train; dim = val) "),
            axis: t.axis,
            empty_text: "Select runs with space to overlay their loss curves.",
        }
        .render(right, buf);
    }
}
