//! Every style the TUI uses, in one place. With `NO_COLOR` set, colours are dropped and only
//! modifiers (bold, dim, reversed) remain, so the screen still reads.

use ratatui::style::{Color, Modifier, Style};

/// All styles.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    /// Colours are off (NO_COLOR).
    pub no_color: bool,
    /// Plain text.
    pub text: Style,
    /// Secondary text (units, hints, timestamps).
    pub dim: Style,
    /// Title bar.
    pub title: Style,
    /// Active tab in the title bar.
    pub tab_active: Style,
    /// Border of an unfocused pane.
    pub border: Style,
    /// Border of the focused pane.
    pub border_focus: Style,
    /// A key name in the footer and help.
    pub key: Style,
    /// Raw training loss (faint, behind the smoothed curve).
    pub loss_raw: Style,
    /// Smoothed training loss.
    pub loss_smooth: Style,
    /// Validation loss.
    pub loss_val: Style,
    /// Axis labels.
    pub axis: Style,
    /// Colours of overlaid runs.
    pub runs: [Style; 6],
    /// Selected row.
    pub selected: Style,
    /// Status labels ("step", "lr"…).
    pub label: Style,
    /// Status values.
    pub value: Style,
    /// "RUNNING" badge.
    pub running: Style,
    /// "PAUSED" badge.
    pub paused: Style,
    /// "READY" / "FINISHED" badge.
    pub idle: Style,
    /// Errors.
    pub error: Style,
    /// Warnings.
    pub warn: Style,
    /// Generated sample text.
    pub sample: Style,
    /// The prime text before a sample.
    pub prime: Style,
}

impl Theme {
    /// The theme; `no_color` keeps only modifiers.
    pub fn new(no_color: bool) -> Self {
        let c = |color: Color| {
            if no_color {
                Style::new()
            } else {
                Style::new().fg(color)
            }
        };
        let bold = Modifier::BOLD;
        let runs = [
            c(Color::Cyan),
            c(Color::Magenta),
            c(Color::Green),
            c(Color::Yellow),
            c(Color::Blue),
            c(Color::Red),
        ];
        Theme {
            no_color,
            text: Style::new(),
            dim: Style::new().add_modifier(Modifier::DIM),
            title: c(Color::Cyan).add_modifier(bold),
            tab_active: if no_color {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new().fg(Color::Black).bg(Color::Cyan)
            },
            border: c(Color::DarkGray),
            border_focus: c(Color::Cyan).add_modifier(bold),
            key: c(Color::Yellow).add_modifier(bold),
            loss_raw: c(Color::DarkGray),
            loss_smooth: c(Color::Cyan).add_modifier(bold),
            loss_val: c(Color::Magenta).add_modifier(bold),
            axis: c(Color::Gray),
            runs,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            label: Style::new().add_modifier(Modifier::DIM),
            value: Style::new().add_modifier(bold),
            running: c(Color::Green).add_modifier(bold),
            paused: c(Color::Yellow).add_modifier(bold),
            idle: c(Color::Blue).add_modifier(bold),
            error: c(Color::Red).add_modifier(bold),
            warn: c(Color::Yellow),
            sample: c(Color::White),
            prime: c(Color::Cyan).add_modifier(Modifier::ITALIC),
        }
    }

    /// Colour of the i-th overlaid run.
    pub fn run(&self, i: usize) -> Style {
        self.runs[i % self.runs.len()]
    }
}
