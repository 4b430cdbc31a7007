//! The results table: one row per point, the axes as columns, sorted by the best validation loss
//! (lowest first; points without one last, in point order). Read from the points' run
//! directories and status files only, so it is the same whoever ran them (here or Slurm).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::layout::{now, Manifest, PointState, SweepDir};
use crate::train::rundir;

/// One point's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Position in the sweep.
    pub index: usize,
    /// `p003`.
    pub id: String,
    /// Axis values, aligned with the manifest's axes.
    pub values: Vec<Value>,
    /// Lowest validation loss logged (nats per token).
    pub best_val: Option<f64>,
    /// Step of that validation loss.
    pub best_step: Option<u64>,
    /// Last step logged.
    pub steps: Option<u64>,
    /// Wall time of all attempts, seconds (the running attempt counted so far).
    pub wall_s: Option<f64>,
    /// finished, diverged, interrupted, failed, running, queued (Slurm) or pending.
    pub status: String,
    /// Why it failed, when it did.
    pub message: Option<String>,
    /// The point's newest run directory.
    pub run_dir: Option<PathBuf>,
}

/// Rows for every point of the manifest, sorted by result. `live` holds Slurm states of points
/// still in the queue (index → `PENDING`, `RUNNING`, …).
pub fn collect(dir: &SweepDir, m: &Manifest, live: &BTreeMap<usize, String>) -> Vec<Row> {
    let mut rows: Vec<Row> = m
        .points
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let st = dir.read_status(&p.id);
            let run_dir = dir.latest_run(&p.id);
            let metrics = run_dir.as_deref().map(rundir::read_metrics).unwrap_or_default();
            let best = metrics
                .iter()
                .filter_map(|x| x.val_loss.filter(|v| v.is_finite()).map(|v| (v, x.step)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let status = match (&st, live.get(&index)) {
                (Some(s), _) if s.state.is_final() => s.state.name().to_string(),
                (_, Some(l)) if l == "PENDING" || l == "CONFIGURING" => "queued".to_string(),
                (_, Some(l)) if l == "RUNNING" || l == "COMPLETING" => "running".to_string(),
                (_, Some(l)) => l.to_lowercase(),
                (Some(s), None) => s.state.name().to_string(),
                (None, None) => "pending".to_string(),
            };
            let wall_s = st.as_ref().map(|s| {
                s.wall_s
                    + match (s.state, s.started) {
                        (PointState::Running, Some(t)) => (now() - t).max(0.0),
                        _ => 0.0,
                    }
            });
            Row {
                index,
                id: p.id.clone(),
                values: p.values.clone(),
                best_val: best.map(|b| b.0),
                best_step: best.map(|b| b.1),
                steps: metrics.iter().map(|x| x.step).max(),
                wall_s,
                status,
                message: st.and_then(|s| s.message),
                run_dir,
            }
        })
        .collect();
    rows.sort_by(|a, b| match (a.best_val, b.best_val) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.index.cmp(&b.index)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.index.cmp(&b.index),
    });
    rows
}

/// A value as a table cell: strings bare, numbers as written.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Wall time for people: `42.1 s`, `12:05`, `1:02:03`.
pub fn duration(s: f64) -> String {
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let t = s.round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// The table in GitHub markdown, best first, with a rank column.
pub fn markdown(m: &Manifest, rows: &[Row]) -> String {
    let mut head = vec!["rank".to_string(), "point".to_string()];
    head.extend(m.axes.iter().map(|a| format!("`{a}`")));
    head.extend(["best val loss", "at step", "steps", "wall", "status"].map(String::from));
    let mut out = format!("| {} |\n", head.join(" | "));
    let align: Vec<&str> = head
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 1 || i == head.len() - 1 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for (rank, r) in rows.iter().enumerate() {
        let mut cells = vec![
            if r.best_val.is_some() {
                (rank + 1).to_string()
            } else {
                "-".into()
            },
            r.id.clone(),
        ];
        cells.extend(r.values.iter().map(cell));
        cells.push(r.best_val.map_or("-".into(), |v| format!("{v:.4}")));
        cells.push(r.best_step.map_or("-".into(), |v| v.to_string()));
        cells.push(r.steps.map_or("-".into(), |v| v.to_string()));
        cells.push(r.wall_s.map_or("-".into(), duration));
        cells.push(r.status.clone());
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The table as CSV (RFC 4180 quoting), best first; numbers unrounded.
pub fn csv(m: &Manifest, rows: &[Row]) -> String {
    let mut head = vec!["point".to_string()];
    head.extend(m.axes.iter().cloned());
    head.extend(["best_val_loss", "best_step", "steps", "wall_s", "status", "run_dir"].map(String::from));
    let mut out = head.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(",") + "\n";
    for r in rows {
        let mut cells = vec![r.id.clone()];
        cells.extend(r.values.iter().map(cell));
        cells.push(r.best_val.map_or(String::new(), |v| v.to_string()));
        cells.push(r.best_step.map_or(String::new(), |v| v.to_string()));
        cells.push(r.steps.map_or(String::new(), |v| v.to_string()));
        cells.push(r.wall_s.map_or(String::new(), |v| format!("{v:.3}")));
        cells.push(r.status.clone());
        cells.push(r.run_dir.as_ref().map_or(String::new(), |d| d.display().to_string()));
        out.push_str(&(cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\n"));
    }
    out
}

/// The table as one JSON document: `{sweep, axes, rows: [{point, values: {axis: value}, …}]}`.
pub fn json(m: &Manifest, rows: &[Row]) -> String {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let values: serde_json::Map<String, Value> = m.axes.iter().cloned().zip(r.values.iter().cloned()).collect();
            json!({
                "point": r.id,
                "values": values,
                "best_val_loss": r.best_val,
                "best_step": r.best_step,
                "steps": r.steps,
                "wall_s": r.wall_s,
                "status": r.status,
                "message": r.message,
                "run_dir": r.run_dir.as_ref().map(|d| d.display().to_string()),
            })
        })
        .collect();
    let doc = json!({ "sweep": m.name, "axes": m.axes, "rows": rows });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Write results.md, results.csv and results.json into the sweep folder.
///
/// # Errors
/// The file-system error.
pub fn write_all(dir: &SweepDir, m: &Manifest, rows: &[Row]) -> std::io::Result<()> {
    use super::layout::write_atomic;
    write_atomic(&dir.root.join("results.md"), markdown(m, rows).as_bytes())?;
    write_atomic(&dir.root.join("results.csv"), csv(m, rows).as_bytes())?;
    write_atomic(&dir.root.join("results.json"), json(m, rows).as_bytes())
}
