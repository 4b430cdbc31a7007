//! The probe views: what the network does inside, per time step, drawn from a
//! [`ProbeReport`].
//!
//! Five views, switched with `1`–`5` (or `v`/`V` to cycle):
//!
//! 1. **hidden** — heatmap of a⟨t⟩: time across (the probe's characters label the columns),
//!    units down, two units per row with `▀` (fg = upper unit, bg = lower unit), diverging
//!    scale on [−1, 1].
//! 2. **gates** — the same heatmap for one gate (`g` picks it) on a [0, 1] scale, or the LSTM
//!    cell c⟨t⟩ squashed through tanh.
//! 3. **saturation** — per gate, one point per unit: fraction of steps left-saturated (< 0.1)
//!    against right-saturated (> 0.9), as in Karpathy, Johnson & Fei-Fei 2015.
//! 4. **gradient** — ‖∂L/∂a⟨t⟩‖ against distance from the end on a log scale, with an optional
//!    second report overlaid.
//! 5. **text** — the probe text, each character's background coloured by the selected unit,
//!    with the model's top-5 guesses and entropy at the cursor.
//!
//! [`ProbeView`] holds the UI state and carries out [`ProbeAction`]s; [`ProbeWidget`] renders it. Rendering is
//! pure and never panics: every index into the report is checked, so ragged, empty or
//! non-finite reports and areas down to 1×1 draw something sensible.

mod action;
mod channel;
mod draw;
mod gradient;
mod heatmap;
mod palette;
mod saturation;
mod style;
mod text;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use crate::infer::probe::{DirProbe, Direction, ProbeReport};

pub use crate::infer::analysis::{
    correlation, order, saturation, variance, Feature, Saturation, SortMode, LEFT_SATURATED, RIGHT_SATURATED,
};
pub use crate::infer::analysis::{decay_per_step, describe};
pub use action::ProbeAction;
pub use palette::{Palette, Scale, RAMP};

use channel::{gate_sources, gate_title, pick, text_sources, Channel, Source};
use style::Theme;

/// Public access to the colour scales (for tests and the help screen).
pub mod scale {
    pub use super::palette::{ansi16, color, glyph, readable_on, rgb, squash};
}

/// Which of the five views is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewKind {
    /// Hidden-state heatmap.
    Hidden,
    /// Gate (or LSTM cell) heatmap.
    Gates,
    /// Gate saturation scatter.
    Saturation,
    /// Gradient norm against distance from the end.
    Gradient,
    /// Activation-coloured text.
    Text,
}

impl ViewKind {
    /// All views, in key order `1`–`5`.
    pub const ALL: [ViewKind; 5] = [
        ViewKind::Hidden,
        ViewKind::Gates,
        ViewKind::Saturation,
        ViewKind::Gradient,
        ViewKind::Text,
    ];

    /// Name on the tab bar.
    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Hidden => "hidden",
            ViewKind::Gates => "gates",
            ViewKind::Saturation => "saturation",
            ViewKind::Gradient => "gradient",
            ViewKind::Text => "text",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }

    fn cycle(self, forward: bool) -> Self {
        let n = Self::ALL.len();
        let i = if forward {
            (self.index() + 1) % n
        } else {
            (self.index() + n - 1) % n
        };
        Self::ALL.get(i).copied().unwrap_or(ViewKind::Hidden)
    }
}

/// How many units PageUp/PageDown move the selection.
const UNIT_PAGE: usize = 16;

/// State of the probe views: which view, layer and direction, selected unit, time cursor,
/// sort order, gate, colour mode. Owned by the host's `App`; changed only by [`Self::apply`]
/// and the setters.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeView {
    kind: ViewKind,
    layer: usize,
    direction: Direction,
    /// Selected unit (an index into H, not a display rank).
    unit: usize,
    /// Time-step cursor, 0-based.
    cursor: usize,
    sort: SortMode,
    feature: Feature,
    /// Gates view: index into the gate channels (gates…, then the LSTM cell).
    gate: usize,
    /// Text view: index into hidden, gates…, cell.
    text_source: usize,
    palette: Palette,
    label: Option<String>,
    compare_label: Option<String>,
}

