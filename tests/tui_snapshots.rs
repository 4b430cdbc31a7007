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
