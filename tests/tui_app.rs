//! `update(app, action)` without a terminal: commands sent, modes entered, effects queued.

#[path = "support/fake_backend.rs"]
mod fake_backend;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/tiny_run.rs"]
mod tiny_run;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use fixtures::{key, key_mod};
use rnn_lab::train::protocol::{Command, Event, SampleEvent};
use rnn_lab::train::RunOptions;
use rnn_lab::tui::action::{Action, ProbeAction, PromptAction, RunsAction, TrainAction};
use rnn_lab::tui::app::{update, App, Effect, Pane, Phase, Screen, HISTORY_CAPACITY};
use rnn_lab::tui::keys::{action_for, Key, Mode, KEYS};

fn sent(app: &mut App) -> Vec<Command> {
    app.take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Send(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn enter_opens_the_selected_experiment_and_space_starts_it() {
    let mut app = fixtures::browser();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_effects(),
        vec![Effect::LoadExperiment("experiments/char-lstm.toml".into())]
    );
    update(
        &mut app,
        Action::ExperimentLoaded(Ok(fixtures::experiment("char-lstm"))),
    );
    assert_eq!(app.screen, Screen::Train);
    assert_eq!(app.run.phase, Phase::Idle);
    // The experiment's sampling settings become the pane's.
    assert!((app.sampling.temperature() - 0.8).abs() < 1e-12);
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.run.phase, Phase::Starting);
    assert_eq!(app.take_effects(), vec![Effect::Start { resume: None }]);
}

#[test]
fn an_invalid_experiment_in_the_browser_shows_its_error() {
    let mut app = fixtures::browser();
    update(&mut app, Action::ExperimentLoaded(Err("x.toml:3:7: bad".into())));
    assert_eq!(app.error.as_deref(), Some("x.toml:3:7: bad"));
    assert_eq!(app.screen, Screen::Browser);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.error, None);
}

#[test]
fn space_pauses_and_resumes_s_steps_once() {
    let mut app = fixtures::training(100);
    assert_eq!(app.run.phase, Phase::Running);
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(sent(&mut app), vec![Command::Pause]);
    assert_eq!(app.run.phase, Phase::Paused);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(sent(&mut app), vec![Command::StepOnce]);
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(sent(&mut app), vec![Command::Resume]);
    assert_eq!(app.run.phase, Phase::Running);
    // s while running pauses first.
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(sent(&mut app), vec![Command::Pause]);
}

#[test]
fn save_now_by_s_and_ctrl_s_and_lr_keys() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('S'));
    key_mod(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(sent(&mut app), vec![Command::SaveNow, Command::SaveNow]);
    key(&mut app, KeyCode::Char(']'));
    key(&mut app, KeyCode::Char('['));
    key(&mut app, KeyCode::Char('['));
    let lrs: Vec<f64> = sent(&mut app)
        .into_iter()
        .filter_map(|c| if let Command::SetLr(x) = c { Some(x) } else { None })
        .collect();
    assert_eq!(lrs.len(), 3);
    assert!((lrs[0] - 2.5e-3).abs() < 1e-12);
    assert!((lrs[2] - 1.6e-3).abs() < 1e-12);
}

#[test]
fn temperature_moves_in_exact_steps_of_0_05_down_to_greedy() {
    let mut app = fixtures::training(100);
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('+'));
    }
    assert!((app.sampling.temperature() - 0.95).abs() < 1e-12);
    for _ in 0..40 {
        key(&mut app, KeyCode::Char('-'));
    }
    assert_eq!(app.sampling.temperature(), 0.0);
    for _ in 0..20 {
        key(&mut app, KeyCode::Char('='));
    }
    assert_eq!(app.sampling.temperature(), 1.0, "no floating-point drift");
    let cmds = sent(&mut app);
    assert_eq!(cmds.len(), 63);
    match cmds.last() {
        Some(Command::SetSampling(r)) => assert_eq!(r.temperature, 1.0),
        other => panic!("expected SetSampling, got {other:?}"),
    }
}

