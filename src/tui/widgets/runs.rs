//! The runs screen: sweeps (a header, then their points best first with their states) and run
//! directories (headless or TUI) on the left, the loss curves of the marked ones overlaid on
//! the right.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, StatefulWidget, Widget, Wrap};

use crate::tui::app::{App, RunsItem};
use crate::tui::files::RunEntry;
use crate::tui::sweeps::SweepEntry;
use crate::tui::theme::Theme;

use super::loss_chart::{LossChart, Series, SeriesKind};
use crate::fmt_num::thousands;

/// The runs screen.
pub struct Runs<'a> {
    /// State to show.
    pub app: &'a App,
}

/// The overlay mark: a square in the curve's colour, or an empty one.
fn mark(t: &Theme, on: bool, color: &mut usize) -> Span<'static> {
    if on {
        let s = Span::styled("■ ", t.run(*color));
        *color += 1;
        s
    } else {
        Span::raw("□ ")
    }
}

fn best(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

fn sweep_item<'a>(t: &Theme, s: &SweepEntry) -> ListItem<'a> {
    let all = if s.overlay_all { "■ " } else { "□ " };
    let title = Line::from(vec![
        Span::raw(all),
        Span::styled(format!("sweep {}", s.name()), t.title),
        Span::styled(s.activity().map(|a| format!("  {a}")).unwrap_or_default(), t.running),
    ]);
    ListItem::new(vec![
        title,
        Line::from(Span::styled(format!("   {}", s.summary()), t.dim)),
    ])
}

fn point_item<'a>(t: &Theme, s: &SweepEntry, j: usize, color: &mut usize) -> ListItem<'a> {
    let p = &s.points[j];
    let m = mark(t, p.overlay && p.run.is_some(), color);
    let rank = if p.row.best_val.is_some() {
        format!("{:>2}. ", j + 1)
    } else {
        "    ".into()
    };
    let steps = p
        .row
        .steps
        .map_or(String::new(), |n| format!(" · {} steps", thousands(n)));
    let status_style = match p.row.status.as_str() {
        "finished" | "pending" => t.dim,
        "failed" | "diverged" => t.error,
        "interrupted" => t.warn,
        // running, queued, and the other Slurm states (completing, requeued, …)
        _ => t.running,
    };
    ListItem::new(vec![
        Line::from(vec![
            Span::raw("  "),
            m,
            Span::raw(rank),
            Span::raw(format!("{} {}", p.row.id, s.overview.describe(&p.row))),
        ]),
        Line::from(vec![
            Span::styled(format!("         best {}{steps} · ", best(p.row.best_val)), t.dim),
            Span::styled(p.row.status.clone(), status_style),
        ]),
    ])
}

fn run_item<'a>(t: &Theme, e: &RunEntry, color: &mut usize) -> ListItem<'a> {
    ListItem::new(vec![
        Line::from(vec![mark(t, e.overlay, color), Span::raw(e.name.clone())]),
        Line::from(Span::styled(
            format!(
                "   {} steps · best {}{}",
                thousands(e.steps),
                best(e.best_val),
                if e.has_probe { " · probe" } else { "" }
            ),
            t.dim,
        )),
    ])
}

impl Widget for Runs<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let t = &app.theme;
        let r = &app.runs;
        let list_w = (area.width * 2 / 5).clamp(24, 52);
        let [left, right] = Layout::horizontal([Constraint::Length(list_w), Constraint::Min(10)]).areas(area);
        let list_block = Block::bordered()
            .border_style(t.border_focus)
            .title(" Runs (sweeps/, runs/) ");
        let items = r.items();
        if items.is_empty() {
            let text = if r.scanned {
                "No sweeps or run directories yet. Train something, press w to run a sweep file, \
                 or o to open a directory by path."
            } else {
                "Reading runs/…"
            };
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(list_block)
                .render(left, buf);
        } else {
            // Colours go to marked lines in list order; the chart below takes them in the same
            // order, so a line's square and its curve match.
            let mut color = 0;
            let lines: Vec<ListItem> = items
                .iter()
                .map(|it| match *it {
                    RunsItem::Sweep(i) => sweep_item(t, &r.sweeps[i]),
                    RunsItem::Point(i, j) => point_item(t, &r.sweeps[i], j, &mut color),
                    RunsItem::Run(i) => run_item(t, &r.entries[i], &mut color),
                })
                .collect();
            let list = List::new(lines).block(list_block).highlight_style(t.selected);
            let mut state = ListState::default().with_selected(Some(r.selected));
            StatefulWidget::render(list, left, buf, &mut state);
        }

        let overlaid = items.iter().filter_map(|it| match *it {
            RunsItem::Point(i, j) => {
                let s = &r.sweeps[i];
                let p = &s.points[j];
                let run = p.run.as_ref().filter(|_| p.overlay)?;
                Some((format!("{} {}", s.name(), p.row.id), run))
            }
            RunsItem::Run(i) => {
                let e = &r.entries[i];
                e.overlay.then(|| (e.name.clone(), e))
            }
            RunsItem::Sweep(_) => None,
        });
        let mut series = Vec::new();
        for (color, (name, e)) in overlaid.enumerate() {
            let style = t.run(color);
            series.push(Series {
                name: format!("{name} train"),
                history: &e.train,
                kind: SeriesKind::Smoothed,
                style,
            });
            if !e.val.is_empty() {
                series.push(Series {
                    name: String::new(),
                    history: &e.val,
                    kind: SeriesKind::Line,
                    style: style.add_modifier(Modifier::DIM),
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
            empty_text: "Select runs with space to overlay their loss curves (space on a sweep: all its points).",
        }
        .render(right, buf);
    }
}
