//! The word2vec screen: its state transitions, what it draws, and the loop driving a real
//! session on a tiny corpus with scripted keys (a watched word typed in shows its neighbours;
//! q stops, saves and quits).

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use rnn_lab::tui::w2v::state::{from_key, update, RunState, W2vAction, W2vApp, W2vEffect};
use rnn_lab::tui::w2v::{self, run_loop};
use rnn_lab::tui::{Input, TuiError};
use rnn_lab::w2v::engine::{EpochReport, StepReport};
use rnn_lab::w2v::experiment;
use rnn_lab::w2v::session::{AnalogyScore, Command, Event, Info, SessionOptions, Snapshot, Watched};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn info() -> Info {
    Info {
        name: "tiny".into(),
        run_dir: "runs/tiny-x".into(),
        model: "skip-gram, negative sampling k=5, 12-d, window 3".into(),
        corpus_words: 2800,
        sentences: 400,
        vocab: 14,
        raw_types: 14,
        epochs: 4,
        total_steps: 16,
        until: 16,
        start_step: 0,
        threads: 1,
        unknown_watch: vec![],
    }
}

fn step(n: u64, loss: f64) -> StepReport {
    StepReport {
        step: n,
        total_steps: 16,
        epoch: 1 + ((n - 1) / 4) as u32,
        loss,
        examples: 1000,
        words: 700,
        trained_words: 700,
        lr: 0.02,
        words_per_s: 1.5e6,
        seconds: 0.1,
    }
}

fn snapshot(step: u64) -> Snapshot {
    Snapshot {
        step,
        epoch: step as f64 / 4.0,
        neighbours: vec![
            Watched {
                word: "sun".into(),
                known: true,
                neighbours: vec![("moon".into(), 0.93), ("sky".into(), 0.5)],
            },
            Watched {
                word: "zebra".into(),
                known: false,
                neighbours: vec![],
            },
        ],
        analogy: Some(AnalogyScore {
            accuracy: 0.5,
            semantic: 1.0,
            syntactic: 0.0,
            coverage: 1.0,
            answered: 2,
        }),
        pairs: vec![],
        projection: vec![
            ("the".into(), 0.0, 0.0),
            ("sun".into(), 1.0, 0.5),
            ("moon".into(), 0.9, 0.6),
        ],
    }
}

#[test]
fn events_fill_the_panes_and_keys_become_commands() {
    let mut app = W2vApp::new("tiny.toml", true);
    update(&mut app, W2vAction::Session(Event::Started(info())));
    assert_eq!(app.state, RunState::Running);
    for n in 1..=4 {
        update(&mut app, W2vAction::Session(Event::Step(step(n, 4.0 - n as f64 * 0.1))));
    }
    update(
        &mut app,
        W2vAction::Session(Event::Epoch(EpochReport {
            epoch: 1,
            loss: 3.75,
            examples: 4000,
            words: 2800,
            trained_words: 2800,
            seconds: 0.4,
            words_per_s: 7000.0,
        })),
    );
    update(&mut app, W2vAction::Session(Event::Snapshot(snapshot(4))));
    update(&mut app, W2vAction::Session(Event::Snapshot(snapshot(4))));
    assert_eq!(app.losses.len(), 4);
    assert_eq!(app.epoch_losses, [(4.0, 3.75)]);
    assert_eq!(app.analogy, [(4.0, 0.5)], "one point per step");
    assert_eq!((app.step, app.lr, app.words_per_s), (4, 0.02, 1.5e6));
    // Typing a word: w, letters, Enter → a Watch command; the footer shows the word meanwhile.
    for k in [
        KeyCode::Char('w'),
        KeyCode::Char('d'),
        KeyCode::Char('o'),
        KeyCode::Char('x'),
        KeyCode::Backspace,
        KeyCode::Char('g'),
    ] {
        let a = from_key(&app, key(k)).unwrap();
        update(&mut app, a);
    }
    assert_eq!(app.typing.as_deref(), Some("dog"));
    let a = from_key(&app, key(KeyCode::Enter)).unwrap();
    update(&mut app, a);
    assert_eq!(app.take_effects(), [W2vEffect::Send(Command::Watch("dog".into()))]);
    // d unwatches the last word; q stops, and quits once the session has ended.
    let a = from_key(&app, key(KeyCode::Char('d'))).unwrap();
    update(&mut app, a);
    assert_eq!(app.take_effects(), [W2vEffect::Send(Command::Unwatch("zebra".into()))]);
    let a = from_key(&app, key(KeyCode::Char('q'))).unwrap();
    update(&mut app, a);
    assert_eq!(app.take_effects(), [W2vEffect::Stop]);
    assert!(!app.quit);
    update(&mut app, W2vAction::Ended(Err("disk full".into())));
    assert!(app.quit);
}

