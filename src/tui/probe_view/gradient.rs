//! Gradient flow through time: ‖∂L/∂a⟨t⟩‖ against the distance T − 1 − t from the last step,
//! on a log₁₀ scale. A vanilla RNN's curve falls as a straight line (geometric decay: the
//! vanishing gradient); an LSTM's stays flatter. A second report can be overlaid.
//!
//! For a model with one output per sequence (classification, regression: the adding problem)
//! the norms are those of that one final output's loss, so the curve shows how far it reaches
//! back; a bidirectional layer's backward direction is read at the first step, so its
//! distance is counted from there.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Widget};

use super::palette::Palette;
use super::{draw, Ctx};
use crate::infer::analysis::{decay_per_step, describe};
use crate::infer::probe::{DirProbe, Direction, ProbeReport};

/// Whether the distance of `dir`'s steps counts from the first step: the backward direction
/// of a model whose one output reads it there.
fn from_first(report: &ProbeReport, dir: &DirProbe) -> bool {
    report.one_output() && dir.direction == Direction::Bwd
}

/// The norms in the order of the distance back from where the loss enters (last step first
/// for the forward direction, so the norms as a forward pass would have them).
fn by_distance(report: &ProbeReport, dir: &DirProbe) -> Vec<f32> {
    if from_first(report, dir) {
        dir.grad_norm.iter().rev().copied().collect()
    } else {
        dir.grad_norm.clone()
    }
}

/// (distance back from where the loss enters, log₁₀ norm) for every positive finite norm.
fn points(report: &ProbeReport, dir: &DirProbe) -> Vec<(f64, f64)> {
    let norms = by_distance(report, dir);
    let n = norms.len();
    norms
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_finite() && **g > 0.0)
        .map(|(t, &g)| ((n - 1 - t) as f64, f64::from(g).log10()))
        .collect()
}

/// The chart's title: what the norms are of, and from where the distance counts.
fn title(report: &ProbeReport, dir: &DirProbe, layer: &str) -> String {
    if from_first(report, dir) {
        format!("‖∂L/∂a⟨t⟩‖ of the final output by distance from the first step (bwd) · log scale · {layer}")
    } else if report.one_output() {
        format!("‖∂L/∂a⟨t⟩‖ of the final output by distance back from the last step · log scale · {layer}")
    } else {
        format!("‖∂L/∂a⟨t⟩‖ by distance from the last step · log scale · {layer}")
    }
}

/// The same layer and direction in another report, else its first.
fn matching<'r>(report: &'r ProbeReport, dir: &DirProbe) -> Option<&'r DirProbe> {
    report
        .dirs
        .iter()
        .find(|d| d.layer == dir.layer && d.direction == dir.direction)
        .or_else(|| report.dirs.first())
}

