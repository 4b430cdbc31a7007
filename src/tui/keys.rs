//! The one key table: every key of the TUI, where it applies, what it does and how the help
//! screen and the footer describe it. Everything about keys is read from [`KEYS`]: the key →
//! [`Action`] mapping ([`action_for`]), the help screen's sections ([`help_sections`]) and the
//! footer's hints ([`footer`]). Adding a key is adding a row.
//!
//! The app says which [`Mode`] it is in (`App::mode`); a mode's [`Mode::chain`] lists the modes
//! whose rows apply, first match wins (so the probes pane's `[`/`]` shadow the training
//! screen's learning-rate keys while it has the focus, and fall through for the keys it does
//! not use).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, BrowserAction, ProbeAction, PromptAction, RunsAction, SuiteAction, TrainAction};
use super::probe_view::ViewKind;

/// A key as the table writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A key without Ctrl or Alt (Shift is part of the character: `K`, `?`; and of Shift-Tab).
    Plain(KeyCode),
    /// Ctrl and a character.
    Ctrl(char),
    /// Any character typed into the prompt; its action receives the character.
    Typed,
}

impl Key {
    /// Whether the key event is this key.
    pub fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev
            .modifiers
            .intersects(KeyModifiers::ALT | KeyModifiers::SUPER | KeyModifiers::META);
        match self {
            Key::Plain(code) => !ctrl && !alt && ev.code == code,
            Key::Ctrl(c) => ctrl && ev.code == KeyCode::Char(c),
            Key::Typed => !ctrl && !alt && matches!(ev.code, KeyCode::Char(_)),
        }
    }

    /// A key event of this key, as a terminal reports it (for tests and the footer).
    pub fn event(self) -> KeyEvent {
        match self {
            Key::Plain(KeyCode::BackTab) => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            Key::Plain(KeyCode::Char(c)) if c.is_ascii_uppercase() => {
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT)
            }
            Key::Plain(code) => KeyEvent::new(code, KeyModifiers::NONE),
            Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::Typed => KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE),
        }
    }

    /// The key's name in the help and the footer: `space`, `Enter`, `↑`, `Ctrl-s`, `K`.
    pub fn name(self) -> String {
        match self {
            Key::Plain(code) => match code {
                KeyCode::Char(' ') => "space".into(),
                KeyCode::Char(c) => c.to_string(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Backspace => "Backspace".into(),
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                other => format!("{other}"),
            },
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Typed => "text".into(),
        }
    }
}

/// Where a row applies: the input mode the app is in (`App::mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every mode (Ctrl-c).
    Always,
    /// Every screen while no overlay, prompt or question is open (`?`, `q`).
    Screens,
    /// The experiment browser.
    Browser,
    /// The training screen (loss or samples pane focused).
    Train,
    /// The training screen with the probes pane focused.
    Probes,
    /// The runs screen.
    Runs,
    /// The suite screen.
    Suite,
    /// The help overlay.
    Help,
    /// An error message.
    Error,
    /// The error message of a divergence, the run paused after rolling back.
    Diverged,
    /// A one-line text prompt.
    Prompt,
    /// The "save before quitting?" question.
    Confirm,
    /// Waiting for the final checkpoint before quitting.
    Saving,
}

impl Mode {
    /// The modes whose rows apply in this mode, in the order they are tried.
    pub fn chain(self) -> &'static [Mode] {
        use Mode::*;
        match self {
            Always => &[Always],
            Screens => &[Always, Screens],
            Browser => &[Always, Browser, Screens],
            Train => &[Always, Train, Screens],
            Probes => &[Always, Probes, Train, Screens],
            Runs => &[Always, Runs, Screens],
            Suite => &[Always, Suite, Screens],
            Help => &[Always, Help],
            Error => &[Always, Error],
            Diverged => &[Always, Diverged, Error],
            Prompt => &[Always, Prompt],
            Confirm => &[Always, Confirm],
            Saving => &[Always, Saving],
        }
    }
}

/// Keys that do the same thing.
#[derive(Clone, Debug, PartialEq)]
pub struct Bind {
    /// The keys (the first is the one the footer shows).
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
}

