//! From axes to points: `trials` seeded draws of the distributions, each crossed with the grid
//! (every combination of the lists, the last axis fastest); each point written as an ordinary experiment
//! file (the base with `[set]` and the point's values applied) and checked by the experiment
//! checker, errors reported at the sweep file's line.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::spec::{Domain, SweepSpec};
use super::SweepError;
use crate::config::{self, overrides, ConfigError};
use crate::data::files::absolute;

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Position in the sweep, from 0 (also the Slurm array index).
    pub index: usize,
    /// `p000`, `p001`, … (wider when the sweep has more than 1000 points).
    pub id: String,
    /// The value of each axis, in the sweep file's axis order.
    pub values: Vec<toml::Value>,
}

/// The id of point `index` of a sweep of `count` points: `p` and at least three digits.
pub fn id_of(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len().max(3);
    format!("p{index:0width$}")
}

/// Round to 4 significant digits (draws read well in tables and file names; the loss surface
/// does not care about the fifth digit).
fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn draw(domain: &Domain, rng: &mut ChaCha8Rng) -> toml::Value {
    match domain {
        Domain::Grid(v) | Domain::Choice(v) => v[rng.random_range(0..v.len())].clone(),
        // x = low + (high − low)·u, u ~ U[0, 1)
        Domain::Uniform { low, high } => {
            let u: f64 = rng.random();
            toml::Value::Float(round_sig(low + (high - low) * u).clamp(*low, *high))
        }
        // ln x ~ U[ln low, ln high): every decade equally likely
        Domain::LogUniform { low, high } => {
            let u: f64 = rng.random();
            let x = (low.ln() + (high.ln() - low.ln()) * u).exp();
            toml::Value::Float(round_sig(x).clamp(*low, *high))
        }
        Domain::IntUniform { low, high } => toml::Value::Integer(rng.random_range(*low..=*high)),
    }
}

/// Every point of the sweep, in order: for each draw, each grid combination.
pub fn expand(spec: &SweepSpec) -> Vec<Point> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    // The draws: trials × (random axes), the same draws crossed with every grid combination so
    // that grid cells compare on equal terms.
    let draws: Vec<Vec<toml::Value>> = match spec.trials {
        Some(n) => (0..n)
            .map(|_| {
                spec.axes
                    .iter()
                    .filter(|a| a.domain.is_random())
                    .map(|a| draw(&a.domain, &mut rng))
                    .collect()
            })
            .collect(),
        None => vec![Vec::new()],
    };
    let grids: Vec<&Vec<toml::Value>> = spec
        .axes
        .iter()
        .filter_map(|a| match &a.domain {
            Domain::Grid(v) => Some(v),
            _ => None,
        })
        .collect();
    let cells: usize = grids.iter().map(|g| g.len()).product();
    let count = cells * draws.len();
    let mut points = Vec::with_capacity(count);
    // Draw by draw, the grid inside: raising `trials` later appends points and keeps the
    // numbers (and finished runs) of the earlier ones.
    for draw in &draws {
        for cell in 0..cells {
            // Odometer digits of `cell`, the last grid axis fastest.
            let mut digits = vec![0usize; grids.len()];
            let mut rest = cell;
            for (d, g) in digits.iter_mut().zip(&grids).rev() {
                *d = rest % g.len();
                rest /= g.len();
            }
            let (mut gi, mut ri) = (0, 0);
            let values = spec
                .axes
                .iter()
                .map(|a| match &a.domain {
                    Domain::Grid(v) => {
                        gi += 1;
                        v[digits[gi - 1]].clone()
                    }
                    _ => {
                        ri += 1;
                        draw[ri - 1].clone()
                    }
                })
                .collect();
            let index = points.len();
            points.push(Point {
                index,
                id: id_of(index, count),
                values,
            });
        }
    }
    points
}

/// A value as written in a table or file name: `0.001`, `lstm`, `[1, 2]`.
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

/// Data paths of `value` (a `[data] files` list) made absolute against `folder`, so that the
/// point file reads the same data from the sweep folder.
fn absolute_files(value: &mut toml::Value, folder: &Path) {
    if let toml::Value::Array(items) = value {
        for it in items {
            if let toml::Value::String(s) = it {
                if !Path::new(s.as_str()).is_absolute() {
                    *s = absolute(&folder.join(s.as_str())).display().to_string();
                }
            }
        }
    }
}