pub(super) fn render(ctx: &Ctx<'_>, compare: Option<&ProbeReport>, area: Rect, buf: &mut Buffer) {
    let theme = &ctx.theme;
    let label = ctx.view.label.clone().unwrap_or_else(|| describe(ctx.report));
    let cmp = compare.and_then(|r| Some((r, matching(r, ctx.dir)?)));
    let cmp_label = cmp.map(|(r, _)| {
        let l = ctx.view.compare_label.clone().unwrap_or_else(|| describe(r));
        if l == label {
            format!("{l} (compare)")
        } else {
            l
        }
    });
    let mine = points(ctx.report, ctx.dir);
    let theirs = cmp.map(|(r, d)| points(r, d)).unwrap_or_default();

    let h = area.height;
    let has_title = h >= 3;
    let has_status = h >= 4;
    if has_title {
        let title = title(ctx.report, ctx.dir, &ctx.layer_name());
        draw::text(buf, area, 0, 0, &title, theme.title);
    }
    if has_status {
        let mut spans = Vec::new();
        let decay = |r: &ProbeReport, d: &DirProbe| {
            decay_per_step(&by_distance(r, d))
                .map_or_else(|| "no decay fit".to_string(), |f| format!("×{f:.3} per step"))
        };
        spans.push(Span::styled(
            format!("{label}: {}", decay(ctx.report, ctx.dir)),
            theme.series,
        ));
        if let (Some((r, d)), Some(l)) = (cmp, &cmp_label) {
            spans.push(Span::styled("  │  ", theme.dim));
            spans.push(Span::styled(format!("{l}: {}", decay(r, d)), theme.compare));
        }
        draw::line(buf, area, 0, h - 1, &Line::from(spans));
    }
    let plot = Rect {
        y: area.y + u16::from(has_title),
        height: h - u16::from(has_title) - u16::from(has_status),
        ..area
    };
    if plot.is_empty() {
        return;
    }
    if mine.is_empty() && theirs.is_empty() {
        draw::message(buf, plot, "no positive gradient norms in this probe", theme.note);
        return;
    }

    let all = || mine.iter().chain(theirs.iter());
    let x_max = all().map(|p| p.0).fold(1.0_f64, f64::max);
    let y_lo = all().map(|p| p.1).fold(f64::INFINITY, f64::min).floor();
    let y_hi = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max).ceil();
    let (y_lo, y_hi) = if y_hi > y_lo {
        (y_lo, y_hi)
    } else {
        (y_lo - 1.0, y_hi + 1.0)
    };
    // One label per decade when few, else the ends and the middle.
    let decades = (y_hi - y_lo) as i64;
    let y_labels: Vec<String> = if decades <= 6 {
        (0..=decades).map(|k| format!("1e{}", y_lo as i64 + k)).collect()
    } else {
        let mid = ((y_lo + y_hi) / 2.0).round() as i64;
        vec![
            format!("1e{}", y_lo as i64),
            format!("1e{mid}"),
            format!("1e{}", y_hi as i64),
        ]
    };
    let x_labels = if x_max >= 4.0 {
        vec![
            "0".to_string(),
            format!("{}", (x_max / 2.0).round()),
            format!("{x_max}"),
        ]
    } else {
        vec!["0".to_string(), format!("{x_max}")]
    };

    let glyph = theme.palette == Palette::Glyph;
    // Legend names padded to one width (the legend box does not clear its padding); without
    // colour each name shows its marker.
    let (mark, cmp_mark) = if glyph { (" ⠤", " •") } else { ("", "") };
    let name_w = Span::raw(label.as_str())
        .width()
        .max(cmp_label.as_deref().map_or(0, |l| Span::raw(l).width()));
    let pad = |l: &str, m: &str| {
        let fill = name_w.saturating_sub(Span::raw(l).width());
        format!("{l}{}{m}", " ".repeat(fill))
    };
    let mut datasets = vec![Dataset::default()
        .name(pad(&label, mark))
        .graph_type(GraphType::Line)
        .marker(Marker::Braille)
        .style(theme.series)
        .data(&mine)];
    if let Some(l) = &cmp_label {
        datasets.push(
            Dataset::default()
                .name(pad(l, cmp_mark))
                .graph_type(if glyph { GraphType::Scatter } else { GraphType::Line })
                .marker(if glyph { Marker::Dot } else { Marker::Braille })
                .style(theme.compare)
                .data(&theirs),
        );
    }
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .title("steps back")
                .bounds([0.0, x_max])
                .labels(x_labels)
                .style(theme.dim),
        )
        .y_axis(Axis::default().bounds([y_lo, y_hi]).labels(y_labels).style(theme.dim))
        .style(Style::new());
    chart.render(plot, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4-step probe: `one_output` gives only the last step top candidates (a sequence head).
    fn report(one_output: bool) -> ProbeReport {
        let dir = |direction, grad_norm: Vec<f32>| DirProbe {
            layer: 0,
            direction,
            hidden: vec![vec![0.0]; 4],
            gates: vec![],
            cell: None,
            grad_norm,
        };
        let top = (0..4)
            .map(|t| {
                if !one_output || t == 3 {
                    vec![("x".to_string(), 0.5)]
                } else {
                    vec![]
                }
            })
            .collect();
        ProbeReport {
            step: 1,
            tokens: vec!["a".into(); 4],
            entropy: vec![f32::NAN; 4],
            top,
            dirs: vec![
                dir(Direction::Fwd, vec![0.001, 0.01, 0.1, 1.0]),
                dir(Direction::Bwd, vec![1.0, 0.1, 0.01, 0.001]),
            ],
        }
    }

    #[test]
    fn a_sequence_heads_backward_direction_counts_from_the_first_step() {
        let r = report(true);
        let near = |(x, y): (f64, f64), (wx, wy): (f64, f64)| x == wx && (y - wy).abs() < 1e-6;
        // Forward: the loss enters at the last step (distance 0, norm 1).
        assert!(near(points(&r, &r.dirs[0])[3], (0.0, 0.0)));
        // Backward: it enters at the first step, so the first step is distance 0.
        let bwd = points(&r, &r.dirs[1]);
        assert!(near(bwd[3], (0.0, 0.0)), "{bwd:?}");
        assert!(near(bwd[0], (3.0, -3.0)), "{bwd:?}");
        let Some(f) = decay_per_step(&by_distance(&r, &r.dirs[1])) else {
            panic!("a fit")
        };
        assert!((f - 0.1).abs() < 1e-6, "{f}");
        assert!(title(&r, &r.dirs[0], "L1 fwd").contains("of the final output by distance back from the last step"));
        assert!(title(&r, &r.dirs[1], "L1 bwd").contains("from the first step (bwd)"));
        // A per-step head (a language model or a tagger): the loss at the last step, as before.
        let lm = report(false);
        assert!(!lm.one_output());
        assert!(near(points(&lm, &lm.dirs[1])[0], (3.0, 0.0)));
        assert!(title(&lm, &lm.dirs[0], "L1").starts_with("‖∂L/∂a⟨t⟩‖ by distance from the last step"));
    }
}