#[test]
fn top_k_cycles_and_sample_now_uses_the_settings() {
    let mut app = fixtures::training(100);
    // From "all", k keeps fewer tokens; K keeps more again.
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.sampling.top_k, 40);
    key(&mut app, KeyCode::Char('K'));
    assert_eq!(app.sampling.top_k, 100);
    app.take_effects();
    key(&mut app, KeyCode::Char('g'));
    match sent(&mut app).as_slice() {
        [Command::Sample(r)] => {
            assert_eq!(r.top_k, 100);
            assert_eq!(r.prime, "The ");
        }
        other => panic!("expected one Sample, got {other:?}"),
    }
}

#[test]
fn prime_text_is_edited_in_a_prompt() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('i'));
    assert!(app.prompt.is_some());
    for _ in 0..4 {
        key(&mut app, KeyCode::Backspace);
    }
    for c in "ROMEO:".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    // Keys that are commands elsewhere are text in the prompt.
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.sampling.prime, "ROMEO:");
    assert!(!app.quit);
    match sent(&mut app).as_slice() {
        [Command::SetSampling(r)] => assert_eq!(r.prime, "ROMEO:"),
        other => panic!("expected SetSampling, got {other:?}"),
    }
}

#[test]
fn probe_keys_and_probe_pane_focus() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('p'));
    assert_eq!(sent(&mut app), vec![Command::Probe(None)]);
    key(&mut app, KeyCode::Char('P'));
    for c in "hello".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(sent(&mut app), vec![Command::Probe(Some("hello".into()))]);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Probes);
    assert_eq!(app.mode(), Mode::Probes);
    // The probe pane's keys act on the view; `[`/`]` and `g` are its own there.
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.probes.view.view(), rnn_lab::tui::probe_view::ViewKind::Saturation);
    assert_eq!(
        app.key_action(Key::Plain(KeyCode::Char(']')).event()),
        Some(Action::Probe(ProbeAction::NextLayer))
    );
    key(&mut app, KeyCode::Char('g'));
    assert!(
        sent(&mut app).is_empty(),
        "g picks a gate in the probes pane, not a sample"
    );
    // Keys the probe pane does not use fall through to the training screen's.
    key(&mut app, KeyCode::Char('+'));
    assert!(matches!(sent(&mut app).as_slice(), [Command::SetSampling(_)]));
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Loss);
}

#[test]
fn latest_probe_is_kept() {
    let mut app = fixtures::training(100);
    let report = |step| rnn_lab::infer::probe::ProbeReport {
        step,
        tokens: vec![],
        entropy: vec![],
        top: vec![],
        dirs: vec![],
    };
    update(&mut app, Action::Trainer(Event::Probe(Box::new(report(100)))));
    update(&mut app, Action::Trainer(Event::Probe(Box::new(report(200)))));
    assert_eq!(app.probes.latest.as_ref().map(|p| p.step), Some(200));
}

#[test]
fn quit_without_unsaved_work_quits_at_once() {
    let mut app = fixtures::browser();
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
    assert_eq!(app.take_effects(), vec![Effect::Quit]);
}

#[test]
fn quit_with_unsaved_steps_asks_and_y_saves_first() {
    let mut app = fixtures::training(620);
    assert!(app.run.unsaved());
    key(&mut app, KeyCode::Char('q'));
    assert!(app.confirm_quit && !app.quit);
    // Other keys do nothing while asking.
    key(&mut app, KeyCode::Char(' '));
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(sent(&mut app), vec![Command::Stop]);
    assert!(app.quit_wait.is_some() && !app.quit);
    update(&mut app, Action::Trainer(Event::Finished { step: 620 }));
    assert!(app.quit);
}

