//! The sampling pane: settings (temperature, top-k, prime), the latest samples, and the samples
//! taken right after the last few checkpoints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::data::token::visible_text;
use crate::train::protocol::SampleEvent;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// The sampling pane.
pub struct Samples<'a> {
    /// State to show.
    pub app: &'a App,
    /// Surrounding block.
    pub block: Block<'a>,
}

/// "all" for 0, else the number.
pub fn top_k_text(k: usize) -> String {
    if k == 0 {
        "all".into()
    } else {
        k.to_string()
    }
}

/// "0.80", or "0 (greedy)".
pub fn temperature_text(t: f64) -> String {
    if t <= 0.0 {
        "0 (greedy)".into()
    } else {
        format!("{t:.2}")
    }
}

fn sample_lines<'a>(s: &'a SampleEvent, theme: &Theme, out: &mut Vec<Line<'a>>) {
    out.push(Line::from(Span::styled(
        format!(
            "step {} · T {} · top-k {}",
            s.step,
            temperature_text(s.request.temperature),
            top_k_text(s.request.top_k)
        ),
        theme.dim,
    )));
    // Line breaks stay line breaks; tabs and other control characters show as their glyphs.
    let mut first = true;
    for text_line in s.text.split('\n') {
        let mut spans = Vec::new();
        if first && !s.request.prime.is_empty() {
            spans.push(Span::styled(visible_text(&s.request.prime), theme.prime));
        }
        first = false;
        spans.push(Span::styled(visible_text(text_line), theme.sample));
        out.push(Line::from(spans));
    }
}

impl Widget for Samples<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let t = &app.theme;
        let sm = &app.sampling;
        let mut lines = vec![Line::from(vec![
            Span::styled("T ", t.label),
            Span::styled(temperature_text(sm.temperature()), t.value),
            Span::styled("  top-k ", t.label),
            Span::styled(top_k_text(sm.top_k), t.value),
            Span::styled("  prime ", t.label),
            Span::styled(format!("\"{}\"", visible_text(&sm.prime)), t.prime),
        ])];
        if sm.samples.is_empty() {
            lines.push(Line::from(Span::styled(
                "No sample yet: they arrive every few hundred steps; g samples now.",
                t.dim,
            )));
        }
        for s in &sm.samples {
            lines.push(Line::from(""));
            sample_lines(s, t, &mut lines);
        }
        if !sm.checkpoints.is_empty() {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("── after each checkpoint ──", t.label)));
            for c in &sm.checkpoints {
                let best = if c.best { " (best)" } else { "" };
                match &c.sample {
                    Some(s) => {
                        lines.push(Line::from(Span::styled(
                            format!("checkpoint {}{best}", c.step),
                            t.value,
                        )));
                        sample_lines(s, t, &mut lines);
                    }
                    None => lines.push(Line::from(Span::styled(
                        format!("checkpoint {}{best}: no sample at this step", c.step),
                        t.dim,
                    ))),
                }
            }
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((sm.scroll, 0))
            .block(self.block)
            .render(area, buf);
    }
}
