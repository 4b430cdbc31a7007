//! Sweeps on the runs screen: each `sweeps/<name>/` folder as a group of its points, sorted by
//! result (best validation loss first, as the results table), each point with its loss curves
//! and its state (finished, running, or its Slurm state while its job is queued). Read on the
//! scanner thread from the sweep folders (`sweep::overview`).

use std::path::{Path, PathBuf};

use crate::sweep::overview::{self, Overview};
use crate::sweep::Row;

use super::files::{self, RunEntry};

/// One sweep and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepEntry {
    /// The sweep folder as read: manifest, rows sorted by result, driver, Slurm job.
    pub overview: Overview,
    /// Its points, in the order of `overview.rows` (best first).
    pub points: Vec<SweepPoint>,
    /// Every point overlaid on the chart, including points that appear later.
    pub overlay_all: bool,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// Its row of the results table.
    pub row: Row,
    /// Its newest run directory's loss curves, once it has metrics.
    pub run: Option<RunEntry>,
    /// Drawn in the overlay chart.
    pub overlay: bool,
}

impl SweepEntry {
    /// The sweep folder.
    pub fn root(&self) -> &Path {
        &self.overview.dir.root
    }

    /// The sweep's name.
    pub fn name(&self) -> &str {
        &self.overview.manifest.name
    }

    /// `12 points: 7 finished, 2 running, 3 queued`: the counts that are not zero (short enough
    /// for the runs list at 120 columns).
    pub fn summary(&self) -> String {
        let mut parts = vec![];
        for s in ["finished", "diverged", "running", "queued", "interrupted", "failed"] {
            let n = self.overview.count(s);
            if n > 0 {
                parts.push(format!("{n} {s}"));
            }
        }
        let n = self.points.len();
        if parts.is_empty() {
            format!("{n} points")
        } else {
            format!("{n} points: {}", parts.join(", "))
        }
    }

    /// What is driving it now: `running here (pid 4242)`, `Slurm job 17`, or nothing.
    pub fn activity(&self) -> Option<String> {
        match (&self.overview.job, self.overview.driver) {
            (Some((job, _)), _) => Some(format!("Slurm job {job}")),
            (None, Some(pid)) => Some(format!("running (pid {pid})")),
            (None, None) => None,
        }
    }
}

/// Every sweep under `sweeps` (most recently changed first), with its points' curves.
pub fn scan_sweeps(sweeps: &Path) -> Vec<SweepEntry> {
    overview::scan(sweeps).into_iter().map(SweepEntry::new).collect()
}

impl SweepEntry {
    /// A sweep as read, each point's loss curves loaded from its newest run directory.
    pub fn new(overview: Overview) -> SweepEntry {
        let points = overview
            .rows
            .iter()
            .map(|row| SweepPoint {
                run: row.run_dir.as_deref().and_then(|d| files::load_run(d).ok()),
                row: row.clone(),
                overlay: false,
            })
            .collect();
        SweepEntry {
            overview,
            points,
            overlay_all: false,
        }
    }
}

/// Overlay marks of the old scan carried into a new one: a sweep's `overlay_all`, each point's
/// own mark (points are known by their id, as their run directory changes when they resume);
/// a sweep in `started` (begun from this TUI) is overlaid whole when it first appears.
pub fn keep_marks(old: &[SweepEntry], new: &mut [SweepEntry], started: &[PathBuf]) {
    for s in new.iter_mut() {
        let before = old.iter().find(|o| o.root() == s.root());
        // A sweep started here is overlaid when it first shows up; later the user decides.
        s.overlay_all = match before {
            Some(o) => o.overlay_all,
            None => started.iter().any(|p| p == s.root()),
        };
        for p in &mut s.points {
            p.overlay =
                s.overlay_all || before.is_some_and(|o| o.points.iter().any(|q| q.row.id == p.row.id && q.overlay));
        }
    }
}
