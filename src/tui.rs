//! The terminal workbench: an experiment browser, a live training dashboard (loss, status,
//! samples, probes) and a runs screen, driving a background trainer through a [`Backend`].
//!
//! Shape (ratatui's example apps, gitui, bottom):
//!
//! - `action.rs`: the [`action::Action`] enum — app-wide variants and one enum per screen or
//!   pane; it imports nothing of the app.
//! - `keys.rs`: the one key table; the key → action mapping, the help screen and the footer are
//!   all read from it.
//! - `app.rs`: [`app::App`] (all state) and [`app::update`], its only transition (no I/O,
//!   tested without a terminal), dispatching to one reducer per screen or pane under `app/`.
//!   Dependencies run one way: `app` → `keys` → `action`.
//! - `ui.rs` + `widgets/` + `probe_view/`: pure rendering of the `App`.
//! - `scanner.rs`: the thread that reads the disk (experiments, run directories, probes,
//!   sweep folders) and starts or stops sweeps; `sweeps.rs`: a sweep as the runs screen shows it.
//! - this file: the terminal and the main loop, generic over the ratatui backend so tests drive
//!   it with `TestBackend`.
//!
//! The UI thread never waits for the trainer or the disk: each frame it drains the trainer's
//! events and the scanner's answers with `try_recv`, draws, and polls keys with a 30 ms
//! timeout.
//!
//! Adding a screen: a [`app::Screen`] variant (title-bar name), its state and reducer in
//! `app/NAME.rs` with a `NAME::update` arm in [`app::update`], an action enum in `action.rs`, a
//! [`keys::Mode`] with its rows in [`keys::KEYS`] (and its help section), its widget under
//! `widgets/` drawn from `ui.rs`. Adding a pane to the training screen: a [`app::Pane`] variant
//! (Tab order is [`app::Pane::ALL`]) and its drawing in `ui.rs`; a pane with its own keys gets a
//! `Mode` whose chain falls through to `Mode::Train`, like the probes pane.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod action;
pub mod app;
pub mod files;
pub mod history;
pub mod keys;
pub mod probe_view;
pub mod scanner;
pub mod suite;
pub mod sweeps;
pub mod theme;
pub mod ui;
pub mod w2v;
pub mod widgets;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use ratatui::Terminal;
use thiserror::Error;

use crate::config::Experiment;
use crate::train::protocol::{Command, Event};

use action::Action;
use app::{update, App, Effect};
use scanner::{Job, Scanner};

/// What the TUI needs from the rest of the program (implemented by
/// `commands::tui::RealBackend`; tests and the `tui_demo` example use a fake). `Send + Sync`:
/// the scanner thread checks experiment files with it too.
pub trait Backend: Send + Sync {
    /// Read and validate an experiment file; Err is a one-line message "file:line:col: ...".
    fn load_experiment(&self, path: &Path) -> Result<Experiment, String>;
    /// Start training `exp` on a background thread (optionally resuming from a checkpoint);
    /// returns the command sender and event receiver. The trainer writes the run directory.
    fn start(&self, exp: &Experiment, resume: Option<&Path>) -> Result<(Sender<Command>, Receiver<Event>), String>;
    /// Hold a checkpoint on a background thread answering `Sample` and `Probe` with the
    /// trainer's events (`train::inspect`), for a run that has finished. The default says it
    /// is not available (test backends).
    fn inspect(&self, checkpoint: &Path) -> Result<(Sender<Command>, Receiver<Event>), String> {
        Err(format!(
            "{}: cannot sample from a finished run here",
            checkpoint.display()
        ))
    }

    /// The `rnn-lab` binary that runs sweeps started from the runs screen (`rnn-lab sweep`);
    /// `None` (the default) when this program cannot, as the demo's fake backend.
    fn rnn_lab(&self) -> Option<PathBuf> {
        None
    }
}

/// Why the TUI could not run.
#[derive(Debug, Error)]
pub enum TuiError {
    /// stdout is piped or redirected.
    #[error("stdout is not a terminal; use `rnn-lab --headless EXP.toml`")]
    NotATerminal,
    /// Terminal I/O failed.
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
    /// The drawing backend failed.
    #[error("terminal backend: {0}")]
    Backend(String),
}

/// Keys and resizes for the main loop (crossterm in the real terminal, a script in tests).
pub trait Input {
    /// Wait up to `timeout` for the next terminal event.
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError>;