#[test]
fn quit_n_quits_without_saving_and_esc_cancels() {
    let mut app = fixtures::training(620);
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Esc);
    assert!(!app.confirm_quit && !app.quit);
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Char('n'));
    assert!(app.quit);
    assert_eq!(app.take_effects(), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_and_sigterm_save_then_quit_or_give_up_after_the_deadline() {
    let mut app = fixtures::training(620);
    key_mod(&mut app, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(sent(&mut app), vec![Command::Stop]);
    assert!(!app.quit);
    update(&mut app, Action::Tick(5.0));
    assert!(!app.quit, "still waiting for the checkpoint");
    update(&mut app, Action::Trainer(Event::Finished { step: 620 }));
    assert!(app.quit);

    let mut app = fixtures::training(620);
    update(&mut app, Action::Terminate);
    assert_eq!(sent(&mut app), vec![Command::Stop]);
    update(&mut app, Action::Tick(3.5));
    assert!(app.quit, "SIGTERM waits at most 3 s");
}

#[test]
fn an_invalid_edit_shows_the_error_and_keeps_the_config() {
    let mut app = fixtures::training(100);
    let before = app.experiment.clone();
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(
        app.take_effects(),
        vec![Effect::OpenEditor("experiments/char-lstm.toml".into())]
    );
    update(
        &mut app,
        Action::Edited(
            "experiments/char-lstm.toml".into(),
            Err("experiments/char-lstm.toml:9:10: bad".into()),
        ),
    );
    let err = app.error.clone().unwrap_or_default();
    assert!(
        err.contains(":9:10:") && err.contains("kept the previous config"),
        "{err}"
    );
    assert_eq!(app.experiment, before);
    assert_eq!(app.pending, None);
    // e edits again straight from the error.
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(
        app.take_effects(),
        vec![Effect::OpenEditor("experiments/char-lstm.toml".into())]
    );
    assert_eq!(app.error, None);
}

#[test]
fn a_valid_edit_is_pending_and_r_restarts_with_it() {
    let mut app = fixtures::training(100);
    let mut edited = fixtures::experiment("char-lstm");
    edited.model.hidden = 256;
    update(
        &mut app,
        Action::Edited("experiments/char-lstm.toml".into(), Ok(edited.clone())),
    );
    assert_eq!(app.pending.as_ref(), Some(&edited));
    assert_eq!(app.experiment.as_ref().map(|e| e.model.hidden), Some(128));
    key(&mut app, KeyCode::Char('R'));
    assert_eq!(sent(&mut app), vec![Command::Stop]);
    assert_eq!(app.run.phase, Phase::Stopping);
    update(&mut app, Action::Trainer(Event::Finished { step: 100 }));
    assert_eq!(app.take_effects(), vec![Effect::Detach, Effect::Start { resume: None }]);
    assert_eq!(app.experiment.as_ref().map(|e| e.model.hidden), Some(256));
    assert_eq!(app.pending, None);
    assert_eq!(app.run.phase, Phase::Starting);
    assert!(app.run.train.is_empty(), "a new run starts with an empty chart");
}

#[test]
fn editing_before_starting_applies_at_once() {
    let mut app = fixtures::browser();
    update(
        &mut app,
        Action::ExperimentLoaded(Ok(fixtures::experiment("char-lstm"))),
    );
    let mut edited = fixtures::experiment("char-lstm");
    edited.training.steps = 50;
    update(
        &mut app,
        Action::Edited("experiments/char-lstm.toml".into(), Ok(edited)),
    );
    assert_eq!(app.experiment.as_ref().map(|e| e.training.steps), Some(50));
}

#[test]
fn steps_fill_bounded_histories_and_status() {
    let mut app = fixtures::training(100);
    for step in 101..=40_000 {
        update(&mut app, Action::Trainer(Event::Step(fixtures::metrics(step))));
    }
    assert!(app.run.train.full().len() <= HISTORY_CAPACITY);
    assert_eq!(app.run.step(), 40_000);
    assert!(app.run.best_val.is_some());
    assert!(app.run.val.total() >= 400);
}

#[test]
fn checkpoints_keep_a_sample_each() {
    let mut app = fixtures::training(100);
    let path = PathBuf::from("runs/x/latest.safetensors");
    update(
        &mut app,
        Action::Trainer(Event::Checkpointed {
            path: path.clone(),
            step: 100,
            best: true,
        }),
    );
    assert_eq!(app.run.saved_step, 100);
    assert!(!app.run.unsaved());
    // No sample of its own (it came a step late, beside the scheduled one): the checkpoint
    // takes the sample of its step.
    assert!(sent(&mut app).is_empty());
    let late = SampleEvent {
        step: 101,
        request: app.sampling.request(),
        text: "late".into(),
    };
    update(&mut app, Action::Trainer(Event::Sample(Box::new(late))));
    assert!(app.sampling.checkpoints[0].sample.is_none());
    let ev = SampleEvent {
        step: 100,
        request: app.sampling.request(),
        text: "hello".into(),
    };
    update(&mut app, Action::Trainer(Event::Sample(Box::new(ev))));
    assert_eq!(
        app.sampling.checkpoints[0].sample.as_ref().map(|s| s.text.as_str()),
        Some("hello")
    );
    for s in 2..=6 {
        update(
            &mut app,
            Action::Trainer(Event::Checkpointed {
                path: path.clone(),
                step: s * 100,
                best: false,
            }),
        );
    }
    assert_eq!(
        app.sampling.checkpoints.len(),
        rnn_lab::tui::app::CHECKPOINT_SAMPLES_KEPT
    );
}

#[test]
fn failure_shows_an_error_and_ends_the_run() {
    let mut app = fixtures::training(100);
    update(&mut app, Action::Trainer(Event::Failed("out of memory".into())));
    assert_eq!(app.run.phase, Phase::Failed);
    assert!(app.error.as_deref().is_some_and(|e| e.contains("out of memory")));
    update(&mut app, Action::Cancel);
    // Space starts a fresh run.
    key(&mut app, KeyCode::Char(' '));
    assert!(app.take_effects().contains(&Effect::Start { resume: None }));
}

/// The real trainer at a learning rate that is infinite in f32: step 1 blows up, the trainer
/// rolls back to the initial parameters and pauses; the error says so and what to do next.
#[test]
fn a_divergence_says_where_the_run_rolled_back_to_and_that_it_paused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exp = tiny_run::experiment(
        dir.path(),
        "optimizer = \"sgd\"\nlr = 1e300\nclip_norm = 0\nsteps = 50\nlog_every = 1\ncheckpoint_every = 0",
    );
    let opts = RunOptions {
        out: Some(dir.path().join("runs")),
        threads: Some(1),
        ..RunOptions::default()
    };
    let w = rnn_lab::train::start(exp, opts).expect("start");
    let mut app = fixtures::training(100);
    loop {
        let ev = w.events.recv_timeout(Duration::from_secs(120)).expect("an event");
        let paused = ev == Event::Paused;
        update(&mut app, Action::Trainer(ev));
        if paused {
            break;
        }
    }
    w.commands.send(Command::Stop).expect("send");
    drop(w.commands);
    w.thread.join().expect("thread").expect("prepared");
    assert_eq!(app.run.phase, Phase::Paused);
    let e = app.error.as_deref().expect("an error");
    assert!(e.starts_with("training diverged at step 1: numerical blow-up: "), "{e}");
    assert!(
        e.contains("no checkpoint had been saved: rolled back to the initial parameters (step 0)."),
        "{e}"
    );
    assert!(
        e.ends_with(
            "Paused. Press L to halve the learning rate (2.000e-3 → 1.000e-3) and resume, or Esc, \
             then [ / ] and space."
        ),
        "{e}"
    );
    assert!(!e.contains("if any"), "{e}");
    // The error box offers L; L halves the learning rate and resumes.
    assert_eq!(app.mode(), Mode::Diverged);
    let labels: Vec<&str> = rnn_lab::tui::ui::footer_hints(&app).iter().map(|h| h.label).collect();
    assert_eq!(labels, ["halve lr & resume", "dismiss", "edit", "quit"]);
    app.take_effects();
    key(&mut app, KeyCode::Char('L'));
    assert_eq!(sent(&mut app), [Command::SetLr(1e-3), Command::Resume]);
    assert_eq!(
        (app.run.phase, app.error.is_none(), app.run.diverged),
        (Phase::Running, true, false)
    );
    assert_eq!(app.mode(), Mode::Train);
}

/// Nothing good to roll back to: the trainer ends after `Diverged`; the error says the run
/// ended, and the run is over (no stray "ended without finishing" warning).
#[test]
fn a_divergence_the_run_cannot_recover_from_ends_the_run() {
    let mut app = fixtures::training(100);
    let what = "numerical blow-up: parameter embed.weight is NaN (non-finite); no good state to roll back to";
    update(
        &mut app,
        Action::Trainer(Event::Diverged {
            step: 101,
            what: what.into(),
        }),
    );
    update(&mut app, Action::TrainerGone);
    assert_eq!(app.run.phase, Phase::Failed);
    assert_eq!(
        app.error.as_deref(),
        Some(format!("training diverged at step 101: {what}. The run ended; nothing more was saved.").as_str())
    );
    assert!(app.take_effects().contains(&Effect::Detach));
    assert!(!app.messages.iter().any(|(_, m)| m.contains("without finishing")));
    assert_eq!(app.mode(), Mode::Error, "no L to offer once the run is over");
}

#[test]
fn chart_keys_toggle_settings() {
    let mut app = fixtures::training(100);
    let before = app.chart;
    for c in ['l', 'w', 'z', '.'] {
        key(&mut app, KeyCode::Char(c));
    }
    assert!(app.chart.log_y && app.chart.x_time && app.chart.recent);
    assert_eq!(app.chart.smoothing, before.smoothing + 1);
    for _ in 0..20 {
        key(&mut app, KeyCode::Char(','));
    }
    assert_eq!(app.chart.beta(), 0.0);
}

#[test]
fn runs_screen_overlays_and_compares() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.screen, Screen::Runs);
    assert_eq!(app.take_effects(), vec![Effect::ScanRuns]);
    key(&mut app, KeyCode::Char('o'));
    for c in "x".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.take_effects(), vec![Effect::OpenRun("runs/x".into())]);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Train);
}

