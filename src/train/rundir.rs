//! Run directories: `runs/<experiment>-<YYYYmmdd-HHMMSS>/` with config.toml, metrics.jsonl,
//! samples.txt, probe.json, latest.safetensors and best.safetensors.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::protocol::Metrics;

/// UTC timestamp `YYYYmmdd-HHMMSS` for run directory names.
pub fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Make a fresh run directory under `out` for experiment `name`.
pub fn create(out: &Path, name: &str) -> std::io::Result<PathBuf> {
    fs::create_dir_all(out)?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = format!("{safe}-{}", timestamp());
    for i in 0.. {
        let dir = out.join(if i == 0 { base.clone() } else { format!("{base}-{i}") });
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Append-only writers of a run directory.
pub struct RunFiles {
    /// The directory.
    pub dir: PathBuf,
    metrics: BufWriter<File>,
    samples: BufWriter<File>,
}

impl RunFiles {
    /// Open (append) the metrics and samples files of `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let app = |n: &str| OpenOptions::new().create(true).append(true).open(dir.join(n));
        Ok(RunFiles {
            dir: dir.to_path_buf(),
            metrics: BufWriter::new(app("metrics.jsonl")?),
            samples: BufWriter::new(app("samples.txt")?),
        })
    }

    /// One metrics line, flushed so that readers of the run see it.
    pub fn metrics(&mut self, m: &Metrics) -> std::io::Result<()> {
        let line = serde_json::to_string(m).map_err(std::io::Error::other)?;
        writeln!(self.metrics, "{line}")?;
        self.metrics.flush()
    }

    /// One sample with its header line.
    pub fn sample(&mut self, step: u64, temperature: f64, text: &str) -> std::io::Result<()> {
        writeln!(self.samples, "--- step {step}, temperature {temperature} ---\n{text}\n")?;
        self.samples.flush()
    }
}

/// Read a run's metrics (bad lines skipped).
pub fn read_metrics(dir: &Path) -> Vec<Metrics> {
    fs::read_to_string(dir.join("metrics.jsonl"))
        .map(|s| s.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}

/// Copy the metrics of `from` up to `step` into a new run directory (resume into a new run).
pub fn copy_metrics_until(from: &Path, to: &Path, step: u64) -> std::io::Result<()> {
    let kept: Vec<String> = read_metrics(from)
        .iter()
        .filter(|m| m.step <= step)
        .filter_map(|m| serde_json::to_string(m).ok())
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    fs::write(to.join("metrics.jsonl"), kept.join("\n") + "\n")
}