    /// Sees the app after each frame is drawn (as a user sees the screen). Does nothing in a
    /// terminal; a test script uses it to wait for a state instead of for a time.
    fn observe(&mut self, _app: &App) {}
}

/// Events from crossterm.
pub struct CrosstermInput;

impl Input for CrosstermInput {
    fn poll(&mut self, timeout: Duration) -> Result<Option<TermEvent>, TuiError> {
        if event::poll(timeout)? {
            Ok(Some(event::read()?))
        } else {
            Ok(None)
        }
    }
}

/// Suspends the terminal, edits a file, resumes (or a fake in tests).
pub type Editor<'a> = Box<dyn FnMut(&Path) -> Result<(), String> + 'a>;

/// Where files are and what the loop talks to: the backend, the editor, the trainer's
/// channels and the scanner thread.
pub struct Runtime<'a> {
    /// The program's services.
    pub backend: Arc<dyn Backend>,
    /// `experiments/`.
    pub experiments_dir: PathBuf,
    /// `runs/`.
    pub runs_dir: PathBuf,
    /// `sweeps/`.
    pub sweeps_dir: PathBuf,
    /// The `rnn-lab` binary that runs sweeps started from the TUI ([`Backend::rnn_lab`]).
    pub rnn_lab: Option<PathBuf>,
    /// Runs `$EDITOR` on a file.
    pub editor: Editor<'a>,
    /// Set by SIGTERM/SIGHUP/SIGINT.
    pub terminate: Arc<AtomicBool>,
    /// Channels of the active run.
    channels: Option<(Sender<Command>, Receiver<Event>)>,
    /// A copy of the active run's command sender for the signal watchdog (see [`run`]).
    stop_sender: Arc<Mutex<Option<Sender<Command>>>>,
    /// The disk reader, started on the first job (`None` until then, or if it could not be).
    scanner: Option<Scanner>,
    /// The inspector of a finished run's checkpoint: that path and its channels.
    inspector: Option<(PathBuf, Sender<Command>, Receiver<Event>)>,
}

impl<'a> Runtime<'a> {
    /// A runtime over `experiments/` and `runs/` of the current directory.
    pub fn new(backend: Box<dyn Backend>, editor: Editor<'a>) -> Self {
        let rnn_lab = backend.rnn_lab();
        Runtime {
            backend: Arc::from(backend),
            experiments_dir: PathBuf::from("experiments"),
            runs_dir: PathBuf::from("runs"),
            sweeps_dir: PathBuf::from("sweeps"),
            rnn_lab,
            editor,
            terminate: Arc::new(AtomicBool::new(false)),
            channels: None,
            stop_sender: Arc::new(Mutex::new(None)),
            scanner: None,
            inspector: None,
        }
    }

    fn set_channels(&mut self, ch: Option<(Sender<Command>, Receiver<Event>)>) {
        if let Ok(mut s) = self.stop_sender.lock() {
            *s = ch.as_ref().map(|(tx, _)| tx.clone());
        }
        self.channels = ch;
    }

    /// Drain every pending trainer event and scanner answer into the app (never blocks).
    pub fn drain(&mut self, app: &mut App) {
        self.drain_trainer(app);
        self.drain_inspector(app);
        self.drain_scanner(app);
    }

