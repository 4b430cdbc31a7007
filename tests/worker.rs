//! The real trainer thread at the channel level: every command, and the two ways the other side
//! can go away. (The TUI's own tests drive a fake backend; these drive `train::start`.)

#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use rnn_lab::train::checkpoint;
use rnn_lab::train::protocol::{Command, Event, SampleRequest};
use rnn_lab::train::{start, RunEnd, RunOptions, Worker};
use tiny_run::{experiment, options, run_dir};

/// Periodic work off, a metrics line per step, and (practically) no end.
const ENDLESS: &str =
    "steps = 100000000\nlog_every = 1\neval_every = 0\ncheckpoint_every = 0\nsample_every = 0\nprobe_every = 0";

fn begin(dir: &std::path::Path, training: &str) -> Worker {
    let exp = experiment(dir, training);
    let opts = options(dir);
    start(exp, opts).expect("start the trainer thread")
}

/// The next event; a generous bound only so that a broken worker fails instead of hanging.
fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(Duration::from_secs(120))
        .expect("an event from the trainer")
}

fn step_of(e: &Event) -> u64 {
    match e {
        Event::Step(m) => m.step,
        other => panic!("expected a Step event, got {other:?}"),
    }
}

/// Send Pause and read events up to `Paused`: the last step done before it.
fn pause(w: &Worker, mut last: u64) -> u64 {
    w.commands.send(Command::Pause).expect("send");
    loop {
        match next(&w.events) {
            Event::Paused => return last,
            Event::Step(m) => {
                assert_eq!(m.step, last + 1, "steps are logged one by one");
                last = m.step;
            }
            other => panic!("unexpected before Paused: {other:?}"),
        }
    }
}

#[test]
fn every_command_of_the_real_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = begin(dir.path(), ENDLESS);
    let Event::Started(info) = next(&w.events) else {
        panic!("the first event is Started")
    };
    assert_eq!((info.start_step, info.total_steps), (0, 100_000_000));
    let rd = info.run_dir.clone();

    // Pause: the worker stops stepping (whatever it did before the command arrived).
    let k = pause(&w, 0);

    // StepOnce: exactly one step, logged, then paused again (the next command answers next).
    w.commands.send(Command::StepOnce).expect("send");
    assert_eq!(step_of(&next(&w.events)), k + 1);

    // SetLr: the next step uses it; a bad one is refused with a warning.
    w.commands.send(Command::SetLr(0.0125)).expect("send");
    w.commands.send(Command::SetLr(-1.0)).expect("send");
    assert!(matches!(next(&w.events), Event::Warning(m) if m.contains("learning rate -1")));
    w.commands.send(Command::StepOnce).expect("send");
    match next(&w.events) {
        Event::Step(m) => assert_eq!((m.step, m.lr), (k + 2, 0.0125)),
        other => panic!("{other:?}"),
    }

    // Sample: one sample of the current model with these settings, also in samples.txt.
    let req = SampleRequest {
        temperature: 0.0,
        top_k: 0,
        prime: "the ".into(),
        length: 7,
    };
    w.commands.send(Command::Sample(req.clone())).expect("send");
    match next(&w.events) {
        Event::Sample(s) => {
            assert_eq!((s.step, &s.request), (k + 2, &req));
            assert_eq!(s.text.chars().count(), 7);
            let file = std::fs::read_to_string(rd.join("samples.txt")).expect("samples.txt");
            assert!(
                file.contains(&format!("--- step {}, temperature 0 ---\n{}\n", k + 2, s.text)),
                "{file}"
            );
        }
        other => panic!("{other:?}"),
    }

    // Probe with a text: a report over its tokens (12 characters: 11 inputs, each predicting
    // the next; spaces shown as ␣), written to probe.json; too short a text is refused with a warning and the
    // previous one probed again.
    w.commands
        .send(Command::Probe(Some("the lazy dog".into())))
        .expect("send");
    match next(&w.events) {
        Event::Probe(p) => {
            assert_eq!((p.step, p.tokens.concat()), (k + 2, "the␣lazy␣do".to_string()));
        }
        other => panic!("{other:?}"),
    }
    assert!(rd.join("probe.json").exists());
    w.commands.send(Command::Probe(Some("t".into()))).expect("send");
    assert!(matches!(next(&w.events), Event::Warning(m) if m.contains("at least 2")));
    assert!(matches!(next(&w.events), Event::Probe(p) if p.tokens.len() == 11));

    // SaveNow: latest.safetensors at this step.
    w.commands.send(Command::SaveNow).expect("send");
    match next(&w.events) {
        Event::Checkpointed { path, step, best } => {
            assert_eq!((step, best), (k + 2, false));
            assert_eq!(checkpoint::load(&path).expect("loads").step, k + 2);
        }
        other => panic!("{other:?}"),
    }

    // Resume: stepping goes on from where it was; Pause stops it again.
    w.commands.send(Command::Resume).expect("send");
    assert_eq!(next(&w.events), Event::Resumed);
    assert_eq!(step_of(&next(&w.events)), k + 3);
    let j = pause(&w, k + 3);

    // Stop: the final evaluation, the best and latest checkpoints at that step, Finished.
    w.commands.send(Command::Stop).expect("send");
    match next(&w.events) {
        Event::Step(m) => {
            assert_eq!(m.step, j);
            assert!(m.val_loss.is_some_and(f64::is_finite), "{m:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(next(&w.events), Event::Checkpointed { step, best: true, .. } if step == j));
    assert_eq!(next(&w.events), Event::Finished { step: j });
    assert!(w.events.recv().is_err(), "the worker hangs up after Finished");
    assert_eq!(
        w.thread.join().expect("thread").expect("prepared"),
        RunEnd::Finished { step: j }
    );
    assert_eq!(run_dir(&dir.path().join("runs")), rd);
    assert_eq!(checkpoint::load(&rd.join("latest.safetensors")).expect("load").step, j);
}

#[test]
fn a_failed_send_ends_the_worker_which_saves_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Worker {
        commands,
        events,
        thread,
    } = begin(dir.path(), ENDLESS);
    assert!(matches!(next(&events), Event::Started(_)));
    // The UI goes away without a word (its receiver dropped); the commands side stays open.
    drop(events);
    let end = thread.join().expect("thread").expect("prepared");
    let RunEnd::Disconnected { step } = end else {
        panic!("{end:?}")
    };
    assert!(step >= 1, "it trained until a send failed");
    let rd = run_dir(&dir.path().join("runs"));
    assert_eq!(
        checkpoint::load(&rd.join("latest.safetensors")).expect("saved").step,
        step
    );
    drop(commands);
}

#[test]
fn a_closed_command_channel_ends_the_worker_which_saves_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = begin(dir.path(), ENDLESS);
    assert!(matches!(next(&w.events), Event::Started(_)));
    let k = pause(&w, 0);
    w.commands.send(Command::StepOnce).expect("send");
    assert_eq!(step_of(&next(&w.events)), k + 1);
    // Paused and waiting for a command when the sender goes.
    drop(w.commands);
    let mut rest: Vec<Event> = w.events.iter().collect();
    assert!(
        matches!(rest.pop(), Some(Event::Finished { step }) if step == k + 1),
        "{rest:?}"
    );
    assert!(
        matches!(rest.pop(), Some(Event::Checkpointed { step, .. }) if step == k + 1),
        "{rest:?}"
    );
    assert_eq!(
        w.thread.join().expect("thread").expect("prepared"),
        RunEnd::Disconnected { step: k + 1 }
    );
}

