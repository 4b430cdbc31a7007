//! Gate saturation, as in Karpathy, Johnson & Fei-Fei 2015 (fig. 3): for each gate one point
//! per unit, x = fraction of time steps the gate is left-saturated (< 0.1, nearly closed),
//! y = fraction right-saturated (> 0.9, nearly open). Points near the origin are gates that
//! stay in their responsive middle; along the x + y = 1 diagonal are units that act as
//! switches; top-left are gates almost always open (e.g. forget gates that remember).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Widget};

use super::palette::Palette;
use super::{draw, gate_title, Ctx};
use crate::infer::analysis::{saturation, Saturation};

/// Below this width per chart only the selected gate is shown.
const MIN_CHART_WIDTH: u16 = 22;

pub(super) fn render(ctx: &Ctx<'_>, area: Rect, buf: &mut Buffer) {
    let theme = &ctx.theme;
    let gates = &ctx.dir.gates;
    if gates.is_empty() {
        draw::message(
            buf,
            area,
            "a vanilla RNN has no gates to saturate — press 1 for the hidden state",
            theme.note,
        );
        return;
    }
    let sats: Vec<Vec<Saturation>> = gates.iter().map(|g| saturation(&g.values)).collect();
    let selected_gate = ctx.view.gate % gates.len();
    let ord = ctx.order();
    let unit = ctx.unit(&ord);

    let h = area.height;
    let has_title = h >= 3;
    let has_status = h >= 4;
    if has_title {
        let title = format!(
            "gate saturation · {} · x: share of steps < 0.1 · y: share > 0.9",
            ctx.layer_name()
        );
        draw::text(buf, area, 0, 0, &title, theme.title);
    }
    if has_status {
        let mut s = format!("unit {unit}:");
        for (g, sat) in gates.iter().zip(&sats) {
            let v = sat.get(unit).copied().unwrap_or_default();
            s.push_str(&format!(" {} {:.2}/{:.2}", g.name, v.left, v.right));
        }
        draw::text(buf, area, 0, h - 1, &s, theme.dim);
    }
    let charts = Rect {
        y: area.y + u16::from(has_title),
        height: h - u16::from(has_title) - u16::from(has_status),
        ..area
    };
    if charts.is_empty() {
        return;
    }
    let shown: Vec<usize> = if charts.width / (gates.len() as u16).max(1) >= MIN_CHART_WIDTH {
        (0..gates.len()).collect()
    } else {
        vec![selected_gate]
    };
    let cells = Layout::horizontal(vec![Constraint::Fill(1); shown.len()])
        .spacing(2)
        .split(charts);
    for (&gi, &rect) in shown.iter().zip(cells.iter()) {
        let (Some(g), Some(sat)) = (gates.get(gi), sats.get(gi)) else {
            continue;
        };
        let points: Vec<(f64, f64)> = sat.iter().map(|s| (f64::from(s.left), f64::from(s.right))).collect();
        let chosen: Vec<(f64, f64)> = points.get(unit).copied().into_iter().collect();
        let diagonal = [(0.0, 1.0), (1.0, 0.0)];
        let (point_marker, chosen_marker) = match theme.palette {
            Palette::Glyph => (Marker::Braille, Marker::Block),
            _ => (Marker::Braille, Marker::Dot),
        };
        let datasets = vec![
            Dataset::default()
                .graph_type(GraphType::Line)
                .marker(Marker::Braille)
                .style(theme.dim)
                .data(&diagonal),
            Dataset::default()
                .graph_type(GraphType::Scatter)
                .marker(point_marker)
                .style(theme.series)
                .data(&points),
            Dataset::default()
                .graph_type(GraphType::Scatter)
                .marker(chosen_marker)
                .style(theme.compare)
                .data(&chosen),
        ];
        let title_style = if gi == selected_gate { theme.title } else { Style::new() };
        let chart = Chart::new(datasets)
            .block(Block::new().title(gate_title(&g.name)).title_style(title_style))
            .x_axis(
                Axis::default()
                    .bounds([0.0, 1.0])
                    .labels(["0", "0.5", "1"])
                    .style(theme.dim),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, 1.0])
                    .labels(y_labels(rect.height))
                    .style(theme.dim),
            );
        chart.render(rect, buf);
    }
}

/// The y axis's tick labels for a chart `height` rows tall (title and x axis included): with
/// fewer than 3 rows of plot the labels would sit on one row and read as one number ("1.5"),
/// so a short chart shows none.
fn y_labels(height: u16) -> Vec<&'static str> {
    match height.saturating_sub(3) {
        0..=1 => vec![],
        2 => vec!["0", "1"],
        _ => vec!["0", "0.5", "1"],
    }
}
