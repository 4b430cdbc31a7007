//! The real main loop on `TestBackend`, with scripted keys and the fake trainer thread: open an
//! experiment, train, change the temperature, make an invalid edit, quit saving; keys are
//! answered and frames drawn while a training step never ends; the UI does not wait for a disk
//! that never answers.
//!
//! Only deterministic assertions: the script waits for states of the app (as a user waits for
//! the screen), never for a time, and "does not wait" is proven by returning while the fake
//! trainer or disk is held. Frame-time figures live in `benches/draw.rs`.

#[path = "support/fake_backend.rs"]
mod fake_backend;

use std::collections::VecDeque;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::tui::app::{App, Effect, Phase, Screen};
use rnn_lab::tui::{run_loop, Input, Runtime, TuiError};

/// Longest a script waits for a state before failing (only reached when the app is broken).
const PATIENCE: Duration = Duration::from_secs(60);

enum Step {
    /// Press a key.
    Key(KeyCode),
    /// Wait until the app is in a state (checked after each drawn frame).
    Until(&'static str, Box<dyn Fn(&App) -> bool>),
    /// Wait until this many more frames have been drawn.
    Frames(u32),
    /// Do something (flip a switch of the fake backend).
    Do(Box<dyn FnMut()>),
}

/// Keys, waits for states, and actions; when the script runs out, one Ctrl-C, then nothing.
struct Script {
    steps: VecDeque<Step>,
    ctrl_c_sent: bool,
    /// Frames seen by `observe`.
    frames: u32,
    /// When the current wait started and the frame count then.
    waiting: Option<(Instant, u32)>,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Script {
            steps: steps.into_iter().collect(),
            ctrl_c_sent: false,
            frames: 0,
            waiting: None,
        }
    }
}

impl Input for Script {
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError> {
        loop {
            match self.steps.front_mut() {
                Some(Step::Key(code)) => {
                    let ev = TermEvent::Key(KeyEvent::new(*code, KeyModifiers::NONE));
                    self.steps.pop_front();
                    return Ok(Some(ev));
                }
                Some(Step::Do(f)) => {
                    f();
                    self.steps.pop_front();
                }
                Some(Step::Until(what, _)) => {
                    let (since, _) = *self.waiting.get_or_insert((Instant::now(), self.frames));
                    assert!(since.elapsed() < PATIENCE, "the app never reached: {what}");
                    std::thread::sleep(timeout);
                    return Ok(None);
                }
                Some(Step::Frames(_)) => {
                    self.waiting.get_or_insert((Instant::now(), self.frames));
                    std::thread::sleep(timeout);
                    return Ok(None);
                }
                None if !self.ctrl_c_sent => {
                    self.ctrl_c_sent = true;
                    let ev = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
                    return Ok(Some(TermEvent::Key(ev)));
                }
                None => {
                    std::thread::sleep(timeout);
                    return Ok(None);
                }
            }
        }
    }

    fn observe(&mut self, app: &App) {
        self.frames += 1;
        let done = match self.steps.front() {
            Some(Step::Until(_, pred)) => pred(app),
            Some(Step::Frames(n)) => self.waiting.is_some_and(|(_, from)| self.frames >= from + n),
            _ => false,
        };
        if done {
            self.steps.pop_front();
            self.waiting = None;
        }
    }
}

fn until(what: &'static str, pred: impl Fn(&App) -> bool + 'static) -> Step {
    Step::Until(what, Box::new(pred))
}

fn key(c: char) -> Step {
    Step::Key(KeyCode::Char(c))
}

fn runtime<'a>(backend: &fake_backend::FakeBackend, dir: &Path, editor: rnn_lab::tui::Editor<'a>) -> Runtime<'a> {
    let mut rt = Runtime::new(Box::new(backend.clone()), editor);
    rt.experiments_dir = dir.join("experiments");
    rt.runs_dir = dir.join("runs");
    rt
}

/// The screen's text, one line per row.
fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    let w = usize::from(buf.area.width);
    buf.content()
        .chunks(w.max(1))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn open_train_sample_edit_and_quit_saving() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    fake_backend::write_demo_experiments(tmp.path())?;
    // The "editor" breaks the file: `hidden = 0` on line 4.
    let editor = Box::new(|p: &Path| {
        fs::write(p, "[experiment]\nname = \"char-lstm\"\n[model]\nhidden = 0\n").map_err(|e| e.to_string())
    });
    let backend = fake_backend::FakeBackend::new(Duration::from_millis(1), tmp.path().join("runs"));
    let mut rt = runtime(&backend, tmp.path(), editor);
    let mut app = App::new(true);
    app.effects.push(Effect::ScanExperiments);
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    let mut script = Script::new([
        until("the browser listed", |a| a.browser.entries.len() == 3),
        Step::Key(KeyCode::Enter),
        until("the experiment loaded", |a| a.screen == Screen::Train),
        key(' '),
        until("more than 20 steps", |a| a.run.step() > 20),
        key('+'),
        key('+'),
        key('e'),
        until("the invalid edit's error", |a| a.error.is_some()),
        Step::Key(KeyCode::Esc),
        key('q'),
        until("the quit question", |a| a.confirm_quit),
        key('y'),
    ]);
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;
    assert!(app.quit);
    assert_eq!(
        app.run.phase,
        Phase::Finished,
        "y stopped the run and waited for Finished"
    );
    assert!(app.run.step() > 20, "training ran: step {}", app.run.step());
    assert!((app.sampling.temperature() - 0.9).abs() < 1e-12);
    assert_eq!(
        app.experiment.as_ref().map(|e| e.model.hidden),
        Some(128),
        "invalid edit kept the old config"
    );
    // The run directory holds what the trainer wrote, ending with the final checkpoint.
    let runs: Vec<_> = fs::read_dir(tmp.path().join("runs"))?.filter_map(Result::ok).collect();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].path().join("metrics.jsonl").is_file());
    assert!(runs[0].path().join("latest.safetensors").is_file());
    Ok(())
}