impl ProbeView {
    /// A fresh view on the hidden-state heatmap, layer 0 forward, unit 0. `no_color` (the
    /// NO_COLOR convention) switches to the glyph ramp; otherwise 24-bit colour (`m` cycles to
    /// 16 colours; see [`Self::with_palette`] to start in another mode).
    pub fn new(no_color: bool) -> Self {
        Self::with_palette(if no_color { Palette::Glyph } else { Palette::Rgb })
    }

    /// A fresh view with an explicit colour mode.
    pub fn with_palette(palette: Palette) -> Self {
        Self {
            kind: ViewKind::Hidden,
            layer: 0,
            direction: Direction::Fwd,
            unit: 0,
            cursor: 0,
            sort: SortMode::Index,
            feature: Feature::LinePosition,
            gate: 0,
            text_source: 0,
            palette,
            label: None,
            compare_label: None,
        }
    }

    /// Legend labels for the gradient view; `None` derives one from the report
    /// ("lstm 1×64", see [`describe`]).
    pub fn set_labels(&mut self, current: Option<String>, compare: Option<String>) {
        self.label = current;
        self.compare_label = compare;
    }

    /// Show this view.
    pub fn set_view(&mut self, kind: ViewKind) {
        self.kind = kind;
    }

    /// The view shown.
    pub fn view(&self) -> ViewKind {
        self.kind
    }
    /// Selected layer (0 = nearest the input).
    pub fn layer(&self) -> usize {
        self.layer
    }
    /// Selected direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }
    /// Selected unit index.
    pub fn unit(&self) -> usize {
        self.unit
    }
    /// Time-step cursor (0-based).
    pub fn cursor(&self) -> usize {
        self.cursor
    }
    /// Unit order.
    pub fn sort(&self) -> SortMode {
        self.sort
    }
    /// Feature used by [`SortMode::Correlation`].
    pub fn feature(&self) -> Feature {
        self.feature
    }
    /// Colour mode.
    pub fn palette(&self) -> Palette {
        self.palette
    }

    /// Selected gate (gates and saturation views) as an index into the layer's gate
    /// channels, before wrapping to the layer's count.
    pub fn gate(&self) -> usize {
        self.gate
    }

    /// Carry out one probe-pane action against the shown report (`None` before the first
    /// probe: moves that need the report's shape do nothing).
    pub fn apply(&mut self, action: ProbeAction, report: Option<&ProbeReport>) {
        use ProbeAction as P;
        match action {
            P::View(kind) => self.kind = kind,
            P::NextView => self.kind = self.kind.cycle(true),
            P::PrevView => self.kind = self.kind.cycle(false),
            P::PrevUnit => self.move_unit(report, -1),
            P::NextUnit => self.move_unit(report, 1),
            P::PageUp => self.move_unit(report, -(UNIT_PAGE as isize)),
            P::PageDown => self.move_unit(report, UNIT_PAGE as isize),
            P::FirstUnit => self.move_unit(report, isize::MIN),
            P::CursorLeft => self.move_cursor(report, -1),
            P::CursorRight => self.move_cursor(report, 1),
            P::CursorHome => self.cursor = 0,
            P::CursorEnd => self.move_cursor(report, isize::MAX),
            P::PrevLayer => self.move_layer(report, false),
            P::NextLayer => self.move_layer(report, true),
            P::ToggleDirection => self.toggle_direction(report),
            P::NextGate => self.cycle_gate(report, true),
            P::PrevGate => self.cycle_gate(report, false),
            P::NextSort => self.sort = self.sort.next(),
            P::NextFeature => {
                self.feature = self.feature.next();
                self.sort = SortMode::Correlation;
            }
            P::NextPalette => self.palette = self.palette.next(),
        }
    }