    /// The inspector's answers, as trainer events; a failure is a message, not the run's. Its
    /// `Started` (the checkpoint's step and model) matters only to a checkpoint opened for
    /// inspection, not to the run that has just finished.
    fn drain_inspector(&mut self, app: &mut App) {
        let mut gone = false;
        if let Some((_, _, rx)) = &self.inspector {
            loop {
                match rx.try_recv() {
                    Ok(Event::Failed(e)) => {
                        update(app, Action::Trainer(Event::Warning(e)));
                        gone = true;
                    }
                    Ok(ev @ (Event::Sample(_) | Event::Probe(_) | Event::Warning(_))) => {
                        update(app, Action::Trainer(ev));
                    }
                    // An evaluation's answer; not into a run started since it was asked for.
                    Ok(ev @ Event::Step(_)) if !app.run.phase.active() => update(app, Action::Trainer(ev)),
                    Ok(ev @ Event::Started(_)) if app.run.phase == app::Phase::Inspecting => {
                        update(app, Action::Trainer(ev));
                    }
                    Ok(_) => {}
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        gone = true;
                        break;
                    }
                }
            }
        }
        if gone {
            self.inspector = None;
        }
    }

    /// Trainer events; a disconnected channel ends the run.
    fn drain_trainer(&mut self, app: &mut App) {
        let mut gone = false;
        let mut ended = false;
        if let Some((_, rx)) = &self.channels {
            loop {
                match rx.try_recv() {
                    Ok(ev) => {
                        // After its last event the trainer hangs up: that is not a failure.
                        ended = matches!(ev, Event::Finished { .. } | Event::Failed(_));
                        update(app, Action::Trainer(ev));
                        if ended {
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        gone = true;
                        break;
                    }
                }
            }
        }
        if ended || gone {
            self.set_channels(None);
        }
        if gone {
            update(app, Action::TrainerGone);
        }
    }

    /// The scanner's answers (a scanner that died is started again on the next job).
    fn drain_scanner(&mut self, app: &mut App) {
        while let Some(s) = &self.scanner {
            match s.try_recv() {
                Ok(a) => update(app, a),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.scanner = None,
            }
        }
    }

    /// Give a job to the scanner thread (started on the first job). If no thread can be
    /// started, the job runs here, on the UI thread: slower, still correct.
    fn scan(&mut self, app: &mut App, job: Job) {
        if self.scanner.is_none() {
            let backend = Arc::clone(&self.backend);
            self.scanner = Scanner::spawn(Arc::new(move |p: &Path| backend.load_experiment(p))).ok();
        }
        let job = match &self.scanner {
            Some(s) => match s.send(job) {
                Ok(()) => return,
                Err(job) => job,
            },
            None => job,
        };
        self.scanner = None;
        let backend = Arc::clone(&self.backend);
        update(app, scanner::run_job(job, &move |p: &Path| backend.load_experiment(p)));
    }

    /// Carry out the app's effects until none are left. Returns true when the editor ran (the
    /// screen must be redrawn from scratch).
    pub fn apply_effects(&mut self, app: &mut App) -> bool {
        let mut redraw = false;
        // Effects can cause actions that queue more effects; bound the rounds.
        for _ in 0..16 {
            let effects = app.take_effects();
            if effects.is_empty() {
                break;
            }
            for e in effects {
                redraw |= self.apply(app, e);
            }
        }
        redraw
    }

    fn apply(&mut self, app: &mut App, effect: Effect) -> bool {
        match effect {
            Effect::Send(cmd) => {
                let failed = match &self.channels {
                    Some((tx, _)) => tx.send(cmd).is_err(),
                    None => false,
                };
                if failed {
                    // The trainer is gone; drain what it left, then report.
                    self.drain(app);
                }
            }
            Effect::LoadExperiment(path) => self.scan(app, Job::Experiment(path)),
            Effect::Start { resume } => {
                self.set_channels(None);
                let Some(exp) = app.experiment.clone() else {
                    return false;
                };
                match self.backend.start(&exp, resume.as_deref()) {
                    Ok(ch) => self.set_channels(Some(ch)),
                    Err(e) => update(app, Action::StartFailed(e)),
                }
            }
            Effect::ResumeRun(dir) => self.scan(app, Job::Resume(dir)),
            Effect::InspectRun(arg) => self.scan(app, Job::Inspect(arg)),
            Effect::OpenEditor(path) => {
                let r = (self.editor)(&path).and_then(|()| self.backend.load_experiment(&path));
                update(app, Action::Edited(path, r));
                return true;
            }
            Effect::ScanExperiments => {
                let job = Job::Experiments {
                    dir: self.experiments_dir.clone(),
                    runs: self.runs_dir.clone(),
                };
                self.scan(app, job);
            }
            Effect::ScanRuns => {
                self.scan(app, Job::Runs(self.runs_dir.clone()));
                self.scan(app, Job::Sweeps(self.sweeps_dir.clone()));
            }
            Effect::ScanSweeps => self.scan(app, Job::Sweeps(self.sweeps_dir.clone())),
            Effect::StartSweep { file, slurm } => {
                let job = Job::StartSweep {
                    file,
                    out: self.sweeps_dir.clone(),
                    slurm,
                    rnn_lab: self.rnn_lab.clone(),
                };
                self.scan(app, job);
            }
            Effect::StopSweep(root) => self.scan(app, Job::StopSweep(root)),
            Effect::LoadSuite(dir) => self.scan(app, Job::Suite(dir)),
            Effect::OpenRun(dir) => self.scan(app, Job::OpenRun(dir)),
            Effect::LoadCompareProbe(path) => self.scan(app, Job::Probe(path)),
            Effect::Detach => self.set_channels(None),
            Effect::Inspect { checkpoint, command } => {
                if self.inspector.as_ref().is_none_or(|(p, _, _)| *p != checkpoint) {
                    self.inspector = match self.backend.inspect(&checkpoint) {
                        Ok((tx, rx)) => Some((checkpoint, tx, rx)),
                        Err(e) => {
                            update(app, Action::Trainer(Event::Warning(e)));
                            None
                        }
                    };
                }
                if let (Some((_, tx, _)), Some(command)) = (&self.inspector, command) {
                    if tx.send(command).is_err() {
                        self.inspector = None;
                    }
                }
            }
            Effect::Suspend => {
                suspend();
                return true;
            }
            Effect::Quit => {}
        }
        false
    }
}

