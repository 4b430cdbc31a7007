//! The Slurm executor: one batch script with one array task per point left
//! (`--array=0-11%4`), each task `rnn-lab sweep-point DIR $SLURM_ARRAY_TASK_ID`; submitted with
//! `sbatch`, followed with `squeue` and the points' own status files (clusters without
//! accounting storage have nothing in `sacct`), cancelled with `scancel`. Every command has a
//! time-out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::external::{self, ExternalError};
use super::layout::{write_atomic, Manifest, PointState, SweepDir};
use super::local::{Progress, Summary};
use super::spec::SlurmSpec;
use super::SweepError;

/// Time-out of sbatch and scancel.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time-out of one squeue.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// squeue may fail this long in a row (controller restarting) before following gives up.
const QUERY_PATIENCE: Duration = Duration::from_secs(120);

/// `slurm/job.json`: the job a sweep was last submitted as.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Job id (the array's).
    pub job: String,
    /// Point indices in the array.
    pub indices: Vec<usize>,
    /// When it was submitted (seconds since 1970).
    pub submitted: f64,
}

impl JobRecord {
    /// The record of the sweep's last job, if any.
    pub fn read(dir: &SweepDir) -> Option<JobRecord> {
        let s = std::fs::read_to_string(dir.slurm_dir().join("job.json")).ok()?;
        serde_json::from_str(&s).ok()
    }

    fn write(&self, dir: &SweepDir) -> Result<(), SweepError> {
        let p = dir.slurm_dir().join("job.json");
        let s = serde_json::to_string_pretty(self).map_err(|e| SweepError::System(e.to_string()))?;
        write_atomic(&p, s.as_bytes()).map_err(|e| SweepError::io(&p, &e))
    }
}

/// `--array` value: runs of indices as ranges (`0-3,5,7-9`), then `%M`.
pub fn array_spec(indices: &[usize], max_running: Option<usize>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    let mut s = parts.join(",");
    if let Some(m) = max_running {
        s.push_str(&format!("%{m}"));
    }
    s
}

/// A word for a shell script, in single quotes.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The batch script for `indices` of the sweep in `root` (absolute), running `exe`.
pub fn script(name: &str, sweep_file: &Path, root: &Path, indices: &[usize], s: &SlurmSpec, exe: &Path) -> String {
    let mut out = String::from("#!/bin/bash\n");
    out.push_str(&format!(
        "# rnn-lab sweep \"{name}\" ({}): one array task per point; each task trains its point\n\
         # (resuming from its latest checkpoint) and writes status/<point>.json.\n",
        sweep_file.display()
    ));
    let job_name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut opt = |o: String| out.push_str(&format!("#SBATCH {o}\n"));
    opt(format!("--job-name=rnn-lab-{job_name}"));
    opt(format!("--array={}", array_spec(indices, s.max_running)));
    opt("--nodes=1".into());
    opt("--ntasks=1".into());
    opt(format!("--cpus-per-task={}", s.cpus));
    if let Some(m) = &s.mem {
        opt(format!("--mem={m}"));
    }
    if let Some(t) = &s.time {
        opt(format!("--time={t}"));
    }
    if let Some(p) = &s.partition {
        opt(format!("--partition={p}"));
    }
    opt(format!(
        "--output={}",
        root.join("logs").join("slurm-%A_%a.out").display()
    ));
    opt(format!("--chdir={}", root.display()));
    for extra in &s.sbatch {
        opt(extra.clone());
    }
    out.push_str("set -u\n");
    for line in &s.setup {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(
        "exec {} sweep-point {} \"$SLURM_ARRAY_TASK_ID\" --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        quote(&exe.display().to_string()),
        quote(&root.display().to_string())
    ));
    out
}

fn missing(program: &str) -> SweepError {
    SweepError::Input(format!(
        "{program} not found: Slurm's commands are not installed here or not on PATH; run the sweep with --executor local, or from a machine that submits to your cluster"
    ))
}

fn external(e: ExternalError) -> SweepError {
    match e {
        ExternalError::Missing { program } => missing(&program),
        ExternalError::Timeout { program, secs } => SweepError::System(format!(
            "{program} did not answer within {secs} s: is slurmctld reachable (try `sinfo`)?"
        )),
        ExternalError::Io { .. } => SweepError::System(e.to_string()),
    }
}

