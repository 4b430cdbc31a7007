//! The word2vec screen: `rnn-lab EXP` on a `[task] kind = "word2vec"` experiment. Loss,
//! words/s and learning rate live; the watched words' neighbours (from the experiment, or typed
//! with `w`) and the analogy accuracy over time, updated at each look at the vectors; a PCA map
//! of the most frequent words, redrawn as the vectors move.
//!
//! Same shape as the main workbench: [`state::W2vApp`] holds the state and [`state::update`] is
//! its only transition; [`view`] draws it; this file owns the loop and the training thread,
//! which runs a [`Session`] and talks to the loop only by messages (events one way, commands
//! the other). With commands attached, the session takes a snapshot at least every 4 steps
//! when asked and evaluates on its own schedule (`eval_every`), so the panes move as it trains.

pub mod state;
pub mod view;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use ratatui::Terminal;

use super::{CrosstermInput, Input, TuiError, FRAME_POLL, MAX_INPUTS_PER_FRAME};
use crate::w2v::experiment::W2vExperiment;
use crate::w2v::session::{Command, Event, Session, SessionOptions, Summary};
use state::{update, W2vAction, W2vApp, W2vEffect};

/// A message from the training thread.
pub enum Msg {
    /// A session event.
    Event(Event),
    /// The end: the summary or a one-line error.
    Ended(Result<Summary, String>),
}

/// The training thread and its two channels.
pub struct Worker {
    /// Commands to the session.
    pub commands: Sender<Command>,
    /// Messages from it.
    pub events: Receiver<Msg>,
    /// Set to stop (the session saves, then ends).
    pub stop: Arc<AtomicBool>,
    /// The thread.
    pub thread: JoinHandle<()>,
}

/// Start a session on its own thread (the corpus is read there, so the screen comes up at once).
///
/// # Errors
/// The thread could not be spawned.
pub fn start(exp: W2vExperiment, opts: SessionOptions) -> std::io::Result<Worker> {
    let (ctx, crx) = mpsc::channel::<Command>();
    let (etx, erx) = mpsc::channel::<Msg>();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("rnn-lab-word2vec".into())
        .spawn(move || {
            let result = Session::prepare(exp, &opts).and_then(|mut s| {
                let tx = etx.clone();
                s.run(&stop2, Some(&crx), &mut |e| {
                    let _ = tx.send(Msg::Event(e));
                })
            });
            let _ = etx.send(Msg::Ended(result.map_err(|e| e.to_string())));
        })?;
    Ok(Worker {
        commands: ctx,
        events: erx,
        stop,
        thread,
    })
}

/// The loop, generic over the terminal backend (tests use `TestBackend` and a scripted input).
/// Returns when the user quits, after the session has saved and ended.
///
/// # Errors
/// Terminal I/O.
pub fn run_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut W2vApp,
    worker: &Worker,
    input: &mut dyn Input,
    terminate: &AtomicBool,
) -> Result<(), TuiError> {
    loop {
        if terminate.swap(false, Ordering::SeqCst) {
            update(app, W2vAction::Quit);
        }
        loop {
            match worker.events.try_recv() {
                Ok(Msg::Event(e)) => update(app, W2vAction::Session(e)),
                Ok(Msg::Ended(r)) => update(app, W2vAction::Ended(r)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if matches!(
                        app.state,
                        state::RunState::Running | state::RunState::Starting | state::RunState::Stopping
                    ) {
                        update(
                            app,
                            W2vAction::Ended(Err("the training thread ended without a word".into())),
                        );
                    }
                    break;
                }
            }
        }
        for e in app.take_effects() {
            match e {
                W2vEffect::Send(c) => {
                    let _ = worker.commands.send(c);
                }
                W2vEffect::Stop => worker.stop.store(true, Ordering::SeqCst),
            }
        }
        if app.quit {
            return Ok(());
        }
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .map_err(|e| TuiError::Backend(e.to_string()))?;
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
                if let Some(a) = state::from_key(app, key) {
                    update(app, a);
                }
            }
        }
    }
}

/// Open the word2vec screen on `exp` (already checked), training from the start or resuming.
///
/// # Errors
/// Not a terminal, or terminal I/O.
pub fn run(exp: W2vExperiment, path: &Path, resume: Option<std::path::PathBuf>) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let opts = SessionOptions {
        resume,
        projection: true,
        ..SessionOptions::default()
    };
    let mut app = W2vApp::new(&path.display().to_string(), no_color);
    let worker = start(exp, opts)?;
    let terminate = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&terminate));
    }
    let mut terminal = ratatui::try_init()?;
    let result = run_loop(&mut terminal, &mut app, &worker, &mut CrosstermInput, &terminate);
    let _ = ratatui::try_restore();
    // Whatever happened, let the session save before the process ends.
    worker.stop.store(true, Ordering::SeqCst);
    let _ = worker.thread.join();
    if let state::RunState::Ended(s) = &app.state {
        eprintln!(
            "rnn-lab: word2vec {} at step {} of {}; model {}, vectors {}",
            if s.finished { "finished" } else { "stopped" },
            s.step,
            s.total_steps,
            s.run_dir.join("latest.safetensors").display(),
            s.vectors.display()
        );
    }
    result
}
