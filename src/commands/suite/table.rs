//! The suite's results: one row per run, rendered as the live table, suite.md, suite.csv and
//! suite.json.

use serde::{Deserialize, Serialize};

use crate::fmt_num::thousands;

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Not started yet.
    Waiting,
    /// Training.
    Running,
    /// Finished (solved or out of steps).
    Done,
    /// Could not run, or diverged.
    Failed,
}

/// One run's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// `adding-lstm-s1`.
    pub name: String,
    /// Task name.
    pub task: String,
    /// Cell name.
    pub cell: String,
    /// Seed.
    pub seed: u64,
    /// Where it is.
    pub state: RunState,
    /// Steps done.
    pub step: u64,
    /// Step budget.
    pub steps: u64,
    /// Whether the solved test passed.
    pub solved: bool,
    /// Training sequences seen at the first evaluation that passed the solved test.
    pub solved_at: Option<u64>,
    /// The solved test's share of wrong sequences at the last evaluation.
    pub error: Option<f64>,
    /// Token accuracy (tagging) or accuracy (classification) on the solved test's sequences.
    pub accuracy: Option<f64>,
    /// The solved test's MSE (regression).
    pub mse: Option<f64>,
    /// Wall-clock seconds of the run.
    pub wall_s: f64,
    /// The run directory.
    pub run_dir: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Divergences (a loss blow-up, rolled back; the run went on with its learning rate
    /// halved, at most three times).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub divergences: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or("–".into(), f)
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

impl RunRow {
    /// The row of a run that has not started: its name, task, cell, seed and step budget,
    /// nothing done yet.
    pub fn waiting(name: String, task: String, cell: String, seed: u64, steps: u64) -> RunRow {
        RunRow {
            name,
            task,
            cell,
            seed,
            state: RunState::Waiting,
            step: 0,
            steps,
            solved: false,
            solved_at: None,
            error: None,
            accuracy: None,
            mse: None,
            wall_s: 0.0,
            run_dir: String::new(),
            failure: None,
            divergences: 0,
        }
    }

    fn cells(&self) -> [String; 8] {
        let solved = match (self.state, self.solved) {
            (RunState::Failed, _) => "failed".to_string(),
            (_, true) => "yes".to_string(),
            (RunState::Done, false) if self.divergences > 0 => format!("no (diverged {}×)", self.divergences),
            (RunState::Done, false) => "no".to_string(),
            (RunState::Running, false) => format!("… {}/{}", self.step, self.steps),
            (RunState::Waiting, false) => "waiting".to_string(),
        };
        [
            self.task.clone(),
            self.cell.clone(),
            self.seed.to_string(),
            solved,
            self.solved_at.map_or("–".into(), thousands),
            opt(self.error, pct),
            match (self.accuracy, self.mse) {
                (_, Some(m)) => format!("MSE {m:.4}"),
                (Some(a), None) => format!("acc {}", pct(a)),
                (None, None) => "–".into(),
            },
            if self.state == RunState::Waiting {
                "–".into()
            } else {
                format!("{:.0} s", self.wall_s)
            },
        ]
    }
}

const HEADER: [&str; 8] = [
    "task",
    "cell",
    "seed",
    "solved",
    "sequences when solved",
    "test error",
    "test score",
    "wall time",
];

/// The table as aligned text (the live view).
pub fn text(rows: &[RunRow]) -> String {
    let cells: Vec<[String; 8]> = rows.iter().map(RunRow::cells).collect();
    let mut w = HEADER.map(|h| h.chars().count());
    for c in &cells {
        for (i, s) in c.iter().enumerate() {
            w[i] = w[i].max(s.chars().count());
        }
    }
    let line = |c: &[String]| -> String {
        c.iter()
            .enumerate()
            .map(|(i, s)| format!("{s:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&HEADER.map(String::from)) + "\n";
    for c in &cells {
        out.push_str(&line(c));
        out.push('\n');
    }
    out
}

/// suite.md: a Markdown table.
pub fn markdown(rows: &[RunRow], title: &str) -> String {
    let mut s = format!(
        "# {title}\n\n| {} |\n|{}\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    );
    for r in rows {
        s.push_str(&format!("| {} |\n", r.cells().join(" | ")));
    }
    s
}

/// suite.csv: one line per run, numbers unformatted.
pub fn csv(rows: &[RunRow]) -> String {
    let mut s = String::from(
        "task,cell,seed,state,solved,solved_at,steps_done,test_error,test_accuracy,test_mse,wall_s,run_dir\n",
    );
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:.1},{}\n",
            r.task,
            r.cell,
            r.seed,
            serde_json::to_value(r.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            r.solved,
            r.solved_at.map_or(String::new(), |n| n.to_string()),
            r.step,
            f(r.error),
            f(r.accuracy),
            f(r.mse),
            r.wall_s,
            r.run_dir
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: &str, solved_at: Option<u64>) -> RunRow {
        RunRow {
            name: format!("adding-{cell}-s1"),
            task: "adding".into(),
            cell: cell.into(),
            seed: 1,
            state: RunState::Done,
            step: 4000,
            steps: 4000,
            solved: solved_at.is_some(),
            solved_at,
            error: Some(if solved_at.is_some() { 0.0008 } else { 0.85 }),
            accuracy: None,
            mse: Some(0.001),
            wall_s: 61.2,
            run_dir: "runs/x".into(),
            failure: None,
            divergences: 0,
        }
    }

    #[test]
    fn the_table_says_solved_and_when() {
        let mut rnn = row("rnn", None);
        rnn.divergences = 2;
        let rows = [row("lstm", Some(57_600)), rnn];
        let t = text(&rows);
        assert!(t.lines().nth(1).unwrap().contains("yes") && t.contains("57,600"), "{t}");
        assert!(t.lines().nth(2).unwrap().contains("no (diverged 2×)"), "{t}");
        // Result files written before the count existed still read.
        let Ok(old) = serde_json::to_string(&row("gru", None)) else {
            panic!("serialise")
        };
        assert!(!old.contains("divergences"));
        assert!(matches!(serde_json::from_str::<RunRow>(&old), Ok(r) if r.divergences == 0));
        let m = markdown(&rows, "suite");
        assert_eq!(m.lines().filter(|l| l.starts_with('|')).count(), 4, "{m}");
        let c = csv(&rows);
        assert!(
            c.lines()
                .nth(1)
                .unwrap()
                .starts_with("adding,lstm,1,done,true,57600,4000,"),
            "{c}"
        );
    }
}
