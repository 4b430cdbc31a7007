//! Layout: title bar, the screen's body, message line, footer; overlays on top. Rendering is
//! pure: it reads the `App` and writes a `Buffer`, nothing else.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::action::{Action, PromptAction, TrainAction};
use super::app::{App, Level, Pane, Phase, PromptKind, Screen};
use super::keys::{self, Hint};
use super::probe_view::ProbeWidget;
use super::widgets::browser::Browser;
use super::widgets::centered;
use super::widgets::help::Help;
use super::widgets::loss_chart::{LossChart, Series, SeriesKind};
use super::widgets::runs::Runs;
use super::widgets::samples::{temperature_text, Samples};
use super::widgets::status::Status;
use super::widgets::suite::Suite;

/// Smallest usable terminal; below it the screen says "terminal too small".
pub const MIN_WIDTH: u16 = 50;
/// Smallest usable terminal height.
pub const MIN_HEIGHT: u16 = 12;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            too_small(self, area, buf);
            return;
        }
        let status_h = match self.screen {
            Screen::Train if area.width < 120 => 2,
            Screen::Train => 1,
            _ => 0,
        };
        let [title, status, body, message, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(status_h),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        title_bar(self, title, buf);
        match self.screen {
            Screen::Browser => Browser { app: self }.render(body, buf),
            Screen::Runs => Runs { app: self }.render(body, buf),
            Screen::Suite => Suite { app: self }.render(body, buf),
            Screen::Train => {
                Status { app: self }.render(status, buf);
                train_body(self, body, buf);
            }
        }
        message_line(self, message, buf);
        footer_line(self, footer, buf);
        overlays(self, area, buf);
    }
}

fn too_small(app: &App, area: Rect, buf: &mut Buffer) {
    let text = format!(
        "terminal too small ({}×{}): needs {MIN_WIDTH}×{MIN_HEIGHT}. q quits.",
        area.width, area.height
    );
    Paragraph::new(Span::styled(text, app.theme.warn))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn title_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let mut spans = vec![Span::styled("rnn-lab ", t.title)];
    for s in Screen::ALL {
        let style = if app.screen == s { t.tab_active } else { t.dim };
        spans.push(Span::styled(format!(" {} ", s.name()), style));
    }
    if app.screen == Screen::Suite {
        // Reached from the runs screen: shown beside it while it is open.
        spans.push(Span::styled(format!(" {} ", Screen::Suite.name()), t.tab_active));
    }
    if let Some(e) = &app.experiment {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(e.name.clone(), t.value));
        if app.pending.is_some() {
            spans.push(Span::styled(" [edited: R restarts with it]", t.warn));
        }
        let (model, params) = match &app.run.info {
            Some(i) => (
                format!(" · {}", i.model),
                Some(format!(" · {} params", super::widgets::compact(i.params as f64))),
            ),
            None => (
                format!(" · {} {}×{}", e.model.cell.name(), e.model.layers, e.model.hidden),
                None,
            ),
        };
        // Whole parts are left out, least useful first, rather than one cut mid-token.
        let fps = (app.fps > 0.0).then(|| format!("  {:.0} fps", app.fps));
        let width = |spans: &[Span<'_>]| spans.iter().map(Span::width).sum::<usize>();
        let room = usize::from(area.width);
        let mut optional: Vec<String> = [Some(model), params, fps].into_iter().flatten().collect();
        while !optional.is_empty() {
            let total = width(&spans) + optional.iter().map(|s| Span::raw(s.as_str()).width()).sum::<usize>();
            if total <= room {
                break;
            }
            optional.pop();
        }
        spans.extend(optional.into_iter().map(|s| Span::styled(s, t.dim)));
    } else if app.fps > 0.0 {
        let fps = format!("  {:.0} fps", app.fps);
        let used: usize = spans.iter().map(Span::width).sum();
        if used + fps.chars().count() <= usize::from(area.width) {
            spans.push(Span::styled(fps, t.dim));
        }
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn pane_block<'a>(app: &'a App, pane: Pane, title: String) -> Block<'a> {
    let t = &app.theme;
    let focused = app.focus == pane;
    Block::bordered()
        .border_style(if focused { t.border_focus } else { t.border })
        .title(title)
}

