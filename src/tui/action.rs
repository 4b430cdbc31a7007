//! Keys → [`Action`]s, and the key table that the help screen and the footer are drawn from
//! (a test checks that every key listed there produces the action listed beside it).

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::config::Experiment;
use crate::infer::probe::ProbeReport;
use crate::train::protocol::Event;

use super::app::{App, Pane, Screen};
use super::files::{BrowserEntry, RunEntry};

/// Everything that can happen to the [`App`](super::app::App): user intents from keys, and
/// results coming back from the trainer or from effects the main loop carried out.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Time passes: seconds since the TUI started.
    Tick(f64),
    /// `q`: quit, asking first when the run has unsaved steps.
    Quit,
    /// `y` in the quit question: save (Stop, wait for Finished) and quit.
    ConfirmYes,
    /// `n` in the quit question: quit without saving.
    ConfirmNo,
    /// Ctrl-C: save and quit without asking.
    Interrupt,
    /// SIGTERM/SIGHUP: save (waiting briefly) and quit.
    Terminate,
    /// Esc: close the topmost overlay, prompt or question.
    Cancel,
    /// `?`: show or hide the help.
    ToggleHelp,
    /// Tab: focus the next pane.
    NextPane,
    /// Shift-Tab: focus the previous pane.
    PrevPane,
    /// ↑: move the selection (or scroll) up.
    Up,
    /// ↓: move the selection (or scroll) down.
    Down,
    /// Go to the experiment browser.
    ShowBrowser,
    /// Go to the runs screen.
    ShowRuns,
    /// Go to the training screen.
    ShowTrain,
    /// Enter in the browser: open the selected experiment.
    OpenSelected,
    /// Space: start a run, pause it or resume it.
    StartPause,
    /// Run one training step (pauses first when running).
    StepOnce,
    /// Save a checkpoint now.
    SaveNow,
    /// Multiply the learning rate by 1.25.
    LrUp,
    /// Divide the learning rate by 1.25.
    LrDown,
    /// `L`: halve the learning rate and resume (offered after a divergence).
    ResumeLowerLr,
    /// Stop the run (saves a checkpoint).
    Stop,
    /// Restart the run, with the edited experiment if there is one.
    Restart,
    /// Stronger loss smoothing.
    SmoothMore,
    /// Weaker loss smoothing.
    SmoothLess,
    /// Toggle a logarithmic y axis.
    ToggleLogY,
    /// Toggle the x axis between steps and wall time.
    ToggleXTime,
    /// Toggle between the whole run and the recent window.
    ToggleRecent,
    /// Temperature + 0.05.
    TempUp,
    /// Temperature − 0.05 (0 = greedy).
    TempDown,
    /// Next larger top-k.
    TopKUp,
    /// Next smaller top-k (0 = all).
    TopKDown,
    /// Generate a sample now.
    SampleNow,
    /// Edit the prime text.
    EditPrime,
    /// Run a probe now on the default snippet.
    ProbeNow,
    /// Type a text to probe.
    ProbeText,
    /// Type a run directory to open.
    OpenRunPrompt,
    /// A character typed into the prompt.
    PromptChar(char),
    /// Backspace in the prompt.
    PromptBackspace,
    /// Enter in the prompt.
    PromptSubmit,
    /// Open the experiment in `$EDITOR`.
    Edit,
    /// Runs screen: show or hide the selected run in the overlay chart.
    ToggleOverlay,
    /// Runs screen: compare probes with the selected run's `probe.json`.
    CompareProbe,
    /// Runs screen: continue training the selected run from its `latest.safetensors`.
    ResumeSelected,
    /// A run's config was read: start it from this checkpoint.
    ResumeReady(Box<Experiment>, PathBuf),
    /// A key for the probe view (when the Probes pane has focus).
    ProbeKey(KeyEvent),
    /// An experiment file was read and checked.
    ExperimentLoaded(Result<Experiment, String>),
    /// The editor closed; the file was re-read and checked.
    Edited(PathBuf, Result<Experiment, String>),
    /// The backend could not start the run.
    StartFailed(String),
    /// `experiments/*.toml` listed.
    BrowserScanned(Vec<BrowserEntry>),
    /// `runs/*/` listed.
    RunsScanned(Vec<RunEntry>),
    /// A run directory was read.
    RunOpened(Result<RunEntry, String>),
    /// Another run's probe was read (run name, report).
    CompareLoaded(Result<(String, Box<ProbeReport>), String>),
    /// An event from the trainer.
    Trainer(Event),
    /// The trainer's channel closed.
    TrainerGone,
}