/// The base experiment, checked, and its parsed document.
///
/// # Errors
/// The base's own error at its own line (a missing base is caught by the sweep file check).
pub fn base_document(spec: &SweepSpec) -> Result<toml::Table, SweepError> {
    config::load(&spec.base)?;
    let text = std::fs::read_to_string(&spec.base).map_err(|e| SweepError::io(&spec.base, &e))?;
    toml::from_str(&text).map_err(|e| SweepError::Input(format!("{}: {}", spec.base.display(), e.message())))
}

/// The experiment file of `point`: a comment naming the sweep and the point's values, then the
/// base with `[set]` and the values applied, `[experiment] name = "<sweep>-<id>"`, and data
/// paths made absolute.
pub fn experiment_text(spec: &SweepSpec, base: &toml::Table, point: &Point) -> Result<String, SweepError> {
    let mut doc = base.clone();
    let base_folder = spec.base.parent().unwrap_or(Path::new("."));
    let sweep_folder = spec.path.parent().unwrap_or(Path::new("."));
    if let Some(toml::Value::Table(data)) = doc.get_mut("data") {
        if let Some(files) = data.get_mut("files") {
            absolute_files(files, base_folder);
        }
    }
    let overrides_iter = spec
        .set
        .iter()
        .map(|s| (&s.key, &s.value, s.at))
        .chain(spec.axes.iter().zip(&point.values).map(|(a, v)| (&a.key, v, a.at)));
    for (key, value, at) in overrides_iter {
        let mut value = value.clone();
        if key == "data.files" {
            // Paths written in the sweep file are relative to the sweep file.
            absolute_files(&mut value, sweep_folder);
        }
        overrides::apply(&mut doc, key, value).map_err(|m| spec.at(at, format!("\"{key}\": {m}")))?;
    }
    overrides::apply(
        &mut doc,
        "experiment.name",
        toml::Value::String(format!("{}-{}", spec.name, point.id)),
    )
    .map_err(|m| spec.at(spec.base_at, m))?;
    let body =
        toml::to_string(&doc).map_err(|e| SweepError::System(format!("cannot write point {}: {e}", point.id)))?;
    let mut head = format!(
        "# Point {} of sweep \"{}\" ({}), based on {}.\n",
        point.id,
        spec.name,
        spec.path.display(),
        spec.base.display()
    );
    for (a, v) in spec.axes.iter().zip(&point.values) {
        head.push_str(&format!("#   {} = {}\n", a.key, v));
    }
    head.push_str("# Written by `rnn-lab sweep`: an ordinary experiment file (`rnn-lab train` runs it).\n\n");
    Ok(head + &body)
}