fn train_body(app: &App, area: Rect, buf: &mut Buffer) {
    if app.focus == Pane::Probes {
        let compare_title = app
            .probes
            .compare
            .as_ref()
            .map(|(n, _)| format!(" vs {n} "))
            .unwrap_or_default();
        let block = pane_block(app, Pane::Probes, format!(" Probes{compare_title}"));
        let inner = block.inner(area);
        block.render(area, buf);
        ProbeWidget {
            view: &app.probes.view,
            report: app.probes.latest.as_ref(),
            compare: app.probes.compare.as_ref().map(|(_, r)| r),
        }
        .render(inner, buf);
        return;
    }
    let [loss_area, sample_area] = if area.width >= 70 {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    };
    let t = &app.theme;
    let c = &app.chart;
    let beta = c.beta();
    let title = format!(
        " Loss{}{}{} · smooth {beta} ",
        if c.log_y { " · log" } else { "" },
        if c.x_time { " · by time" } else { "" },
        if c.recent { " · recent" } else { "" },
    );
    // A task's headline metric beside its loss.
    let title = match &app.run.last_task {
        Some(ts) => format!("{title}· {} ", crate::headless::task_metric(ts)),
        None => title,
    };
    let mut series = vec![
        Series {
            name: String::new(),
            history: &app.run.train,
            kind: SeriesKind::Raw,
            style: t.loss_raw,
        },
        Series {
            name: "train".into(),
            history: &app.run.train,
            kind: SeriesKind::Smoothed,
            style: t.loss_smooth,
        },
    ];
    if !app.run.val.is_empty() {
        series.push(Series {
            name: "val".into(),
            history: &app.run.val,
            kind: SeriesKind::Line,
            style: t.loss_val,
        });
    }
    let empty = match app.run.phase {
        Phase::Idle => "Ready. Press space to start training.",
        Phase::Starting => "Starting…",
        _ => "Waiting for the first logged step…",
    };
    LossChart {
        series,
        settings: *c,
        block: pane_block(app, Pane::Loss, title),
        axis: t.axis,
        empty_text: empty,
    }
    .render(loss_area, buf);
    if app.is_task() {
        // A task generates no text: its scores take the samples' place.
        let kind = app.experiment.as_ref().map_or("task", |e| e.task.kind.name());
        super::widgets::task_pane::TaskPane {
            scores: app.run.last_task.as_ref(),
            theme: t,
            block: pane_block(app, Pane::Samples, format!(" Task · {kind} ")),
            scroll: app.sampling.scroll,
        }
        .render(sample_area, buf);
        return;
    }
    let sm = &app.sampling;
    let sample_title = format!(" Samples · T {} ", temperature_text(sm.temperature()));
    Samples {
        app,
        block: pane_block(app, Pane::Samples, sample_title),
    }
    .render(sample_area, buf);
}

fn message_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let line = match app.messages.back() {
        Some((Level::Warn, m)) => Line::from(Span::styled(m.clone(), t.warn)),
        Some((Level::Info, m)) => Line::from(Span::styled(m.clone(), t.dim)),
        None => Line::from(""),
    };
    Paragraph::new(line).render(area, buf);
}

/// The footer's hints for the current mode, from the key table (`keys.rs`), with the labels
/// that depend on the state filled in.
pub fn footer_hints(app: &App) -> Vec<Hint> {
    let mut hints = keys::footer(app.mode());
    if app.run.phase == Phase::Inspecting {
        // An inspected checkpoint does not train: leave the room to g, p and v.
        use TrainAction::{LrDown, LrUp, Restart, SaveNow, StepOnce};
        hints.retain(|h| !matches!(h.action, Action::Train(StepOnce | SaveNow | Restart | LrDown | LrUp)));
    }
    if app.is_task() {
        // A tagger, classifier or regressor generates no text: no sampling hints.
        use TrainAction::{SampleNow, TempDown, TempUp};
        hints.retain(|h| !matches!(h.action, Action::Train(SampleNow | TempUp | TempDown)));
    }
    for h in &mut hints {
        h.label = match (&h.action, app.run.phase) {
            (Action::Train(TrainAction::StartPause), Phase::Running) => "pause",
            (Action::Train(TrainAction::StartPause), Phase::Paused) => "resume",
            (Action::Train(TrainAction::StartPause), Phase::Idle | Phase::Finished | Phase::Failed) => "start",
            (Action::Train(TrainAction::StartPause), Phase::Inspecting) => "new run",
            (Action::Prompt(PromptAction::Submit), _) => match app.prompt.as_ref().map(|p| p.kind) {
                Some(PromptKind::Prime) => "set prime",
                Some(PromptKind::ProbeText) => "probe this text",
                Some(PromptKind::OpenRun) => "open run",
                Some(PromptKind::Sweep { slurm: false }) => "run the sweep here",
                Some(PromptKind::Sweep { slurm: true }) => "submit to Slurm",
                Some(PromptKind::Suite) => "show the suite",
                None => h.label,
            },
            _ => h.label,
        };
    }
    hints
}

