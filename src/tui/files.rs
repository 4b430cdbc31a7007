//! What the TUI reads from disk: the experiment list and run directories. Called by the main
//! loop when it carries out an `Effect`; the results reach the `App` as `Action`s.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::Experiment;
use crate::infer::probe::ProbeReport;
use crate::train::protocol::{Metrics, TaskScores};
use crate::tui::history::{History, Point};

/// Points kept per series of a run loaded from disk.
const RUN_HISTORY_CAPACITY: usize = 1024;

/// One line of the experiment browser.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowserEntry {
    /// The experiment file.
    pub path: PathBuf,
    /// The checked experiment, or the one-line error ("file:line:col: …").
    pub experiment: Result<Experiment, String>,
    /// Best validation loss of the newest run of this experiment.
    pub last_best: Option<f64>,
}

impl BrowserEntry {
    /// Name shown: the experiment's, or the file stem when it does not load.
    pub fn name(&self) -> String {
        match &self.experiment {
            Ok(e) => e.name.clone(),
            Err(_) => self
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// A run directory with its loss curves.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEntry {
    /// The directory.
    pub dir: PathBuf,
    /// Directory name (`<experiment>-<timestamp>`).
    pub name: String,
    /// Last logged step.
    pub steps: u64,
    /// Best validation loss.
    pub best_val: Option<f64>,
    /// Last training loss.
    pub last_train: Option<f64>,
    /// Training loss.
    pub train: History,
    /// Validation loss.
    pub val: History,
    /// Drawn in the overlay chart.
    pub overlay: bool,
    /// Has a probe.json to compare with.
    pub has_probe: bool,
}

/// List `dir/*.toml`, sorted by file name, each checked by `load`; `runs` is searched for the
/// newest run of each experiment to show its best validation loss.
pub fn scan_experiments(
    dir: &Path,
    runs: &Path,
    load: &dyn Fn(&Path) -> Result<Experiment, String>,
) -> Vec<BrowserEntry> {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let experiment = load(&path);
            let last_best = experiment.as_ref().ok().and_then(|e| last_best_loss(runs, &e.name));
            BrowserEntry {
                path,
                experiment,
                last_best,
            }
        })
        .collect()
}

/// Whether `dir_name` is `<name>-<timestamp>` (the timestamp starts with a digit).
fn is_run_of(dir_name: &str, name: &str) -> bool {
    dir_name
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|ts| ts.starts_with(|c: char| c.is_ascii_digit()))
}

fn modified(p: &Path) -> SystemTime {
    fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Best (minimum) validation loss in the newest run directory of experiment `name`.
pub fn last_best_loss(runs: &Path, name: &str) -> Option<f64> {
    let newest = fs::read_dir(runs)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| is_run_of(&e.file_name().to_string_lossy(), name))
        .map(|e| e.path())
        .max_by_key(|p| (modified(&p.join("metrics.jsonl")), p.clone()))?;
    let file = fs::File::open(newest.join("metrics.jsonl")).ok()?;
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Metrics>(&l).ok())
        .filter_map(|m| m.val_loss)
        .filter(|v| v.is_finite())
        .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.min(v))))
}

/// A checkpoint opened for inspection: the file, the experiment it belongs to, and its run's
/// history from `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// The checkpoint file.
    pub checkpoint: PathBuf,
    /// The run's experiment: its `config.toml`, else the one the checkpoint holds.
    pub experiment: Experiment,
    /// The run's loss history (`None` without a `metrics.jsonl` beside the checkpoint).
    pub run: Option<RunEntry>,
    /// The run's last metrics line.
    pub last: Option<Metrics>,
    /// The scores of the run's last task evaluation (tasks).
    pub last_task: Option<TaskScores>,
}

/// Read what inspecting `arg` needs: the checkpoint it names (a file, a run directory's best
/// checkpoint — else its latest — or `runs/NAME@latest`), the experiment (`config.toml`
/// beside it, read with `load`; else the checkpoint's own) and the run's history. The checkpoint
/// itself is read by the inspector thread (`train::inspect`). Errors are one line naming the
/// file.
pub fn load_inspection(arg: &Path, load: &dyn Fn(&Path) -> Result<Experiment, String>) -> Result<Inspection, String> {
    let checkpoint = crate::train::rundir::resolve(arg, crate::train::rundir::Pick::Best)?;
    let dir = checkpoint.parent().map(Path::to_path_buf).unwrap_or_default();
    let config = dir.join("config.toml");
    let experiment = if config.is_file() {
        load(&config)?
    } else {
        let c = crate::train::checkpoint::load(&checkpoint).map_err(|e| e.to_string())?;
        crate::config::parse_str(&c.config_toml, &checkpoint)
            .map_err(|e| format!("{}: config metadata: {e}", checkpoint.display()))?
    };
    let (run, last, last_task) = if dir.join("metrics.jsonl").is_file() {
        let (entry, last, last_task) = read_run(&dir)?;
        (Some(entry), last, last_task)
    } else {
        (None, None, None)
    };
    Ok(Inspection {
        checkpoint,
        experiment,
        run,
        last,
        last_task,
    })
}

