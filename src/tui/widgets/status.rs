//! The status line: phase, step, epoch, tokens/s, learning rate, gradient norm, bits/token,
//! perplexity, the latest validation loss and its gap over the training loss, the best
//! validation loss, ETA.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::tui::app::{App, Phase};

use super::{compact, duration, sig3};
use crate::fmt_num::thousands;

/// The status line of the training screen (wraps onto a second line when narrow).
pub struct Status<'a> {
    /// Everything it shows comes from here.
    pub app: &'a App,
}

impl Status<'_> {
    /// The status as label/value pairs, after the phase badge.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        if self.app.run.phase == Phase::Inspecting {
            return self.inspecting();
        }
        let run = &self.app.run;
        let total = run
            .info
            .as_ref()
            .map(|i| i.total_steps)
            .or(self.app.experiment.as_ref().map(|e| e.training.steps));
        let step = run.step();
        let mut f = Vec::new();
        let step_text = match total {
            Some(t) if t > 0 => format!(
                "{}/{} ({:.0}%)",
                thousands(step),
                thousands(t),
                100.0 * step as f64 / t as f64
            ),
            _ => thousands(step),
        };
        f.push(("step", step_text));
        let m = run.last.as_ref();
        f.push(("epoch", m.map_or("–".into(), |m| format!("{:.2}", m.epoch))));
        f.push(("tok/s", m.map_or("–".into(), |m| compact(m.tokens_per_s))));
        let lr = m.map(|m| m.lr).or(self.app.base_lr());
        f.push(("lr", lr.map_or("–".into(), |lr| format!("{lr:.2e}"))));
        f.push(("|g|", m.map_or("–".into(), |m| sig3(m.grad_norm))));
        if self.app.is_task() {
            // A task's headline metric replaces bits/token and perplexity.
            f.push((
                "",
                run.last_task.as_ref().map_or("–".into(), crate::headless::task_metric),
            ));
            if let Some(v) = run.last_val {
                f.push(("val loss", format!("{v:.4}")));
            }
        } else {
            f.push(("bits/tok", m.map_or("–".into(), |m| format!("{:.3}", m.bits_per_token))));
            f.push(("ppl", m.map_or("–".into(), |m| sig3(m.bits_per_token.exp2()))));
            if let Some(v) = run.last_val {
                // Overfitting at a glance: validation − training loss at the same evaluation.
                let gap = run.gap.map_or(String::new(), |g| format!(" (gap {g:+.3})"));
                f.push(("val", format!("{v:.3}{gap}")));
            }
            if let Some(v) = run.best_val {
                f.push(("best val", format!("{v:.3}")));
            }
        }
        let eta = match (m, run.info.as_ref(), total) {
            (Some(m), Some(info), Some(t)) if m.step > info.start_step && m.time_s > 0.0 => {
                let rate = (m.step - info.start_step) as f64 / m.time_s;
                duration(t.saturating_sub(m.step) as f64 / rate)
            }
            _ => "–".into(),
        };
        f.push(("ETA", eta));
        f
    }
}

impl Status<'_> {
    /// A checkpoint opened for inspection: which file and step, what `v` found there, and the
    /// run's best validation loss from its history.
    fn inspecting(&self) -> Vec<(&'static str, String)> {
        let run = &self.app.run;
        let mut f = Vec::new();
        let file = run
            .last_checkpoint
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        let step = run
            .info
            .as_ref()
            .map_or(String::new(), |i| format!(" (step {})", thousands(i.start_step)));
        f.push(("", format!("{file}{step}")));
        match run.checked.as_ref().and_then(|m| m.val_loss.map(|v| (m, v))) {
            Some((m, v)) => match &m.task {
                Some(t) => {
                    f.push(("val", crate::headless::task_metric(t)));
                    f.push(("val loss", format!("{v:.4}")));
                }
                None => {
                    f.push(("val bits/tok", format!("{:.3}", m.bits_per_token)));
                    f.push(("ppl", sig3(m.bits_per_token.exp2())));
                }
            },
            None => f.push(("val", "v evaluates".into())),
        }
        if let Some(v) = run.best_val {
            f.push(("run's best val", format!("{v:.3}")));
        }
        f
    }
}

impl Widget for Status<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = &self.app.theme;
        let (badge, style) = match self.app.run.phase {
            Phase::Idle => (" READY ", t.idle),
            Phase::Starting => (" STARTING ", t.idle),
            Phase::Running => (" ▶ RUNNING ", t.running),
            Phase::Paused => (" ❚❚ PAUSED ", t.paused),
            Phase::Stopping => (" SAVING ", t.paused),
            Phase::Finished => (" FINISHED ", t.idle),
            Phase::Failed => (" FAILED ", t.error),
            Phase::Inspecting => (" INSPECTING ", t.paused),
        };
        let mut spans = vec![Span::styled(
            badge,
            style.add_modifier(ratatui::style::Modifier::REVERSED),
        )];
        for (label, value) in self.fields() {
            spans.push(Span::raw("  "));
            if !label.is_empty() {
                spans.push(Span::styled(format!("{label} "), t.label));
            }
            spans.push(Span::styled(value, t.value));
        }
        Paragraph::new(Line::from(spans))
            .wrap(Wrap { trim: true })
            .render(area, buf);
    }
}
