//! The real main loop on `TestBackend`, with scripted keys and the fake trainer thread: open an
//! experiment, train, change the temperature, make an invalid edit, quit saving. Also: the
//! frame rate stays ≥ 20 fps while a training step takes 2 s, and a frame draws fast.

#[path = "support/fake_backend.rs"]
mod fake_backend;
#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::VecDeque;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::tui::app::{App, Effect, Phase};
use rnn_lab::tui::{run_loop, Input, Runtime, TuiError};

enum Step {
    Key(KeyCode),
    Wait(Duration),
}

/// Keys with pauses between them; when the script runs out, one Ctrl-C, then nothing.
struct Script(VecDeque<Step>, bool);

impl Input for Script {
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError> {
        match self.0.pop_front() {
            Some(Step::Key(code)) => Ok(Some(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))),
            Some(Step::Wait(d)) => {
                let slept = d.min(timeout);
                std::thread::sleep(slept);
                if d > slept {
                    self.0.push_front(Step::Wait(d - slept));
                }
                Ok(None)
            }
            None if !self.1 => {
                self.1 = true;
                Ok(Some(TermEvent::Key(KeyEvent::new(
                    KeyCode::Char('c'),
                    KeyModifiers::CONTROL,
                ))))
            }
            None => {
                std::thread::sleep(timeout);
                Ok(None)
            }
        }
    }
}

fn ms(n: u64) -> Step {
    Step::Wait(Duration::from_millis(n))
}

fn runtime<'a>(dir: &Path, step: Duration, editor: rnn_lab::tui::Editor<'a>) -> Runtime<'a> {
    let backend = fake_backend::FakeBackend::new(step, dir.join("runs"));
    let mut rt = Runtime::new(Box::new(backend), editor);
    rt.experiments_dir = dir.join("experiments");
    rt.runs_dir = dir.join("runs");
    rt
}

#[test]
fn open_train_sample_edit_and_quit_saving() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    fake_backend::write_demo_experiments(tmp.path())?;
    // The "editor" breaks the file: `hidden = 0` on line 4.
    let editor = Box::new(|p: &Path| {
        fs::write(p, "[experiment]\nname = \"char-lstm\"\n[model]\nhidden = 0\n").map_err(|e| e.to_string())
    });
    let mut rt = runtime(tmp.path(), Duration::from_millis(1), editor);
    let mut app = App::new(true);
    app.effects.push(Effect::ScanExperiments);
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    use KeyCode::Char;
    let mut script = Script(
        VecDeque::from([
            ms(50),
            Step::Key(KeyCode::Enter),
            ms(50),
            Step::Key(Char(' ')),
            ms(600),
            Step::Key(Char('+')),
            Step::Key(Char('+')),
            ms(100),
            Step::Key(Char('e')),
            ms(50),
            Step::Key(KeyCode::Esc),
            Step::Key(Char('q')),
            ms(50),
            Step::Key(Char('y')),
            ms(5000),
        ]),
        false,
    );
    let t0 = Instant::now();
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "quit waits only for the checkpoint"
    );
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

#[test]
fn the_ui_keeps_20_fps_while_a_step_takes_2_seconds() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    fake_backend::write_demo_experiments(tmp.path())?;
    let mut rt = runtime(tmp.path(), Duration::from_secs(2), Box::new(|_: &Path| Ok(())));
    let mut app = App::new(true);
    app.effects
        .push(Effect::LoadExperiment(tmp.path().join("experiments/char-lstm.toml")));
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    let mut script = Script(
        VecDeque::from([
            Step::Key(KeyCode::Char(' ')),
            ms(1300),
            Step::Key(KeyCode::Char('+')),
            ms(100),
            Step::Key(KeyCode::Char('q')),
            Step::Key(KeyCode::Char('n')),
        ]),
        false,
    );
    let t0 = Instant::now();
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;
    let took = t0.elapsed();
    eprintln!("fps with a 2 s training step: {:.1}", app.fps);
    assert!(app.fps >= 20.0, "fps {:.1}", app.fps);
    assert!(
        took < Duration::from_millis(1900),
        "quit without saving does not wait for the step: {took:?}"
    );
    assert!(
        (app.sampling.temperature() - 0.85).abs() < 1e-12,
        "keys answered during the step"
    );
    Ok(())
}

#[test]
fn a_frame_draws_in_a_few_milliseconds() -> Result<(), Box<dyn std::error::Error>> {
    let mut app = fixtures::training(2000);
    for step in 2001..=200_000 {
        app.run.train.push(rnn_lab::tui::history::Point {
            step,
            time_s: step as f64 * 0.02,
            value: 1.5,
        });
    }
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    let n = 100;
    let t0 = Instant::now();
    for _ in 0..n {
        terminal.draw(|f| f.render_widget(&app, f.area()))?;
    }
    let per = t0.elapsed() / n;
    eprintln!("draw 160×48 with a 200k-step history: {per:?} per frame");
    assert!(per < Duration::from_millis(20), "{per:?}");
    Ok(())
}