/// Read one run directory's `metrics.jsonl` (bounded: long runs are downsampled).
pub fn load_run(dir: &Path) -> Result<RunEntry, String> {
    read_run(dir).map(|(entry, _, _)| entry)
}

/// [`load_run`], with the last metrics line and the last task scores.
fn read_run(dir: &Path) -> Result<(RunEntry, Option<Metrics>, Option<TaskScores>), String> {
    let metrics = dir.join("metrics.jsonl");
    let text = fs::read(&metrics).map_err(|e| format!("{}: {e}", metrics.display()))?;
    let mut train = History::new(RUN_HISTORY_CAPACITY, 64);
    let mut val = History::new(RUN_HISTORY_CAPACITY, 64);
    let (mut steps, mut best_val, mut last_train) = (0, None, None);
    let (mut last, mut last_task) = (None, None);
    for (i, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        // A run being written, or killed mid-write, may end in a torn line (no newline yet):
        // it is ignored. A complete first line that is not a metrics line means a wrong file.
        let complete = line.ends_with(b"\n");
        let line = String::from_utf8_lossy(line);
        if line.trim().is_empty() {
            continue;
        }
        let Ok(m) = serde_json::from_str::<Metrics>(&line) else {
            if i == 0 && complete {
                return Err(format!("{}:1: not a metrics line", metrics.display()));
            }
            continue;
        };
        train.push(Point {
            step: m.step,
            time_s: m.time_s,
            value: m.train_loss,
        });
        if let Some(v) = m.val_loss {
            val.push(Point {
                step: m.step,
                time_s: m.time_s,
                value: v,
            });
            if v.is_finite() && best_val.is_none_or(|b| v < b) {
                best_val = Some(v);
            }
        }
        steps = m.step;
        last_train = Some(m.train_loss);
        if m.task.is_some() {
            last_task.clone_from(&m.task);
        }
        last = Some(m);
    }
    let entry = RunEntry {
        name: dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.to_path_buf(),
        steps,
        best_val,
        last_train,
        train,
        val,
        overlay: false,
        has_probe: dir.join("probe.json").is_file(),
    };
    Ok((entry, last, last_task))
}

/// Every run directory under `runs` that has a `metrics.jsonl`, newest first.
pub fn scan_runs(runs: &Path) -> Vec<RunEntry> {
    let Ok(rd) = fs::read_dir(runs) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("metrics.jsonl").is_file())
        .collect();
    dirs.sort_by_key(|p| std::cmp::Reverse((modified(&p.join("metrics.jsonl")), p.clone())));
    dirs.iter().filter_map(|d| load_run(d).ok()).collect()
}

/// Read a run's `probe.json` → (run name, report).
pub fn load_probe(path: &Path) -> Result<(String, Box<ProbeReport>), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: ProbeReport =
        serde_json::from_str(&text).map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let name = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((name, Box::new(report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_match_their_experiment_only() {
        assert!(is_run_of("shakespeare-20261130-104200", "shakespeare"));
        assert!(!is_run_of("shakespeare-big-20261130", "shakespeare"));
        assert!(!is_run_of("shakespeare", "shakespeare"));
    }

    #[test]
    fn best_loss_of_newest_run() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let run = tmp.path().join("exp-20260101-000000");
        fs::create_dir_all(&run)?;
        let line = |step: u64, val: Option<f64>| {
            serde_json::to_string(&Metrics {
                step,
                epoch: 0.0,
                time_s: step as f64,
                train_loss: 2.0,
                val_loss: val,
                bits_per_token: 1.0,
                lr: 1e-3,
                grad_norm: 1.0,
                tokens_per_s: 100.0,
                task: None,
            })
        };
        let text = [
            line(10, None)?,
            line(20, Some(1.5))?,
            line(30, Some(1.25))?,
            line(40, Some(1.4))?,
        ]
        .join("\n");
        fs::write(run.join("metrics.jsonl"), text + "\n{\"step\": 5")?;
        assert_eq!(last_best_loss(tmp.path(), "exp"), Some(1.25));
        assert_eq!(last_best_loss(tmp.path(), "other"), None);
        let entry = load_run(&run)?;
        assert_eq!(entry.steps, 40);
        assert_eq!(entry.best_val, Some(1.25));
        assert_eq!(entry.train.full().len(), 4);
        assert_eq!(scan_runs(tmp.path()).len(), 1);
        Ok(())
    }
}
