//! The probe text coloured by one unit: each token's background is the selected unit's value
//! (hidden state, gate or cell) at that step. With glyphs (NO_COLOR) each text row is followed
//! by a row of ramp glyphs under the characters. Below: the cursor token, the unit's value, the
//! entropy of the next-token distribution and the model's top-5 guesses.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::palette::{self, Palette};
use super::{draw, Channel, Ctx};

/// One token placed on screen.
struct Placed {
    t: usize,
    text: String,
    x: u16,
}

/// Lay tokens out in rows of `width` cells. Character tokens join directly; word tokens (any
/// token longer than one character) get a space between them. A token holding a newline ends
/// its row.
fn layout(tokens: &[String], width: u16) -> Vec<Vec<Placed>> {
    let words = tokens.iter().any(|t| t.chars().count() > 1);
    let w = usize::from(width.max(1));
    let mut rows: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut x = 0usize;
    for (t, tok) in tokens.iter().enumerate() {
        let mut text = draw::token_text(tok);
        let mut tw = Span::raw(text.as_str()).width();
        if tw > w {
            text = text.chars().take(w.saturating_sub(1)).collect::<String>() + "…";
            tw = Span::raw(text.as_str()).width();
        }
        let gap = usize::from(words && x > 0);
        if x + gap + tw > w && x > 0 {
            rows.push(Vec::new());
            x = 0;
        } else {
            x += gap;
        }
        if let Some(row) = rows.last_mut() {
            row.push(Placed { t, text, x: x as u16 });
        }
        x += tw;
        if tok.contains('\n') {
            rows.push(Vec::new());
            x = 0;
        }
    }
    rows
}

pub(super) fn render(ctx: &Ctx<'_>, ch: &Channel<'_>, area: Rect, buf: &mut Buffer) {
    let theme = &ctx.theme;
    let ord = ctx.order();
    let unit = ctx.unit(&ord);
    let cursor = ctx.cursor();
    let glyph = theme.palette == Palette::Glyph;
    let h = area.height;

    let has_title = h >= 3;
    // Info panel: a cursor line and the top-5 as bars when tall, one line when short.
    let info_rows: u16 = if h >= 14 {
        7
    } else if h >= 5 {
        2
    } else {
        0
    };
    if has_title {
        let mut title = format!("text coloured by {} unit {unit} · {}", ch.name, ctx.layer_name());
        if let Some(r) = ctx
            .unit_r(ch, unit)
            .filter(|_| ctx.view.sort == super::SortMode::Correlation)
        {
            title.push_str(&format!(" · r {r:+.2} with {}", ctx.view.feature.name()));
        }
        draw::text(buf, area, 0, 0, &title, theme.title);
    }

    // The text.
    let text_area = Rect {
        y: area.y + u16::from(has_title),
        height: h - u16::from(has_title) - info_rows,
        ..area
    };
    let rows = layout(&ctx.report.tokens, text_area.width);
    let per_line: u16 = if glyph && text_area.height >= 2 { 2 } else { 1 };
    let visible = usize::from(text_area.height / per_line);
    let cursor_row = rows.iter().position(|r| r.iter().any(|p| p.t == cursor)).unwrap_or(0);
    let first = draw::page(cursor_row, visible, rows.len());
    for (i, row) in rows.iter().skip(first).take(visible).enumerate() {
        let y = i as u16 * per_line;
        for p in row {
            let v = ch.get(p.t, unit);
            let mut style = match v.and_then(|v| theme.color(ch.scale, v)) {
                Some(bg) => Style::new().bg(bg).fg(palette::readable_on(bg)),
                None => Style::new(),
            };
            if p.t == cursor {
                style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD | Modifier::UNDERLINED);
            }
            let used = draw::text(buf, text_area, p.x, y, &p.text, style);
            if per_line == 2 {
                let g = v.map_or('·', |v| palette::glyph(ch.scale, v));
                let marks: String = std::iter::repeat_n(g, usize::from(used)).collect();
                draw::text(buf, text_area, p.x, y + 1, &marks, Style::new());
            }
        }
    }

    if info_rows == 0 {
        return;
    }
    let info = Rect {
        y: area.y + h - info_rows,
        height: info_rows,
        ..area
    };
    let tok = ctx
        .report
        .tokens
        .get(cursor)
        .map_or_else(|| "∅".to_string(), |t| draw::token_text(t));
    let mut line = vec![
        Span::styled(format!("t {cursor} "), theme.dim),
        Span::styled(format!("'{tok}'"), theme.selected),
        Span::styled(
            format!(" │ unit {unit} {}", draw::fmt_value(ch.get(cursor, unit))),
            theme.dim,
        ),
    ];
    if let Some(e) = ctx.report.entropy.get(cursor).filter(|e| e.is_finite()) {
        line.push(Span::styled(
            format!(" │ entropy {e:.2} nats ({:.2} bits)", e / std::f32::consts::LN_2),
            theme.dim,
        ));
    }
    let top = ctx.report.top.get(cursor).map(Vec::as_slice).unwrap_or(&[]);
    if info_rows == 2 {
        draw::line(buf, info, 0, 0, &Line::from(line));
        let mut s = String::from("next:");
        for (tok, p) in top.iter().take(5) {
            s.push_str(&format!("  {} {:.2}", draw::token_label(tok), p));
        }
        if top.is_empty() {
            s.push_str(" —");
        }
        draw::text(buf, info, 0, 1, &s, theme.dim);
        return;
    }
    draw::line(buf, info, 0, 0, &Line::from(line));
    draw::text(buf, info, 0, 1, "next-token guesses after this step:", theme.dim);
    if top.is_empty() {
        draw::text(buf, info, 2, 2, "none recorded", theme.note);
    }
    for (i, (tok, p)) in top.iter().take(5).enumerate() {
        let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 };
        let name = draw::token_label(tok);
        let name = if Span::raw(name.as_str()).width() > 8 {
            name.chars().take(7).collect::<String>() + "…"
        } else {
            name
        };
        let label = format!("  {name:<8} {p:>5.3} ");
        let y = 2 + i as u16;
        let used = draw::text(buf, info, 0, y, &label, Style::new());
        draw::text(buf, info, used, y, &bar(p, 30), theme.series);
    }
}

/// A horizontal bar of `p` ∈ [0, 1] over `width` cells, in eighths.
fn bar(p: f32, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (p * (width * 8) as f32).round() as usize;
    let mut s: String = std::iter::repeat_n('█', eighths / 8).collect();
    if let Some(&c) = EIGHTHS.get(eighths % 8).filter(|_| !eighths.is_multiple_of(8)) {
        s.push(c);
    }
    s
}
