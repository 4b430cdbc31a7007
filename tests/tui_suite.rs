//! The suite screen: reached with `u` from the runs screen, the folder read on the scanner
//! thread (`Job::Suite`), the table and the selected run's curves rendered at 80×24 and
//! 120×40, its keys in the help and the footer.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::commands::suite::table::{RunRow, RunState};
use rnn_lab::tui::action::{Action, SuiteAction};
use rnn_lab::tui::app::{update, App, Effect, PromptKind, Screen, DEFAULT_SUITE_DIR};
use rnn_lab::tui::history::{History, Point};
use rnn_lab::tui::keys::{self, Mode};
use rnn_lab::tui::scanner::{run_job, Job};
use rnn_lab::tui::suite::{Curves, SuiteRun, SuiteView};

fn press(app: &mut App, code: KeyCode) {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    if let Some(a) = app.key_action(KeyEvent::new(code, mods)) {
        update(app, a);
    }
}

fn row(task: &str, cell: &str, solved_at: Option<u64>, error: f64, wall_s: f64) -> RunRow {
    RunRow {
        name: format!("{task}-{cell}-s1"),
        task: task.into(),
        cell: cell.into(),
        seed: 1,
        state: RunState::Done,
        step: 8000,
        steps: 8000,
        solved: solved_at.is_some(),
        solved_at,
        error: Some(error),
        accuracy: None,
        mse: (task == "adding").then_some(if solved_at.is_some() { 0.0001 } else { 0.0395 }),
        wall_s,
        run_dir: format!("/suite/runs/{task}-{cell}-s1-20261202-120000"),
        failure: None,
        divergences: u32::from(cell == "rnn" && task == "copy"),
    }
}

/// An LSTM learning the adding problem: the loss falls from the baseline, the share of wrong
/// sequences from 85 % to 0 at step 2,200.
fn curves(solved_step: u64) -> Curves {
    let mut c = Curves {
        train: History::new(1024, 64),
        val: History::new(1024, 64),
        error: History::new(1024, 64),
    };
    for i in 1..=solved_step / 100 {
        let step = i * 100;
        let f = (step as f64 / solved_step as f64).powi(3);
        let at = |value| Point {
            step,
            time_s: step as f64 / 50.0,
            value,
        };
        c.train.push(at(0.042 * (1.0 - f) + 0.0002));
        c.val.push(at(0.041 * (1.0 - f) + 0.0002));
        c.error.push(at(0.85 * (1.0 - f)));
    }
    c
}

fn view() -> SuiteView {
    let rows = [
        row("adding", "rnn", None, 0.85, 52.0),
        row("adding", "gru", Some(105_600), 0.0, 61.0),
        row("adding", "lstm", Some(70_400), 0.0004, 47.0),
        row("reber", "rnn", Some(28_800), 0.0, 1.0),
        row("reber", "gru", Some(19_200), 0.0, 1.0),
        row("reber", "lstm", Some(12_800), 0.0, 1.0),
        row("temporal_order", "rnn", None, 1.0, 9.0),
        row("temporal_order", "gru", Some(12_800), 0.0, 1.0),
        row("temporal_order", "lstm", Some(22_400), 0.0, 3.0),
        row("copy", "rnn", None, 0.998, 40.0),
        row("copy", "gru", Some(80_000), 0.0039, 11.0),
        row("copy", "lstm", Some(131_200), 0.0031, 70.0),
    ];
    SuiteView {
        dir: PathBuf::from("runs/suite-quick"),
        complete: true,
        runs: rows
            .into_iter()
            .map(|row| SuiteRun {
                curves: row.solved_at.map(|at| curves(at / 32)),
                dir: Some(PathBuf::from(&row.run_dir)),
                row,
            })
            .collect(),
    }
}