#[test]
fn a_run_resumes_from_its_checkpoint_once_stopped() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('r'));
    let entry = rnn_lab::tui::files::RunEntry {
        dir: "runs/old".into(),
        name: "old".into(),
        steps: 500,
        best_val: None,
        last_train: None,
        train: rnn_lab::tui::history::History::new(8, 8),
        val: rnn_lab::tui::history::History::new(8, 8),
        overlay: false,
        has_probe: false,
    };
    update(&mut app, Action::Runs(RunsAction::Scanned(vec![entry])));
    app.take_effects();
    key(&mut app, KeyCode::Char('t'));
    assert!(app.take_effects().is_empty(), "not while a run is active");
    update(&mut app, Action::Trainer(Event::Finished { step: 100 }));
    app.take_effects();
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.take_effects(), vec![Effect::ResumeRun("runs/old".into())]);
    let ckpt = PathBuf::from("runs/old/latest.safetensors");
    update(
        &mut app,
        Action::ResumeReady(Box::new(fixtures::experiment("old")), ckpt.clone()),
    );
    assert_eq!(app.take_effects(), vec![Effect::Start { resume: Some(ckpt) }]);
    assert_eq!(app.screen, Screen::Train);
}

/// Every key of the table produces its row's action in an app in the row's mode (the app's
/// own mode resolution included); no key is bound twice within one mode; the footer shows only
/// rows whose keys reach them.
#[test]
fn every_key_in_the_table_does_what_its_row_says() {
    let train = fixtures::training(100);
    let browser = fixtures::browser();
    let mut runs = fixtures::training(100);
    key(&mut runs, KeyCode::Char('r'));
    let mut probes = fixtures::training(100);
    key(&mut probes, KeyCode::Tab);
    key(&mut probes, KeyCode::Tab);
    let help = fixtures::help();
    let error = fixtures::error();
    let mut diverged = fixtures::training(100);
    let what = "numerical blow-up: loss is NaN (non-finite); rolled back to the checkpoint of step 0";
    update(
        &mut diverged,
        Action::Trainer(Event::Diverged {
            step: 101,
            what: what.into(),
        }),
    );
    update(&mut diverged, Action::Trainer(Event::Paused));
    let mut prompt = fixtures::training(100);
    key(&mut prompt, KeyCode::Char('i'));
    let mut confirm = fixtures::training(100);
    key(&mut confirm, KeyCode::Char('q'));
    let mut saving = fixtures::training(100);
    key_mod(&mut saving, KeyCode::Char('c'), KeyModifiers::CONTROL);
    let mut suite = App::new(true);
    update(
        &mut suite,
        Action::Suite(rnn_lab::tui::action::SuiteAction::Loaded(Ok(Box::new(
            rnn_lab::tui::suite::SuiteView {
                dir: PathBuf::from("runs/suite-quick"),
                complete: true,
                runs: vec![],
            },
        )))),
    );
    let apps = [
        &train, &browser, &runs, &probes, &help, &error, &diverged, &prompt, &confirm, &saving, &suite,
    ];
    let modes: Vec<Mode> = apps.iter().map(|a| a.mode()).collect();
    use Mode::*;
    assert_eq!(
        modes,
        [Train, Browser, Runs, Probes, Help, Error, Diverged, Prompt, Confirm, Saving, Suite]
    );
    for row in KEYS.iter() {
        let in_mode: Vec<&&App> = apps.iter().filter(|a| a.mode().chain().contains(&row.mode)).collect();
        assert!(!in_mode.is_empty(), "no app state reaches {:?}", row.mode);
        for bind in row.binds {
            for k in bind.keys {
                let ev = k.event();
                // A typed key passes its character on: compare the kind of action.
                let same = |a: Option<Action>| match a {
                    Some(Action::Prompt(PromptAction::Char(_))) => Some(bind.action.clone()),
                    a => a,
                };
                // A row applies in its own mode…
                assert_eq!(
                    same(action_for(row.mode, ev)),
                    Some(bind.action.clone()),
                    "{} in {:?}",
                    k.name(),
                    row.mode
                );
                // …and in every app whose mode chain reaches it, unless a row earlier in the
                // chain takes the key over (the probes pane over the training screen).
                for app in &in_mode {
                    let got = same(app.key_action(ev));
                    let shadowed = app.mode().chain().iter().take_while(|&&m| m != row.mode).any(|&m| {
                        KEYS.iter()
                            .filter(|r| r.mode == m)
                            .flat_map(|r| r.binds)
                            .any(|b| b.keys.contains(k))
                    });
                    if !shadowed {
                        assert_eq!(got, Some(bind.action.clone()), "{} in {:?}", k.name(), app.mode());
                    }
                }
            }
        }
    }
    for mode in [
        Always, Screens, Browser, Train, Probes, Runs, Help, Error, Diverged, Prompt, Confirm, Saving,
    ] {
        let mut seen: Vec<Key> = Vec::new();
        for row in KEYS.iter().filter(|r| r.mode == mode) {
            for k in row.binds.iter().flat_map(|b| b.keys) {
                assert!(!seen.contains(k), "{} bound twice in {mode:?}", k.name());
                seen.push(*k);
            }
        }
    }
    // The footer of the probes pane drops the training keys it shadows ([ ] lr, g sample).
    let labels: Vec<&str> = rnn_lab::tui::ui::footer_hints(&probes)
        .iter()
        .map(|h| h.label)
        .collect();
    assert!(
        labels.contains(&"layer") && labels.contains(&"gate") && labels.contains(&"temp"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"lr") && !labels.contains(&"sample"), "{labels:?}");
    let train_labels: Vec<&str> = rnn_lab::tui::ui::footer_hints(&train).iter().map(|h| h.label).collect();
    assert!(
        train_labels.contains(&"lr") && train_labels.contains(&"pause"),
        "{train_labels:?}"
    );
}

