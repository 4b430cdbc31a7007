//! The runs screen: sweeps (each a group of its points, best first, with their states) above
//! the run directories; their loss curves overlaid; the actions on the selected line (open,
//! compare its probe, continue training it) and on sweeps (start one here or on Slurm, stop
//! one). While a sweep is running the screen reads the sweep folders again every few seconds.

use std::path::PathBuf;

use crate::tui::action::RunsAction;
use crate::tui::files::RunEntry;
use crate::tui::sweeps::{self, SweepEntry};

use super::{App, Effect, Level, PromptKind, Screen};

/// Seconds between two reads of the sweep folders while a sweep is running.
pub const SWEEP_POLL_S: f64 = 2.0;
/// Seconds the screen keeps reading after starting a sweep, before its driver shows up.
const SWEEP_START_WATCH_S: f64 = 15.0;

/// A line of the runs list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A sweep's header (index into `sweeps`).
    Sweep(usize),
    /// A point of a sweep: (sweep, point in result order).
    Point(usize, usize),
    /// A run directory (index into `entries`).
    Run(usize),
}

/// The runs screen.
#[derive(Clone, Debug, Default)]
pub struct RunsState {
    /// Known run directories, newest first.
    pub entries: Vec<RunEntry>,
    /// Sweeps under `sweeps/`, most recently changed first.
    pub sweeps: Vec<SweepEntry>,
    /// Selected line of [`RunsState::items`].
    pub selected: usize,
    /// Whether the first scan came back.
    pub scanned: bool,
    /// Sweep folders started from this TUI (their points are overlaid).
    pub started: Vec<PathBuf>,
    /// `App::clock` of the next read of the sweep folders while one runs.
    pub next_sweep_scan: f64,
    /// Keep reading the sweep folders until this `App::clock` (a sweep just started).
    pub watch_until: f64,
}

impl RunsState {
    /// The lines of the list: each sweep's header and its points, then the run directories.
    pub fn items(&self) -> Vec<Item> {
        let mut v = Vec::new();
        for (i, s) in self.sweeps.iter().enumerate() {
            v.push(Item::Sweep(i));
            v.extend((0..s.points.len()).map(|j| Item::Point(i, j)));
        }
        v.extend((0..self.entries.len()).map(Item::Run));
        v
    }

    /// The selected line.
    pub fn selected_item(&self) -> Option<Item> {
        self.items().get(self.selected).copied()
    }

    /// The run directory of the selected line (a run, or a point that has one).
    fn selected_run(&self) -> Option<&RunEntry> {
        match self.selected_item()? {
            Item::Run(i) => self.entries.get(i),
            Item::Point(i, j) => self.sweeps.get(i)?.points.get(j)?.run.as_ref(),
            Item::Sweep(_) => None,
        }
    }

    /// The sweep of the selected line (its header or one of its points).
    fn selected_sweep(&self) -> Option<&SweepEntry> {
        match self.selected_item()? {
            Item::Sweep(i) | Item::Point(i, _) => self.sweeps.get(i),
            Item::Run(_) => None,
        }
    }

    /// Whether a sweep is running (or was just started here).
    pub fn sweep_active(&self, clock: f64) -> bool {
        clock < self.watch_until || self.sweeps.iter().any(|s| s.overview.active())
    }
}