/// Submit `script_path`; the job id.
///
/// # Errors
/// [`SweepError::Input`] when sbatch is missing or refuses the job (its message, e.g. an
/// unknown partition); [`SweepError::System`] when it does not answer.
pub fn submit(script_path: &Path) -> Result<String, SweepError> {
    let o = external::run(
        "sbatch",
        &["--parsable".into(), script_path.display().to_string()],
        SUBMIT_TIMEOUT,
    )
    .map_err(external)?;
    if !o.status.success() {
        let line = o.first_line();
        let msg = line.strip_prefix("sbatch: error: ").unwrap_or(&line);
        let lower = msg.to_lowercase();
        // The cluster not answering is the system's trouble (1); a refused request is the
        // sweep file's (2: partition, time, memory, account…).
        if [
            "unable to contact",
            "connect failure",
            "timed out",
            "connection refused",
            "communication",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            return Err(SweepError::System(format!("sbatch could not reach Slurm: {msg}")));
        }
        return Err(SweepError::Input(format!("sbatch refused the job: {msg}")));
    }
    let job = o.stdout.trim().split(';').next().unwrap_or("").trim().to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        return Err(SweepError::System(format!(
            "sbatch printed no job id: {}",
            o.first_line()
        )));
    }
    Ok(job)
}

/// The states of the job's array tasks still in the queue: index → state (`PENDING`, …).
/// Empty when the job has left the queue.
///
/// # Errors
/// squeue missing, not answering, or failing for another reason than an unknown job.
pub fn task_states(job: &str) -> Result<BTreeMap<usize, String>, SweepError> {
    task_states_within(job, QUERY_TIMEOUT)
}

