//! Deterministic `App` states for update tests and layout snapshots.
#![allow(dead_code)]

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rnn_lab::train::protocol::{Event, Metrics, RunInfo, SampleEvent, SampleRequest};
use rnn_lab::tui::action::{Action, BrowserAction};
use rnn_lab::tui::app::{update, App};
use rnn_lab::tui::files::BrowserEntry;

use super::fake_backend::default_experiment;

/// Feed a key through the real key mapping.
pub fn key(app: &mut App, code: KeyCode) {
    key_mod(app, code, KeyModifiers::NONE);
}

/// Feed a key with modifiers through the real key mapping (the key table, in the app's mode).
pub fn key_mod(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    if let Some(a) = app.key_action(KeyEvent::new(code, mods)) {
        update(app, a);
    }
}

/// An experiment with a file path.
pub fn experiment(name: &str) -> rnn_lab::config::Experiment {
    let mut e = default_experiment(name);
    e.path = Some(PathBuf::from(format!("experiments/{name}.toml")));
    e.sampling.prime = "The ".into();
    e
}

/// The browser with three experiments, one invalid.
pub fn browser() -> App {
    let mut app = App::new(true);
    let mut small = experiment("gru-small");
    small.model.cell = rnn_lab::nn::spec::CellKind::Gru;
    small.model.hidden = 64;
    let entries = vec![
        BrowserEntry {
            path: "experiments/char-lstm.toml".into(),
            experiment: Ok(experiment("char-lstm")),
            last_best: Some(1.4213),
        },
        BrowserEntry {
            path: "experiments/gru-small.toml".into(),
            experiment: Ok(small),
            last_best: None,
        },
        BrowserEntry {
            path: "experiments/rnn-broken.toml".into(),
            experiment: Err("experiments/rnn-broken.toml:6:1: `hidden` must be an integer ≥ 1, got 0".into()),
            last_best: None,
        },
    ];
    update(&mut app, Action::Browser(BrowserAction::Scanned(entries)));
    app
}

/// Metrics of a plausible step.
pub fn metrics(step: u64) -> Metrics {
    let s = step as f64;
    let wiggle = if step.is_multiple_of(20) { 0.08 } else { -0.05 };
    let train = 1.3 + 2.9 * (-s / 350.0).exp() + wiggle;
    let val = step.is_multiple_of(100).then(|| 1.4 + 2.8 * (-s / 380.0).exp());
    Metrics {
        step,
        epoch: s * 2048.0 / 1_000_000.0,
        time_s: s * 0.02,
        train_loss: train,
        val_loss: val,
        bits_per_token: val.unwrap_or(train) / std::f64::consts::LN_2,
        lr: 2e-3,
        grad_norm: 0.8 + 2.0 * (-s / 500.0).exp(),
        tokens_per_s: 102_400.0,
        task: None,
    }
}

/// A training screen after `steps` steps with samples and a checkpoint.
pub fn training(steps: u64) -> App {
    let mut app = browser();
    update(&mut app, Action::ExperimentLoaded(Ok(experiment("char-lstm"))));
    key(&mut app, KeyCode::Char(' '));
    app.take_effects();
    let info = RunInfo {
        name: "char-lstm".into(),
        run_dir: "runs/char-lstm-20261130-104200".into(),
        total_steps: 2000,
        start_step: 0,
        params: 215_105,
        vocab: 65,
        train_tokens: 1_000_000,
        model: "lstm 2×128, one-hot 65".into(),
        embedding_init: None,
    };
    update(&mut app, Action::Trainer(Event::Started(Box::new(info))));
    for step in (10..=steps).step_by(10) {
        update(&mut app, Action::Trainer(Event::Step(metrics(step))));
        if step % 200 == 0 {
            let request = SampleRequest {
                temperature: 0.8,
                top_k: 0,
                prime: "The ".into(),
                length: 80,
            };
            let text = format!("king and the lord of my love, what art thou now? (step {step})");
            update(
                &mut app,
                Action::Trainer(Event::Sample(Box::new(SampleEvent { step, request, text }))),
            );
        }
        if step % 500 == 0 {
            let path = PathBuf::from("runs/char-lstm-20261130-104200/latest.safetensors");
            update(
                &mut app,
                Action::Trainer(Event::Checkpointed { path, step, best: true }),
            );
        }
    }
    app.take_effects();
    app
}

/// Paused after 620 steps.
pub fn paused() -> App {
    let mut app = training(620);
    key(&mut app, KeyCode::Char(' '));
    update(&mut app, Action::Trainer(Event::Paused));
    app.take_effects();
    app
}

/// Help over the training screen.
pub fn help() -> App {
    let mut app = training(620);
    key(&mut app, KeyCode::Char('?'));
    app
}

/// An invalid edit shown over the training screen.
pub fn error() -> App {
    let mut app = training(620);
    update(
        &mut app,
        Action::Edited(
            "experiments/char-lstm.toml".into(),
            Err("experiments/char-lstm.toml:9:10: `hidden` must be an integer ≥ 1, got -4".into()),
        ),
    );
    app
}