/// The runs screen's actions.
pub(super) fn update(app: &mut App, action: RunsAction) {
    let r = &mut app.runs;
    match action {
        RunsAction::Up => r.selected = r.selected.saturating_sub(1),
        RunsAction::Down => r.selected = (r.selected + 1).min(r.items().len().saturating_sub(1)),
        RunsAction::ToggleOverlay => toggle_overlay(r),
        RunsAction::OpenPrompt => app.open_prompt(PromptKind::OpenRun, "runs/"),
        RunsAction::CompareProbe => {
            if let Some(e) = r.selected_run() {
                let path = e.dir.join("probe.json");
                app.effect(Effect::LoadCompareProbe(path));
            }
        }
        RunsAction::Resume => {
            if app.run.phase.active() {
                app.message(Level::Warn, "a run is active: stop it first (x on the training screen)");
            } else if let Some(e) = r.selected_run() {
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
            let i = match r.entries.iter().position(|e| e.dir == dir) {
                Some(i) => {
                    r.entries[i] = entry;
                    i
                }
                None => {
                    r.entries.insert(0, entry);
                    0
                }
            };
            r.selected = r.items().iter().position(|x| *x == Item::Run(i)).unwrap_or(0);
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
        RunsAction::SweepPrompt(slurm) => app.open_prompt(PromptKind::Sweep { slurm }, "experiments/sweeps/"),
        RunsAction::StopSweep => match r.selected_sweep() {
            Some(s) if s.overview.active() => {
                let root = s.root().to_path_buf();
                app.effect(Effect::StopSweep(root));
            }
            Some(s) => {
                let msg = format!("sweep {} is not running", s.name());
                app.message(Level::Warn, msg);
            }
            None => app.message(Level::Warn, "select a sweep (or one of its points) to stop it"),
        },
        RunsAction::SweepsScanned(new) => sweeps_scanned(app, new),
        RunsAction::SweepStarted(Ok((name, root, log))) => {
            r.started.push(root);
            r.watch_until = app.clock + SWEEP_START_WATCH_S;
            r.next_sweep_scan = app.clock + SWEEP_POLL_S;
            app.screen = Screen::Runs;
            app.effect(Effect::ScanSweeps);
            app.message(
                Level::Info,
                format!(
                    "sweep {name} started; it goes on if you quit (x stops it); log: {}",
                    log.display()
                ),
            );
        }
        RunsAction::SweepStarted(Err(e)) => app.error = Some(e),
        RunsAction::SweepStopped(Ok(what)) => {
            r.watch_until = app.clock + SWEEP_START_WATCH_S;
            app.message(Level::Info, what);
            app.effect(Effect::ScanSweeps);
        }
        RunsAction::SweepStopped(Err(e)) => app.error = Some(e),
    }
}

/// Space on a sweep's header overlays all its points (and the ones still to come), or none;
/// on a point or a run, just that one.
fn toggle_overlay(r: &mut RunsState) {
    match r.selected_item() {
        Some(Item::Sweep(i)) => {
            if let Some(s) = r.sweeps.get_mut(i) {
                s.overlay_all = !s.overlay_all;
                let on = s.overlay_all;
                for p in &mut s.points {
                    p.overlay = on;
                }
            }
        }
        Some(Item::Point(i, j)) => {
            if let Some(s) = r.sweeps.get_mut(i) {
                if let Some(p) = s.points.get_mut(j) {
                    p.overlay = !p.overlay;
                }
                if !s.points.iter().all(|p| p.overlay) {
                    s.overlay_all = false;
                }
            }
        }
        Some(Item::Run(i)) => {
            if let Some(e) = r.entries.get_mut(i) {
                e.overlay = !e.overlay;
            }
        }
        None => {}
    }
}

/// Open a run directory typed into the prompt.
pub(super) fn open(app: &mut App, dir: PathBuf) {
    app.effect(Effect::OpenRun(dir));
    app.screen = Screen::Runs;
}

/// Start the sweep file typed into the prompt (checked on the scanner thread first).
pub(super) fn start_sweep(app: &mut App, file: PathBuf, slurm: bool) {
    app.message(
        Level::Info,
        format!(
            "checking {} ({})…",
            file.display(),
            if slurm { "Slurm job array" } else { "here" }
        ),
    );
    app.effect(Effect::StartSweep { file, slurm });
}

/// Read the sweep folders again every [`SWEEP_POLL_S`] while a sweep runs and the runs screen
/// shows them.
pub(super) fn tick(app: &mut App) {
    let r = &mut app.runs;
    if app.screen == Screen::Runs && app.clock >= r.next_sweep_scan && r.sweep_active(app.clock) {
        r.next_sweep_scan = app.clock + SWEEP_POLL_S;
        app.effect(Effect::ScanSweeps);
    }
}

/// Keep the same line selected across a new list (same item, else clamp).
fn reselect(r: &mut RunsState, before: Option<(Option<PathBuf>, Option<String>)>) {
    let items = r.items();
    let found = before.and_then(|(dir, point)| {
        items.iter().position(|it| match (it, &dir, &point) {
            (Item::Sweep(i), Some(d), None) => r.sweeps.get(*i).is_some_and(|s| s.root() == d.as_path()),
            (Item::Point(i, j), Some(d), Some(id)) => r
                .sweeps
                .get(*i)
                .is_some_and(|s| s.root() == d.as_path() && s.points.get(*j).is_some_and(|p| &p.row.id == id)),
            (Item::Run(i), Some(d), None) => r.entries.get(*i).is_some_and(|e| &e.dir == d),
            _ => false,
        })
    });
    r.selected = found.unwrap_or(r.selected).min(items.len().saturating_sub(1));
}

/// What the selected line is, to find it again after a scan.
fn remember(r: &RunsState) -> Option<(Option<PathBuf>, Option<String>)> {
    Some(match r.selected_item()? {
        Item::Sweep(i) => (Some(r.sweeps.get(i)?.root().to_path_buf()), None),
        Item::Point(i, j) => {
            let s = r.sweeps.get(i)?;
            (Some(s.root().to_path_buf()), Some(s.points.get(j)?.row.id.clone()))
        }
        Item::Run(i) => (Some(r.entries.get(i)?.dir.clone()), None),
    })
}

/// A fresh list of runs; runs already marked for the overlay stay marked.
fn scanned(app: &mut App, entries: Vec<RunEntry>) {
    let r = &mut app.runs;
    let before = remember(r);
    let marked: Vec<PathBuf> = r.entries.iter().filter(|e| e.overlay).map(|e| e.dir.clone()).collect();
    r.entries = entries;
    for e in &mut r.entries {
        e.overlay |= marked.contains(&e.dir);
    }
    reselect(r, before);
    r.scanned = true;
}

/// A fresh read of the sweep folders; overlay marks and the selection carry over.
fn sweeps_scanned(app: &mut App, mut new: Vec<SweepEntry>) {
    let r = &mut app.runs;
    let before = remember(r);
    sweeps::keep_marks(&r.sweeps, &mut new, &r.started);
    r.sweeps = new;
    reselect(r, before);
}
