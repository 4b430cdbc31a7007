//! What the probe pane's keys ask of the view.

use super::ViewKind;

/// What the probe pane's keys do (bound in the TUI's key table, `keys.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    /// Show this view (`1`–`5`).
    View(ViewKind),
    /// Next view.
    NextView,
    /// Previous view.
    PrevView,
    /// Previous unit in the sort order.
    PrevUnit,
    /// Next unit in the sort order.
    NextUnit,
    /// 16 units up.
    PageUp,
    /// 16 units down.
    PageDown,
    /// The first unit in the sort order.
    FirstUnit,
    /// Time cursor one step left.
    CursorLeft,
    /// Time cursor one step right.
    CursorRight,
    /// Time cursor to the first step.
    CursorHome,
    /// Time cursor to the last step.
    CursorEnd,
    /// The layer below.
    PrevLayer,
    /// The layer above.
    NextLayer,
    /// Forward ↔ backward direction (bidirectional layers).
    ToggleDirection,
    /// Next gate (text view: next colour source).
    NextGate,
    /// Previous gate (text view: previous colour source).
    PrevGate,
    /// Sort units: index → variance → correlation.
    NextSort,
    /// Next feature to correlate with (and sort by it).
    NextFeature,
    /// Colour mode: rgb → 16 colours → glyphs.
    NextPalette,
}
