//! A sweep made ready to run: the file checked, every point expanded, written out as an
//! experiment and checked — all before anything starts — then laid out in its folder, where an
//! earlier run of the same sweep is picked up (finished points are kept).

use std::path::Path;

use super::layout::{Manifest, ManifestPoint, SweepDir};
use super::points::{self, Point};
use super::spec::{self, SweepSpec};
use super::SweepError;

/// A checked sweep and where it lives.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The sweep file.
    pub spec: SweepSpec,
    /// Every point, in order.
    pub points: Vec<Point>,
    /// Each point's experiment file text.
    pub texts: Vec<String>,
    /// `sweeps/<name>/`.
    pub dir: SweepDir,
    /// What `sweep.json` holds.
    pub manifest: Manifest,
}

impl Plan {
    /// Read the sweep file, expand and check every point; nothing is written.
    ///
    /// # Errors
    /// [`SweepError`] located in the sweep file (or in the base experiment for its own errors).
    pub fn new(sweep_file: &Path, out: &Path) -> Result<Plan, SweepError> {
        let spec = spec::load(sweep_file)?;
        let base = points::base_document(&spec)?;
        let points = points::expand(&spec);
        let dir = SweepDir::new(out, &spec.name);
        let mut texts = Vec::with_capacity(points.len());
        for p in &points {
            let text = points::experiment_text(&spec, &base, p)?;
            points::check(&spec, p, &text, &dir.point_file(&p.id))?;
            texts.push(text);
        }
        let abs = |p: &Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let manifest = Manifest {
            name: spec.name.clone(),
            sweep_file: abs(&spec.path),
            base: abs(&spec.base),
            axes: spec.axes.iter().map(|a| a.key.clone()).collect(),
            points: points
                .iter()
                .map(|p| ManifestPoint {
                    id: p.id.clone(),
                    values: p
                        .values
                        .iter()
                        .map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
                        .collect(),
                })
                .collect(),
        };
        Ok(Plan {
            spec,
            points,
            texts,
            dir,
            manifest,
        })
    }

    /// Indices of the points not done (no status, or not finished/diverged).
    pub fn pending(&self) -> Vec<usize> {
        self.points
            .iter()
            .filter(|p| !self.dir.read_status(&p.id).is_some_and(|s| s.state.is_final()))
            .map(|p| p.index)
            .collect()
    }

    /// Create the folder and write the point files, the manifest and a copy of the sweep file.
    /// A point that has started keeps its file, which must say the same as now.
    ///
    /// # Errors
    /// [`SweepError::Input`] when the folder holds a different sweep whose points have run;
    /// [`SweepError::System`] when files cannot be written.
    pub fn write(&self) -> Result<(), SweepError> {
        self.check_existing()?;
        self.dir.create()?;
        for (p, text) in self.points.iter().zip(&self.texts) {
            let file = self.dir.point_file(&p.id);
            if self.started(&p.id) && file.exists() {
                continue; // the same settings (checked above): keep the file it ran from
            }
            super::layout::write_atomic(&file, text.as_bytes()).map_err(|e| SweepError::io(&file, &e))?;
        }
        self.dir.write_manifest(&self.manifest)?;
        let copy = self.dir.root.join("sweep.toml");
        super::layout::write_atomic(&copy, self.spec.text.as_bytes()).map_err(|e| SweepError::io(&copy, &e))
    }

    fn started(&self, id: &str) -> bool {
        self.dir.status_path(id).exists() || self.dir.runs(id).exists()
    }

    /// Points that have run must have the settings the sweep file gives them now.
    ///
    /// # Errors
    /// [`SweepError::Input`] naming the first point that differs.
    pub fn check_existing(&self) -> Result<(), SweepError> {
        for (p, text) in self.points.iter().zip(&self.texts) {
            if !self.started(&p.id) {
                continue;
            }
            let Ok(old) = std::fs::read_to_string(self.dir.point_file(&p.id)) else {
                continue;
            };
            let diff = match (old.parse::<toml::Table>(), text.parse::<toml::Table>()) {
                (Ok(a), Ok(b)) => first_difference(&a, &b),
                _ => Some("its experiment file".to_string()),
            };
            if let Some(diff) = diff {
                return Err(SweepError::Input(format!(
                    "{}: point {} has run with {diff}; give the sweep a new [sweep] name, or remove {} to start over",
                    self.dir.root.display(),
                    p.id,
                    self.dir.root.display()
                )));
            }
        }
        Ok(())
    }

    /// `model.hidden = 128, training.lr = 0.001` for a point.
    pub fn describe(&self, index: usize) -> String {
        self.spec
            .axes
            .iter()
            .zip(&self.points[index].values)
            .map(|(a, v)| format!("{} = {}", a.key, points::show(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The first key whose value differs between the experiment a point ran (`old`) and the one the
/// sweep file gives it now: "training.steps = 3000, now 300".
fn first_difference(old: &toml::Table, new: &toml::Table) -> Option<String> {
    let show = |v: Option<&toml::Value>| v.map_or("(not set)".to_string(), ToString::to_string);
    let sections: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for s in sections {
        let (a, b) = (old.get(s), new.get(s));
        match (a.and_then(toml::Value::as_table), b.and_then(toml::Value::as_table)) {
            (Some(ta), Some(tb)) => {
                let keys: std::collections::BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
                for k in keys {
                    if ta.get(k) != tb.get(k) {
                        return Some(format!("{s}.{k} = {}, now {}", show(ta.get(k)), show(tb.get(k))));
                    }
                }
            }
            _ if a != b => return Some(format!("[{s}] {}, now {}", show(a), show(b))),
            _ => {}
        }
    }
    None
}