/// Typed text reaches the prompt character by character, commands included; Ctrl and Alt
/// combinations do not type.
#[test]
fn the_prompt_takes_typed_characters_only() {
    use crossterm::event::KeyEvent;
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('P'));
    assert_eq!(
        app.key_action(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
        Some(Action::Prompt(rnn_lab::tui::action::PromptAction::Char('q')))
    );
    assert_eq!(
        app.key_action(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT)),
        None
    );
    assert_eq!(
        app.key_action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Interrupt)
    );
}

/// `K` keeps more tokens (up to all), `k` fewer (down to 1); "all" is the top of the scale.
#[test]
fn top_k_keys_move_towards_all_and_towards_one() {
    let mut app = App::new(true);
    app.sampling.top_k = 0;
    update(&mut app, Action::Train(TrainAction::TopKUp));
    assert_eq!(app.sampling.top_k, 0, "more than all stays all");
    update(&mut app, Action::Train(TrainAction::TopKDown));
    assert_eq!(app.sampling.top_k, 100);
    app.sampling.top_k = 1;
    update(&mut app, Action::Train(TrainAction::TopKDown));
    assert_eq!(app.sampling.top_k, 1);
    update(&mut app, Action::Train(TrainAction::TopKUp));
    assert_eq!(app.sampling.top_k, 2);
}

