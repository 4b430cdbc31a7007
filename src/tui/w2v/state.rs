//! The word2vec screen's state and its only transition, [`update`] (no I/O: tested without a
//! terminal). Keys become [`W2vAction`]s in [`from_key`]; what the loop must do comes out as
//! [`W2vEffect`]s.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::w2v::session::{Command, Event, Info, Snapshot, Summary};

/// What can happen to the screen.
#[derive(Clone, Debug, PartialEq)]
pub enum W2vAction {
    /// A message from the training thread.
    Session(Event),
    /// The training thread ended (its summary, or a one-line error).
    Ended(Result<Summary, String>),
    /// Start typing a word to watch.
    StartTyping,
    /// A character typed.
    Type(char),
    /// Backspace while typing.
    Backspace,
    /// Enter while typing: watch the word.
    Submit,
    /// Esc while typing: forget it.
    Cancel,
    /// Stop watching the last watched word.
    UnwatchLast,
    /// Take a snapshot now.
    Refresh,
    /// Show or hide the help.
    ToggleHelp,
    /// Stop training (saving the model and the vectors), then quit.
    Quit,
}

/// What the loop must do.
#[derive(Clone, Debug, PartialEq)]
pub enum W2vEffect {
    /// Send a command to the session.
    Send(Command),
    /// Ask the session to stop (it saves, then ends).
    Stop,
}

/// Whether training runs.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// Reading the corpus.
    Starting,
    /// Training.
    Running,
    /// Asked to stop; saving.
    Stopping,
    /// Done (finished or stopped), with its summary.
    Ended(Summary),
    /// Failed (one line).
    Failed(String),
}

/// The screen's state.
#[derive(Clone, Debug, PartialEq)]
pub struct W2vApp {
    /// Experiment file shown in the title.
    pub title: String,
    /// Facts from the session's start.
    pub info: Option<Info>,
    /// Training state.
    pub state: RunState,
    /// (step, loss per example) of every step.
    pub losses: Vec<(f64, f64)>,
    /// (step at its end, loss) of every finished epoch.
    pub epoch_losses: Vec<(f64, f64)>,
    /// (step, analogy accuracy) at every snapshot with analogies.
    pub analogy: Vec<(f64, f64)>,
    /// Last step's report: step, epoch, lr, words/s, loss.
    pub step: u64,
    /// Epoch of the last step.
    pub epoch: u32,
    /// Learning rate of the last step.
    pub lr: f64,
    /// Words/s of the last step.
    pub words_per_s: f64,
    /// Loss of the last step.
    pub loss: f64,
    /// The latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// The word being typed (Some while typing).
    pub typing: Option<String>,
    /// Help shown.
    pub help: bool,
    /// Quit once the session has ended.
    pub quit_when_ended: bool,
    /// Leave the loop now.
    pub quit: bool,
    /// Effects for the loop.
    pub effects: Vec<W2vEffect>,
    /// Colours off.
    pub no_color: bool,
}

impl W2vApp {
    /// A fresh screen for `title`.
    pub fn new(title: &str, no_color: bool) -> Self {
        W2vApp {
            title: title.to_string(),
            info: None,
            state: RunState::Starting,
            losses: Vec::new(),
            epoch_losses: Vec::new(),
            analogy: Vec::new(),
            step: 0,
            epoch: 0,
            lr: 0.0,
            words_per_s: 0.0,
            loss: f64::NAN,
            snapshot: None,
            typing: None,
            help: false,
            quit_when_ended: false,
            quit: false,
            effects: Vec::new(),
            no_color,
        }
    }

    /// Hand the pending effects to the loop.
    pub fn take_effects(&mut self) -> Vec<W2vEffect> {
        std::mem::take(&mut self.effects)
    }

    fn ended(&self) -> bool {
        matches!(self.state, RunState::Ended(_) | RunState::Failed(_))
    }
}

