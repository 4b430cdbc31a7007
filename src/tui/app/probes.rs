//! The probes pane: the latest probe report, the view's state, and another run's probe to
//! compare with.

use crate::infer::probe::ProbeReport;
use crate::tui::action::ProbeAction;
use crate::tui::probe_view::ProbeView;

use super::App;

/// The probes pane's state.
#[derive(Clone, Debug)]
pub struct ProbesState {
    /// The latest probe from the trainer (the newest replaces older ones).
    pub latest: Option<ProbeReport>,
    /// View state (view, layer, unit, cursor…).
    pub view: ProbeView,
    /// A probe from another run to compare with: (run name, report).
    pub compare: Option<(String, ProbeReport)>,
}

impl ProbesState {
    /// No probe yet; `no_color` starts the view in glyph mode.
    pub fn new(no_color: bool) -> Self {
        ProbesState {
            latest: None,
            view: ProbeView::new(no_color),
            compare: None,
        }
    }
}

/// The probe pane's keys act on the view, against the latest report.
pub(super) fn update(app: &mut App, action: ProbeAction) {
    let p = &mut app.probes;
    p.view.apply(action, p.latest.as_ref());
}