/// `v` asks for an evaluation now: from the trainer while a run is active, from the last
/// checkpoint once it has finished; its answer is said in the message line.
#[test]
fn v_evaluates_now_running_or_finished() {
    let mut app = fixtures::training(100);
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(sent(&mut app), vec![Command::Evaluate]);
    let mut m = fixtures::metrics(100);
    m.val_loss = Some(1.5);
    m.bits_per_token = 1.5 / std::f64::consts::LN_2;
    update(&mut app, Action::Trainer(Event::Step(m)));
    let said = &app.messages.back().expect("a message").1;
    assert!(said.starts_with("validation at step 100: 2.1640 bits/token"), "{said}");
    assert_eq!(app.run.last_val, Some(1.5));

    let path = PathBuf::from("runs/char-lstm-20261130-104200/latest.safetensors");
    update(
        &mut app,
        Action::Trainer(Event::Checkpointed {
            path: path.clone(),
            step: 100,
            best: false,
        }),
    );
    update(&mut app, Action::Trainer(Event::Finished { step: 100 }));
    app.take_effects();
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(
        app.take_effects(),
        vec![Effect::Inspect {
            checkpoint: path,
            command: Some(Command::Evaluate)
        }]
    );
    // An inspector's answer: its training figures are NaN; only the validation side is taken.
    let before = app.run.train.total();
    let mut m = fixtures::metrics(100);
    (m.train_loss, m.lr, m.val_loss) = (f64::NAN, f64::NAN, Some(1.25));
    update(&mut app, Action::Trainer(Event::Step(m)));
    assert_eq!(app.run.train.total(), before, "no training point from an evaluation");
    assert_eq!((app.run.last_val, app.run.best_val), (Some(1.25), Some(1.25)));
    assert_eq!(app.run.last.as_ref().map(|m| m.lr.is_finite()), Some(true));
    assert!(app
        .messages
        .back()
        .expect("a message")
        .1
        .starts_with("validation at step 100"));
}

