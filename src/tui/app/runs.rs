//! The runs screen: run directories, their loss curves overlaid, and the actions on the
//! selected run (open, compare its probe, continue training it).

use std::path::PathBuf;

use crate::tui::action::RunsAction;
use crate::tui::files::RunEntry;

use super::{App, Effect, Level, PromptKind, Screen};

/// The runs screen.
#[derive(Clone, Debug, Default)]
pub struct RunsState {
    /// Known run directories, newest first.
    pub entries: Vec<RunEntry>,
    /// Selected row.
    pub selected: usize,
    /// Whether the first scan came back.
    pub scanned: bool,
}

impl RunsState {
    fn selected(&self) -> Option<&RunEntry> {
        self.entries.get(self.selected)
    }
}

/// The runs screen's actions.
pub(super) fn update(app: &mut App, action: RunsAction) {
    let r = &mut app.runs;
    match action {
        RunsAction::Up => r.selected = r.selected.saturating_sub(1),
        RunsAction::Down => r.selected = (r.selected + 1).min(r.entries.len().saturating_sub(1)),
        RunsAction::ToggleOverlay => {
            if let Some(e) = r.entries.get_mut(r.selected) {
                e.overlay = !e.overlay;
            }
        }
        RunsAction::OpenPrompt => app.open_prompt(PromptKind::OpenRun, "runs/"),
        RunsAction::CompareProbe => {
            if let Some(e) = r.selected() {
                let path = e.dir.join("probe.json");
                app.effect(Effect::LoadCompareProbe(path));
            }
        }
        RunsAction::Resume => {
            if app.run.phase.active() {
                app.message(Level::Warn, "a run is active: stop it first (x on the training screen)");
            } else if let Some(e) = r.selected() {
                let dir = e.dir.clone();
                app.effect(Effect::ResumeRun(dir));
            }
        }
        RunsAction::Back => {
            app.screen = if app.experiment.is_some() {
                Screen::Train
            } else {
                Screen::Browser
            };
        }
        RunsAction::Scanned(entries) => scanned(app, entries),
        RunsAction::Opened(Ok(entry)) => {
            let mut entry = *entry;
            entry.overlay = true;
            let dir = entry.dir.clone();
            if let Some(i) = r.entries.iter().position(|e| e.dir == dir) {
                r.entries[i] = entry;
                r.selected = i;
            } else {
                r.entries.insert(0, entry);
                r.selected = 0;
            }
            app.message(Level::Info, format!("opened {}", dir.display()));
        }
        RunsAction::Opened(Err(e)) | RunsAction::CompareLoaded(Err(e)) => app.error = Some(e),
        RunsAction::CompareLoaded(Ok((name, report))) => {
            app.message(
                Level::Info,
                format!("comparing probes with {name} (Tab to the Probes pane)"),
            );
            app.probes.compare = Some((name, *report));
        }
    }
}

/// Open a run directory typed into the prompt.
pub(super) fn open(app: &mut App, dir: PathBuf) {
    app.effect(Effect::OpenRun(dir));
    app.screen = Screen::Runs;
}

/// A fresh list of runs; runs already marked for the overlay stay marked.
fn scanned(app: &mut App, entries: Vec<RunEntry>) {
    let r = &mut app.runs;
    let marked: Vec<PathBuf> = r.entries.iter().filter(|e| e.overlay).map(|e| e.dir.clone()).collect();
    r.entries = entries;
    for e in &mut r.entries {
        e.overlay |= marked.contains(&e.dir);
    }
    r.selected = r.selected.min(r.entries.len().saturating_sub(1));
    r.scanned = true;
}
