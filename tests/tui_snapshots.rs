//! Whole-layout snapshots with `TestBackend` in every mode at 80×24 and 160×48, and the
//! small-terminal cases. Write new snapshots with `INSTA_UPDATE=always cargo test`, then review
//! the `.snap` files.

#[path = "support/fake_backend.rs"]
mod fake_backend;
#[path = "support/fixtures.rs"]
mod fixtures;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::tui::app::App;

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| f.render_widget(app, f.area())).expect("draw");
    t
}

fn snap(name: &str, app: &App) {
    for (w, h) in [(80, 24), (160, 48)] {
        let t = draw(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

#[test]
fn browser_mode() {
    snap("browser", &fixtures::browser());
}

#[test]
fn training_mode() {
    snap("training", &fixtures::training(620));
}

#[test]
fn paused_mode() {
    snap("paused", &fixtures::paused());
}

#[test]
fn help_mode() {
    snap("help", &fixtures::help());
}

#[test]
fn error_mode() {
    snap("error", &fixtures::error());
}

#[test]
fn tiny_terminals_do_not_panic_and_say_too_small() {
    for app in [
        fixtures::browser(),
        fixtures::training(620),
        fixtures::help(),
        fixtures::error(),
    ] {
        for (w, h) in [
            (20, 6),
            (10, 3),
            (1, 1),
            (0, 0),
            (49, 11),
            (50, 12),
            (51, 40),
            (300, 12),
        ] {
            let t = draw(&app, w, h);
            let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
            if (w, h) == (20, 6) {
                assert!(text.contains("terminal too"), "20×6 says too small: {text:?}");
            }
        }
    }
    insta::assert_snapshot!("too_small_20x6", draw(&fixtures::training(620), 20, 6).backend());
}

#[test]
fn every_screen_and_pane_renders_at_every_size() {
    use crossterm::event::KeyCode;
    let mut app = fixtures::training(1500);
    for _ in 0..3 {
        fixtures::key(&mut app, KeyCode::Tab);
        for (w, h) in [(50, 12), (64, 20), (80, 24), (100, 30), (160, 48), (240, 70)] {
            draw(&app, w, h);
        }
    }
    for k in ['l', 'w', 'z', '.', '.', ','] {
        fixtures::key(&mut app, KeyCode::Char(k));
        draw(&app, 80, 24);
    }
    fixtures::key(&mut app, KeyCode::Char('r'));
    draw(&app, 80, 24);
    fixtures::key(&mut app, KeyCode::Char('b'));
    draw(&app, 80, 24);
}

/// A finished run's best checkpoint opened for inspection (the runs screen's `i`): its
/// history, the state line naming the file and step, two samples and an evaluation.
#[test]
fn inspecting_mode() {
    use rnn_lab::train::protocol::{Event, RunInfo, SampleEvent};
    use rnn_lab::tui::action::Action;
    use rnn_lab::tui::app::update;
    use rnn_lab::tui::history::{History, Point};

    let mut app = fixtures::browser();
    let (mut train, mut val) = (History::new(1024, 64), History::new(1024, 64));
    for step in (10..=620).step_by(10) {
        let m = fixtures::metrics(step);
        let p = |value| Point {
            step,
            time_s: m.time_s,
            value,
        };
        train.push(p(m.train_loss));
        if let Some(v) = m.val_loss {
            val.push(p(v));
        }
    }
    let dir = std::path::PathBuf::from("runs/char-lstm-20261130-104200");
    let entry = rnn_lab::tui::files::RunEntry {
        dir: dir.clone(),
        name: "char-lstm-20261130-104200".into(),
        steps: 620,
        best_val: val.last().map(|p| p.value),
        last_train: train.last().map(|p| p.value),
        train,
        val,
        overlay: false,
        has_probe: false,
    };
    let inspection = rnn_lab::tui::files::Inspection {
        checkpoint: dir.join("best.safetensors"),
        experiment: fixtures::experiment("char-lstm"),
        run: Some(entry),
        last: Some(fixtures::metrics(620)),
        last_task: None,
    };
    update(&mut app, Action::Inspected(Ok(Box::new(inspection))));
    let info = RunInfo {
        name: "char-lstm".into(),
        run_dir: dir,
        total_steps: 2000,
        start_step: 600,
        params: 215_105,
        vocab: 65,
        train_tokens: 0,
        model: "lstm 2×128, one-hot 65".into(),
        embedding_init: None,
    };
    update(&mut app, Action::Trainer(Event::Started(Box::new(info))));
    for text in ["king and the lord of my love", "what art thou now, my lord?"] {
        let ev = SampleEvent {
            step: 600,
            request: app.sampling.request(),
            text: text.into(),
        };
        update(&mut app, Action::Trainer(Event::Sample(Box::new(ev))));
    }
    let mut m = fixtures::metrics(600);
    (m.train_loss, m.lr, m.grad_norm, m.epoch) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    update(&mut app, Action::Trainer(Event::Step(m)));
    snap("inspecting", &app);
}
