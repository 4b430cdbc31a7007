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
    let safe = safe_name(name);
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

/// Which checkpoint of a run directory a command wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// `best.safetensors` (lowest validation loss; `latest` when there is no best yet):
    /// `sample`, `eval`, `probe`, `export`.
    Best,
    /// `latest.safetensors`: `train --resume`.
    Latest,
}

impl Pick {
    fn files(self) -> [&'static str; 2] {
        match self {
            Pick::Best => ["best.safetensors", "latest.safetensors"],
            Pick::Latest => ["latest.safetensors", "best.safetensors"],
        }
    }
}

/// The selector suffix: `runs/NAME@latest` names the newest run directory of experiment NAME.
pub const LATEST: &str = "@latest";

/// Whether `dir`'s file name is a run directory name of experiment `name`:
/// `NAME-YYYYmmdd-HHMMSS`, optionally followed by `-N` (two runs started in the same second).
/// Returns the sort key (timestamp, N) when it is.
fn run_key(file_name: &str, name: &str) -> Option<(String, u64)> {
    let rest = file_name.strip_prefix(name)?.strip_prefix('-')?;
    let (stamp, n) = match rest.get(15..) {
        Some("") => (rest, 0),
        Some(tail) => (&rest[..15], tail.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    let b = stamp.as_bytes();
    let ok = b.len() == 15 && b[8] == b'-' && b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit());
    ok.then(|| (stamp.to_string(), n))
}

/// The run directories of experiment `name` under `runs`, oldest first (by the start time in
/// their names).
pub fn runs_of(runs: &Path, name: &str) -> Vec<PathBuf> {
    let safe = safe_name(name);
    let mut found: Vec<((String, u64), PathBuf)> = fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Some((run_key(e.file_name().to_str()?, &safe)?, e.path())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Resolve what a user typed for a checkpoint into a checkpoint file:
///
/// - a file is itself;
/// - a run directory is its `best.safetensors` ([`Pick::Best`]) or `latest.safetensors`
///   ([`Pick::Latest`]), the other one when that is missing;
/// - a path component `NAME@latest` that does not exist names the newest run directory of
///   experiment NAME in the folder before it (`runs/default@latest`,
///   `runs/default@latest/latest.safetensors`; plain `default@latest` looks in `runs/`).
///
/// The error is one line naming the path and saying what to pass instead.
pub fn resolve(arg: &Path, pick: Pick) -> Result<PathBuf, String> {
    let path = expand_latest(arg)?;
    if path.is_file() {
        return Ok(path);
    }
    if path.is_dir() {
        if let Some(f) = pick.files().iter().map(|f| path.join(f)).find(|p| p.is_file()) {
            return Ok(f);
        }
        let runs: Vec<String> = fs::read_dir(&path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("config.toml").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        let hint = match runs.iter().find_map(|r| experiment_of(r)) {
            Some(name) => format!(
                "it holds run directories: pass one of them, or {} for the newest run of {name}",
                path.join(format!("{name}{LATEST}")).display()
            ),
            None => "pass a checkpoint file (.safetensors) or a run directory that holds best.safetensors or latest.safetensors".into(),
        };
        return Err(format!("{}: a directory without a checkpoint; {hint}", arg.display()));
    }
    if path.as_os_str().is_empty() || !path.exists() {
        return Err(format!("{}: no such file or directory", arg.display()));
    }
    Err(format!("{}: not a checkpoint file or run directory", arg.display()))
}

/// Replace the first `NAME@latest` component that does not exist by the newest run directory
/// of NAME (that holds a checkpoint); a path without one, or one that exists, is returned as is.
///
/// # Errors
/// A one-line message when NAME has no run directory with a checkpoint.
pub fn expand_latest(arg: &Path) -> Result<PathBuf, String> {
    if arg.exists() {
        return Ok(arg.to_path_buf());
    }
    let mut so_far = PathBuf::new();
    let mut comps = arg.components();
    while let Some(c) = comps.next() {
        let s = c.as_os_str().to_string_lossy();
        if let Some(name) = s.strip_suffix(LATEST).filter(|n| !n.is_empty()) {
            let here = so_far.join(c.as_os_str());
            if !here.exists() {
                let folder = if so_far.as_os_str().is_empty() {
                    PathBuf::from("runs")
                } else {
                    so_far.clone()
                };
                // The newest that holds a checkpoint: a TUI opened and closed without training
                // leaves a run directory with only config.toml.
                let all = runs_of(&folder, name);
                let has_checkpoint = |d: &PathBuf| {
                    ["latest.safetensors", "best.safetensors"]
                        .iter()
                        .any(|f| d.join(f).is_file())
                };
                let Some(newest) = all.iter().rev().find(|d| has_checkpoint(d)) else {
                    return Err(format!(
                        "{}: {} of experiment `{name}` in {}/ (run directories are named {name}-YYYYmmdd-HHMMSS)",
                        arg.display(),
                        if all.is_empty() {
                            "no run"
                        } else {
                            "no run with a checkpoint"
                        },
                        folder.display()
                    ));
                };
                return Ok(newest.join(comps.as_path()));
            }
        }
        so_far.push(c.as_os_str());
    }
    Ok(arg.to_path_buf())
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The experiment name part of a run directory name (`default` of `default-20261202-061000`
/// or `default-20261202-061000-1`).
pub fn experiment_of(file_name: &str) -> Option<&str> {
    let mut end = file_name.len();
    for _ in 0..3 {
        let (head, _) = file_name[..end].rsplit_once('-')?;
        if run_key(file_name, head).is_some() {
            return Some(head);
        }
        end = head.len();
    }
    None
}

/// The experiment whose data to read for checkpoint `ckpt` trained with `exp`: the run's
/// `config.toml` beside the checkpoint (its data paths rebased onto the run directory, see
/// [`rebased_for`]) when it is the same experiment, else `exp` itself.
pub fn experiment_beside(ckpt: &Path, exp: &crate::config::Experiment) -> crate::config::Experiment {
    ckpt.parent()
        .map(|d| d.join("config.toml"))
        .and_then(|p| crate::config::load(&p).ok())
        .filter(|e| e.name == exp.name)
        .unwrap_or_else(|| exp.clone())
}

/// `exp` as it is written into a run directory's `config.toml`: relative data paths (`[data]
/// files`, `train`, `valid`, `test`) and `[model] embedding_init` rebased from the experiment
/// file's folder onto `run_dir`, so that the run's config finds its files when read back from
/// there (the TUI's `t` continues a run from that file). Absolute entries stay as they are; when
/// a folder cannot be resolved the entry becomes absolute.
pub fn rebased_for(exp: &crate::config::Experiment, run_dir: &Path) -> crate::config::Experiment {
    let mut out = exp.clone();
    let base = fs::canonicalize(exp.base_dir());
    let to = fs::canonicalize(run_dir);
    let rebase = |f: &String| -> String {
        if Path::new(f).is_absolute() {
            return f.clone();
        }
        match (&base, &to) {
            (Ok(b), Ok(t)) => {
                // `b` is canonical, so `dir/..` in front of the entry cancels lexically.
                let mut p = relative(t, b);
                for c in Path::new(f).components() {
                    let up = c == std::path::Component::ParentDir;
                    if up && matches!(p.components().next_back(), Some(std::path::Component::Normal(_))) {
                        p.pop();
                    } else {
                        p.push(c.as_os_str());
                    }
                }
                p.to_string_lossy().into_owned()
            }
            (Ok(b), Err(_)) => b.join(f).to_string_lossy().into_owned(),
            _ => f.clone(),
        }
    };
    let d = &exp.data;
    out.data.files = d.files.iter().map(rebase).collect();
    out.data.train = d.train.iter().map(rebase).collect();
    out.data.valid = d.valid.iter().map(rebase).collect();
    out.data.test = d.test.iter().map(rebase).collect();
    out.model.embedding_init = exp.model.embedding_init.as_ref().map(rebase);
    out
}

/// The relative path from folder `from` to folder `to` (both absolute and canonical).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (a, b): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut p = PathBuf::new();
    for _ in common..a.len() {
        p.push("..");
    }
    for c in &b[common..] {
        p.push(c.as_os_str());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_and_their_experiment() {
        assert_eq!(experiment_of("default-20261202-061000"), Some("default"));
        assert_eq!(experiment_of("twin-lstm-20261202-061000-2"), Some("twin-lstm"));
        assert_eq!(experiment_of("default-latest"), None);
        assert!(run_key("twin-lstm-20261202-061000", "twin").is_none());
        assert_eq!(run_key("a-20261202-061000-3", "a"), Some(("20261202-061000".into(), 3)));
    }

    #[test]
    fn latest_picks_the_newest_run_with_a_checkpoint() {
        let d = tempfile::tempdir().expect("tempdir");
        let runs = d.path().join("runs");
        for (name, ck) in [
            ("default-20261201-100000", true),
            ("default-20261202-090000", true),
            ("default-20261202-090000-1", true),
            ("default-20261203-000000", false), // a TUI opened and closed: no checkpoint
            ("default2-20261204-000000", true),
        ] {
            let r = runs.join(name);
            fs::create_dir_all(&r).expect("mkdir");
            fs::write(r.join("config.toml"), "").expect("config");
            if ck {
                fs::write(r.join("best.safetensors"), "x").expect("best");
                fs::write(r.join("latest.safetensors"), "x").expect("latest");
            }
        }
        let newest = runs.join("default-20261202-090000-1");
        assert_eq!(
            resolve(&runs.join("default@latest"), Pick::Best),
            Ok(newest.join("best.safetensors"))
        );
        assert_eq!(
            resolve(&runs.join("default@latest"), Pick::Latest),
            Ok(newest.join("latest.safetensors"))
        );
        assert_eq!(
            resolve(&runs.join("default@latest/latest.safetensors"), Pick::Best),
            Ok(newest.join("latest.safetensors"))
        );
        // A run directory is its best checkpoint; a file is itself.
        let old = runs.join("default-20261201-100000");
        assert_eq!(resolve(&old, Pick::Best), Ok(old.join("best.safetensors")));
        assert_eq!(
            resolve(&old.join("latest.safetensors"), Pick::Best),
            Ok(old.join("latest.safetensors"))
        );
        // What to pass instead.
        let e = resolve(&runs.join("default-20261203-000000"), Pick::Best).unwrap_err();
        assert!(e.contains("a directory without a checkpoint"), "{e}");
        let e = resolve(&runs, Pick::Best).unwrap_err();
        assert!(e.contains("holds run directories") && e.contains("@latest"), "{e}");
        let e = resolve(&runs.join("nope@latest"), Pick::Best).unwrap_err();
        assert!(e.contains("no run of experiment `nope`"), "{e}");
    }

    #[test]
    fn rebased_data_paths_are_found_from_the_run_directory() {
        let d = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(d.path()).expect("canonical");
        fs::create_dir_all(root.join("experiments")).expect("mkdir");
        fs::create_dir_all(root.join("runs/x-20261202-000000")).expect("mkdir");
        fs::write(root.join("data.txt"), "hello\n").expect("data");
        let mut exp = crate::config::parse_str("[data]\nfiles = [\"../data.txt\"]\n", &root.join("experiments/x.toml"))
            .expect("experiment");
        exp.path = Some(root.join("experiments/x.toml"));
        let run = root.join("runs/x-20261202-000000");
        let r = rebased_for(&exp, &run);
        assert_eq!(r.data.files, ["../../data.txt"]);
        let mut back = r.clone();
        back.path = Some(run.join("config.toml"));
        assert_eq!(back.resolve_files().expect("found").len(), 1);
    }
}