/// Releases a hold when dropped or after [`PATIENCE`] (so a broken loop fails instead of
/// hanging), recording whether it had to.
struct Release {
    hold: Arc<AtomicBool>,
    by_timeout: Arc<AtomicBool>,
}

impl Release {
    fn after_patience(hold: &Arc<AtomicBool>) -> Self {
        let by_timeout = Arc::new(AtomicBool::new(false));
        let (h, t) = (Arc::clone(hold), Arc::clone(&by_timeout));
        std::thread::spawn(move || {
            std::thread::sleep(PATIENCE);
            if h.swap(false, Ordering::SeqCst) {
                t.store(true, Ordering::SeqCst);
            }
        });
        Release {
            hold: Arc::clone(hold),
            by_timeout,
        }
    }

    fn still_held(&self) -> bool {
        self.hold.load(Ordering::SeqCst) && !self.by_timeout.load(Ordering::SeqCst)
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        self.hold.store(false, Ordering::SeqCst);
    }
}

#[test]
fn keys_are_answered_and_frames_drawn_while_a_step_never_ends() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    fake_backend::write_demo_experiments(tmp.path())?;
    let backend = fake_backend::FakeBackend::new(Duration::from_millis(1), tmp.path().join("runs"));
    let hold = Arc::clone(&backend.hold_steps);
    let mut rt = runtime(&backend, tmp.path(), Box::new(|_: &Path| Ok(())));
    let mut app = App::new(true);
    app.effects
        .push(Effect::LoadExperiment(tmp.path().join("experiments/char-lstm.toml")));
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    let release = Release::after_patience(&hold);
    let h = Arc::clone(&hold);
    let mut script = Script::new([
        until("the experiment loaded", |a| a.screen == Screen::Train),
        key(' '),
        until("10 steps", |a| a.run.step() >= 10),
        // From now on the trainer is inside a step that does not end.
        Step::Do(Box::new(move || h.store(true, Ordering::SeqCst))),
        Step::Frames(5),
        key('+'),
        until("the new temperature", |a| {
            (a.sampling.temperature() - 0.85).abs() < 1e-12
        }),
        Step::Frames(2),
        key('q'),
        until("the quit question", |a| a.confirm_quit),
        key('n'),
    ]);
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;
    assert!(
        release.still_held(),
        "the loop returned only once the step was released: quitting without saving waited for it"
    );
    assert!(app.quit);
    assert_eq!(app.run.phase, Phase::Running, "n quits without waiting for Finished");
    let shown = screen(&terminal);
    assert!(
        shown.contains("T 0.85") && shown.contains("RUNNING"),
        "the frame drawn after `+`, during the step, shows the new temperature:\n{shown}"
    );
    Ok(())
}

#[test]
fn the_ui_does_not_wait_for_a_disk_that_never_answers() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    fake_backend::write_demo_experiments(tmp.path())?;
    let backend = fake_backend::FakeBackend::new(Duration::from_millis(1), tmp.path().join("runs"));
    backend.hold_loads.store(true, Ordering::SeqCst);
    let release = Release::after_patience(&backend.hold_loads);
    let mut rt = runtime(&backend, tmp.path(), Box::new(|_: &Path| Ok(())));
    let mut app = App::new(true);
    app.effects.push(Effect::ScanExperiments);
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    let mut script = Script::new([
        Step::Frames(5),
        key('r'),
        until("the runs screen", |a| a.screen == Screen::Runs),
        key('?'),
        until("the help", |a| a.help),
        Step::Frames(2),
        key('q'),
    ]);
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;
    assert!(release.still_held(), "the loop waited for the experiment scan");
    assert!(app.quit);
    assert!(!app.browser.scanned, "the experiment scan never answered");
    // The runs scan waits behind it in the scanner thread; the screen switched and the help
    // opened over it all the same.
    assert!(!app.runs.scanned);
    assert!(screen(&terminal).contains("Help"), "{}", screen(&terminal));
    Ok(())
}
