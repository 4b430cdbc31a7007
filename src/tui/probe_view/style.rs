//! Every style the probe views use, per colour mode.

use ratatui::style::{Color, Modifier, Style};

use super::palette::{self, Palette, Scale};

/// Every style the probe views use, per colour mode.
#[derive(Clone, Copy, Debug)]
pub(super) struct Theme {
    /// The colour mode.
    pub(super) palette: Palette,
    /// Titles.
    pub(super) title: Style,
    /// Secondary text.
    pub(super) dim: Style,
    /// Selected unit, cursor, current tab.
    pub(super) selected: Style,
    /// The current model's series.
    pub(super) series: Style,
    /// The compared model's series.
    pub(super) compare: Style,
    /// Warnings and "no data" messages.
    pub(super) note: Style,
}

impl Theme {
    /// The styles of a colour mode.
    pub(super) fn new(palette: Palette) -> Self {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match palette {
            Palette::Glyph => Self {
                palette,
                title: bold,
                dim: Style::new().add_modifier(Modifier::DIM),
                selected: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                series: Style::new(),
                compare: Style::new(),
                note: Style::new().add_modifier(Modifier::ITALIC),
            },
            Palette::Rgb | Palette::Ansi16 => Self {
                palette,
                title: bold.fg(Color::Cyan),
                dim: Style::new().fg(Color::DarkGray),
                selected: Style::new()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                series: Style::new().fg(Color::Yellow),
                compare: Style::new().fg(Color::Magenta),
                note: Style::new().fg(Color::Yellow),
            },
        }
    }

    /// The colour of a value, `None` in glyph mode.
    pub(super) fn color(&self, scale: Scale, v: f32) -> Option<Color> {
        palette::color(self.palette, scale, v)
    }
}