/// Where a key applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// Every screen.
    Global,
    /// The experiment browser.
    Browser,
    /// The training screen.
    Train,
    /// The runs screen.
    Runs,
}

/// One line of the help screen.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyHelp {
    /// Keys as shown ("space", "Ctrl-s", "↑"…).
    pub keys: &'static [&'static str],
    /// What they do.
    pub what: &'static str,
    /// Where.
    pub ctx: Ctx,
    /// Shown in the footer too (short label).
    pub footer: Option<&'static str>,
    /// The action the keys produce (checked by a test).
    pub action: Action,
}

fn k(
    keys: &'static [&'static str],
    what: &'static str,
    ctx: Ctx,
    footer: Option<&'static str>,
    action: Action,
) -> KeyHelp {
    KeyHelp {
        keys,
        what,
        ctx,
        footer,
        action,
    }
}

/// Every key of the app (the probe view adds its own, see `ProbeView::key_help`).
pub fn key_table() -> Vec<KeyHelp> {
    use Action as A;
    use Ctx::*;
    vec![
        k(&["?"], "show / hide this help", Global, Some("help"), A::ToggleHelp),
        k(
            &["q"],
            "quit (asks to save an unsaved run)",
            Global,
            Some("quit"),
            A::Quit,
        ),
        k(&["Ctrl-c"], "save the run and quit", Global, None, A::Interrupt),
        k(&["↑", "↓"], "select", Browser, Some("select"), A::Down),
        k(
            &["Enter"],
            "open the selected experiment",
            Browser,
            Some("open"),
            A::OpenSelected,
        ),
        k(
            &["e"],
            "edit the selected experiment in $EDITOR",
            Browser,
            Some("edit"),
            A::Edit,
        ),
        k(
            &["r"],
            "runs: open and compare run directories",
            Browser,
            Some("runs"),
            A::ShowRuns,
        ),
        k(&["Esc"], "back to the training screen", Browser, None, A::ShowTrain),
        k(
            &["space"],
            "start / pause / resume training",
            Train,
            Some("start/pause"),
            A::StartPause,
        ),
        k(&["s"], "single step (pauses first)", Train, Some("step"), A::StepOnce),
        k(
            &["S", "Ctrl-s"],
            "save a checkpoint now",
            Train,
            Some("save"),
            A::SaveNow,
        ),
        k(&["x"], "stop the run (saves a checkpoint)", Train, None, A::Stop),
        k(
            &["R"],
            "restart the run (with the edited config)",
            Train,
            Some("restart"),
            A::Restart,
        ),
        k(&["]"], "learning rate × 1.25", Train, None, A::LrUp),
        k(&["["], "learning rate ÷ 1.25", Train, Some("lr"), A::LrDown),
        k(
            &["L"],
            "after a divergence: halve the lr and resume",
            Train,
            None,
            A::ResumeLowerLr,
        ),
        k(&["+", "="], "temperature + 0.05", Train, None, A::TempUp),
        k(
            &["-"],
            "temperature − 0.05 (0 = greedy)",
            Train,
            Some("temp"),
            A::TempDown,
        ),
        k(&["K"], "top-k: keep more tokens (up to all)", Train, None, A::TopKUp),
        k(&["k"], "top-k: keep fewer tokens (down to 1)", Train, None, A::TopKDown),
        k(&["g"], "generate a sample now", Train, Some("sample"), A::SampleNow),
        k(&["i"], "edit the prime text", Train, None, A::EditPrime),
        k(&["p"], "probe the network now", Train, None, A::ProbeNow),
        k(&["P"], "probe a text you type", Train, None, A::ProbeText),
        k(&["."], "smooth the loss more", Train, None, A::SmoothMore),
        k(&[","], "smooth the loss less", Train, None, A::SmoothLess),
        k(&["l"], "log / linear y axis", Train, None, A::ToggleLogY),
        k(&["w"], "x axis: steps / wall time", Train, None, A::ToggleXTime),
        k(&["z"], "whole run / recent window", Train, None, A::ToggleRecent),
        k(
            &["Tab"],
            "next pane (loss, samples, probes)",
            Train,
            Some("pane"),
            A::NextPane,
        ),
        k(&["BackTab"], "previous pane", Train, None, A::PrevPane),
        k(&["↑", "↓"], "scroll the samples (samples pane)", Train, None, A::Down),
        k(&["e"], "edit the experiment in $EDITOR", Train, Some("edit"), A::Edit),
        k(&["b"], "experiment browser", Train, None, A::ShowBrowser),
        k(
            &["r"],
            "runs: open and compare run directories",
            Train,
            None,
            A::ShowRuns,
        ),
        k(&["↑", "↓"], "select a run", Runs, Some("select"), A::Down),
        k(
            &["space", "Enter"],
            "overlay the run's loss on the chart",
            Runs,
            Some("overlay"),
            A::ToggleOverlay,
        ),
        k(
            &["o"],
            "open a run directory by path",
            Runs,
            Some("open"),
            A::OpenRunPrompt,
        ),
        k(
            &["c"],
            "compare probes with the selected run",
            Runs,
            Some("compare probe"),
            A::CompareProbe,
        ),
        k(
            &["t"],
            "continue training the selected run",
            Runs,
            Some("resume"),
            A::ResumeSelected,
        ),
        k(&["b"], "experiment browser", Runs, None, A::ShowBrowser),
        k(&["Esc"], "back", Runs, Some("back"), A::Cancel),
    ]
}