/// The runs screen's `i` opens the selected run's checkpoint on the training screen: its
/// history, a state line naming the file and step, `g`/`p`/`v` answered by the inspector, and
/// space starting a new run rather than training over it.
#[test]
fn i_on_the_runs_screen_inspects_a_run() {
    let mut app = fixtures::browser();
    key(&mut app, KeyCode::Char('r'));
    let mut train = rnn_lab::tui::history::History::new(64, 8);
    let mut val = rnn_lab::tui::history::History::new(64, 8);
    for s in 1..=30u64 {
        let p = |v: f64| rnn_lab::tui::history::Point {
            step: 10 * s,
            time_s: s as f64,
            value: v,
        };
        train.push(p(3.0 - 0.05 * s as f64));
        if s % 10 == 0 {
            val.push(p(3.1 - 0.05 * s as f64));
        }
    }
    let entry = rnn_lab::tui::files::RunEntry {
        dir: "runs/old".into(),
        name: "old".into(),
        steps: 300,
        best_val: Some(1.6),
        last_train: Some(1.5),
        train,
        val,
        overlay: false,
        has_probe: false,
    };
    update(&mut app, Action::Runs(RunsAction::Scanned(vec![entry.clone()])));
    app.take_effects();
    key(&mut app, KeyCode::Char('i'));
    assert_eq!(app.take_effects(), vec![Effect::InspectRun("runs/old".into())]);
    let ckpt = PathBuf::from("runs/old/best.safetensors");
    let inspection = rnn_lab::tui::files::Inspection {
        checkpoint: ckpt.clone(),
        experiment: fixtures::experiment("old"),
        run: Some(entry),
        last: Some(fixtures::metrics(300)),
        last_task: None,
    };
    update(&mut app, Action::Inspected(Ok(Box::new(inspection))));
    assert_eq!((app.screen, app.run.phase), (Screen::Train, Phase::Inspecting));
    assert_eq!(app.run.train.total(), 30, "the run's history");
    assert_eq!(
        app.take_effects(),
        vec![Effect::Inspect {
            checkpoint: ckpt.clone(),
            command: None
        }]
    );
    let info = rnn_lab::train::protocol::RunInfo {
        name: "old".into(),
        run_dir: "runs/old".into(),
        total_steps: 300,
        start_step: 200,
        params: 1000,
        vocab: 65,
        train_tokens: 0,
        model: "lstm 1×8, one-hot 65".into(),
        embedding_init: None,
    };
    update(&mut app, Action::Trainer(Event::Started(Box::new(info))));
    assert_eq!(
        app.run.phase,
        Phase::Inspecting,
        "the inspector's Started starts nothing"
    );
    let status = rnn_lab::tui::widgets::status::Status { app: &app }.fields();
    assert_eq!(status[0].1, "runs/old/best.safetensors (step 200)", "{status:?}");

    for (k, cmd) in [
        ('g', Command::Sample(app.sampling.request())),
        ('p', Command::Probe(None)),
        ('v', Command::Evaluate),
    ] {
        key(&mut app, KeyCode::Char(k));
        assert_eq!(
            app.take_effects(),
            vec![Effect::Inspect {
                checkpoint: ckpt.clone(),
                command: Some(cmd)
            }],
            "{k}"
        );
    }
    key(&mut app, KeyCode::Char('s'));
    assert!(app.take_effects().is_empty());
    assert!(app
        .messages
        .back()
        .expect("a message")
        .1
        .contains("t on the runs screen"));
    let labels: Vec<&str> = rnn_lab::tui::ui::footer_hints(&app).iter().map(|h| h.label).collect();
    assert!(labels.contains(&"new run") && labels.contains(&"eval"), "{labels:?}");
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.take_effects(), vec![Effect::Start { resume: None }]);
    assert_eq!(app.run.phase, Phase::Starting);
    let said = &app.messages.back().expect("a message").1;
    assert!(said.contains("runs/old/best.safetensors is unchanged"), "{said}");
}
