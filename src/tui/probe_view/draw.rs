//! Small, bounds-checked drawing helpers shared by the views.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::palette::{self, Scale};
use super::{steps, Theme, ViewKind};
use crate::data::token::{visible_text, visible_token};
use crate::infer::probe::{DirProbe, ProbeReport};

/// Write `s` at (x, y) relative to `area`, clipped to the area; returns the columns used.
pub(super) fn text(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, style: Style) -> u16 {
    if x >= area.width || y >= area.height {
        return 0;
    }
    let (end, _) = buf.set_stringn(area.x + x, area.y + y, s, usize::from(area.width - x), style);
    end.saturating_sub(area.x + x)
}

/// Write a styled line at (x, y) relative to `area`, clipped; returns the columns used.
pub(super) fn line(buf: &mut Buffer, area: Rect, x: u16, y: u16, l: &Line<'_>) -> u16 {
    if x >= area.width || y >= area.height {
        return 0;
    }
    let (end, _) = buf.set_line(area.x + x, area.y + y, l, area.width - x);
    end.saturating_sub(area.x + x)
}

/// Set one cell relative to `area` if it is inside.
pub(super) fn cell(buf: &mut Buffer, area: Rect, x: u16, y: u16, sym: &str, style: Style) {
    if x < area.width && y < area.height {
        if let Some(c) = buf.cell_mut((area.x + x, area.y + y)) {
            c.set_symbol(sym).set_style(style);
        }
    }
}

/// A message centred in `area`, wrapped over as many rows as needed and fit.
pub(super) fn message(buf: &mut Buffer, area: Rect, msg: &str, style: Style) {
    let w = usize::from(area.width.max(1));
    let mut rows: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in msg.split(' ') {
        let add = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if Span::raw(add.as_str()).width() > w && !cur.is_empty() {
            rows.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = add;
        }
    }
    rows.push(cur);
    let n = rows.len().min(usize::from(area.height));
    let top = (usize::from(area.height) - n) / 2;
    for (i, r) in rows.iter().take(n).enumerate() {
        let rw = Span::raw(r.as_str()).width().min(w);
        let x = (w - rw) / 2;
        text(buf, area, x as u16, (top + i) as u16, r, style);
    }
}

/// The first row: the five views with the current one highlighted, then layer and step.
pub(super) fn tab_bar(
    buf: &mut Buffer,
    area: Rect,
    view: &super::ProbeView,
    report: &ProbeReport,
    dir: Option<&DirProbe>,
    theme: &Theme,
) {
    let mut spans = Vec::new();
    for (i, k) in ViewKind::ALL.iter().enumerate() {
        let style = if *k == view.kind { theme.selected } else { theme.dim };
        spans.push(Span::styled(format!(" {} {} ", i + 1, k.name()), style));
    }
    let used = line(buf, area, 0, 0, &Line::from(spans));
    let info = match dir {
        Some(d) => {
            let dirn = match d.direction {
                crate::infer::probe::Direction::Fwd => "fwd",
                crate::infer::probe::Direction::Bwd => "bwd",
            };
            format!(
                "L{} {dirn} · T={} · step {}",
                d.layer,
                steps(report, Some(d)),
                report.step
            )
        }
        None => format!("step {}", report.step),
    };
    let iw = Span::raw(info.as_str()).width() as u16;
    if used + 1 + iw <= area.width {
        text(buf, area, area.width - iw, 0, &info, theme.dim);
    }
}

/// First index of the window of `window` items containing `i` among `n`, page by page.
pub(super) fn page(i: usize, window: usize, n: usize) -> usize {
    if window == 0 || n <= window {
        0
    } else {
        ((i / window) * window).min(n - window)
    }
}

/// A token as an axis label of one or two terminal cells: its first character made visible
/// ([`visible_token`]), a wide (CJK) character as it is in its two cells, `∅` for an empty
/// token, `?` for anything wider.
pub(super) fn token_axis(tok: &str) -> String {
    let Some(c) = tok.chars().next() else {
        return "∅".into();
    };
    let s = visible_token(c.encode_utf8(&mut [0; 4]));
    match Span::raw(s.as_str()).width() {
        1 | 2 => s,
        0 => "∅".into(),
        _ => "?".into(),
    }
}

/// A token in running text ([`visible_text`]: spaces stay spaces); `∅` when it would take no
/// room at all.
pub(super) fn token_text(tok: &str) -> String {
    let s = visible_text(tok).into_owned();
    if Span::raw(s.as_str()).width() == 0 {
        "∅".into()
    } else {
        s
    }
}

/// A token standing alone (a candidate in a list): [`visible_token`], `∅` when empty.
pub(super) fn token_label(tok: &str) -> String {
    let s = visible_token(tok);
    if Span::raw(s.as_str()).width() == 0 {
        "∅".into()
    } else {
        s
    }
}

/// A colour legend "−1 ▆▆▆▆ +1" (colour) or "−1  ░▒▓█ +1" (glyphs), `width` cells of ramp.
pub(super) fn legend(theme: &Theme, scale: Scale, width: usize) -> Line<'static> {
    let (lo, hi) = scale.ends();
    let mut spans = vec![Span::styled(format!("{lo} "), theme.dim)];
    let n = width.max(2);
    for i in 0..n {
        let x = i as f32 / (n - 1) as f32;
        let v = match scale {
            Scale::Diverging => x * 2.0 - 1.0,
            Scale::Sequential => x,
        };
        match theme.color(scale, v) {
            Some(c) => spans.push(Span::styled(" ", Style::new().bg(c))),
            None => spans.push(Span::raw(palette::glyph(scale, v).to_string())),
        }
    }
    spans.push(Span::styled(format!(" {hi}"), theme.dim));
    Line::from(spans)
}

/// Width of a line in cells.
pub(super) fn width(l: &Line<'_>) -> u16 {
    u16::try_from(l.width()).unwrap_or(u16::MAX)
}

/// A value with sign and three decimals, or "—" when missing.
pub(super) fn fmt_value(v: Option<f32>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:+.3}"))
}
