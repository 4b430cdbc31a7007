//! Gradient flow through time: ‖∂L/∂a⟨t⟩‖ against the distance T − 1 − t from the last step,
//! on a log₁₀ scale. A vanilla RNN's curve falls as a straight line (geometric decay: the
//! vanishing gradient); an LSTM's stays flatter. A second report can be overlaid.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Widget};

use super::palette::Palette;
use super::{draw, Ctx};
use crate::infer::analysis::{decay_per_step, describe};
use crate::infer::probe::{DirProbe, ProbeReport};

/// (distance from the end, log₁₀ norm) for every positive finite norm.
fn points(dir: &DirProbe) -> Vec<(f64, f64)> {
    let n = dir.grad_norm.len();
    dir.grad_norm
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_finite() && **g > 0.0)
        .map(|(t, &g)| ((n - 1 - t) as f64, f64::from(g).log10()))
        .collect()
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
    let mine = points(ctx.dir);
    let theirs = cmp.map(|(_, d)| points(d)).unwrap_or_default();

    let h = area.height;
    let has_title = h >= 3;
    let has_status = h >= 4;
    if has_title {
        let title = format!(
            "‖∂L/∂a⟨t⟩‖ by distance from the last step · log scale · {}",
            ctx.layer_name()
        );
        draw::text(buf, area, 0, 0, &title, theme.title);
    }
    if has_status {
        let mut spans = Vec::new();
        let decay = |d: &DirProbe| {
            decay_per_step(&d.grad_norm).map_or_else(|| "no decay fit".to_string(), |f| format!("×{f:.3} per step"))
        };
        spans.push(Span::styled(format!("{label}: {}", decay(ctx.dir)), theme.series));
        if let (Some((_, d)), Some(l)) = (cmp, &cmp_label) {
            spans.push(Span::styled("  │  ", theme.dim));
            spans.push(Span::styled(format!("{l}: {}", decay(d)), theme.compare));
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
