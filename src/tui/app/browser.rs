//! The experiment browser: the list of `experiments/*.toml` and its selection.

use std::path::PathBuf;

use crate::tui::action::BrowserAction;
use crate::tui::files::BrowserEntry;

use super::{App, Effect};

/// The browser's list.
#[derive(Clone, Debug, Default)]
pub struct BrowserState {
    /// One row per experiment file.
    pub entries: Vec<BrowserEntry>,
    /// Selected row.
    pub selected: usize,
    /// Whether the first scan has come back.
    pub scanned: bool,
}

impl BrowserState {
    /// The selected experiment file.
    pub fn selected_path(&self) -> Option<PathBuf> {
        self.entries.get(self.selected).map(|e| e.path.clone())
    }
}

/// The browser's actions.
pub(super) fn update(app: &mut App, action: BrowserAction) {
    let b = &mut app.browser;
    match action {
        BrowserAction::Up => b.selected = b.selected.saturating_sub(1),
        BrowserAction::Down => b.selected = (b.selected + 1).min(b.entries.len().saturating_sub(1)),
        BrowserAction::Open => {
            if let Some(path) = b.selected_path() {
                app.effect(Effect::LoadExperiment(path));
            }
        }
        BrowserAction::Scanned(entries) => {
            b.selected = b.selected.min(entries.len().saturating_sub(1));
            b.entries = entries;
            b.scanned = true;
        }
    }
}