    /// The layer and direction shown: the selected one, else the selected layer's first
    /// direction, else the first recorded.
    fn resolve<'r>(&self, report: &'r ProbeReport) -> Option<&'r DirProbe> {
        report
            .dirs
            .iter()
            .find(|d| d.layer == self.layer && d.direction == self.direction)
            .or_else(|| report.dirs.iter().find(|d| d.layer == self.layer))
            .or_else(|| report.dirs.first())
    }

    /// The matrix the current view colours (and sorts units by).
    fn active<'r>(&self, dir: &'r DirProbe) -> Option<Channel<'r>> {
        match self.kind {
            ViewKind::Hidden | ViewKind::Gradient => Channel::of(dir, Source::Hidden),
            ViewKind::Gates => pick(&gate_sources(dir), self.gate).and_then(|s| Channel::of(dir, s)),
            ViewKind::Saturation => {
                let n = dir.gates.len();
                if n == 0 {
                    None
                } else {
                    Channel::of(dir, Source::Gate(self.gate % n))
                }
            }
            ViewKind::Text => pick(&text_sources(dir), self.text_source).and_then(|s| Channel::of(dir, s)),
        }
    }

    /// Units in display order for the active matrix.
    fn unit_order(&self, report: &ProbeReport, dir: &DirProbe) -> Vec<usize> {
        match self.active(dir) {
            Some(ch) => order(ch.values, self.sort, self.feature, &report.tokens),
            None => (0..crate::infer::analysis::width(&dir.hidden)).collect(),
        }
    }

    fn move_unit(&mut self, report: Option<&ProbeReport>, delta: isize) {
        let Some((report, dir)) = report.and_then(|r| Some((r, self.resolve(r)?))) else {
            return;
        };
        let ord = self.unit_order(report, dir);
        let Some(last) = ord.len().checked_sub(1) else {
            return;
        };
        let rank = ord.iter().position(|&u| u == self.unit).unwrap_or(0);
        let new = if delta < 0 {
            rank.saturating_sub(delta.unsigned_abs())
        } else {
            rank.saturating_add(delta.unsigned_abs()).min(last)
        };
        self.unit = ord.get(new).copied().unwrap_or(0);
    }

    fn move_cursor(&mut self, report: Option<&ProbeReport>, delta: isize) {
        let steps = report.map_or(usize::MAX, |r| steps(r, self.resolve(r)));
        let last = steps.saturating_sub(1);
        self.cursor = if delta < 0 {
            self.cursor.saturating_sub(delta.unsigned_abs())
        } else {
            self.cursor.saturating_add(delta.unsigned_abs())
        }
        .min(last);
    }

    fn move_layer(&mut self, report: Option<&ProbeReport>, up: bool) {
        let Some(report) = report else { return };
        let mut layers: Vec<usize> = report.dirs.iter().map(|d| d.layer).collect();
        layers.sort_unstable();
        layers.dedup();
        let next = if up {
            layers.iter().find(|&&l| l > self.layer).or(layers.last())
        } else {
            layers.iter().rev().find(|&&l| l < self.layer).or(layers.first())
        };
        if let Some(&l) = next {
            self.layer = l;
        }
    }

    fn toggle_direction(&mut self, report: Option<&ProbeReport>) {
        let other = match self.direction {
            Direction::Fwd => Direction::Bwd,
            Direction::Bwd => Direction::Fwd,
        };
        let exists = report.is_none_or(|r| r.dirs.iter().any(|d| d.layer == self.layer && d.direction == other));
        if exists {
            self.direction = other;
        }
    }

    fn cycle_gate(&mut self, report: Option<&ProbeReport>, forward: bool) {
        let dir = report.and_then(|r| self.resolve(r));
        let (slot, n) = match self.kind {
            ViewKind::Text => (&mut self.text_source, dir.map_or(1, |d| text_sources(d).len())),
            ViewKind::Saturation => (&mut self.gate, dir.map_or(1, |d| d.gates.len())),
            _ => (&mut self.gate, dir.map_or(1, |d| gate_sources(d).len())),
        };
        let n = n.max(1);
        let cur = *slot % n;
        *slot = if forward { (cur + 1) % n } else { (cur + n - 1) % n };
    }

    fn theme(&self) -> Theme {
        Theme::new(self.palette)
    }
}

/// Number of time steps of a probe: the longest of tokens and the shown layer's hidden rows.
fn steps(report: &ProbeReport, dir: Option<&DirProbe>) -> usize {
    report.tokens.len().max(dir.map_or(0, |d| d.hidden.len()))
}

/// Renders a [`ProbeView`] over the latest report (and, in the gradient view, a second report
/// to compare with).
pub struct ProbeWidget<'a> {
    /// View state.
    pub view: &'a ProbeView,
    /// The latest probe; `None` before the first arrives.
    pub report: Option<&'a ProbeReport>,
    /// Another run's probe, overlaid in the gradient view.
    pub compare: Option<&'a ProbeReport>,
}