/// Check a point's experiment as the trainer will read it from `file`. An error is reported at
/// the sweep file's line of the key it names (an axis or a `[set]` key), else at `base`.
///
/// # Errors
/// [`SweepError::At`] in the sweep file, with the point and its values in the message.
pub fn check(spec: &SweepSpec, point: &Point, text: &str, file: &Path) -> Result<(), SweepError> {
    let Err(e) = config::parse_str(text, file) else {
        return Ok(());
    };
    let message = match &e {
        ConfigError::At { message, .. } => message.clone(),
        ConfigError::Read { why, .. } => why.clone(),
    };
    // The key the message names: "`hidden` = 0 in [model]: …" or "`x` in [model] …".
    let names = |key: &str| {
        key.split_once('.')
            .is_some_and(|(s, k)| message.contains(&format!("`{k}`")) && message.contains(&format!("[{s}]")))
    };
    let at = spec
        .axes
        .iter()
        .map(|a| (&a.key, a.at))
        .chain(spec.set.iter().map(|s| (&s.key, s.at)))
        .find(|(k, _)| names(k))
        .map_or(spec.base_at, |(_, at)| at);
    let values: Vec<String> = spec
        .axes
        .iter()
        .zip(&point.values)
        .map(|(a, v)| format!("{} = {}", a.key, v))
        .collect();
    Err(spec.at(at, format!("point {} ({}): {message}", point.id, values.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_zero_padded_to_the_count() {
        assert_eq!(id_of(3, 12), "p003");
        assert_eq!(id_of(3, 1000), "p003");
        assert_eq!(id_of(3, 1001), "p0003");
    }

    fn spec(axes: &str, trials: Option<usize>, seed: u64) -> (tempfile::TempDir, SweepSpec) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("base.toml"), "[data]\nfiles = [\"x.txt\"]\n").unwrap();
        let trials = trials.map_or(String::new(), |t| format!("trials = {t}\n"));
        let text = format!("[sweep]\nbase = \"base.toml\"\nseed = {seed}\n{trials}[axes]\n{axes}");
        let s = crate::sweep::spec::parse_str(&text, &d.path().join("s.toml")).unwrap();
        (d, s)
    }

    fn floats(points: &[Point], axis: usize) -> Vec<f64> {
        points.iter().map(|p| p.values[axis].as_float().unwrap()).collect()
    }

    #[test]
    fn the_grid_is_every_combination_last_axis_fastest() {
        let (_d, s) = spec(
            "\"model.cell\" = [\"rnn\", \"gru\"]\n\"model.hidden\" = [8, 16, 32]\n",
            None,
            1,
        );
        let p = expand(&s);
        let got: Vec<String> = p
            .iter()
            .map(|p| format!("{} {}", show(&p.values[0]), show(&p.values[1])))
            .collect();
        assert_eq!(got, ["rnn 8", "rnn 16", "rnn 32", "gru 8", "gru 16", "gru 32"]);
        assert_eq!(p[5].id, "p005");
    }

    #[test]
    fn log_uniform_draws_spread_evenly_over_the_decades() {
        let (_d, s) = spec("\"training.lr\" = { log_uniform = [1e-4, 1e-2] }\n", Some(4000), 3);
        let lr = floats(&expand(&s), 0);
        assert!(lr.iter().all(|&x| (1e-4..=1e-2).contains(&x)));
        // ln x uniform on [ln 1e-4, ln 1e-2]: half the draws below 1e-3 (σ of the fraction ≈ 0.008).
        let below = lr.iter().filter(|&&x| x < 1e-3).count() as f64 / lr.len() as f64;
        assert!((below - 0.5).abs() < 0.04, "{below}");
        // A quarter below 10^-3.5.
        let quarter = lr.iter().filter(|&&x| x < 10f64.powf(-3.5)).count() as f64 / lr.len() as f64;
        assert!((quarter - 0.25).abs() < 0.04, "{quarter}");
    }

    #[test]
    fn uniform_int_and_choice_draws_cover_their_ranges() {
        let axes = "\"model.forget_bias\" = { uniform = [2, 4] }\n\"model.hidden\" = { int_uniform = [1, 3] }\n\"model.cell\" = { choice = [\"rnn\", \"lstm\"] }\n";
        let (_d, s) = spec(axes, Some(3000), 9);
        let p = expand(&s);
        let fb = floats(&p, 0);
        let mean = fb.iter().sum::<f64>() / fb.len() as f64;
        assert!(fb.iter().all(|&x| (2.0..=4.0).contains(&x)));
        assert!((mean - 3.0).abs() < 0.05, "{mean}");
        let ints: Vec<i64> = p.iter().map(|p| p.values[1].as_integer().unwrap()).collect();
        for v in 1..=3 {
            let share = ints.iter().filter(|&&x| x == v).count() as f64 / ints.len() as f64;
            assert!((share - 1.0 / 3.0).abs() < 0.04, "{v}: {share}");
        }
        assert!(p.iter().any(|p| p.values[2].as_str() == Some("rnn")));
        assert!(p.iter().any(|p| p.values[2].as_str() == Some("lstm")));
    }

    #[test]
    fn draws_follow_the_seed_and_more_trials_keep_the_earlier_points() {
        let axes = "\"model.cell\" = [\"rnn\", \"gru\"]\n\"training.lr\" = { log_uniform = [1e-4, 1e-2] }\n";
        let (_d, a) = spec(axes, Some(3), 1);
        let (_e, b) = spec(axes, Some(5), 1);
        let (_f, c) = spec(axes, Some(3), 2);
        let (pa, pb, pc) = (expand(&a), expand(&b), expand(&c));
        assert_eq!(pa.len(), 6);
        assert_eq!(pb.len(), 10);
        assert_eq!(pa[..], pb[..6]);
        assert_ne!(floats(&pa, 1), floats(&pc, 1));
        // Each draw is crossed with the whole grid.
        assert_eq!(pa[0].values[1], pa[1].values[1]);
        assert_eq!(show(&pa[0].values[0]), "rnn");
        assert_eq!(show(&pa[1].values[0]), "gru");
    }

    #[test]
    fn rounding_keeps_four_significant_digits() {
        assert_eq!(round_sig(0.000123456), 0.0001235);
        assert_eq!(round_sig(123456.0), 123500.0);
        assert_eq!(round_sig(-1.23456), -1.235);
    }
}
