//! Sweeps on the TUI's runs screen: a sweep's points grouped under it, best first, their Slurm
//! states while the job is queued, their curves overlaid; the keys that start and stop a
//! sweep; and a 12-point sweep started from the runs screen with the real `rnn-lab` binary,
//! followed by the real main loop until every point has finished.
//!
//! Deterministic: the loop test waits for states of the app, never for a time.

#[path = "support/fake_backend.rs"]
mod fake_backend;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::sweep::layout::{ManifestPoint, PointState, PointStatus};
use rnn_lab::sweep::{overview, results, Manifest, SweepDir};
use rnn_lab::train::protocol::Metrics;
use rnn_lab::tui::action::{Action, RunsAction};
use rnn_lab::tui::app::{update, App, Effect, PromptKind, RunsItem, Screen};
use rnn_lab::tui::scanner::{run_job, Job};
use rnn_lab::tui::sweeps::SweepEntry;
use rnn_lab::tui::{run_loop, Input, Runtime, TuiError};

fn press(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    if let Some(a) = app.key_action(KeyEvent::new(code, mods)) {
        update(app, a);
    }
}

fn key(app: &mut App, c: char) {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    press(app, KeyCode::Char(c), mods);
}

fn metrics(step: u64, train: f64, val: Option<f64>) -> String {
    let m = Metrics {
        step,
        epoch: 0.0,
        time_s: step as f64,
        train_loss: train,
        val_loss: val,
        bits_per_token: 1.0,
        lr: 1e-3,
        grad_norm: 1.0,
        tokens_per_s: 100.0,
        task: None,
    };
    serde_json::to_string(&m).unwrap_or_default()
}

/// A sweep folder of four points over `model.hidden`: p000 finished (val 1.5), p001 finished
/// (val 1.2), p002 running (val 1.9 so far), p003 not started.
fn sweep_folder(root: &Path) -> Result<SweepDir, Box<dyn std::error::Error>> {
    let dir = SweepDir {
        root: root.to_path_buf(),
    };
    dir.create()?;
    let m = Manifest {
        name: "grid".into(),
        sweep_file: "/nowhere/grid.toml".into(),
        base: "/nowhere/tiny.toml".into(),
        axes: vec!["model.hidden".into()],
        points: (0..4)
            .map(|i| ManifestPoint {
                id: format!("p{i:03}"),
                values: vec![serde_json::json!(8 << i)],
            })
            .collect(),
    };
    dir.write_manifest(&m)?;
    for (id, state, val) in [
        ("p000", PointState::Finished, 1.5),
        ("p001", PointState::Finished, 1.2),
        ("p002", PointState::Running, 1.9),
    ] {
        let run = dir.runs(id).join("tiny-20261202-070000");
        std::fs::create_dir_all(&run)?;
        let text = [metrics(5, 2.5, None), metrics(10, 2.0, Some(val))].join("\n");
        std::fs::write(run.join("metrics.jsonl"), text + "\n")?;
        dir.write_status(
            id,
            &PointStatus {
                state,
                attempts: 1,
                wall_s: 1.0,
                started: None,
                host: "here".into(),
                pid: None,
                slurm: None,
                message: None,
            },
        )?;
    }
    Ok(dir)
}

/// The folder as the scanner reads it, with Slurm saying p002 runs and p003 waits in job 17.
fn queued_on_slurm(root: &Path) -> Result<SweepEntry, Box<dyn std::error::Error>> {
    let mut ov = overview::read(root).ok_or("no sweep read")?;
    let live: BTreeMap<usize, String> = [(2, "RUNNING".to_string()), (3, "PENDING".to_string())].into();
    ov.rows = results::collect(&ov.dir, &ov.manifest, &live);
    ov.job = Some(("17".into(), live));
    Ok(SweepEntry::new(ov))
}

