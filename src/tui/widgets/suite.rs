//! The suite screen: the suite table (task, cell, seed, solved, sequences when solved, final
//! error, wall time) and the selected run's curves, its loss and its solved test's error. Wide
//! terminals put the curves right of the table, narrow ones below it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use crate::commands::suite::table::{RunRow, RunState};
use crate::tui::app::{App, ChartSettings};
use crate::tui::suite::SuiteRun;
use crate::tui::theme::Theme;

use super::duration;
use super::loss_chart::{LossChart, Series, SeriesKind};
use crate::fmt_num::thousands;

/// The suite screen.
pub struct Suite<'a> {
    /// State to show.
    pub app: &'a App,
}

/// Width of the table's columns: task, cell, seed, solved, sequences, error, wall time.
const WIDTHS: [u16; 7] = [15, 4, 4, 11, 9, 7, 7];

fn solved_cell<'a>(t: &Theme, r: &RunRow) -> Cell<'a> {
    let (text, style) = match (r.state, r.solved) {
        (RunState::Failed, _) => ("failed".to_string(), t.error),
        (_, true) => ("yes".to_string(), t.running),
        (RunState::Done, false) if r.divergences > 0 => (format!("no ({}× div)", r.divergences), t.warn),
        (RunState::Done, false) => ("no".to_string(), t.warn),
        (RunState::Running, false) => (format!("… {}%", (100 * r.step / r.steps.max(1)).min(99)), t.dim),
        (RunState::Waiting, false) => ("waiting".to_string(), t.dim),
    };
    Cell::from(Span::styled(text, style))
}

fn table_row<'a>(t: &Theme, r: &RunRow) -> Row<'a> {
    let error = r.error.map_or("–".into(), |e| format!("{:.1}%", 100.0 * e));
    let wall = if r.state == RunState::Waiting {
        "–".into()
    } else {
        duration(r.wall_s)
    };
    Row::new(vec![
        Cell::from(r.task.clone()),
        Cell::from(r.cell.clone()),
        Cell::from(r.seed.to_string()),
        solved_cell(t, r),
        Cell::from(r.solved_at.map_or("–".into(), thousands)),
        Cell::from(error),
        Cell::from(wall),
    ])
}

/// What the selected run is, above its curves: `adding lstm s1 · solved at 83,200 sequences`.
fn describe(r: &SuiteRun) -> String {
    let w = &r.row;
    let what = match (&w.failure, w.solved_at) {
        (Some(f), _) => format!("failed: {f}"),
        (None, Some(at)) => format!("solved at {} sequences", thousands(at)),
        (None, None) if w.state == RunState::Done => format!("not solved in {} steps", thousands(w.step)),
        (None, None) => format!("{} of {} steps", thousands(w.step), thousands(w.steps)),
    };
    let score = match (w.mse, w.accuracy) {
        (Some(m), _) => format!(" · MSE {m:.4}"),
        (None, Some(a)) => format!(" · accuracy {:.2}%", 100.0 * a),
        (None, None) => String::new(),
    };
    format!("{} {} s{} · {what}{score}", w.task, w.cell, w.seed)
}

impl Widget for Suite<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let t = &app.theme;
        let s = &app.suite;
        let Some(view) = &s.view else {
            let text = match &s.dir {
                Some(d) => format!("Reading the suite in {}…", d.display()),
                None => "No suite shown. Run `rnn-lab suite --quick` (it writes runs/suite-quick/), then press u \
                         here or on the runs screen and give its folder."
                    .to_string(),
            };
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().border_style(t.border_focus).title(" Suite "))
                .render(area, buf);
            return;
        };
        let table_w = WIDTHS.iter().sum::<u16>() + WIDTHS.len() as u16 + 1;
        let wide = area.width >= table_w + 40;
        let (table_area, curves) = if wide {
            let [l, r] = Layout::horizontal([Constraint::Length(table_w), Constraint::Min(10)]).areas(area);
            (l, r)
        } else {
            let rows = view.runs.len() as u16 + 3;
            let h = rows.min(area.height * 3 / 5).max(4.min(area.height));
            let [top, bottom] = Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(area);
            (top, bottom)
        };
        let running = if view.complete { "" } else { " · running" };
        let title = format!(" Suite {} · {}{running} ", view.dir.display(), view.summary());
        let block = Block::bordered().border_style(t.border_focus).title(title);
        if view.runs.is_empty() {
            Paragraph::new("No runs in this suite folder yet.")
                .block(block)
                .render(table_area, buf);
        } else {
            let header = Row::new(["task", "cell", "seed", "solved", "sequences", "error", "wall"])
                .style(t.label.add_modifier(Modifier::BOLD));
            let table = Table::new(view.runs.iter().map(|r| table_row(t, &r.row)), WIDTHS)
                .header(header)
                .block(block)
                .row_highlight_style(t.selected);
            let mut state = TableState::default().with_selected(Some(s.selected));
            StatefulWidget::render(table, table_area, buf, &mut state);
        }
        let Some(run) = s.selected_run() else { return };
        let [head, charts] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(curves);
        Paragraph::new(Line::from(Span::styled(describe(run), t.value))).render(head, buf);
        let [loss_area, error_area] = if wide {
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts)
        } else {
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts)
        };
        let settings = ChartSettings {
            smoothing: 0,
            ..app.chart
        };
        let empty = "No metrics.jsonl for this run yet.";
        let Some(c) = &run.curves else {
            Paragraph::new(empty)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().border_style(t.border).title(" Loss "))
                .render(charts, buf);
            return;
        };
        LossChart {
            series: vec![
                Series {
                    name: "train".into(),
                    history: &c.train,
                    kind: SeriesKind::Line,
                    style: t.loss_smooth,
                },
                Series {
                    name: "val".into(),
                    history: &c.val,
                    kind: SeriesKind::Line,
                    style: t.loss_val,
                },
            ],
            settings,
            block: Block::bordered().border_style(t.border).title(" Loss by step "),
            axis: t.axis,
            empty_text: empty,
        }
        .render(loss_area, buf);
        LossChart {
            series: vec![Series {
                name: String::new(),
                history: &c.error,
                kind: SeriesKind::Line,
                style: t.run(1),
            }],
            settings: ChartSettings {
                log_y: false,
                ..settings
            },
            block: Block::bordered()
                .border_style(t.border)
                .title(" Solved test: share of sequences wrong "),
            axis: t.axis,
            empty_text: "No evaluation yet.",
        }
        .render(error_area, buf);
    }
}
