//! Heatmap of one `[T][H]` matrix: time steps across, units down.
//!
//! With colour, two units share a row: the cell is `▀` with the upper unit's colour as
//! foreground and the lower unit's as background. With glyphs (NO_COLOR) one unit per row,
//! each value a glyph of the ramp ` ░▒▓█`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::draw;
use super::palette::{self, Palette};
use super::{Channel, Ctx};

/// Layout rows from the top: title, axis (token labels), data…, status.
pub(super) fn render(ctx: &Ctx<'_>, ch: &Channel<'_>, area: Rect, buf: &mut Buffer) {
    let theme = &ctx.theme;
    let h = area.height;
    // Which furniture fits: data first, then axis, title, status.
    let has_axis = h >= 2;
    let has_title = h >= 3;
    let has_status = h >= 4;
    let data_y = u16::from(has_title) + u16::from(has_axis);
    let data_rows = h - data_y - u16::from(has_status);

    let ord = ctx.order();
    let n_units = ord.len();
    let t_len = ch.values.len();
    let unit = ctx.unit(&ord);
    let rank = ord.iter().position(|&u| u == unit).unwrap_or(0);
    let cursor = ctx.cursor();

    if has_title {
        let title = format!(
            "{} · {} · {} units {}",
            ch.name,
            ctx.layer_name(),
            n_units,
            ctx.sort_name()
        );
        draw::text(buf, area, 0, 0, &title, theme.title);
    }

    // Unit labels: two per row with colour ("12 40 "), one with glyphs ("12 ").
    let per_row: usize = if theme.palette == Palette::Glyph { 1 } else { 2 };
    let digits = n_units.saturating_sub(1).to_string().len();
    let label_w = (digits * per_row + per_row) as u16;
    let label_w = if area.width > label_w + 4 { label_w } else { 0 };
    let cols = usize::from(area.width - label_w);

    let first_t = draw::page(cursor, cols, t_len);
    let visible_units = usize::from(data_rows) * per_row;
    let first_rank = draw::page(rank, visible_units, n_units);

    if has_axis {
        let y = u16::from(has_title);
        if label_w > 0 {
            let name = if label_w >= 5 { "unit" } else { "u" };
            draw::text(buf, area, 0, y, name, theme.dim);
        }
        // One column per step; a wide (CJK) label takes its column and the next, whose own
        // label is then left out. The cursor's label is placed first so it always shows.
        let mut taken = vec![false; cols + 1];
        let cursor_col = cursor.checked_sub(first_t).filter(|&c| c < cols);
        for c in cursor_col.into_iter().chain(0..cols) {
            let t = first_t + c;
            if t >= t_len || taken[c] {
                continue;
            }
            let label = ctx.token_axis(t);
            let w = usize::from(draw::width(&Line::raw(label.as_str())).clamp(1, 2));
            if c + w > cols || taken[c + w - 1] {
                continue;
            }
            taken[c..c + w].iter_mut().for_each(|x| *x = true);
            let style = if t == cursor { theme.selected } else { Style::new() };
            draw::text(buf, area, label_w + c as u16, y, &label, style);
        }
    }

    for r in 0..usize::from(data_rows) {
        let y = data_y + r as u16;
        let top_rank = first_rank + r * per_row;
        let Some(&top) = ord.get(top_rank) else { break };
        let bottom = if per_row == 2 {
            ord.get(top_rank + 1).copied()
        } else {
            None
        };
        if label_w > 0 {
            let mut spans = Vec::new();
            for u in std::iter::once(top).chain(bottom) {
                let style = if u == unit { theme.selected } else { theme.dim };
                spans.push(Span::styled(format!("{u:>digits$}"), style));
                spans.push(Span::raw(" "));
            }
            draw::line(buf, area, 0, y, &Line::from(spans));
        }
        for c in 0..cols {
            let t = first_t + c;
            if t >= t_len {
                break;
            }
            let x = label_w + c as u16;
            let a = ch.get(t, top);
            if per_row == 1 {
                let g = a.map_or('·', |v| palette::glyph(ch.scale, v));
                draw::cell(buf, area, x, y, &g.to_string(), Style::new());
                continue;
            }
            let b = bottom.and_then(|u| ch.get(t, u));
            let color = |v: f32| theme.color(ch.scale, v);
            let (sym, style) = match (a.and_then(color), b.and_then(color)) {
                (Some(fa), Some(fb)) => ("▀", Style::new().fg(fa).bg(fb)),
                (Some(fa), None) => ("▀", Style::new().fg(fa)),
                (None, Some(fb)) => ("▄", Style::new().fg(fb)),
                (None, None) => (" ", Style::new()),
            };
            draw::cell(buf, area, x, y, sym, style);
        }
    }

    if has_status {
        let y = h - 1;
        let v = ch.get(cursor, unit);
        let mut status = format!(
            "t {cursor} '{}' │ unit {unit} {}",
            ctx.token_label(cursor),
            draw::fmt_value(v)
        );
        if ch.squash {
            let raw = crate::infer::analysis::value(ch.values, cursor, unit);
            status.push_str(&format!(" (c {})", draw::fmt_value(raw)));
        }
        if let Some(r) = ctx
            .unit_r(ch, unit)
            .filter(|_| ctx.view.sort == super::SortMode::Correlation)
        {
            status.push_str(&format!(" │ r {r:+.2}"));
        }
        if n_units > visible_units && visible_units > 0 {
            let last = (first_rank + visible_units).min(n_units);
            // Rows are labelled with unit numbers from 0; the range says the same.
            status.push_str(&format!(" │ units {first_rank}–{} of {n_units}", last - 1));
        }
        if t_len > cols && cols > 0 {
            let last = (first_t + cols).min(t_len);
            status.push_str(&format!(" │ steps {first_t}–{} of {t_len}", last - 1));
        }
        let used = draw::text(buf, area, 0, y, &status, theme.dim);
        let leg = draw::legend(theme, ch.scale, 10);
        let lw = draw::width(&leg);
        if used + 2 + lw <= area.width {
            draw::line(buf, area, area.width - lw, y, &leg);
        }
    }
}