fn screen_text(app: &App, w: u16, h: u16) -> Result<String, Box<dyn std::error::Error>> {
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    terminal.draw(|f| f.render_widget(app, f.area()))?;
    let buf = terminal.backend().buffer();
    Ok(buf
        .content()
        .chunks(usize::from(w))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n"))
}

#[test]
fn a_sweep_groups_its_points_best_first_with_their_slurm_states() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    sweep_folder(&tmp.path().join("grid"))?;
    let entry = queued_on_slurm(&tmp.path().join("grid"))?;
    let ids: Vec<&str> = entry.points.iter().map(|p| p.row.id.as_str()).collect();
    assert_eq!(ids, ["p001", "p000", "p002", "p003"], "sorted by best validation loss");
    let states: Vec<&str> = entry.points.iter().map(|p| p.row.status.as_str()).collect();
    assert_eq!(states, ["finished", "finished", "running", "queued"]);
    assert_eq!(entry.activity().as_deref(), Some("Slurm job 17"));
    assert_eq!(entry.summary(), "4 points: 2 finished, 1 running, 1 queued");

    let mut app = App::new(true);
    update(&mut app, Action::ShowRuns);
    update(&mut app, Action::Runs(RunsAction::SweepsScanned(vec![entry])));
    assert_eq!(
        app.runs.items(),
        [
            RunsItem::Sweep(0),
            RunsItem::Point(0, 0),
            RunsItem::Point(0, 1),
            RunsItem::Point(0, 2),
            RunsItem::Point(0, 3)
        ]
    );
    // Space on the sweep's line overlays every point that has a curve.
    key(&mut app, ' ');
    assert!(app.runs.sweeps[0].overlay_all);
    assert!(app.runs.sweeps[0].points.iter().all(|p| p.overlay));
    let text = screen_text(&app, 120, 30)?;
    for want in [
        "sweep grid",
        "Slurm job 17",
        "4 points: 2 finished, 1 running, 1 queued",
        " 1. p001 hidden=16",
        " 2. p000 hidden=8",
        "best 1.200 · 10 steps · finished",
        "p003 hidden=64",
        "queued",
        "grid p001 train",
    ] {
        assert!(text.contains(want), "{want:?} not on the screen:\n{text}");
    }
    let rank1 = text.find("p001 hidden").ok_or("p001")?;
    let rank2 = text.find("p000 hidden").ok_or("p000")?;
    let running = text.find("p002 hidden").ok_or("p002")?;
    assert!(rank1 < rank2 && rank2 < running, "best first:\n{text}");

    // Down to p000, space: only it comes off the overlay, and the sweep is no longer "all".
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(app.runs.selected_item(), Some(RunsItem::Point(0, 1)));
    key(&mut app, ' ');
    assert!(!app.runs.sweeps[0].points[1].overlay);
    assert!(app.runs.sweeps[0].points[0].overlay);
    assert!(!app.runs.sweeps[0].overlay_all);

    // A fresh scan (the sweep moved on) keeps the marks and the selected point.
    let again = queued_on_slurm(&tmp.path().join("grid"))?;
    update(&mut app, Action::Runs(RunsAction::SweepsScanned(vec![again])));
    assert_eq!(app.runs.selected_item(), Some(RunsItem::Point(0, 1)));
    assert!(!app.runs.sweeps[0].points[1].overlay);
    assert!(app.runs.sweeps[0].points[0].overlay);

    // x stops the selected point's sweep (it has a queued job).
    key(&mut app, 'x');
    assert_eq!(
        app.take_effects().last(),
        Some(&Effect::StopSweep(tmp.path().join("grid")))
    );
    Ok(())
}

#[test]
fn w_and_shift_w_prompt_for_a_sweep_file_and_x_needs_a_running_sweep() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let mut app = App::new(true);
    update(&mut app, Action::ShowRuns);
    assert_eq!(app.screen, Screen::Runs);
    key(&mut app, 'W');
    assert_eq!(
        app.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Sweep { slurm: true })
    );
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    key(&mut app, 'w');
    assert_eq!(
        app.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Sweep { slurm: false })
    );
    for c in "lr.toml".chars() {
        key(&mut app, c);
    }
    app.take_effects();
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        app.take_effects(),
        [Effect::StartSweep {
            file: PathBuf::from("experiments/sweeps/lr.toml"),
            slurm: false
        }]
    );

    // A finished sweep (no driver, no job): x says so and does nothing.
    sweep_folder(&tmp.path().join("grid"))?;
    let entry = SweepEntry::new(overview::read(&tmp.path().join("grid")).ok_or("read")?);
    assert!(!entry.overview.active());
    update(&mut app, Action::Runs(RunsAction::SweepsScanned(vec![entry])));
    key(&mut app, 'x');
    assert!(app.take_effects().is_empty());
    assert!(app
        .messages
        .back()
        .is_some_and(|(_, m)| m == "sweep grid is not running"));
    Ok(())
}

#[test]
fn a_bad_sweep_file_from_the_tui_is_its_one_located_line() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    std::fs::write(tmp.path().join("corpus.txt"), "abc abc abc\n".repeat(20))?;
    std::fs::write(
        tmp.path().join("tiny.toml"),
        "[data]\nfiles = [\"corpus.txt\"]\n[model]\nhidden = 8\n",
    )?;
    let sweep = tmp.path().join("sw.toml");
    std::fs::write(
        &sweep,
        "[sweep]\nbase = \"tiny.toml\"\n[axes]\n\"model.hiden\" = [8, 16]\n",
    )?;
    let load = |p: &Path| Err(format!("{}: not read here", p.display()));
    let job = Job::StartSweep {
        file: sweep.clone(),
        out: tmp.path().join("sweeps"),
        slurm: false,
        rnn_lab: Some(PathBuf::from(env!("CARGO_BIN_EXE_rnn-lab"))),
    };
    let mut app = App::new(true);
    update(&mut app, run_job(job, &load));
    let err = app.error.clone().ok_or("no error shown")?;
    assert!(
        err.starts_with(&format!("{}:4:1: ", sweep.display())) && err.contains("did you mean `hidden`?"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!tmp.path().join("sweeps").exists(), "nothing started, nothing written");
    Ok(())
}