/// An app on the suite screen with the LSTM's adding run selected.
fn on_suite() -> App {
    let mut app = App::new(true);
    update(&mut app, Action::ShowRuns);
    press(&mut app, KeyCode::Char('u'));
    update(&mut app, Action::Prompt(rnn_lab::tui::action::PromptAction::Submit));
    update(&mut app, Action::Suite(SuiteAction::Loaded(Ok(Box::new(view())))));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    app.take_effects();
    app
}

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| f.render_widget(app, f.area())).expect("draw");
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    (0..b.area.height)
        .map(|y| (0..b.area.width).map(|x| b[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn suite_screen_80x24() {
    let app = on_suite();
    let t = draw(&app, 80, 24);
    let s = text(&t);
    assert!(s.contains("adding lstm s1 · solved at 70,400 sequences"), "{s}");
    insta::assert_snapshot!("suite_80x24", t.backend());
}

#[test]
fn suite_screen_120x40() {
    let app = on_suite();
    let t = draw(&app, 120, 40);
    let s = text(&t);
    // Wide: every row of the table beside the curves.
    for task in ["adding", "reber", "temporal_order", "copy"] {
        assert!(s.matches(task).count() >= 3, "{task}: {s}");
    }
    assert!(
        s.contains("Loss by step") && s.contains("share of sequences wrong"),
        "{s}"
    );
    insta::assert_snapshot!("suite_120x40", t.backend());
}

#[test]
fn u_on_the_runs_screen_asks_for_the_folder_and_reads_it_on_the_scanner() {
    let mut app = App::new(true);
    update(&mut app, Action::ShowRuns);
    app.take_effects();
    press(&mut app, KeyCode::Char('u'));
    let p = app.prompt.as_ref().expect("a prompt");
    assert_eq!(p.kind, PromptKind::Suite);
    assert_eq!(p.text, DEFAULT_SUITE_DIR);
    update(&mut app, Action::Prompt(rnn_lab::tui::action::PromptAction::Submit));
    assert_eq!(
        app.take_effects(),
        [Effect::LoadSuite(PathBuf::from(DEFAULT_SUITE_DIR))]
    );
    // The scanner answers with the folder, or its one-line error.
    let missing = Path::new("/nonexistent/suite");
    match run_job(Job::Suite(missing.to_path_buf()), &|p: &Path| {
        Err(p.display().to_string())
    }) {
        Action::Suite(SuiteAction::Loaded(Err(e))) => assert!(e.contains("not a suite folder"), "{e}"),
        other => panic!("expected the suite's error, got {other:?}"),
    }
    update(
        &mut app,
        Action::Suite(SuiteAction::Loaded(Err("x: not a suite folder".into()))),
    );
    assert_eq!(app.error.as_deref(), Some("x: not a suite folder"));
    assert_eq!(app.screen, Screen::Runs);
}

#[test]
fn suite_keys_select_open_inspect_reload_and_go_back() {
    let mut app = on_suite();
    assert_eq!(app.screen, Screen::Suite);
    assert_eq!(app.mode(), Mode::Suite);
    assert_eq!(app.suite.selected, 2);
    for _ in 0..20 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.suite.selected, 11, "stops at the last row");
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(
        app.take_effects(),
        [Effect::LoadSuite(PathBuf::from(DEFAULT_SUITE_DIR))]
    );
    // A new read keeps the selected run selected.
    update(&mut app, Action::Suite(SuiteAction::Loaded(Ok(Box::new(view())))));
    assert_eq!(app.suite.selected, 11);
    press(&mut app, KeyCode::Char('i'));
    let dir = PathBuf::from("/suite/runs/copy-lstm-s1-20261202-120000");
    assert_eq!(app.take_effects(), [Effect::InspectRun(dir.clone())]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.take_effects(), [Effect::OpenRun(dir)]);
    assert_eq!(app.screen, Screen::Runs);
    let mut app = on_suite();
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Runs);
}

#[test]
fn a_running_suite_is_read_again_while_shown() {
    let mut app = on_suite();
    let mut v = view();
    v.complete = false;
    update(&mut app, Action::Suite(SuiteAction::Loaded(Ok(Box::new(v)))));
    app.take_effects();
    let t0 = app.clock;
    update(&mut app, Action::Tick(t0 + 0.5));
    assert!(app.take_effects().is_empty(), "not before the poll interval");
    update(&mut app, Action::Tick(t0 + rnn_lab::tui::app::SUITE_POLL_S));
    assert_eq!(
        app.take_effects(),
        [Effect::LoadSuite(PathBuf::from(DEFAULT_SUITE_DIR))]
    );
    // A finished suite is not polled.
    update(&mut app, Action::Suite(SuiteAction::Loaded(Ok(Box::new(view())))));
    update(&mut app, Action::Tick(t0 + 10.0));
    assert!(app.take_effects().is_empty());
}

#[test]
fn help_and_footer_list_the_suite_keys() {
    let sections = keys::help_sections();
    let (_, rows) = sections
        .iter()
        .find(|(title, _)| title.starts_with("Suite"))
        .expect("a Suite section");
    let helps: Vec<&str> = rows.iter().map(|r| r.help).collect();
    assert!(
        helps.iter().any(|h| h.contains("read the suite folder again")),
        "{helps:?}"
    );
    let footer: Vec<String> = keys::footer(Mode::Suite)
        .iter()
        .map(|h| format!("{} {}", h.keys, h.label))
        .collect();
    for want in ["↑↓ select", "Enter open run", "r reload", "Esc back"] {
        assert!(footer.iter().any(|f| f == want), "{want}: {footer:?}");
    }
    assert!(
        keys::footer(Mode::Runs)
            .iter()
            .any(|h| h.keys == "u" && h.label == "suite"),
        "the runs screen's footer offers u"
    );
}