/// Apply one action.
pub fn update(app: &mut W2vApp, a: W2vAction) {
    match a {
        W2vAction::Session(ev) => match ev {
            Event::Started(i) => {
                app.step = i.start_step;
                app.info = Some(i);
                app.state = RunState::Running;
            }
            Event::Step(s) => {
                app.losses.push((s.step as f64, s.loss));
                app.step = s.step;
                app.epoch = s.epoch;
                app.lr = s.lr;
                app.words_per_s = s.words_per_s;
                app.loss = s.loss;
            }
            Event::Epoch(e) => {
                let spe = app
                    .info
                    .as_ref()
                    .map_or(1, |i| (i.total_steps / u64::from(i.epochs.max(1))).max(1));
                app.epoch_losses.push(((u64::from(e.epoch) * spe) as f64, e.loss));
            }
            Event::Snapshot(s) => {
                if let Some(a) = &s.analogy {
                    // A snapshot asked for by a command may repeat a step: keep one point per step.
                    if app.analogy.last().is_some_and(|p| p.0 == s.step as f64) {
                        app.analogy.pop();
                    }
                    app.analogy.push((s.step as f64, a.accuracy));
                }
                app.snapshot = Some(s);
            }
            Event::Saved { .. } => {}
        },
        W2vAction::Ended(r) => {
            app.state = match r {
                Ok(s) => RunState::Ended(s),
                Err(e) => RunState::Failed(e),
            };
            if app.quit_when_ended {
                app.quit = true;
            }
        }
        W2vAction::StartTyping => app.typing = Some(String::new()),
        W2vAction::Type(c) => {
            if let Some(t) = &mut app.typing {
                if !c.is_whitespace() && t.chars().count() < 40 {
                    t.push(c);
                }
            }
        }
        W2vAction::Backspace => {
            if let Some(t) = &mut app.typing {
                t.pop();
            }
        }
        W2vAction::Cancel => app.typing = None,
        W2vAction::Submit => {
            if let Some(w) = app.typing.take().filter(|w| !w.is_empty()) {
                app.effects.push(W2vEffect::Send(Command::Watch(w)));
            }
        }
        W2vAction::UnwatchLast => {
            let last = app
                .snapshot
                .as_ref()
                .and_then(|s| s.neighbours.last())
                .map(|w| w.word.clone());
            if let Some(w) = last {
                app.effects.push(W2vEffect::Send(Command::Unwatch(w)));
            }
        }
        W2vAction::Refresh => app.effects.push(W2vEffect::Send(Command::Snapshot)),
        W2vAction::ToggleHelp => app.help = !app.help,
        W2vAction::Quit => {
            if app.ended() {
                app.quit = true;
            } else {
                app.quit_when_ended = true;
                if app.state != RunState::Stopping {
                    app.state = RunState::Stopping;
                    app.effects.push(W2vEffect::Stop);
                }
            }
        }
    }
}

/// The action of a key, if any (typing mode takes every printable key).
pub fn from_key(app: &W2vApp, k: KeyEvent) -> Option<W2vAction> {
    if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
        return Some(W2vAction::Quit);
    }
    if app.typing.is_some() {
        return match k.code {
            KeyCode::Enter => Some(W2vAction::Submit),
            KeyCode::Esc => Some(W2vAction::Cancel),
            KeyCode::Backspace => Some(W2vAction::Backspace),
            KeyCode::Char(c) => Some(W2vAction::Type(c)),
            _ => None,
        };
    }
    match k.code {
        KeyCode::Char('w') | KeyCode::Char('/') => Some(W2vAction::StartTyping),
        KeyCode::Char('d') => Some(W2vAction::UnwatchLast),
        KeyCode::Char('r') => Some(W2vAction::Refresh),
        KeyCode::Char('?') => Some(W2vAction::ToggleHelp),
        KeyCode::Esc if app.help => Some(W2vAction::ToggleHelp),
        KeyCode::Char('q') => Some(W2vAction::Quit),
        _ => None,
    }
}

/// The keys, for the footer and the help.
pub const KEYS: &[(&str, &str)] = &[
    ("w or /", "type a word to watch (Enter: watch, Esc: cancel)"),
    ("d", "stop watching the last word"),
    ("r", "look at the vectors now (neighbours, analogies, map)"),
    ("?", "this help"),
    (
        "q, Ctrl-C",
        "stop training, save model and vectors, quit (again once ended: quit)",
    ),
];
