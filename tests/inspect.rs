//! A checkpoint opened for inspection (`train::inspect`): the thread the TUI asks for samples,
//! probes and evaluations when no run is training.

#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use rnn_lab::train::inspect;
use rnn_lab::train::protocol::{Command, Event, SampleRequest};
use rnn_lab::train::start;
use tiny_run::{experiment, options, run_dir};

fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(Duration::from_secs(120))
        .expect("an event from the inspector")
}

/// Train the tiny experiment for a few steps (evaluated at the end); its run directory.
fn trained(dir: &std::path::Path) -> PathBuf {
    let exp = experiment(
        dir,
        "steps = 6\nlog_every = 3\neval_every = 0\nsample_every = 0\nprobe_every = 0",
    );
    let opts = options(dir);
    let w = start(exp, opts).expect("start");
    w.thread.join().expect("thread").expect("trained");
    run_dir(&dir.join("runs"))
}

#[test]
fn an_inspected_checkpoint_samples_anew_and_evaluates_like_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rd = trained(dir.path());
    // The run's own final evaluation, from metrics.jsonl.
    let lines = std::fs::read_to_string(rd.join("metrics.jsonl")).expect("metrics");
    let last: rnn_lab::train::protocol::Metrics =
        serde_json::from_str(lines.lines().last().expect("a line")).expect("metrics line");
    assert_eq!(last.step, 6);
    let run_val = last.val_loss.expect("evaluated at the end");

    let (tx, rx) = inspect::spawn(rd.join("latest.safetensors")).expect("thread");
    match next(&rx) {
        Event::Started(i) => {
            assert_eq!((i.name.as_str(), i.start_step, &i.run_dir), ("tiny", 6, &rd));
            assert!(i.model.starts_with("lstm 1×8"), "{}", i.model);
        }
        other => panic!("{other:?}"),
    }

    // Two presses of g at the same settings: two draws (seeded by the press count).
    let req = SampleRequest {
        temperature: 1.0,
        top_k: 0,
        prime: "the ".into(),
        length: 40,
    };
    let mut texts = Vec::new();
    for _ in 0..2 {
        tx.send(Command::Sample(req.clone())).expect("send");
        match next(&rx) {
            Event::Sample(s) => {
                assert_eq!(s.step, 6);
                texts.push(s.text.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_ne!(texts[0], texts[1], "each press draws anew");

    // Evaluate: the run's own validation figure at that step, twice (the data is read once).
    for _ in 0..2 {
        tx.send(Command::Evaluate).expect("send");
        match next(&rx) {
            Event::Step(m) => assert_eq!((m.step, m.val_loss), (6, Some(run_val))),
            other => panic!("{other:?}"),
        }
    }
    // Training commands are refused with a word, and nothing is written.
    tx.send(Command::StepOnce).expect("send");
    assert!(matches!(next(&rx), Event::Warning(m) if m.contains("not training")));
    tx.send(Command::Stop).expect("send");
    assert_eq!(
        std::fs::read_to_string(rd.join("metrics.jsonl")).expect("metrics"),
        lines,
        "inspecting writes nothing"
    );
}

#[test]
fn a_checkpoint_away_from_its_data_says_why_it_cannot_evaluate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rd = trained(dir.path());
    // Alone in another folder: no config.toml beside it, and the checkpoint's own config names
    // corpus.txt relative to a folder that does not hold it.
    let away = dir.path().join("away");
    std::fs::create_dir(&away).expect("mkdir");
    std::fs::copy(rd.join("latest.safetensors"), away.join("x.safetensors")).expect("copy");
    let (tx, rx) = inspect::spawn(away.join("x.safetensors")).expect("thread");
    assert!(matches!(next(&rx), Event::Started(_)));
    tx.send(Command::Evaluate).expect("send");
    match next(&rx) {
        Event::Warning(m) => assert!(m.contains("cannot evaluate") && m.contains("corpus.txt"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Sampling still works: it needs only the checkpoint.
    tx.send(Command::Sample(SampleRequest {
        temperature: 0.0,
        top_k: 0,
        prime: "the".into(),
        length: 5,
    }))
    .expect("send");
    assert!(matches!(next(&rx), Event::Sample(s) if s.text.chars().count() == 5));
}