/// Longest wait for a key in one frame (keeps ≥ 20 fps even with a silent trainer).
pub const FRAME_POLL: Duration = Duration::from_millis(30);

/// Most terminal events handled between two frames.
pub const MAX_INPUTS_PER_FRAME: usize = 64;

/// The main loop, generic over the terminal backend: tests run it on `TestBackend` with a
/// scripted [`Input`]. Returns when the app quits.
pub fn run_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rt: &mut Runtime<'_>,
    input: &mut dyn Input,
) -> Result<(), TuiError> {
    let start = Instant::now();
    let mut frames = 0u32;
    let mut fps_since = Instant::now();
    let mut needs_clear = false;
    loop {
        if rt.terminate.swap(false, Ordering::SeqCst) {
            update(app, Action::Terminate);
        }
        rt.drain(app);
        update(app, Action::Tick(start.elapsed().as_secs_f64()));
        if rt.apply_effects(app) || needs_clear {
            // Back from the editor: the screen is not what ratatui last drew.
            terminal.clear().map_err(|e| TuiError::Backend(e.to_string()))?;
            needs_clear = false;
        }
        if app.quit {
            return Ok(());
        }
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .map_err(|e| TuiError::Backend(e.to_string()))?;
        input.observe(app);
        frames += 1;
        let dt = fps_since.elapsed().as_secs_f64();
        if dt >= 1.0 {
            app.fps = f64::from(frames) / dt;
            frames = 0;
            fps_since = Instant::now();
        }
        // Wait for input at most one frame, then take whatever else is already queued.
        // Bounded, so a flood of keys (auto-repeat) cannot starve drawing and the trainer.
        let mut timeout = FRAME_POLL;
        for _ in 0..MAX_INPUTS_PER_FRAME {
            let Some(ev) = input.poll(timeout)? else {
                break;
            };
            timeout = Duration::ZERO;
            if let TermEvent::Key(key) = ev {
                if key.kind == KeyEventKind::Release {
                    continue;
                }
                if let Some(a) = app.key_action(key) {
                    update(app, a);
                }
                needs_clear |= rt.apply_effects(app);
                if app.quit {
                    return Ok(());
                }
            }
        }
    }
}

/// Ctrl-Z. In raw mode it is a key, not a signal, so this does what the terminal driver would
/// have done: give the terminal back (main screen, cooked mode), stop the whole foreground
/// process group with SIGTSTP (group 0: under `cargo run` the parent stops too, and the shell
/// gets its prompt back), and, once `fg` continues it, take the terminal again; the caller
/// redraws. A stopped process runs no thread, so training waits while suspended and goes on
/// after `fg`.
fn suspend() {
    let _ = ratatui::try_restore();
    // SAFETY: kill(2) on the own process group with a valid signal touches no memory. The
    // signal is delivered before kill returns, so this returns after SIGCONT.
    unsafe {
        libc::kill(0, libc::SIGTSTP);
    }
    let _ = crossterm::terminal::enable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    );
}

/// Runs `$EDITOR` (default `vi`) on `path` with the terminal suspended, then takes the
/// terminal back.
fn run_editor(path: &Path) -> Result<(), String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let _ = ratatui::try_restore();
    let status = std::process::Command::new(program).args(words).arg(path).status();
    let back = crossterm::terminal::enable_raw_mode()
        .and_then(|()| crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen));
    back.map_err(|e| format!("could not take the terminal back: {e}"))?;
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("editor `{editor}` exited with {s}")),
        Err(e) => Err(format!("could not run editor `{editor}`: {e} (set $EDITOR)")),
    }
}

