//! Probing a many-to-one task's checkpoint opened for inspection (`p` in the TUI after
//! `rnn-lab RUN_DIR`): the adding problem's first validation sequence, with the gradient norms
//! of its one final output's loss at every step.

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use rnn_lab::train::inspect;
use rnn_lab::train::protocol::{Command, Event};
use rnn_lab::train::{start, RunOptions};

fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(Duration::from_secs(120))
        .expect("an event from the inspector")
}

/// Train a tiny adding-problem model for a few steps; its checkpoint.
fn trained(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("adding.toml");
    std::fs::write(
        &file,
        "[experiment]\nname = \"adding\"\nseed = 3\n\n[task]\ngenerator = \"adding\"\nlength = 12\n\n\
         [model]\ncell = \"lstm\"\nhidden = 6\n\n\
         [training]\nsteps = 4\nbatch_size = 8\nlog_every = 2\neval_every = 0\ncheckpoint_every = 0\n\
         probe_every = 0\n",
    )
    .expect("write");
    let exp = rnn_lab::config::load(&file).expect("a valid experiment");
    let opts = RunOptions {
        out: Some(dir.join("runs")),
        threads: Some(1),
        ..RunOptions::default()
    };
    let w = start(exp, opts).expect("start");
    w.thread.join().expect("thread").expect("trained");
    let run = std::fs::read_dir(dir.join("runs"))
        .expect("runs")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .next()
        .expect("a run directory");
    run.join("latest.safetensors")
}

#[test]
fn an_inspected_adding_checkpoint_probes_its_first_validation_sequence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ckpt = trained(dir.path());
    let (tx, rx) = inspect::spawn(ckpt).expect("thread");
    assert!(matches!(next(&rx), Event::Started(_)));
    tx.send(Command::Probe(None)).expect("send");
    let r = match next(&rx) {
        Event::Probe(r) => r,
        other => panic!("expected a probe, got {other:?}"),
    };
    assert!(r.one_output(), "one output per sequence");
    // Lengths from [T, T + T/10] = [12, 13]; each step's input is its (value, marker) pair.
    let t = r.tokens.len();
    assert!((12..=13).contains(&t), "{t}");
    assert!(r.tokens[0].contains(','), "{:?}", r.tokens[0]);
    let g = &r.dirs[0].grad_norm;
    assert_eq!(g.len(), t);
    assert!(g.iter().all(|x| x.is_finite() && *x > 0.0), "{g:?}");
    // A probe text does not apply to real-valued inputs: said, and the sequence kept.
    tx.send(Command::Probe(Some("1 2 3".into()))).expect("send");
    match next(&rx) {
        Event::Warning(w) => assert!(w.contains("real-valued"), "{w}"),
        other => panic!("expected a warning, got {other:?}"),
    }
    assert!(matches!(next(&rx), Event::Probe(_)));
    tx.send(Command::Stop).expect("send");
}
