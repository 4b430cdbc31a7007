//! A suite folder (`rnn-lab suite --out DIR`) as the suite screen shows it: the table of runs
//! (task, cell, seed, solved, sequences when solved, final error, wall time) and each run's
//! curves (training and validation loss, the solved test's share of wrong sequences). Read on
//! the scanner thread ([`load_suite`]); the UI only renders what comes back.
//!
//! The rows come from `DIR/suite.json` (written when the suite ends, or is interrupted) and
//! `DIR/results/NAME.json` (written as each run finishes, so a suite still running shows its
//! finished runs); a run whose experiment file is in `DIR/experiments/` but has no result yet
//! is shown running, with the curve of its newest run directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::commands::suite::plan::TASKS;
use crate::commands::suite::table::{RunRow, RunState};
use crate::train::protocol::Metrics;
use crate::tui::history::{History, Point};

/// Points kept per curve (longer runs are downsampled by the history).
const CURVE_CAPACITY: usize = 1024;

/// One run's curves, from its `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    /// Training loss.
    pub train: History,
    /// Validation loss.
    pub val: History,
    /// The solved test's share of wrong sequences at each evaluation (0–1).
    pub error: History,
}

/// One row of the suite table and its curves.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteRun {
    /// The row as the suite wrote it.
    pub row: RunRow,
    /// Its run directory as found (the suite folder may have moved since it was written).
    pub dir: Option<PathBuf>,
    /// Its run directory's curves (`None`: no run directory or no metrics yet).
    pub curves: Option<Curves>,
}

/// A suite folder as read.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteView {
    /// The folder.
    pub dir: PathBuf,
    /// Whether `suite.json` exists (the suite ended or was interrupted); otherwise it may still
    /// be running and the screen reads the folder again every few seconds.
    pub complete: bool,
    /// The runs in table order (task, cell, seed).
    pub runs: Vec<SuiteRun>,
}

impl SuiteView {
    /// `18 runs: 11 solved, 6 not, 1 failed` (the counts that are not zero).
    pub fn summary(&self) -> String {
        let count = |f: &dyn Fn(&RunRow) -> bool| self.runs.iter().filter(|r| f(&r.row)).count();
        let parts = [
            (count(&|r| r.solved), "solved"),
            (count(&|r| r.state == RunState::Done && !r.solved), "not solved"),
            (count(&|r| r.state == RunState::Failed), "failed"),
            (count(&|r| r.state == RunState::Running), "running"),
            (count(&|r| r.state == RunState::Waiting), "waiting"),
        ];
        let parts: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, s)| format!("{n} {s}"))
            .collect();
        format!("{} runs: {}", self.runs.len(), parts.join(", "))
    }
}

/// Whether `dir` is a suite folder (holds `suite.json` or `results/`).
pub fn is_suite_dir(dir: &Path) -> bool {
    dir.join("suite.json").is_file() || dir.join("results").is_dir()
}

/// Read a suite folder: its rows and every run's curves. One line naming the file on error.
///
/// # Errors
/// The folder holds neither `suite.json` nor `results/`, or `suite.json` or a result file is not
/// a suite's JSON.
pub fn load_suite(dir: &Path) -> Result<SuiteView, String> {
    let table = dir.join("suite.json");
    let results = dir.join("results");
    if !table.is_file() && !results.is_dir() {
        return Err(format!(
            "{}: not a suite folder (no suite.json, no results/): run `rnn-lab suite --out {}` first",
            dir.display(),
            dir.display()
        ));
    }
    let mut rows: Vec<RunRow> = Vec::new();
    let complete = table.is_file();
    if complete {
        rows = read_json(&table)?;
    }
    // Results newer than suite.json (a second sitting of the suite) replace its rows.
    for file in sorted_files(&results, "json") {
        let row: RunRow = read_json(&file)?;
        match rows.iter_mut().find(|r| r.name == row.name) {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
    // An experiment written but not finished: running now (or interrupted, without suite.json).
    if !complete {
        for file in sorted_files(&dir.join("experiments"), "toml") {
            let Some(name) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if rows.iter().any(|r| r.name == name) {
                continue;
            }
            if let Some(row) = running_row(dir, &name) {
                rows.push(row);
            }
        }
    }
    rows.sort_by_key(order);
    let runs = rows
        .into_iter()
        .map(|row| {
            let run = run_dir(dir, &row);
            let curves = run.as_deref().and_then(read_curves);
            SuiteRun { row, dir: run, curves }
        })
        .collect();
    Ok(SuiteView {
        dir: dir.to_path_buf(),
        complete,
        runs,
    })
}

/// Table order: the suite's task order, then rnn, gru, lstm, then the seed.
fn order(r: &RunRow) -> (usize, usize, u64, String) {
    let task = TASKS.iter().position(|t| t.name == r.task).unwrap_or(TASKS.len());
    let cell = ["rnn", "gru", "lstm"].iter().position(|c| *c == r.cell).unwrap_or(3);
    (task, cell, r.seed, r.name.clone())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

/// The files `dir/*.ext`, sorted by name (none when the folder is missing).
fn sorted_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext) && p.is_file())
        .collect();
    v.sort();
    v
}