fn text(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn the_screen_shows_status_neighbours_curves_and_the_map() {
    let mut app = W2vApp::new("tiny.toml", true);
    let mut t = Terminal::new(TestBackend::new(120, 36)).unwrap();
    t.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let empty = text(&t);
    assert!(
        empty.contains("READING THE CORPUS") && empty.contains("press w to type one"),
        "{empty}"
    );
    update(&mut app, W2vAction::Session(Event::Started(info())));
    for n in 1..=6 {
        update(&mut app, W2vAction::Session(Event::Step(step(n, 4.0 - n as f64 * 0.1))));
    }
    update(&mut app, W2vAction::Session(Event::Snapshot(snapshot(6))));
    t.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let s = text(&t);
    for want in [
        "TRAINING",
        "step 6/16",
        "loss 3.4000",
        "lr 0.02000",
        "words/s 1.5M",
        "sun: moon 0.93, sky 0.50",
        "zebra: not in the vocabulary",
        "analogy top-1 50.0% (sem 100.0%, syn 0.0%; coverage 100%)",
        "PCA of the 3 most frequent words",
        "loss per example",
    ] {
        assert!(s.contains(want), "`{want}` missing:\n{s}");
    }
    // The map labels its words.
    assert!(s.contains("moon") && s.contains("the"), "{s}");
    app.help = true;
    t.draw(|f| f.render_widget(&app, f.area())).unwrap();
    assert!(text(&t).contains("type a word to watch"));
}

/// Keys with waits between them; Wait sleeps up to the loop's timeout at a time.
enum Step {
    Key(KeyCode),
    Wait(Duration),
}

struct Script(VecDeque<Step>);

impl Input for Script {
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError> {
        match self.0.pop_front() {
            Some(Step::Key(c)) => Ok(Some(TermEvent::Key(key(c)))),
            Some(Step::Wait(d)) => {
                let slept = d.min(timeout);
                std::thread::sleep(slept);
                if d > slept {
                    self.0.push_front(Step::Wait(d - slept));
                }
                Ok(None)
            }
            None => {
                std::thread::sleep(timeout);
                Ok(None)
            }
        }
    }
}

#[test]
fn the_loop_drives_a_real_session_to_a_saved_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut c = String::new();
    for i in 0..400 {
        let (a, ctx) = match i % 4 {
            0 => ("sun", "bright sky shines above"),
            1 => ("moon", "bright sky shines above"),
            2 => ("cat", "pet purrs on sofa"),
            _ => ("dog", "pet purrs on sofa"),
        };
        c.push_str(&format!("the {a} {ctx} today\n"));
    }
    std::fs::write(d.join("c.txt"), c).unwrap();
    let exp_text = "[data]\nfiles = [\"c.txt\"]\nmin_count = 1\n[task]\nkind = \"word2vec\"\ndim = 12\nwindow = 3\nsample = 0\ntable_size = 10000\nstep_words = 700\nwatch = [\"sun\"]\n[training]\nepochs = 300\n";
    std::fs::write(d.join("t.toml"), exp_text).unwrap();
    let exp = experiment::load(&d.join("t.toml")).unwrap();
    let opts = SessionOptions {
        out: Some(d.join("runs")),
        threads: Some(1),
        projection: true,
        ..SessionOptions::default()
    };
    let worker = w2v::start(exp, opts).unwrap();
    let mut app = W2vApp::new("t.toml", true);
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut script = Script(VecDeque::from([
        Step::Wait(Duration::from_millis(100)),
        Step::Key(KeyCode::Char('w')),
        Step::Key(KeyCode::Char('c')),
        Step::Key(KeyCode::Char('a')),
        Step::Key(KeyCode::Char('t')),
        Step::Key(KeyCode::Enter),
        Step::Wait(Duration::from_millis(600)),
        Step::Key(KeyCode::Char('q')),
    ]));
    run_loop(&mut t, &mut app, &worker, &mut script, &AtomicBool::new(false)).unwrap();
    worker.thread.join().unwrap();
    let RunState::Ended(sum) = &app.state else {
        panic!("{:?}", app.state)
    };
    assert!(sum.step > 0);
    assert!(sum.run_dir.join("latest.safetensors").is_file() && sum.vectors.is_file());
    let snap = app.snapshot.as_ref().unwrap();
    let words: Vec<&str> = snap.neighbours.iter().map(|w| w.word.as_str()).collect();
    assert_eq!(words, ["sun", "cat"]);
    assert_eq!(snap.projection.len(), 14);
    assert!(!app.losses.is_empty() && app.words_per_s > 0.0);
}