impl Bind {
    /// The action for a key event that matched `key`: a [`Key::Typed`] key passes its
    /// character into a prompt action.
    fn action_for(&self, key: Key, ev: &KeyEvent) -> Action {
        match (key, ev.code, &self.action) {
            (Key::Typed, KeyCode::Char(c), Action::Prompt(PromptAction::Char(_))) => {
                Action::Prompt(PromptAction::Char(c))
            }
            _ => self.action.clone(),
        }
    }
}

/// One line of the help: one or more binds, what they do, where, and a footer label.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Where the keys apply.
    pub mode: Mode,
    /// The keys and their actions (several for pairs such as ↑/↓).
    pub binds: &'static [Bind],
    /// What the keys do, for the help screen.
    pub help: &'static str,
    /// A short label when the footer shows the row.
    pub footer: Option<&'static str>,
}

impl Row {
    /// The keys as the help shows them: alternatives of one action joined by `/` (`S/Ctrl-s`);
    /// for several actions, their first keys joined by `/`, then each further set of
    /// alternatives (`↑/↓ k/j`); a run of digits as a range (`1-5`).
    pub fn keys_text(&self) -> String {
        if let Some(range) = self.digit_range() {
            return range;
        }
        if let [bind] = self.binds {
            return bind.keys.iter().map(|k| k.name()).collect::<Vec<_>>().join("/");
        }
        let sets = self.binds.iter().map(|b| b.keys.len()).max().unwrap_or(0);
        (0..sets)
            .map(|i| {
                let names: Vec<String> = self
                    .binds
                    .iter()
                    .filter_map(|b| b.keys.get(i))
                    .map(|k| k.name())
                    .collect();
                names.join("/")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The keys as the footer shows them: the first key of each action (`+/-`, `[/]`, `↑↓`).
    pub fn footer_keys(&self) -> String {
        if let Some(range) = self.digit_range() {
            return range;
        }
        let names: Vec<String> = self
            .binds
            .iter()
            .filter_map(|b| b.keys.first())
            .map(|k| k.name())
            .collect();
        match names.as_slice() {
            [up, down] if up == "↑" && down == "↓" => "↑↓".into(),
            _ => names.join("/"),
        }
    }

    /// `1-5` when the row's keys are single consecutive digits, one per action.
    fn digit_range(&self) -> Option<String> {
        let digits: Vec<char> = self
            .binds
            .iter()
            .map(|b| match b.keys {
                [Key::Plain(KeyCode::Char(c))] if c.is_ascii_digit() => Some(*c),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let (first, last) = (*digits.first()?, *digits.last()?);
        let consecutive = digits.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1);
        (digits.len() > 2 && consecutive).then(|| format!("{first}-{last}"))
    }
}

const fn c(ch: char) -> Key {
    Key::Plain(KeyCode::Char(ch))
}

const fn code(code: KeyCode) -> Key {
    Key::Plain(code)
}

const UP: Key = code(KeyCode::Up);
const DOWN: Key = code(KeyCode::Down);
const ENTER: Key = code(KeyCode::Enter);
const ESC: Key = code(KeyCode::Esc);

/// A table row as a struct literal (so the nested slices live in the static):
/// `row!(mode, [(keys, action), …], help, footer)`.
macro_rules! row {
    ($mode:expr, [$(($keys:expr, $action:expr)),+ $(,)?], $help:expr, $footer:expr $(,)?) => {
        Row {
            mode: $mode,
            binds: &[$(Bind { keys: &$keys, action: $action }),+],
            help: $help,
            footer: $footer,
        }
    };
}

const fn tr(a: TrainAction) -> Action {
    Action::Train(a)
}

const fn pr(a: ProbeAction) -> Action {
    Action::Probe(a)
}

/// Every key of the TUI, in help order within each mode: `row!(mode, [(keys, action), …], help,
/// footer label)`. One row per line (hence `rustfmt::skip`).
#[rustfmt::skip]
pub static KEYS: &[Row] = {
    use Action as A;
    use BrowserAction as B;
    use KeyCode::{BackTab, Backspace, End, Home, Left, PageDown, PageUp, Right, Tab};
    use Mode::*;
    use ProbeAction as P;
    use RunsAction as R;
    use SuiteAction as U;
    use TrainAction as T;
    use ViewKind as V;
    &[
        // Everywhere.
        row!(Screens, [([c('?')], A::ToggleHelp)], "show / hide this help", Some("help")),
        row!(Screens, [([c('q')], A::Quit)], "quit (asks to save an unsaved run)", Some("quit")),
        row!(Always, [([Key::Ctrl('c')], A::Interrupt)], "save the run and quit", None),
        row!(Always, [([Key::Ctrl('z')], A::Suspend)], "suspend (fg resumes; training waits)", None),
        // The training screen.
        row!(Train, [([c(' ')], tr(T::StartPause))], "start / pause / resume training", Some("start/pause")),
        row!(Train, [([c('s')], tr(T::StepOnce))], "single step (pauses first)", Some("step")),
        row!(Train, [([c('S'), Key::Ctrl('s')], tr(T::SaveNow))], "save a checkpoint now", Some("save")),
        row!(Train, [([c('x')], tr(T::Stop))], "stop the run (saves a checkpoint)", None),
        row!(Train, [([c('R')], tr(T::Restart))], "restart the run (with the edited config)", Some("restart")),
        row!(Train, [([c('[')], tr(T::LrDown)), ([c(']')], tr(T::LrUp))], "learning rate ÷ / × 1.25", Some("lr")),
        row!(Train, [([c('L')], tr(T::ResumeLowerLr))], "after a divergence: halve the lr and resume", None),
        row!(Train, [([c('+'), c('=')], tr(T::TempUp)), ([c('-')], tr(T::TempDown))],
             "temperature ± 0.05 (0 = greedy)", Some("temp")),
        row!(Train, [([c('K')], tr(T::TopKUp))], "top-k: keep more tokens (up to all)", None),
        row!(Train, [([c('k')], tr(T::TopKDown))], "top-k: keep fewer tokens (down to 1)", None),
        row!(Train, [([c('g')], tr(T::SampleNow))], "generate a sample now", Some("sample")),
        row!(Train, [([c('i')], tr(T::EditPrime))], "edit the prime text", None),
        row!(Train, [([c('p')], tr(T::ProbeNow))], "probe the network now", None),
        row!(Train, [([c('P')], tr(T::ProbeText))], "probe a text you type", None),
        row!(Train, [([c('v')], tr(T::Evaluate))], "evaluate on the validation data now", Some("eval")),
        row!(Train, [([c('.')], tr(T::SmoothMore))], "smooth the loss more", None),
        row!(Train, [([c(',')], tr(T::SmoothLess))], "smooth the loss less", None),
        row!(Train, [([c('l')], tr(T::ToggleLogY))], "log / linear y axis", None),
        row!(Train, [([c('w')], tr(T::ToggleXTime))], "x axis: steps / wall time", None),
        row!(Train, [([c('z')], tr(T::ToggleRecent))], "whole run / recent window", None),
        row!(Train, [([code(Tab)], tr(T::NextPane))], "next pane (loss, samples, probes)", Some("pane")),
        row!(Train, [([code(BackTab)], tr(T::PrevPane))], "previous pane", None),
        row!(Train, [([UP], tr(T::ScrollUp)), ([DOWN], tr(T::ScrollDown))], "scroll the samples pane (a task's scores)", None),
        row!(Train, [([c('e')], A::Edit)], "edit the experiment in $EDITOR", Some("edit")),
        row!(Train, [([c('b')], A::ShowBrowser)], "experiment browser", None),
        row!(Train, [([c('r')], A::ShowRuns)], "runs: open and compare run directories", None),
        // The experiment browser.
        row!(Browser, [([UP], A::Browser(B::Up)), ([DOWN], A::Browser(B::Down))], "select", Some("select")),
        row!(Browser, [([ENTER], A::Browser(B::Open))], "open the selected experiment", Some("open")),
        row!(Browser, [([c('e')], A::Edit)], "edit the selected experiment in $EDITOR", Some("edit")),
        row!(Browser, [([c('r')], A::ShowRuns)], "runs: open and compare run directories", Some("runs")),
        row!(Browser, [([ESC], A::ShowTrain)], "back to the training screen", None),
        // The runs screen.
        row!(Runs, [([UP], A::Runs(R::Up)), ([DOWN], A::Runs(R::Down))], "select a run", Some("select")),
        row!(Runs, [([c(' '), ENTER], A::Runs(R::ToggleOverlay))], "overlay its loss (a sweep: all its points)",
             Some("overlay")),
        row!(Runs, [([c('o')], A::Runs(R::OpenPrompt))], "open a run directory by path", Some("open")),
        row!(Runs, [([c('u')], A::Suite(U::Prompt))], "suite screen: a suite's table and curves",
             Some("suite")),
        row!(Runs, [([c('c')], A::Runs(R::CompareProbe))], "compare probes with the selected run",
             Some("compare probe")),
        row!(Runs, [([c('i')], A::Runs(R::Inspect))], "inspect the selected run's best (else latest) checkpoint",
             Some("inspect")),
        row!(Runs, [([c('t')], A::Runs(R::Resume))], "continue training the selected run", Some("resume")),
        row!(Runs, [([c('w')], A::Runs(R::SweepPrompt(false)))],
             "run a sweep file here (in the background; it goes on if you quit)", Some("sweep")),
        row!(Runs, [([c('W')], A::Runs(R::SweepPrompt(true)))], "submit a sweep file to Slurm as a job array", None),
        row!(Runs, [([c('x')], A::Runs(R::StopSweep))], "stop the selected sweep (resumable; scancels its job)",
             None),
        row!(Runs, [([c('b')], A::ShowBrowser)], "experiment browser", None),
        row!(Runs, [([ESC], A::Runs(R::Back))], "back", Some("back")),
        // The suite screen.
        row!(Suite, [([UP], A::Suite(U::Up)), ([DOWN], A::Suite(U::Down))], "select a run (its curves on the right)",
             Some("select")),
        row!(Suite, [([ENTER], A::Suite(U::OpenRun))], "open the run on the runs screen",
             Some("open run")),
        row!(Suite, [([c('i')], A::Suite(U::Inspect))], "inspect the run's checkpoint",
             Some("inspect")),
        row!(Suite, [([c('r')], A::Suite(U::Reload))], "read the suite folder again", Some("reload")),
        row!(Suite, [([c('u')], A::Suite(U::Prompt))], "show another suite folder", None),
        row!(Suite, [([ESC], A::Suite(U::Back))], "back to the runs screen", Some("back")),
        // The probes pane (its chain falls through to the training screen's keys).
        row!(Probes, [([c('1')], pr(P::View(V::Hidden))), ([c('2')], pr(P::View(V::Gates))),
                      ([c('3')], pr(P::View(V::Saturation))), ([c('4')], pr(P::View(V::Gradient))),
                      ([c('5')], pr(P::View(V::Text)))],
             "view: hidden, gates, saturation, gradient, text", Some("view")),
        row!(Probes, [([c('v')], pr(P::NextView)), ([c('V')], pr(P::PrevView))], "next / previous view", None),
        row!(Probes, [([UP, c('k')], pr(P::PrevUnit)), ([DOWN, c('j')], pr(P::NextUnit))],
             "previous / next unit (in sort order)", Some("unit")),
        row!(Probes, [([code(PageUp)], pr(P::PageUp)), ([code(PageDown)], pr(P::PageDown))], "unit 16 up / down", None),
        row!(Probes, [([c('u')], pr(P::FirstUnit))], "select the first unit in sort order", None),
        row!(Probes, [([code(Left), c('h')], pr(P::CursorLeft)), ([code(Right), c('l')], pr(P::CursorRight))],
             "move the time cursor", Some("time")),
        row!(Probes, [([code(Home)], pr(P::CursorHome)), ([code(End)], pr(P::CursorEnd))],
             "cursor to first / last step", None),
        row!(Probes, [([c('[')], pr(P::PrevLayer)), ([c(']')], pr(P::NextLayer))], "previous / next layer",
             Some("layer")),
        row!(Probes, [([c('d')], pr(P::ToggleDirection))], "toggle direction (fwd / bwd)", None),
        row!(Probes, [([c('g')], pr(P::NextGate)), ([c('G')], pr(P::PrevGate))],
             "next / previous gate (text view: colour source)", Some("gate")),
        row!(Probes, [([c('o')], pr(P::NextSort))], "sort units: index, variance, correlation", Some("sort")),
        row!(Probes, [([c('f')], pr(P::NextFeature))], "next feature to correlate with (sorts by it)", None),
        row!(Probes, [([c('m')], pr(P::NextPalette))], "colour mode: rgb, 16 colours, glyphs", Some("colour")),
        // Overlays, prompts and questions: not in the help; the footer shows them while open.
        row!(Help, [([UP], A::ScrollHelp(-1)), ([DOWN], A::ScrollHelp(1))], "scroll", Some("scroll")),
        row!(Help, [([ESC, c('?')], A::ToggleHelp)], "close the help", Some("close")),
        row!(Help, [([c('q')], A::Quit)], "quit", Some("quit")),
        row!(Diverged, [([c('L')], tr(T::ResumeLowerLr))], "halve the learning rate and resume",
             Some("halve lr & resume")),
        row!(Error, [([ESC, ENTER], A::Cancel)], "dismiss the message", Some("dismiss")),
        row!(Error, [([c('e')], A::Edit)], "edit the experiment", Some("edit")),
        row!(Error, [([c('q')], A::Quit)], "quit", Some("quit")),
        row!(Prompt, [([ENTER], A::Prompt(PromptAction::Submit))], "use the text", Some("ok")),
        row!(Prompt, [([ESC], A::Cancel)], "cancel", Some("cancel")),
        row!(Prompt, [([code(Backspace)], A::Prompt(PromptAction::Backspace))], "delete a character", None),
        row!(Prompt, [([Key::Typed], A::Prompt(PromptAction::Char(' ')))], "type", None),
        row!(Confirm, [([c('y'), c('Y')], A::ConfirmYes)], "save and quit", Some("save and quit")),
        row!(Confirm, [([c('n'), c('N')], A::ConfirmNo)], "quit without saving", Some("quit without saving")),
        row!(Confirm, [([ESC], A::Cancel)], "cancel", Some("cancel")),
        row!(Saving, [([Key::Ctrl('c')], A::Interrupt)], "quit once the checkpoint is saved",
             Some("saving… (waits for the checkpoint)")),
    ]
};

/// The action of a key event in `mode`: the first matching row along [`Mode::chain`].
pub fn action_for(mode: Mode, ev: KeyEvent) -> Option<Action> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    for &m in mode.chain() {
        for row in KEYS.iter().filter(|r| r.mode == m) {
            for bind in row.binds {
                if let Some(&key) = bind.keys.iter().find(|k| k.matches(&ev)) {
                    return Some(bind.action_for(key, &ev));
                }
            }
        }
    }
    None
}

/// The probe pane's own action for a key, if it has one (the training screen's keys aside).
pub fn probe_action(ev: KeyEvent) -> Option<ProbeAction> {
    match action_for(Mode::Probes, ev)? {
        Action::Probe(a) => Some(a),
        _ => None,
    }
}

/// The help screen's sections: a title and the rows listed under it, in table order.
pub fn help_sections() -> Vec<(&'static str, Vec<&'static Row>)> {
    use Mode::*;
    let sections: [(&str, &[Mode]); 6] = [
        ("Everywhere", &[Screens, Always]),
        ("Training screen", &[Train]),
        ("Experiment browser", &[Browser]),
        ("Runs", &[Runs]),
        ("Suite (u on the runs screen)", &[Suite]),
        ("Probes pane (Tab to it)", &[Probes]),
    ];
    sections
        .iter()
        .map(|(title, modes)| (*title, KEYS.iter().filter(|r| modes.contains(&r.mode)).collect()))
        .collect()
}

/// One hint of the footer.
#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    /// Keys as shown (`space`, `+/-`, `↑↓`).
    pub keys: String,
    /// What they do (the row's footer label).
    pub label: &'static str,
    /// The action of the row's first key, for labels that depend on the state.
    pub action: Action,
    /// Kept even on a narrow footer (`?` help, `q` quit).
    pub pinned: bool,
}

/// The footer's hints in `mode`: the rows along the chain that have a footer label, except
/// those whose keys a row earlier in the chain takes over.
pub fn footer(mode: Mode) -> Vec<Hint> {
    let mut out = Vec::new();
    for &m in mode.chain() {
        for row in KEYS.iter().filter(|r| r.mode == m) {
            let (Some(label), Some(first)) = (row.footer, row.binds.first()) else {
                continue;
            };
            let Some(&key) = first.keys.first() else {
                continue;
            };
            if action_for(mode, key.event()).as_ref() != Some(&first.action) {
                continue;
            }
            out.push(Hint {
                keys: row.footer_keys(),
                label,
                action: first.action.clone(),
                pinned: m == Mode::Screens,
            });
        }
    }
    out
}