impl Widget for ProbeWidget<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let view = self.view;
        let theme = view.theme();
        let Some(report) = self.report else {
            draw::message(buf, area, "no probe yet — press p to probe now", theme.note);
            return;
        };
        let dir = view.resolve(report);
        let body = if area.height > 1 {
            draw::tab_bar(buf, area, view, report, dir, &theme);
            Rect {
                y: area.y + 1,
                height: area.height - 1,
                ..area
            }
        } else {
            area
        };
        let Some(dir) = dir else {
            draw::message(buf, body, "this probe recorded no layers", theme.note);
            return;
        };
        if steps(report, Some(dir)) == 0 {
            draw::message(buf, body, "the probe text is empty — nothing to show", theme.note);
            return;
        }
        let ctx = Ctx {
            view,
            report,
            dir,
            theme,
        };
        match view.kind {
            ViewKind::Hidden | ViewKind::Gates => match view.active(dir) {
                Some(ch) => heatmap::render(&ctx, &ch, body, buf),
                None => draw::message(
                    buf,
                    body,
                    "a vanilla RNN has no gates — press 1 for the hidden state",
                    theme.note,
                ),
            },
            ViewKind::Saturation => saturation::render(&ctx, body, buf),
            ViewKind::Gradient => gradient::render(&ctx, self.compare, body, buf),
            ViewKind::Text => match view.active(dir) {
                Some(ch) => text::render(&ctx, &ch, body, buf),
                None => draw::message(buf, body, "nothing to colour the text with", theme.note),
            },
        }
    }
}

/// What every view's renderer needs.
struct Ctx<'a> {
    view: &'a ProbeView,
    report: &'a ProbeReport,
    dir: &'a DirProbe,
    theme: Theme,
}

impl Ctx<'_> {
    /// The unit shown as selected: the chosen one if it exists in this layer, else the first
    /// in display order.
    fn unit(&self, ord: &[usize]) -> usize {
        if ord.contains(&self.view.unit) {
            self.view.unit
        } else {
            ord.first().copied().unwrap_or(0)
        }
    }

    /// Unit order for the active matrix.
    fn order(&self) -> Vec<usize> {
        self.view.unit_order(self.report, self.dir)
    }

    /// Cursor clamped to the probe.
    fn cursor(&self) -> usize {
        self.view
            .cursor
            .min(steps(self.report, Some(self.dir)).saturating_sub(1))
    }

    /// "layer 0 fwd" (with the layer count when deeper than one).
    fn layer_name(&self) -> String {
        let layers = {
            let mut l: Vec<usize> = self.report.dirs.iter().map(|d| d.layer).collect();
            l.sort_unstable();
            l.dedup();
            l.len()
        };
        let dir = match self.dir.direction {
            Direction::Fwd => "fwd",
            Direction::Bwd => "bwd",
        };
        if layers > 1 {
            format!("layer {}/{} {dir}", self.dir.layer, layers)
        } else {
            format!("layer {} {dir}", self.dir.layer)
        }
    }

    /// Token `t` as an axis label of one or two cells ([`draw::token_axis`]).
    fn token_axis(&self, t: usize) -> String {
        draw::token_axis(self.report.tokens.get(t).map_or("", String::as_str))
    }

    /// Token `t` whole, made visible, for readouts.
    fn token_label(&self, t: usize) -> String {
        draw::token_label(self.report.tokens.get(t).map_or("", String::as_str))
    }

    /// A short description of the sort order for titles.
    fn sort_name(&self) -> String {
        match self.view.sort {
            SortMode::Index => "by index".into(),
            SortMode::Variance => "by variance".into(),
            SortMode::Correlation => format!("by |r| with {}", self.view.feature.name()),
        }
    }

    /// Correlation of unit `u` of `ch` with the chosen feature.
    fn unit_r(&self, ch: &Channel<'_>, u: usize) -> Option<f32> {
        let f = self.view.feature.values(&self.report.tokens);
        let sub: Vec<Vec<f32>> = ch
            .values
            .iter()
            .map(|row| vec![row.get(u).copied().unwrap_or(f32::NAN)])
            .collect();
        correlation(&sub, &f).first().copied()
    }
}
