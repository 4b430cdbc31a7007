//! Drawing the word2vec screen (pure: state in, cells out). Layout:
//!
//! ```text
//! title: experiment · model · state
//! status: step, epoch, loss, lr, words/s, vocabulary
//! ┌ loss per example ─────┐┌ neighbours ──────────┐
//! │ steps (dots), epochs  ││ watched words         │
//! ├ analogy accuracy ─────┤├ PCA map ─────────────┤
//! │ over steps            ││ most frequent words   │
//! └───────────────────────┘└───────────────────────┘
//! footer: keys, or the word being typed
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Points};
use ratatui::widgets::{Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Widget, Wrap};

use super::state::{RunState, W2vApp, KEYS};
use crate::tui::widgets::{centered, compact, ellipsize};

/// Words labelled on the map (the rest are dots).
pub const MAP_LABELS: usize = 40;

struct Styles {
    text: Style,
    dim: Style,
    title: Style,
    key: Style,
    line: Style,
    line2: Style,
    error: Style,
}

fn styles(no_color: bool) -> Styles {
    let c = |s: Style, color: Color| if no_color { s } else { s.fg(color) };
    Styles {
        text: Style::default(),
        dim: c(Style::default().add_modifier(Modifier::DIM), Color::Gray),
        title: Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        key: c(Style::default().add_modifier(Modifier::BOLD), Color::Cyan),
        line: c(Style::default(), Color::Yellow),
        line2: c(Style::default().add_modifier(Modifier::BOLD), Color::LightRed),
        error: c(Style::default().add_modifier(Modifier::BOLD), Color::Red),
    }
}

/// (min, max) of values, widened when flat.
fn bounds(v: impl Iterator<Item = f64>) -> [f64; 2] {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v.filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return [0.0, 1.0];
    }
    if hi - lo < 1e-9 {
        return [lo - 0.5, hi + 0.5];
    }
    let pad = (hi - lo) * 0.05;
    [lo - pad, hi + pad]
}

fn state_text(app: &W2vApp) -> String {
    match &app.state {
        RunState::Starting => "READING THE CORPUS".into(),
        RunState::Running => "TRAINING".into(),
        RunState::Stopping => "STOPPING (saving)".into(),
        RunState::Ended(s) if s.finished => "FINISHED".into(),
        RunState::Ended(_) => "STOPPED".into(),
        RunState::Failed(_) => "FAILED".into(),
    }
}

fn chart<'a>(
    title: &'a str,
    sets: Vec<Dataset<'a>>,
    x: [f64; 2],
    y: [f64; 2],
    ylab: [String; 2],
    s: &Styles,
) -> Chart<'a> {
    Chart::new(sets)
        .block(Block::default().borders(Borders::ALL).title(title))
        .x_axis(
            Axis::default()
                .bounds(x)
                .style(s.dim)
                .labels([format!("{:.0}", x[0].max(0.0)), format!("step {:.0}", x[1])]),
        )
        .y_axis(Axis::default().bounds(y).style(s.dim).labels(ylab))
}

fn loss_pane(app: &W2vApp, area: Rect, buf: &mut Buffer, s: &Styles) {
    if app.losses.is_empty() {
        Paragraph::new("the loss of each step appears here as training runs")
            .style(s.dim)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" loss per example (nats) "),
            )
            .render(area, buf);
        return;
    }
    let total = app.info.as_ref().map_or(1, |i| i.until.max(1)) as f64;
    let y = bounds(app.losses.iter().chain(&app.epoch_losses).map(|p| p.1));
    let sets = vec![
        Dataset::default()
            .name("step")
            .marker(Marker::Braille)
            .graph_type(GraphType::Scatter)
            .style(s.line)
            .data(&app.losses),
        Dataset::default()
            .name("epoch")
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(s.line2)
            .data(&app.epoch_losses),
    ];
    chart(
        " loss per example (nats): steps · epochs ",
        sets,
        [0.0, total],
        y,
        [format!("{:.3}", y[0]), format!("{:.3}", y[1])],
        s,
    )
    .render(area, buf);
}