/// The action of a key, given the app's mode. One flat match per layer: modal overlays first
/// (quit question, prompt, error, help), then the screen's own keys.
pub fn from_key(app: &App, key: KeyEvent) -> Option<Action> {
    use Action as A;
    use KeyCode::{BackTab, Backspace, Char, Down, Enter, Esc, Up};
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == Char('c') {
        return Some(A::Interrupt);
    }
    if app.quit_wait.is_some() {
        return None;
    }
    if app.confirm_quit {
        return match key.code {
            Char('y' | 'Y') => Some(A::ConfirmYes),
            Char('n' | 'N') => Some(A::ConfirmNo),
            Esc => Some(A::Cancel),
            _ => None,
        };
    }
    if app.prompt.is_some() {
        return match key.code {
            Enter => Some(A::PromptSubmit),
            Esc => Some(A::Cancel),
            Backspace => Some(A::PromptBackspace),
            Char(c) if !ctrl => Some(A::PromptChar(c)),
            _ => None,
        };
    }
    if app.error.is_some() {
        return match key.code {
            Esc | Enter => Some(A::Cancel),
            Char('L') if app.run.diverged => Some(A::ResumeLowerLr),
            Char('e') => Some(A::Edit),
            Char('q') => Some(A::Quit),
            _ => None,
        };
    }
    if app.help {
        return match key.code {
            Esc | Char('?') => Some(A::ToggleHelp),
            Up => Some(A::Up),
            Down => Some(A::Down),
            Char('q') => Some(A::Quit),
            _ => None,
        };
    }
    match app.screen {
        Screen::Browser => match (key.code, ctrl) {
            (Char('?'), _) => Some(A::ToggleHelp),
            (Char('q'), false) => Some(A::Quit),
            (Up, _) => Some(A::Up),
            (Down, _) => Some(A::Down),
            (Enter, _) => Some(A::OpenSelected),
            (Char('e'), false) => Some(A::Edit),
            (Char('r'), false) => Some(A::ShowRuns),
            (Esc, _) => Some(A::ShowTrain),
            _ => None,
        },
        Screen::Runs => match (key.code, ctrl) {
            (Char('?'), _) => Some(A::ToggleHelp),
            (Char('q'), false) => Some(A::Quit),
            (Up, _) => Some(A::Up),
            (Down, _) => Some(A::Down),
            (Char(' ') | Enter, _) => Some(A::ToggleOverlay),
            (Char('o'), false) => Some(A::OpenRunPrompt),
            (Char('c'), false) => Some(A::CompareProbe),
            (Char('t'), false) => Some(A::ResumeSelected),
            (Char('b'), false) => Some(A::ShowBrowser),
            (Esc, _) => Some(A::Cancel),
            _ => None,
        },
        Screen::Train if app.focus == Pane::Probes => match key.code {
            // Keys that keep their meaning everywhere; the rest go to the probe view first.
            Char('?') => Some(A::ToggleHelp),
            Char('q') => Some(A::Quit),
            Char(' ') => Some(A::StartPause),
            KeyCode::Tab => Some(A::NextPane),
            BackTab => Some(A::PrevPane),
            _ => Some(A::ProbeKey(key)),
        },
        Screen::Train => train_key(key),
    }
}

