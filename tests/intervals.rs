//! `eval_every`, `checkpoint_every`, `sample_every` and `probe_every`: 0 means what the docs say
//! (evaluate and checkpoint only at the end, sample and probe only on request), counted through
//! the real trainer's events and its run directory.

#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::sync::mpsc;

use rnn_lab::train::protocol::{Command, Event, SampleRequest};
use rnn_lab::train::worker;
use tiny_run::{count, run_dir, trainer, Counts};

/// Run `training` for its steps with `commands` queued before the first step; the events.
fn run(training: &str, commands: Vec<Command>) -> (tempfile::TempDir, Vec<Event>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let trainer = trainer(dir.path(), training);
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    for c in commands {
        ctx.send(c).expect("queue command");
    }
    worker::run(trainer, crx, etx);
    drop(ctx);
    (dir, erx.try_iter().collect())
}

fn request() -> SampleRequest {
    SampleRequest {
        temperature: 0.5,
        top_k: 0,
        prime: "the ".into(),
        length: 10,
    }
}

fn samples_in(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join("samples.txt"))
        .expect("samples.txt")
        .lines()
        .filter(|l| l.starts_with("--- step"))
        .count()
}

fn evaluations_in(dir: &std::path::Path) -> usize {
    rnn_lab::train::rundir::read_metrics(dir)
        .iter()
        .filter(|m| m.val_loss.is_some())
        .count()
}

#[test]
fn zero_intervals_mean_at_the_end_or_on_request() {
    let zeros = "steps = 6\nlog_every = 1\neval_every = 0\ncheckpoint_every = 0\nsample_every = 0\nprobe_every = 0";
    // Nothing asked for: one evaluation and one checkpoint at the end, no sample, no probe.
    let (dir, events) = run(zeros, vec![]);
    let rd = run_dir(&dir.path().join("runs"));
    assert_eq!(
        count(&events),
        Counts {
            steps: 6,
            evaluations: 1,
            checkpoints: 1,
            samples: 0,
            probes: 0
        },
        "{events:#?}"
    );
    let last_step = events.iter().rev().find_map(|e| match e {
        Event::Step(m) => m.val_loss.map(|_| m.step),
        _ => None,
    });
    assert_eq!(last_step, Some(6), "the one evaluation is at the end");
    assert!(events.iter().any(|e| matches!(e, Event::Checkpointed { step: 6, .. })));
    assert_eq!(evaluations_in(&rd), 1);
    assert_eq!(samples_in(&rd), 0);
    assert!(!rd.join("probe.json").exists(), "probe_every = 0 probed anyway");
    assert!(rd.join("latest.safetensors").exists());

    // On request: exactly the sample and the probe asked for.
    let (dir, events) = run(zeros, vec![Command::Sample(request()), Command::Probe(None)]);
    let rd = run_dir(&dir.path().join("runs"));
    let c = count(&events);
    assert_eq!(
        (c.samples, c.probes, c.evaluations, c.checkpoints),
        (1, 1, 1, 1),
        "{events:#?}"
    );
    assert_eq!(samples_in(&rd), 1);
    assert!(rd.join("probe.json").exists());
}

#[test]
fn non_zero_intervals_count_as_documented() {
    let every = "steps = 6\nlog_every = 3\neval_every = 2\ncheckpoint_every = 3\nsample_every = 4\nprobe_every = 5";
    let (dir, events) = run(every, vec![]);
    let rd = run_dir(&dir.path().join("runs"));
    let c = count(&events);
    // Logged at 2 (eval), 3, 4 (eval), 6 (eval and log); evaluations at 2, 4, 6 (6 is the end too).
    assert_eq!(c.evaluations, 3, "{events:#?}");
    assert_eq!(c.steps, 4, "{events:#?}");
    // latest.safetensors at 3 and 6 (periodic), and at evaluations that improved (best); never
    // twice at one step.
    let saved: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Checkpointed { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    assert!(saved.contains(&3) && saved.contains(&6), "{saved:?}");
    assert!(saved.iter().all(|s| [2, 3, 4, 6].contains(s)), "{saved:?}");
    assert!(saved.windows(2).all(|w| w[0] < w[1]), "{saved:?}");
    // Sample at 4; probe at the start (step 0) and at 5.
    assert_eq!(c.samples, 1);
    let probes: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Probe(p) => Some(p.step),
            _ => None,
        })
        .collect();
    assert_eq!(probes, vec![0, 5]);
    assert_eq!(samples_in(&rd), 1);
    assert_eq!(evaluations_in(&rd), 3);
}