/// The newest run directory `dir/runs/NAME-<timestamp>` of a run.
fn newest_run_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    let rd = fs::read_dir(dir.join("runs")).ok()?;
    rd.filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            // NAME-YYYYMMDD-HHMMSS: the rest after the name is the timestamp, not another run's
            // longer name (future_tags-… is not future_tags_uni-…).
            p.file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.strip_prefix(&prefix))
                .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        })
        .max()
}

/// The row of a run that has started but not finished.
fn running_row(dir: &Path, name: &str) -> Option<RunRow> {
    // NAME = TASK-CELL-sSEED
    let (rest, seed) = name.rsplit_once("-s")?;
    let (task, cell) = rest.rsplit_once('-')?;
    let seed = seed.parse().ok()?;
    let run_dir = newest_run_dir(dir, name);
    let steps = run_dir
        .as_ref()
        .and_then(|d| crate::config::load(&d.join("config.toml")).ok())
        .map_or(0, |e| e.training.steps);
    let state = if run_dir.is_some() {
        RunState::Running
    } else {
        RunState::Waiting
    };
    Some(RunRow {
        state,
        run_dir: run_dir.map(|d| d.display().to_string()).unwrap_or_default(),
        ..RunRow::waiting(name.to_string(), task.to_string(), cell.to_string(), seed, steps)
    })
}

/// A row's run directory: as written, else the same name under `dir/runs/` (the suite folder
/// was moved), else the newest run directory of its name.
fn run_dir(dir: &Path, row: &RunRow) -> Option<PathBuf> {
    let written = PathBuf::from(&row.run_dir);
    if !row.run_dir.is_empty() && written.join("metrics.jsonl").is_file() {
        return Some(written);
    }
    if let Some(base) = written.file_name() {
        let moved = dir.join("runs").join(base);
        if moved.join("metrics.jsonl").is_file() {
            return Some(moved);
        }
    }
    newest_run_dir(dir, &row.name)
}

