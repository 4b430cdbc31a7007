//! Placeholder for the probe views (hidden-state heatmaps, gates, gradient reach), written on
//! another branch with this same API; this file is replaced when the branches merge. It shows a
//! one-screen summary of the latest probe so the Probes pane is usable meanwhile.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::probe::ProbeReport;

/// State of the probe views (view, layer/direction, unit selection, cursor…).
#[derive(Clone, Debug, Default)]
pub struct ProbeView {
    no_color: bool,
}

impl ProbeView {
    /// A fresh view; `no_color` drops colours.
    pub fn new(no_color: bool) -> Self {
        ProbeView { no_color }
    }

    /// Returns true when the key was consumed.
    pub fn on_key(&mut self, _key: KeyEvent, _report: Option<&ProbeReport>) -> bool {
        false
    }

    /// (key, what it does) pairs for the help screen and footer.
    pub fn key_help() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// Draws the probe views.
pub struct ProbeWidget<'a> {
    /// View state.
    pub view: &'a ProbeView,
    /// The latest probe.
    pub report: Option<&'a ProbeReport>,
    /// A probe from another run to compare with.
    pub compare: Option<&'a ProbeReport>,
}

fn summary(r: &ProbeReport) -> Line<'static> {
    let layers = r.dirs.iter().map(|d| d.layer + 1).max().unwrap_or(0);
    Line::from(format!(
        "step {} · {} tokens · {} layer(s) · {} direction(s)",
        r.step,
        r.tokens.len(),
        layers,
        r.dirs.len()
    ))
}

impl Widget for ProbeWidget<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let bold = if self.view.no_color {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        };
        let mut lines = Vec::new();
        match self.report {
            None => lines.push(Line::from(
                "No probe yet: press p to probe the network (P to type a text).",
            )),
            Some(r) => {
                lines.push(Line::from(Span::styled("latest probe", bold)));
                lines.push(summary(r));
                lines.push(Line::from(format!("text: {}", r.tokens.concat())));
                let mean_entropy = if r.entropy.is_empty() {
                    0.0
                } else {
                    r.entropy.iter().sum::<f32>() / r.entropy.len() as f32
                };
                lines.push(Line::from(format!(
                    "mean next-token entropy: {mean_entropy:.3} nats"
                )));
            }
        }
        if let Some(c) = self.compare {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("compared with", bold)));
            lines.push(summary(c));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}