fn analogy_pane(app: &W2vApp, area: Rect, buf: &mut Buffer, s: &Styles) {
    let snap = app.snapshot.as_ref();
    let Some(a) = snap.and_then(|x| x.analogy) else {
        // No analogy file: the similarity scores, or how to get a curve.
        let mut lines: Vec<Line> = snap
            .map(|x| {
                x.pairs
                    .iter()
                    .map(|p| {
                        Line::from(format!(
                            "{}: Spearman ρ {} (coverage {:.0}%)",
                            p.file.rsplit('/').next().unwrap_or(&p.file),
                            p.spearman.map_or_else(|| "n/a".into(), |r| format!("{r:.3}")),
                            100.0 * p.coverage
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        lines.push(Line::styled(
            "no analogy file: set [task] analogies = \"…/questions-words.txt\" for an accuracy curve",
            s.dim,
        ));
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" evaluation "))
            .render(area, buf);
        return;
    };
    let total = app.info.as_ref().map_or(1, |i| i.until.max(1)) as f64;
    let top = app.analogy.iter().map(|p| p.1).fold(0.0f64, f64::max).max(0.01) * 1.1;
    let mut title = format!(
        " analogy top-1 {:.1}% (sem {:.1}%, syn {:.1}%; coverage {:.0}%)",
        100.0 * a.accuracy,
        100.0 * a.semantic,
        100.0 * a.syntactic,
        100.0 * a.coverage
    );
    for p in snap.map(|x| x.pairs.as_slice()).unwrap_or_default() {
        if let Some(r) = p.spearman {
            let name = p.file.rsplit('/').next().unwrap_or(&p.file).trim_end_matches(".txt");
            title.push_str(&format!(" · {name} ρ {r:.3}"));
        }
    }
    title.push(' ');
    let sets = vec![Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(s.line2)
        .data(&app.analogy)];
    chart(
        &title,
        sets,
        [0.0, total],
        [0.0, top],
        ["0%".into(), format!("{:.1}%", 100.0 * top)],
        s,
    )
    .render(area, buf);
}

fn neighbours_pane(app: &W2vApp, area: Rect, buf: &mut Buffer, s: &Styles) {
    let block = Block::default().borders(Borders::ALL).title(match &app.snapshot {
        Some(x) => format!(" nearest neighbours by cosine (step {}) ", x.step),
        None => " nearest neighbours by cosine ".into(),
    });
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = match &app.snapshot {
        Some(x) if !x.neighbours.is_empty() => x
            .neighbours
            .iter()
            .map(|w| {
                if !w.known {
                    return Line::from(vec![
                        Span::styled(format!("{}: ", w.word), s.key),
                        Span::styled("not in the vocabulary", s.dim),
                    ]);
                }
                let list: Vec<String> = w.neighbours.iter().map(|(n, c)| format!("{n} {c:.2}")).collect();
                let head = format!("{}: ", w.word);
                let rest = ellipsize(&list.join(", "), width.saturating_sub(head.chars().count()));
                Line::from(vec![Span::styled(head, s.key), Span::styled(rest, s.text)])
            })
            .collect(),
        _ => vec![Line::styled(
            "no watched words: press w to type one (or set [task] watch in the experiment)",
            s.dim,
        )],
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(block)
        .render(area, buf);
}

fn map_pane(app: &W2vApp, area: Rect, buf: &mut Buffer, s: &Styles) {
    let pts = app
        .snapshot
        .as_ref()
        .map(|x| x.projection.as_slice())
        .unwrap_or_default();
    let title = format!(" PCA of the {} most frequent words (unit vectors) ", pts.len());
    if pts.is_empty() {
        Paragraph::new("the map appears at the first look at the vectors ([task] projection = 0 turns it off)")
            .style(s.dim)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(title))
            .render(area, buf);
        return;
    }
    let xs = bounds(pts.iter().map(|p| f64::from(p.1)));
    let ys = bounds(pts.iter().map(|p| f64::from(p.2)));
    let coords: Vec<(f64, f64)> = pts.iter().map(|p| (f64::from(p.1), f64::from(p.2))).collect();
    let (line, key) = (s.line, s.key);
    Canvas::default()
        .block(Block::default().borders(Borders::ALL).title(title))
        .marker(Marker::Braille)
        .x_bounds(xs)
        .y_bounds(ys)
        .paint(move |ctx| {
            ctx.draw(&Points {
                coords: &coords,
                color: line.fg.unwrap_or(Color::Reset),
            });
            ctx.layer();
            for (w, x, y) in pts.iter().take(MAP_LABELS) {
                ctx.print(f64::from(*x), f64::from(*y), Span::styled(w.clone(), key));
            }
        })
        .render(area, buf);
}

fn footer(app: &W2vApp) -> Line<'static> {
    let s = styles(app.no_color);
    if let Some(t) = &app.typing {
        return Line::from(vec![
            Span::styled(" watch: ", s.key),
            Span::raw(format!("{t}▏")),
            Span::styled("   Enter: watch · Esc: cancel", s.dim),
        ]);
    }
    let mut spans = Vec::new();
    for (k, what) in KEYS.iter().take(4) {
        spans.push(Span::styled(format!(" {k} "), s.key));
        spans.push(Span::styled(what.split(" (").next().unwrap_or(what).to_string(), s.dim));
    }
    spans.push(Span::styled(" q ", s.key));
    spans.push(Span::styled("quit", s.dim));
    Line::from(spans)
}

impl Widget for &W2vApp {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let s = styles(self.no_color);
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Min(4),
                Constraint::Length(1),
            ])
            .split(area);
        let model = self.info.as_ref().map_or(String::new(), |i| format!(" · {}", i.model));
        Paragraph::new(format!(
            " rnn-lab · word2vec · {}{model} · {} ",
            self.title,
            state_text(self)
        ))
        .style(s.title)
        .render(rows[0], buf);
        let status = match (&self.state, &self.info) {
            (RunState::Failed(e), _) => Line::styled(format!(" error: {e}"), s.error),
            (_, Some(i)) => Line::from(vec![
                Span::styled(" step ", s.dim),
                Span::raw(format!("{}/{}", self.step, i.until)),
                Span::styled("  epoch ", s.dim),
                Span::raw(format!("{}/{}", self.epoch.max(1), i.epochs)),
                Span::styled("  loss ", s.dim),
                Span::raw(if self.loss.is_finite() {
                    format!("{:.4}", self.loss)
                } else {
                    "–".into()
                }),
                Span::styled("  lr ", s.dim),
                Span::raw(format!("{:.5}", self.lr)),
                Span::styled("  words/s ", s.dim),
                Span::raw(compact(self.words_per_s)),
                Span::styled("  vocabulary ", s.dim),
                Span::raw(format!(
                    "{} · {} words/epoch · {} threads",
                    i.vocab,
                    compact(i.corpus_words as f64),
                    i.threads
                )),
            ]),
            (_, None) => Line::styled(" reading the corpus…", s.dim),
        };
        Paragraph::new(status).render(rows[1], buf);
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
            .split(rows[2]);
        let left = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .split(cols[0]);
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(40), Constraint::Percentage(60)])
            .split(cols[1]);
        loss_pane(self, left[0], buf, &s);
        analogy_pane(self, left[1], buf, &s);
        neighbours_pane(self, right[0], buf, &s);
        map_pane(self, right[1], buf, &s);
        Paragraph::new(footer(self)).render(rows[3], buf);
        if self.help {
            let lines: Vec<Line> = KEYS
                .iter()
                .map(|(k, what)| Line::from(vec![Span::styled(format!("{k:>10}  "), s.key), Span::raw(*what)]))
                .collect();
            let h = centered(area, 80.min(area.width), (lines.len() as u16 + 2).min(area.height));
            Clear.render(h, buf);
            Paragraph::new(lines)
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" keys (Esc or ? to close) "),
                )
                .render(h, buf);
        }
    }
}