#[test]
fn a_run_that_cannot_start_says_why_on_both_channels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exp = experiment(dir.path(), "steps = 3");
    exp.data.files = vec!["absent.txt".into()];
    let w = start(exp, RunOptions::default()).expect("start");
    let Event::Failed(msg) = next(&w.events) else {
        panic!("expected Failed")
    };
    assert!(msg.contains("absent.txt"), "{msg}");
    let err = w.thread.join().expect("thread").expect_err("no run");
    assert!(err.is_input(), "{err}");
    assert_eq!(err.to_string(), msg);
}

#[test]
fn evaluate_now_while_paused_then_from_the_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = begin(dir.path(), ENDLESS);
    let Event::Started(info) = next(&w.events) else {
        panic!("the first event is Started")
    };
    let k = pause(&w, 0);
    w.commands.send(Command::StepOnce).expect("send");
    assert_eq!(step_of(&next(&w.events)), k + 1);

    // Evaluate while paused (eval_every = 0: nothing evaluated before): the scheduled
    // evaluation's answer at this step, logged to metrics.jsonl, and the first evaluation is
    // the best so far, so the best checkpoint follows. The worker stays paused.
    w.commands.send(Command::Evaluate).expect("send");
    let val = match next(&w.events) {
        Event::Step(m) => {
            assert_eq!(m.step, k + 1);
            let v = m.val_loss.expect("a validation loss");
            assert!(v.is_finite() && v > 0.0, "{m:?}");
            assert!((m.bits_per_token - v / std::f64::consts::LN_2).abs() < 1e-12);
            v
        }
        other => panic!("expected the evaluation's Step, got {other:?}"),
    };
    let best = match next(&w.events) {
        Event::Checkpointed { path, step, best: true } if step == k + 1 => path,
        other => panic!("expected the best checkpoint, got {other:?}"),
    };
    let lines = std::fs::read_to_string(info.run_dir.join("metrics.jsonl")).expect("metrics.jsonl");
    let logged = lines
        .lines()
        .filter(|l| l.contains("\"val_loss\":") && !l.contains("\"val_loss\":null"))
        .count();
    assert_eq!(logged, 1, "{lines}");
    w.commands.send(Command::StepOnce).expect("send");
    assert_eq!(step_of(&next(&w.events)), k + 2, "still paused: one step, no more");

    // The same figure from the checkpoint, by the inspector (the run's config.toml finds the
    // data): the same parameters on the same validation batches.
    let (tx, rx) = rnn_lab::train::inspect::spawn(best).expect("inspector");
    match next(&rx) {
        Event::Started(i) => assert_eq!((i.start_step, &i.run_dir), (k + 1, &info.run_dir)),
        other => panic!("{other:?}"),
    }
    tx.send(Command::Evaluate).expect("send");
    match next(&rx) {
        Event::Step(m) => {
            assert_eq!((m.step, m.val_loss), (k + 1, Some(val)));
            assert!(m.train_loss.is_nan() && m.task.is_none(), "{m:?}");
        }
        other => panic!("{other:?}"),
    }
    w.commands.send(Command::Stop).expect("send");
    let rest: Vec<Event> = w.events.iter().collect();
    assert!(matches!(rest.last(), Some(Event::Finished { .. })), "{rest:?}");
}
