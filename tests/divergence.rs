//! A run whose parameters become non-finite: nothing broken is ever saved, a good checkpoint is
//! never overwritten with a broken one, and the run says so.

#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::sync::mpsc;
use std::time::Duration;

use rnn_lab::train::checkpoint;
use rnn_lab::train::protocol::{Command, Event};
use rnn_lab::train::{worker, OnDivergence, RunEnd, RunOptions};
use tiny_run::{experiment, options, run_dir, trainer};

/// SGD without clipping at a learning rate that is infinite in f32: step 1 blows up.
const WILD: &str = "optimizer = \"sgd\"\nlr = 1e300\nclip_norm = 0\nsteps = 50\nlog_every = 1\ncheckpoint_every = 0";

#[test]
fn a_run_that_diverges_before_its_first_checkpoint_saves_nothing_broken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trainer = trainer(dir.path(), WILD);
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    let worker = std::thread::spawn(move || worker::run(trainer, crx, etx));
    let mut diverged = None;
    for ev in erx.iter() {
        if let Event::Diverged { step, what } = &ev {
            diverged = Some((*step, what.clone()));
            // What the TUI's quit-and-save and headless do after a divergence.
            let _ = ctx.send(Command::Stop);
        }
    }
    let end = worker.join().expect("worker");
    let (step, what) = diverged.expect("no Diverged event");
    assert_eq!(step, 1, "{what}");
    assert!(
        what.contains("no checkpoint had been saved: rolled back to the initial parameters (step 0)"),
        "{what}"
    );
    // Paused, rolled back to step 0, then stopped: the initial parameters are what is saved.
    assert_eq!(end, RunEnd::Finished { step: 0 });
    let rd = run_dir(&dir.path().join("runs"));
    for f in ["latest.safetensors", "best.safetensors"] {
        let p = rd.join(f);
        if p.exists() {
            let c = checkpoint::load(&p).unwrap_or_else(|e| panic!("a broken checkpoint was saved: {e}"));
            assert!(c.model.params.first_non_finite().is_none());
        }
    }
}

#[test]
fn with_on_divergence_stop_the_run_ends_diverged_and_saves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exp = experiment(dir.path(), WILD);
    let opts = RunOptions {
        on_divergence: OnDivergence::Stop,
        ..options(dir.path())
    };
    let w = rnn_lab::train::start(exp, opts).expect("start");
    let events: Vec<Event> = w.events.iter().collect();
    let end = w.thread.join().expect("thread").expect("prepared");
    let RunEnd::Diverged { step, what } = end else {
        panic!("{end:?}")
    };
    assert_eq!(step, 1);
    assert!(what.contains("non-finite") && what.contains("parameter"), "{what}");
    assert!(
        matches!(events.last(), Some(Event::Diverged { step: 1, .. })),
        "the run's last event: {events:#?}"
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::Checkpointed { .. } | Event::Finished { .. })));
    let rd = run_dir(&dir.path().join("runs"));
    assert!(!rd.join("latest.safetensors").exists() && !rd.join("best.safetensors").exists());
}

#[test]
fn a_diverged_run_rolls_back_to_its_last_checkpoint_and_can_go_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trainer = trainer(
        dir.path(),
        "optimizer = \"sgd\"\nlr = 0.1\nclip_norm = 0\nsteps = 8\nlog_every = 1\ncheckpoint_every = 0\nprobe_every = 0",
    );
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    // Paused from the start, so every step below happens on command.
    ctx.send(Command::Pause).expect("send");
    let worker = std::thread::spawn(move || worker::run(trainer, crx, etx));
    let next = || erx.recv_timeout(Duration::from_secs(120)).expect("an event");
    assert!(matches!(next(), Event::Started(_)));
    assert_eq!(next(), Event::Paused);
    // Four sane steps and a checkpoint at step 4.
    for _ in 0..4 {
        ctx.send(Command::StepOnce).expect("send");
        assert!(matches!(next(), Event::Step(_)));
    }
    ctx.send(Command::SaveNow).expect("send");
    assert!(matches!(next(), Event::Checkpointed { step: 4, .. }));
    // Step 5 at an infinite learning rate blows up; the run goes back to step 4 and pauses.
    ctx.send(Command::SetLr(1e300)).expect("send");
    ctx.send(Command::StepOnce).expect("send");
    let Event::Diverged { step, what } = next() else {
        panic!("expected Diverged")
    };
    assert_eq!(step, 5, "{what}");
    assert!(what.contains("rolled back to the checkpoint of step 4"), "{what}");
    assert_eq!(next(), Event::Paused);
    // A sane learning rate again: steps 5 to 8 run from the checkpoint's state.
    ctx.send(Command::SetLr(0.1)).expect("send");
    ctx.send(Command::Resume).expect("send");
    assert_eq!(next(), Event::Resumed);
    let mut steps = Vec::new();
    let end = loop {
        match next() {
            Event::Step(m) => steps.push(m.step),
            Event::Finished { step } => break step,
            _ => {}
        }
    };
    assert_eq!(end, 8);
    assert_eq!(steps.first(), Some(&5), "training went on from step 4: {steps:?}");
    assert_eq!(worker.join().expect("worker"), RunEnd::Finished { step: 8 });
    let c = checkpoint::load(&run_dir(&dir.path().join("runs")).join("latest.safetensors")).expect("load");
    assert_eq!(c.step, 8);
}

#[test]
fn save_refuses_non_finite_tensors_and_keeps_the_good_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trainer = trainer(dir.path(), "steps = 2\nlog_every = 1");
    let (_ctx, crx) = mpsc::channel();
    let (etx, _erx) = mpsc::channel();
    worker::run(trainer, crx, etx);
    let latest = run_dir(&dir.path().join("runs")).join("latest.safetensors");
    let good = std::fs::read(&latest).expect("read");
    let mut data = checkpoint::load(&latest).expect("load");
    data.model.params.values[1][[0, 0]] = f32::NAN;
    let err = checkpoint::save(&latest, &data).expect_err("a NaN parameter was saved");
    let msg = err.to_string();
    assert!(
        msg.contains("latest.safetensors") && msg.contains(&data.model.params.names[1]),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&latest).expect("read"),
        good,
        "the good checkpoint was touched"
    );
    // Optimizer state too.
    let mut data = checkpoint::load(&latest).expect("load");
    if let Some(o) = data.optim.as_mut() {
        o.s1.values[0][[0, 0]] = f32::INFINITY;
    }
    assert!(
        checkpoint::save(&latest, &data).is_err(),
        "an infinite optimizer state was saved"
    );
    assert_eq!(std::fs::read(&latest).expect("read"), good);
}
