//! Widgets rendered into a `Buffer` at fixed sizes.

#[path = "support/fake_backend.rs"]
mod fake_backend;
#[path = "support/fixtures.rs"]
mod fixtures;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Widget};
use rnn_lab::tui::action::{Action, RunsAction, TrainAction};
use rnn_lab::tui::app::{update, App};
use rnn_lab::tui::files::RunEntry;
use rnn_lab::tui::history::{History, Point};
use rnn_lab::tui::widgets::help::Help;
use rnn_lab::tui::widgets::runs::Runs;
use rnn_lab::tui::widgets::samples::Samples;
use rnn_lab::tui::widgets::status::Status;

fn render(w: impl Widget, width: u16, height: u16) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, width, height));
    w.render(buf.area, &mut buf);
    buf
}

/// Compare symbols only (styles are covered by the theme, and NO_COLOR is on here).
fn assert_text(buf: &Buffer, lines: &[&str]) {
    let mut expected = Buffer::with_lines(lines.iter().copied());
    expected.set_style(expected.area, ratatui::style::Style::reset());
    let mut got = buf.clone();
    got.set_style(got.area, ratatui::style::Style::reset());
    assert_eq!(got, expected);
}

#[test]
fn status_line() {
    let app = fixtures::training(620);
    let buf = render(Status { app: &app }, 100, 2);
    assert_text(
        &buf,
        &[
            "▶ RUNNING   step 620/2,000 (31%)  epoch 1.27  tok/s 102.4k  lr 2.00e-3  |g| 1.38  bits/tok 2.703    ",
            "ppl 6.51  val 1.977 (gap +0.075)  best val 1.977  ETA 28s                                           ",
        ],
    );
}

#[test]
fn status_before_the_first_step() {
    let mut app = fixtures::browser();
    update(
        &mut app,
        Action::ExperimentLoaded(Ok(fixtures::experiment("char-lstm"))),
    );
    let buf = render(Status { app: &app }, 100, 1);
    assert_text(
        &buf,
        &["READY   step 0/2,000 (0%)  epoch –  tok/s –  lr 2.00e-3  |g| –  bits/tok –  ppl –  ETA –            "],
    );
}

#[test]
fn sample_pane_shows_settings_samples_and_checkpoints() {
    let mut app = fixtures::training(500);
    // The checkpoint at 500 asked for a sample; it arrives.
    let request = app.sampling.request();
    let ev = rnn_lab::train::protocol::SampleEvent {
        step: 500,
        request,
        text: "king\nof".into(),
    };
    update(
        &mut app,
        Action::Trainer(rnn_lab::train::protocol::Event::Sample(Box::new(ev))),
    );
    update(&mut app, Action::Train(TrainAction::TempDown));
    let buf = render(
        Samples {
            app: &app,
            block: Block::bordered().title("S"),
        },
        34,
        12,
    );
    assert_text(
        &buf,
        &[
            "┌S───────────────────────────────┐",
            "│T 0.75  top-k all  prime \"The \" │",
            "│                                │",
            "│step 500 · T 0.80 · top-k all   │",
            "│The king                        │",
            "│of                              │",
            "│                                │",
            "│step 400 · T 0.80 · top-k all   │",
            "│The king and the lord of my     │",
            "│love, what art thou now? (step  │",
            "│400)                            │",
            "└────────────────────────────────┘",
        ],
    );
}

/// Tabs and other control characters in a sample show as their glyphs; line breaks stay breaks.
#[test]
fn sample_control_characters_are_visible() {
    let mut app = fixtures::training(10);
    let ev = rnn_lab::train::protocol::SampleEvent {
        step: 10,
        request: app.sampling.request(),
        text: "a\tb\rc\nd".into(),
    };
    update(
        &mut app,
        Action::Trainer(rnn_lab::train::protocol::Event::Sample(Box::new(ev))),
    );
    let buf = render(
        Samples {
            app: &app,
            block: Block::new(),
        },
        30,
        8,
    );
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("The a⇥b␍c"), "{text}");
    assert!(text.contains("d "), "{text}");
}

#[test]
fn greedy_is_named() {
    let mut app = fixtures::training(10);
    for _ in 0..16 {
        update(&mut app, Action::Train(TrainAction::TempDown));
    }
    let buf = render(
        Samples {
            app: &app,
            block: Block::new(),
        },
        40,
        1,
    );
    assert_text(&buf, &["T 0 (greedy)  top-k all  prime \"The \"   "]);
}

#[test]
fn help_lists_every_section() {
    let app = App::new(true);
    let help = Help {
        theme: &app.theme,
        scroll: 0,
    };
    let text: Vec<String> = help.lines().iter().map(|l| l.to_string()).collect();
    for section in [
        "Everywhere",
        "Training screen",
        "Experiment browser",
        "Runs",
        "Probes pane (Tab to it)",
    ] {
        assert!(text.iter().any(|l| l == section), "{section} missing");
    }
    assert!(text.iter().any(|l| l.contains("temperature ± 0.05")));
    // Scrolled past the end it still draws the last page, never panics.
    render(
        Help {
            theme: &app.theme,
            scroll: 500,
        },
        80,
        24,
    );
    render(
        Help {
            theme: &app.theme,
            scroll: 0,
        },
        3,
        2,
    );
}

fn run_entry(name: &str, scale: f64, overlay: bool) -> RunEntry {
    let mut train = History::new(256, 16);
    let mut val = History::new(256, 16);
    for step in (10..=1000).step_by(10) {
        let v = 1.2 + scale * (-(step as f64) / 300.0).exp();
        train.push(Point {
            step,
            time_s: step as f64 * 0.01,
            value: v,
        });
        if step % 100 == 0 {
            val.push(Point {
                step,
                time_s: step as f64 * 0.01,
                value: v + 0.1,
            });
        }
    }
    RunEntry {
        dir: format!("runs/{name}").into(),
        name: name.into(),
        steps: 1000,
        best_val: Some(1.3),
        last_train: Some(1.25),
        train,
        val,
        overlay,
        has_probe: overlay,
    }
}

#[test]
fn runs_screen_overlays_curves() {
    let mut app = App::new(true);
    update(
        &mut app,
        Action::Runs(RunsAction::Scanned(vec![
            run_entry("lstm-20261130-1", 3.0, true),
            run_entry("gru-20261130-2", 2.0, true),
            run_entry("rnn-20261129-1", 1.0, false),
        ])),
    );
    let buf = render(Runs { app: &app }, 80, 20);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 20)).expect("backend");
    t.draw(|f| f.render_widget(Runs { app: &app }, f.area())).expect("draw");
    insta::assert_snapshot!("runs_80x20", t.backend());
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("■ lstm-20261130-1") && text.contains("□ rnn-20261129-1"));
}