/// Restores the terminal when dropped (quit, error, early return).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        // try_: `restore` prints on failure, and printing to a closed terminal panics.
        let _ = ratatui::try_restore();
    }
}

/// Whether a path given to the TUI names a run to inspect rather than an experiment file: a
/// directory (a run directory), a `.safetensors` checkpoint, or a `NAME@latest` path that
/// does not exist as such (see `train::rundir::resolve`).
pub fn is_run_path(p: &Path) -> bool {
    p.is_dir()
        || p.extension().is_some_and(|e| e == "safetensors")
        || (!p.exists() && p.to_string_lossy().contains("@latest"))
}

/// Run the TUI until the user quits.
///
/// With `initial` = `Some(EXP.toml)` the experiment opens directly on the training screen; a
/// run directory or checkpoint ([`is_run_path`]) opens it for inspection there; otherwise the
/// browser lists `experiments/*.toml`. Run directories are read from `runs/` of
/// the current directory. The terminal is restored on every way out: quit, error, panic
/// (ratatui's hook), Ctrl-C (a key in raw mode: save and quit) and SIGTERM/SIGHUP (send
/// `Command::Stop`, wait up to 3 s for `Event::Finished`, restore, return).
///
/// # Errors
/// [`TuiError::NotATerminal`] when stdout is not a terminal (use `rnn-lab --headless`), or a
/// terminal I/O error.
pub fn run(initial: Option<PathBuf>, backend: Box<dyn Backend>) -> Result<(), TuiError> {
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut rt = Runtime::new(backend, Box::new(run_editor));
    let done = Arc::new(AtomicBool::new(false));
    let signals = spawn_signal_watchdog(
        Arc::clone(&rt.terminate),
        Arc::clone(&done),
        Arc::clone(&rt.stop_sender),
    )?;
    let mut app = App::new(no_color);
    app.effects.push(Effect::ScanExperiments);
    match initial {
        Some(p) if suite::is_suite_dir(&p) => {
            app.suite.dir = Some(p.clone());
            app.effects.push(Effect::LoadSuite(p));
        }
        Some(p) if is_run_path(&p) => app.effects.push(Effect::InspectRun(p)),
        Some(p) => app.effects.push(Effect::LoadExperiment(p)),
        None => {}
    }
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let result = run_loop(&mut terminal, &mut app, &mut rt, &mut CrosstermInput);
    done.store(true, Ordering::SeqCst);
    // Back to the default signal actions for the rest of the program.
    signals.close();
    // The terminal back first, so that the note lands on the shell's screen.
    drop(_restore);
    if let Some(p) = app
        .run
        .last_checkpoint
        .as_ref()
        .filter(|_| app.run.phase != app::Phase::Inspecting)
    {
        eprintln!("rnn-lab: last checkpoint {} (step {})", p.display(), app.run.saved_step);
    }
    result
}

/// SIGTERM, SIGHUP and SIGINT set `terminate`; the main loop then sends `Command::Stop`, waits
/// up to 3 s for `Event::Finished`, restores the terminal and returns. When the terminal itself
/// is gone (SIGHUP), crossterm's `poll` can spin forever without returning (crossterm issue
/// #793), so this thread does the same work if the main loop has not finished 4 s after the
/// signal: send Stop through a copy of the run's sender, give the trainer 3 s to save, exit 1.
fn spawn_signal_watchdog(
    terminate: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    stop_sender: Arc<Mutex<Option<Sender<Command>>>>,
) -> Result<signal_hook::iterator::Handle, TuiError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("rnn-lab-signals".into())
        .spawn(move || {
            if signals.forever().next().is_none() {
                return;
            }
            terminate.store(true, Ordering::SeqCst);
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(4) {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let sender = stop_sender.lock().ok().and_then(|s| s.clone());
            if let Some(tx) = sender {
                if tx.send(Command::Stop).is_ok() {
                    std::thread::sleep(Duration::from_secs(3));
                }
            }
            let _ = ratatui::try_restore();
            std::process::exit(1);
        })?;
    Ok(handle)
}