fn footer_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let hints = footer_hints(app);
    let len = |h: &Hint| h.keys.chars().count() + h.label.chars().count() + 3;
    // The pinned hints (help, quit) come last but are always kept; the mode's own hints fill
    // the room before them in table order.
    let mut room = (area.width as usize).saturating_sub(hints.iter().filter(|h| h.pinned).map(len).sum());
    let mut shown: Vec<&Hint> = Vec::new();
    for h in hints.iter().filter(|h| !h.pinned) {
        if len(h) > room {
            break;
        }
        room -= len(h);
        shown.push(h);
    }
    shown.extend(hints.iter().filter(|h| h.pinned));
    let mut spans = Vec::new();
    for h in shown {
        spans.push(Span::styled(h.keys.clone(), t.key));
        spans.push(Span::raw(format!(" {}  ", h.label)));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn overlays(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    if app.help {
        Help {
            theme: t,
            scroll: app.help_scroll,
        }
        .render(area, buf);
    }
    if let Some(err) = &app.error {
        let w = 70.min(area.width.saturating_sub(4));
        let lines = vec![
            Line::from(Span::styled(err.clone(), t.error)),
            Line::from(""),
            Line::from(vec![
                Span::styled("Esc", t.key),
                Span::raw(" dismiss  "),
                Span::styled("e", t.key),
                Span::raw(" open the experiment in $EDITOR"),
            ]),
        ];
        let text_h = err.chars().count() as u16 / w.saturating_sub(2).max(1) + 4;
        let popup = centered(area, w, text_h + 2);
        Clear.render(popup, buf);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_style(t.error).title(" Error "))
            .render(popup, buf);
    }
    if app.confirm_quit {
        let popup = centered(area, 56, 7);
        Clear.render(popup, buf);
        let lines = vec![
            Line::from(format!(
                "Steps since the last checkpoint: {} (saved at {}).",
                app.run.step().saturating_sub(app.run.saved_step),
                app.run.saved_step
            )),
            Line::from("Save a checkpoint before quitting?"),
            Line::from(""),
            Line::from(vec![
                Span::styled("y", t.key),
                Span::raw(" save and quit  "),
                Span::styled("n", t.key),
                Span::raw(" quit without saving  "),
                Span::styled("Esc", t.key),
                Span::raw(" cancel"),
            ]),
        ];
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_style(t.border_focus).title(" Quit "))
            .render(popup, buf);
    }
    if let Some(w) = app.quit_wait {
        let popup = centered(area, 46, 3);
        Clear.render(popup, buf);
        let left = (w.deadline - app.clock).max(0.0);
        Paragraph::new(format!("Saving the checkpoint… (up to {left:.0}s)"))
            .block(Block::bordered().border_style(t.border_focus))
            .render(popup, buf);
    }
    if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Prime => " Prime text (fed in before sampling) ",
            PromptKind::ProbeText => " Text to probe (empty = default snippet) ",
            PromptKind::OpenRun => " Run directory to open ",
            PromptKind::Sweep { slurm: false } => " Sweep file to run here ",
            PromptKind::Sweep { slurm: true } => " Sweep file to submit to Slurm ",
            PromptKind::Suite => " Suite folder to show (holds suite.json) ",
        };
        let w = 60.min(area.width);
        let popup = centered(area, w, 3);
        Clear.render(popup, buf);
        let shown = p
            .text
            .chars()
            .rev()
            .take(w.saturating_sub(4) as usize)
            .collect::<Vec<_>>();
        let shown: String = shown.into_iter().rev().collect();
        Paragraph::new(Line::from(vec![Span::raw(shown), Span::styled("▏", t.key)]))
            .block(Block::bordered().border_style(t.border_focus).title(label))
            .render(popup, buf);
    }
}