/// Keys and waits for states of the app, for the real main loop.
enum Step {
    Key(KeyCode),
    Until(&'static str, Box<dyn Fn(&App) -> bool>),
}

struct Script {
    steps: VecDeque<Step>,
    since: Option<Instant>,
    quit_sent: bool,
}

/// Longest a wait lasts before failing (reached only when the app is broken).
const PATIENCE: Duration = Duration::from_secs(240);

impl Input for Script {
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError> {
        match self.steps.front() {
            Some(Step::Key(code)) => {
                let mods = match code {
                    KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
                    _ => KeyModifiers::NONE,
                };
                let ev = KeyEvent::new(*code, mods);
                self.steps.pop_front();
                Ok(Some(TermEvent::Key(ev)))
            }
            Some(Step::Until(what, _)) => {
                let since = *self.since.get_or_insert_with(Instant::now);
                assert!(since.elapsed() < PATIENCE, "the app never reached: {what}");
                std::thread::sleep(timeout);
                Ok(None)
            }
            None if !self.quit_sent => {
                self.quit_sent = true;
                Ok(Some(TermEvent::Key(KeyEvent::new(
                    KeyCode::Char('q'),
                    KeyModifiers::NONE,
                ))))
            }
            None => {
                std::thread::sleep(timeout);
                Ok(None)
            }
        }
    }

    fn observe(&mut self, app: &App) {
        if let Some(Step::Until(_, pred)) = self.steps.front() {
            if pred(app) {
                self.steps.pop_front();
                self.since = None;
            }
        }
    }
}

#[test]
fn a_12_point_sweep_started_from_the_runs_screen_runs_to_the_end() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::write(
        d.join("corpus.txt"),
        "the quick brown fox jumps over the lazy dog.\n".repeat(40),
    )?;
    std::fs::write(
        d.join("tiny.toml"),
        "[experiment]\nname = \"tiny\"\n[data]\nfiles = [\"corpus.txt\"]\n[model]\nhidden = 8\n\
         [training]\nbatch_size = 4\nseq_len = 8\nsteps = 6\nlog_every = 2\neval_every = 3\n\
         checkpoint_every = 3\nsample_every = 0\nprobe_every = 0\n",
    )?;
    let sweep = d.join("twelve.toml");
    std::fs::write(
        &sweep,
        "[sweep]\nbase = \"tiny.toml\"\n[axes]\n\"model.cell\" = [\"rnn\", \"gru\", \"lstm\"]\n\
         \"training.lr\" = [0.001, 0.003, 0.01, 0.03]\n[local]\nparallel = 2\n",
    )?;
    let backend = fake_backend::FakeBackend::new(Duration::from_millis(1), d.join("runs"));
    let mut rt = Runtime::new(Box::new(backend), Box::new(|_: &Path| Ok(())));
    rt.experiments_dir = d.join("experiments");
    rt.runs_dir = d.join("runs");
    rt.sweeps_dir = d.join("sweeps");
    rt.rnn_lab = Some(PathBuf::from(env!("CARGO_BIN_EXE_rnn-lab")));

    let mut steps = vec![Step::Key(KeyCode::Char('r')), Step::Key(KeyCode::Char('w'))];
    steps.extend(std::iter::repeat_with(|| Step::Key(KeyCode::Backspace)).take("experiments/sweeps/".len()));
    steps.extend(sweep.to_string_lossy().chars().map(|c| Step::Key(KeyCode::Char(c))));
    steps.push(Step::Key(KeyCode::Enter));
    steps.push(Step::Until(
        "the sweep running, shown on the runs screen",
        Box::new(|app: &App| app.runs.sweeps.iter().any(|s| s.name() == "twelve")),
    ));
    steps.push(Step::Until(
        "all 12 points finished and the sweep's process gone",
        Box::new(|app: &App| {
            app.runs.sweeps.iter().any(|s| {
                s.name() == "twelve"
                    && s.points.len() == 12
                    && s.overview.count("finished") == 12
                    && !s.overview.active()
            })
        }),
    ));
    let mut script = Script {
        steps: steps.into(),
        since: None,
        quit_sent: false,
    };
    let mut app = App::new(true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40))?;
    run_loop(&mut terminal, &mut app, &mut rt, &mut script)?;

    assert!(app.error.is_none(), "{:?}", app.error);
    let s = app
        .runs
        .sweeps
        .iter()
        .find(|s| s.name() == "twelve")
        .ok_or("sweep gone")?;
    // Started here: every point overlaid, each with its curves; sorted by result.
    assert!(s.overlay_all && s.points.iter().all(|p| p.overlay && p.run.is_some()));
    let best: Vec<f64> = s.points.iter().filter_map(|p| p.row.best_val).collect();
    assert_eq!(best.len(), 12);
    assert!(best.windows(2).all(|w| w[0] <= w[1]), "{best:?}");
    // The same table as the command line's, written by the sweep's own process.
    let table = std::fs::read_to_string(d.join("sweeps/twelve/results.csv"))?;
    assert_eq!(table.lines().count(), 13, "{table}");
    let log = std::fs::read_to_string(d.join("sweeps/twelve/logs/driver.log"))?;
    assert!(log.contains("12 finished"), "{log}");
    Ok(())
}