/// The curves of a run directory's `metrics.jsonl` (`None` when it has none or no line reads).
pub fn read_curves(dir: &Path) -> Option<Curves> {
    let text = fs::read_to_string(dir.join("metrics.jsonl")).ok()?;
    let mut c = Curves {
        train: History::new(CURVE_CAPACITY, 64),
        val: History::new(CURVE_CAPACITY, 64),
        error: History::new(CURVE_CAPACITY, 64),
    };
    for line in text.lines() {
        // A torn last line (the run is writing it) or a line of another kind is skipped.
        let Ok(m) = serde_json::from_str::<Metrics>(line) else {
            continue;
        };
        let at = |value| Point {
            step: m.step,
            time_s: m.time_s,
            value,
        };
        c.train.push(at(m.train_loss));
        if let Some(v) = m.val_loss {
            c.val.push(at(v));
        }
        if let Some(e) = m
            .task
            .as_ref()
            .and_then(|t| t.test.as_ref().unwrap_or(&t.valid).error_rate)
        {
            c.error.push(at(e));
        }
    }
    (!c.train.is_empty()).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, run_dir: &str, state: RunState, solved_at: Option<u64>) -> RunRow {
        let Some((rest, seed)) = name.rsplit_once("-s") else {
            panic!("{name}: TASK-CELL-sSEED")
        };
        let Some((task, cell)) = rest.rsplit_once('-') else {
            panic!("{name}: TASK-CELL-sSEED")
        };
        let Ok(seed) = seed.parse() else {
            panic!("{name}: the seed")
        };
        RunRow {
            name: name.into(),
            task: task.into(),
            cell: cell.into(),
            seed,
            state,
            step: 300,
            steps: 3000,
            solved: solved_at.is_some(),
            solved_at,
            error: Some(0.5),
            accuracy: None,
            mse: Some(0.04),
            wall_s: 12.0,
            run_dir: run_dir.into(),
            failure: None,
            divergences: 0,
        }
    }

    fn metrics(step: u64, loss: f64, error: f64) -> String {
        format!(
            "{{\"step\":{step},\"epoch\":0.0,\"time_s\":1.0,\"train_loss\":{loss},\"val_loss\":{loss},\
             \"bits_per_token\":1.0,\"lr\":0.01,\"grad_norm\":1.0,\"tokens_per_s\":1.0,\
             \"task\":{{\"metric\":\"error\",\"value\":{error},\"higher_is_better\":false,\
             \"valid\":{{\"loss\":{loss},\"sequences\":10,\"scored\":10,\"error_rate\":{error}}},\
             \"test\":{{\"loss\":{loss},\"sequences\":10,\"scored\":10,\"error_rate\":{error}}},\
             \"sequences\":{}}}}}\n",
            step * 32
        )
    }

    #[test]
    fn rows_in_table_order_with_curves_and_fresher_results() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let d = tmp.path();
        fs::create_dir_all(d.join("results"))?;
        // The run directory moved with the folder: found under runs/ by its name.
        let run = d.join("runs/adding-lstm-s1-20261202-101010");
        fs::create_dir_all(&run)?;
        fs::write(
            run.join("metrics.jsonl"),
            metrics(100, 0.04, 0.85) + &metrics(200, 0.001, 0.0),
        )?;
        let rows = vec![
            row(
                "adding-lstm-s1",
                "/elsewhere/runs/adding-lstm-s1-20261202-101010",
                RunState::Done,
                Some(6400),
            ),
            row("adding-rnn-s1", "", RunState::Done, None),
            row("reber-gru-s1", "", RunState::Failed, None),
        ];
        fs::write(d.join("suite.json"), serde_json::to_string(&rows)?)?;
        // A second sitting solved reber-gru.
        let again = row("reber-gru-s1", "", RunState::Done, Some(3200));
        fs::write(d.join("results/reber-gru-s1.json"), serde_json::to_string(&again)?)?;
        let v = load_suite(d)?;
        assert!(v.complete);
        let names: Vec<&str> = v.runs.iter().map(|r| r.row.name.as_str()).collect();
        assert_eq!(names, ["adding-rnn-s1", "adding-lstm-s1", "reber-gru-s1"]);
        assert_eq!(v.runs[2].row.solved_at, Some(3200));
        let c = v.runs[1].curves.as_ref().ok_or("the lstm run's curves")?;
        let errors: Vec<f64> = c.error.recent().map(|p| p.value).collect();
        assert_eq!(errors, [0.85, 0.0]);
        assert_eq!(c.train.recent().map(|p| p.step).collect::<Vec<_>>(), [100, 200]);
        assert!(v.runs[0].curves.is_none());
        assert_eq!(v.summary(), "3 runs: 2 solved, 1 not solved");
        Ok(())
    }

    #[test]
    fn a_running_suite_shows_finished_and_started_runs() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let d = tmp.path();
        fs::create_dir_all(d.join("results"))?;
        fs::create_dir_all(d.join("experiments"))?;
        fs::write(
            d.join("results/copy-gru-s1.json"),
            serde_json::to_string(&row("copy-gru-s1", "", RunState::Done, None))?,
        )?;
        for n in ["copy-gru-s1", "copy-lstm-s1", "future_tags-rnn-s1"] {
            fs::write(d.join(format!("experiments/{n}.toml")), "")?;
        }
        let run = d.join("runs/copy-lstm-s1-20261202-101010");
        fs::create_dir_all(&run)?;
        fs::write(run.join("metrics.jsonl"), metrics(100, 0.5, 1.0))?;
        // Another task whose name starts the same is not this run's directory.
        fs::create_dir_all(d.join("runs/future_tags_uni-rnn-s1-20261202-101010"))?;
        let v = load_suite(d)?;
        assert!(!v.complete);
        let got: Vec<(&str, RunState)> = v.runs.iter().map(|r| (r.row.name.as_str(), r.row.state)).collect();
        assert_eq!(
            got,
            [
                ("copy-gru-s1", RunState::Done),
                ("copy-lstm-s1", RunState::Running),
                ("future_tags-rnn-s1", RunState::Waiting),
            ]
        );
        assert!(v.runs[1].curves.is_some());
        Ok(())
    }

    #[test]
    fn a_folder_without_a_suite_or_with_broken_json_is_one_line() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let e = load_suite(tmp.path()).err().ok_or("not a suite")?;
        assert!(e.contains("not a suite folder") && !e.contains('\n'), "{e}");
        fs::write(tmp.path().join("suite.json"), "[{\"name\": 3}]")?;
        let e = load_suite(tmp.path()).err().ok_or("broken")?;
        assert!(e.contains("suite.json:1:") && !e.contains('\n'), "{e}");
        Ok(())
    }
}