/// [`task_states`] with squeue given `timeout` to answer.
///
/// # Errors
/// As [`task_states`].
pub fn task_states_within(job: &str, timeout: Duration) -> Result<BTreeMap<usize, String>, SweepError> {
    let o = external::run(
        "squeue",
        &[
            "--noheader".into(),
            "--array".into(),
            format!("--jobs={job}"),
            "--format=%i|%T".into(),
        ],
        timeout,
    )
    .map_err(external)?;
    if !o.status.success() {
        // A job that has left the controller's memory is "invalid": nothing in the queue.
        if o.stderr.to_lowercase().contains("invalid job id") {
            return Ok(BTreeMap::new());
        }
        return Err(SweepError::System(format!("squeue failed: {}", o.first_line())));
    }
    let mut out = BTreeMap::new();
    for line in o.stdout.lines() {
        let Some((id, state)) = line.trim().split_once('|') else {
            continue;
        };
        let Some((j, task)) = id.split_once('_') else { continue };
        if j != job {
            continue;
        }
        // A pending array not yet split shows as `123_[4-7%2]`: expand the ranges.
        let task = task.trim_start_matches('[').trim_end_matches(']');
        let task = task.split('%').next().unwrap_or("");
        for part in task.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                for i in a..=b.min(a + 100_000) {
                    out.insert(i, state.trim().to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Cancel the job (every task); running tasks get SIGTERM and save a checkpoint.
///
/// # Errors
/// scancel missing, not answering or failing.
pub fn cancel(job: &str) -> Result<(), SweepError> {
    let o = external::run("scancel", &[job.to_string()], SUBMIT_TIMEOUT).map_err(external)?;
    if !o.status.success() {
        return Err(SweepError::System(format!("scancel {job} failed: {}", o.first_line())));
    }
    Ok(())
}

/// Write the batch script for the points of `m` that are not done and submit it; the job.
///
/// # Errors
/// As [`submit`]; file-system trouble.
pub fn start(
    dir: &SweepDir,
    m: &Manifest,
    indices: &[usize],
    s: &SlurmSpec,
    exe: &Path,
) -> Result<JobRecord, SweepError> {
    let root = std::path::absolute(&dir.root).map_err(|e| SweepError::io(&dir.root, &e))?;
    let text = script(&m.name, Path::new(&m.sweep_file), &root, indices, s, exe);
    let sd = dir.slurm_dir();
    std::fs::create_dir_all(&sd).map_err(|e| SweepError::io(&sd, &e))?;
    let path = sd.join("sweep.sbatch");
    write_atomic(&path, text.as_bytes()).map_err(|e| SweepError::io(&path, &e))?;
    let job = submit(&path)?;
    let rec = JobRecord {
        job,
        indices: indices.to_vec(),
        submitted: super::layout::now(),
    };
    rec.write(dir)?;
    Ok(rec)
}

/// Follow the job until its tasks have left the queue: report queue states and points ending
/// (from their status files). On `stop`, scancel it and wait (briefly) for its tasks to save.
///
/// # Errors
/// [`SweepError::Interrupted`] after a stop; [`SweepError::System`] when squeue keeps failing.
pub fn follow(
    dir: &SweepDir,
    m: &Manifest,
    rec: &JobRecord,
    stop: &AtomicBool,
    poll: Duration,
    on: &mut dyn FnMut(Progress),
) -> Result<Summary, SweepError> {
    let ids: BTreeMap<usize, &str> = rec
        .indices
        .iter()
        .filter_map(|&i| m.points.get(i).map(|p| (i, p.id.as_str())))
        .collect();
    let mut seen_queue: BTreeMap<usize, String> = BTreeMap::new();
    let mut seen_status: BTreeMap<usize, (PointState, u32)> = BTreeMap::new();
    let mut failing_since: Option<Instant> = None;
    let mut empty_polls = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            on(Progress::Note(format!("cancelling Slurm job {}", rec.job)));
            cancel(&rec.job)?;
            // Give running tasks their KillWait to save a checkpoint and write their status.
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until {
                match task_states(&rec.job) {
                    Ok(s) if s.is_empty() => break,
                    Err(_) => break,
                    _ => std::thread::sleep(poll.min(Duration::from_secs(1))),
                }
            }
            mark_lost(dir, &ids);
            let left = ids.keys().filter(|&&i| !done(dir, ids[&i])).count();
            return Err(SweepError::Interrupted(format!(
                "sweep {} interrupted: Slurm job {} cancelled, {left} point(s) left; run the same command again to resume them",
                m.name, rec.job
            )));
        }
        let states = match task_states(&rec.job) {
            Ok(s) => {
                failing_since = None;
                Some(s)
            }
            Err(e) if matches!(&e, SweepError::Input(_)) => return Err(e),
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > QUERY_PATIENCE {
                    return Err(SweepError::System(format!(
                        "{e}; gave up following job {} (it may still run: `rnn-lab sweep {} --executor slurm` follows it again)",
                        rec.job, m.sweep_file
                    )));
                }
                None
            }
        };
        for (&i, id) in &ids {
            if let Some(st) = dir.read_status(id) {
                let key = (st.state, st.attempts);
                if seen_status.get(&i) != Some(&key) {
                    seen_status.insert(i, key);
                    if st.state == PointState::Running {
                        on(Progress::Started {
                            id: id.to_string(),
                            attempt: st.attempts,
                            resume: None,
                        });
                    } else {
                        on(Progress::Ended {
                            id: id.to_string(),
                            status: st,
                        });
                    }
                }
            }
            if let Some(s) = &states {
                if let Some(q) = s.get(&i) {
                    if seen_queue.get(&i) != Some(q) {
                        seen_queue.insert(i, q.clone());
                        on(Progress::Queue {
                            id: id.to_string(),
                            state: q.clone(),
                        });
                    }
                }
            }
        }
        if let Some(s) = &states {
            // Two empty answers in a row: the job has left the queue.
            empty_polls = if s.is_empty() { empty_polls + 1 } else { 0 };
            if empty_polls >= 2 || ids.keys().all(|&i| done(dir, ids[&i])) && s.is_empty() {
                break;
            }
        }
        std::thread::sleep(poll);
    }
    mark_lost(dir, &ids);
    let mut summary = Summary::default();
    for id in ids.values() {
        match dir.read_status(id) {
            Some(st) => summary.count(id, &st),
            None => summary.left += 1,
        }
    }
    Ok(summary)
}

fn done(dir: &SweepDir, id: &str) -> bool {
    dir.read_status(id)
        .is_some_and(|s| s.state.is_final() || s.state == PointState::Failed)
}

/// Points still `running` after their job left the queue were killed without a word (time
/// limit, node failure, SIGKILL): mark them interrupted, to resume next time.
fn mark_lost(dir: &SweepDir, ids: &BTreeMap<usize, &str>) {
    for id in ids.values() {
        if let Some(mut st) = dir.read_status(id) {
            if st.state == PointState::Running {
                if let Some(t) = st.started.take() {
                    st.wall_s += (super::layout::now() - t).max(0.0);
                }
                st.state = PointState::Interrupted;
                st.pid = None;
                st.message = Some("the Slurm task ended without saying how (time limit? node failure?)".into());
                let _ = dir.write_status(id, &st);
            }
        }
    }
}

/// Exe path the tasks run: `[slurm] rnn_lab`, else this binary.
pub fn exe(s: &SlurmSpec) -> Result<PathBuf, SweepError> {
    match &s.rnn_lab {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe().map_err(|e| SweepError::System(format!("cannot find the rnn-lab binary: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ranges_compress() {
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7], None), "0,2-4,7");
        assert_eq!(array_spec(&[5], None), "5");
    }

    #[test]
    fn script_names_resources_and_quotes_paths() {
        let s = SlurmSpec {
            cpus: 2,
            mem: Some("2G".into()),
            time: Some("00:10:00".into()),
            partition: Some("debug".into()),
            max_running: Some(3),
            sbatch: vec!["--account=proj".into()],
            setup: vec!["module load x".into()],
            rnn_lab: None,
        };
        let t = script(
            "lr",
            Path::new("s.toml"),
            Path::new("/tmp/it's/sw"),
            &[0, 1, 2],
            &s,
            Path::new("/bin/rnn-lab"),
        );
        for want in [
            "#SBATCH --array=0-2%3",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --mem=2G",
            "#SBATCH --time=00:10:00",
            "#SBATCH --partition=debug",
            "#SBATCH --account=proj",
            "#SBATCH --output=/tmp/it's/sw/logs/slurm-%A_%a.out",
            "module load x\n",
            r"exec '/bin/rnn-lab' sweep-point '/tmp/it'\''s/sw' ",
        ] {
            assert!(t.contains(want), "{want} not in\n{t}");
        }
    }
}
