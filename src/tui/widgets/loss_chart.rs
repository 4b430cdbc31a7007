//! Loss curves: raw training loss faint behind its debiased EMA, validation loss on top; several
//! runs overlaid on the runs screen. x by step or wall time, y linear or log.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget, Wrap};

use crate::tui::app::ChartSettings;
use crate::tui::history::{debiased_ema, History, Point};

use super::{compact, duration, sig3};

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesKind {
    /// Raw points, faint.
    Raw,
    /// Debiased EMA of the points.
    Smoothed,
    /// Points as they are, as a line (validation).
    Line,
}

/// One curve.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    /// Legend name.
    pub name: String,
    /// The history it reads.
    pub history: &'a History,
    /// How it is drawn.
    pub kind: SeriesKind,
    /// Its style.
    pub style: Style,
}

/// The loss chart.
pub struct LossChart<'a> {
    /// Curves, drawn in order (later on top).
    pub series: Vec<Series<'a>>,
    /// Smoothing, axes.
    pub settings: ChartSettings,
    /// The surrounding block.
    pub block: Block<'a>,
    /// Axis label style.
    pub axis: Style,
    /// Shown when there is nothing to draw.
    pub empty_text: &'a str,
}

fn points(h: &History, recent: bool) -> Vec<Point> {
    if recent || h.full().is_empty() {
        h.recent().copied().collect()
    } else {
        let mut v = h.full().to_vec();
        // The raw point newer than the last full bucket keeps the curve up to date.
        if let Some(last) = h.last() {
            if v.last().is_none_or(|p| p.step < last.step) {
                v.push(*last);
            }
        }
        v
    }
}

impl LossChart<'_> {
    /// The (x, y) data of each series, after smoothing and axis transforms.
    pub fn data(&self) -> Vec<Vec<(f64, f64)>> {
        let s = &self.settings;
        self.series
            .iter()
            .map(|series| {
                let pts = points(series.history, s.recent);
                let ys: Vec<f64> = match series.kind {
                    SeriesKind::Smoothed => debiased_ema(pts.iter().map(|p| p.value), s.beta()),
                    SeriesKind::Raw | SeriesKind::Line => pts.iter().map(|p| p.value).collect(),
                };
                pts.iter()
                    .zip(ys)
                    .filter_map(|(p, y)| {
                        let x = if s.x_time { p.time_s } else { p.step as f64 };
                        let y = if s.log_y { (y > 0.0).then(|| y.ln())? } else { y };
                        (x.is_finite() && y.is_finite()).then_some((x, y))
                    })
                    .collect()
            })
            .collect()
    }
}

fn bounds(data: &[Vec<(f64, f64)>]) -> Option<([f64; 2], [f64; 2])> {
    let mut it = data.iter().flatten();
    let first = it.next()?;
    let (mut x0, mut x1, mut y0, mut y1) = (first.0, first.0, first.1, first.1);
    for &(x, y) in it {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = if y1 > y0 {
        (y1 - y0) * 0.05
    } else {
        y0.abs().max(1.0) * 0.1
    };
    Some(([x0, x1], [y0 - pad, y1 + pad]))
}

impl Widget for LossChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let data = self.data();
        let Some((xb, yb)) = bounds(&data) else {
            Paragraph::new(self.empty_text)
                .wrap(Wrap { trim: true })
                .block(self.block)
                .render(area, buf);
            return;
        };
        let s = self.settings;
        let x_label = |x: f64| {
            if s.x_time {
                duration(x)
            } else if x.abs() < 1e4 {
                format!("{x:.0}")
            } else {
                compact(x)
            }
        };
        let y_label = |y: f64| sig3(if s.log_y { y.exp() } else { y });
        let x_mid = (xb[0] + xb[1]) / 2.0;
        let y_mid = (yb[0] + yb[1]) / 2.0;
        let axis = self.axis;
        let x_axis = Axis::default()
            .bounds(xb)
            .style(axis)
            .labels([x_label(xb[0]), x_label(x_mid), x_label(xb[1])].map(|l| Span::styled(l, axis)));
        let y_axis = Axis::default()
            .bounds(yb)
            .style(axis)
            .labels([y_label(yb[0]), y_label(y_mid), y_label(yb[1])].map(|l| Span::styled(l, axis)));
        let datasets: Vec<Dataset> = self
            .series
            .iter()
            .zip(&data)
            .map(|(series, d)| {
                let ds = Dataset::default()
                    .marker(Marker::Braille)
                    .style(series.style)
                    .data(d)
                    .graph_type(match series.kind {
                        SeriesKind::Raw => GraphType::Scatter,
                        _ => GraphType::Line,
                    });
                if series.name.is_empty() {
                    ds
                } else {
                    ds.name(Line::from(series.name.clone()))
                }
            })
            .collect();
        Chart::new(datasets)
            .block(self.block)
            .x_axis(x_axis)
            .y_axis(y_axis)
            .hidden_legend_constraints((
                ratatui::layout::Constraint::Percentage(50),
                ratatui::layout::Constraint::Percentage(50),
            ))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[f64]) -> History {
        let mut h = History::new(64, 8);
        for (i, v) in values.iter().enumerate() {
            h.push(Point {
                step: (i as u64 + 1) * 10,
                time_s: i as f64,
                value: *v,
            });
        }
        h
    }

    fn chart<'a>(h: &'a History, settings: ChartSettings) -> LossChart<'a> {
        LossChart {
            series: vec![Series {
                name: String::new(),
                history: h,
                kind: SeriesKind::Smoothed,
                style: Style::new(),
            }],
            settings,
            block: Block::bordered().title("Loss"),
            axis: Style::new(),
            empty_text: "no data",
        }
    }

    const SETTINGS: ChartSettings = ChartSettings {
        smoothing: 0,
        log_y: false,
        x_time: false,
        recent: false,
    };

    #[test]
    fn log_y_and_time_axis_transform_the_data() {
        let h = hist(&[1.0, std::f64::consts::E, 0.0]);
        let d = chart(
            &h,
            ChartSettings {
                log_y: true,
                x_time: true,
                ..SETTINGS
            },
        )
        .data();
        // 0 has no logarithm and is dropped; x is seconds.
        assert_eq!(d[0].len(), 2);
        assert!((d[0][1].1 - 1.0).abs() < 1e-12);
        assert_eq!(d[0][1].0, 1.0);
        let d = chart(&h, SETTINGS).data();
        assert_eq!(d[0][2], (30.0, 0.0));
    }

    #[test]
    fn empty_chart_shows_its_text() {
        let h = History::new(8, 8);
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 3));
        chart(&h, SETTINGS).render(buf.area, &mut buf);
        let expected = Buffer::with_lines(["┌Loss──────────────┐", "│no data           │", "└──────────────────┘"]);
        assert_eq!(buf, expected);
    }

    #[test]
    fn renders_a_curve_at_any_size() {
        let h = hist(&[4.0, 3.0, 2.5, 2.0, 1.8, 1.7]);
        for (w, hgt) in [(1, 1), (5, 3), (30, 10), (120, 40)] {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, hgt));
            chart(&h, SETTINGS).render(buf.area, &mut buf);
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 12));
        chart(&h, SETTINGS).render(buf.area, &mut buf);
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert!(text.contains("Loss"));
        assert!(
            text.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
            "braille curve drawn"
        );
    }
}