/// The training screen's keys (also the fallback for keys the probe view does not use).
pub fn train_key(key: KeyEvent) -> Option<Action> {
    use Action as A;
    use KeyCode::{BackTab, Char, Down, Tab, Up};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match (key.code, ctrl) {
        (Char('s'), true) => Some(A::SaveNow),
        (_, true) => None,
        (Char('?'), _) => Some(A::ToggleHelp),
        (Char('q'), _) => Some(A::Quit),
        (Char(' '), _) => Some(A::StartPause),
        (Char('s'), _) => Some(A::StepOnce),
        (Char('S'), _) => Some(A::SaveNow),
        (Char('x'), _) => Some(A::Stop),
        (Char('R'), _) => Some(A::Restart),
        (Char(']'), _) => Some(A::LrUp),
        (Char('['), _) => Some(A::LrDown),
        (Char('L'), _) => Some(A::ResumeLowerLr),
        (Char('+' | '='), _) => Some(A::TempUp),
        (Char('-'), _) => Some(A::TempDown),
        (Char('K'), _) => Some(A::TopKUp),
        (Char('k'), _) => Some(A::TopKDown),
        (Char('g'), _) => Some(A::SampleNow),
        (Char('i'), _) => Some(A::EditPrime),
        (Char('p'), _) => Some(A::ProbeNow),
        (Char('P'), _) => Some(A::ProbeText),
        (Char('.'), _) => Some(A::SmoothMore),
        (Char(','), _) => Some(A::SmoothLess),
        (Char('l'), _) => Some(A::ToggleLogY),
        (Char('w'), _) => Some(A::ToggleXTime),
        (Char('z'), _) => Some(A::ToggleRecent),
        (Tab, _) => Some(A::NextPane),
        (BackTab, _) => Some(A::PrevPane),
        (Up, _) => Some(A::Up),
        (Down, _) => Some(A::Down),
        (Char('e'), _) => Some(A::Edit),
        (Char('b'), _) => Some(A::ShowBrowser),
        (Char('r'), _) => Some(A::ShowRuns),
        _ => None,
    }
}

/// Parse a key as written in the key table ("space", "Ctrl-s", "↑", "BackTab", "x").
pub fn parse_key(s: &str) -> Option<KeyEvent> {
    let (code, mods) = match s {
        "space" => (KeyCode::Char(' '), KeyModifiers::NONE),
        "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
        "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
        "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
        "BackTab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
        "↑" => (KeyCode::Up, KeyModifiers::NONE),
        "↓" => (KeyCode::Down, KeyModifiers::NONE),
        "←" => (KeyCode::Left, KeyModifiers::NONE),
        "→" => (KeyCode::Right, KeyModifiers::NONE),
        "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
        "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
        _ => {
            if let Some(rest) = s.strip_prefix("Ctrl-") {
                let mut chars = rest.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                (KeyCode::Char(c), KeyModifiers::CONTROL)
            } else {
                let mut chars = s.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                let mods = if c.is_ascii_uppercase() {
                    KeyModifiers::SHIFT
                } else {
                    KeyModifiers::NONE
                };
                (KeyCode::Char(c), mods)
            }
        }
    };
    Some(KeyEvent::new(code, mods))
}
