//! The task pane, in place of the samples of a language model: the task's scores at the last
//! evaluation. Tagging: token accuracy and conlleval's chunk precision / recall / F1 per type;
//! classification: accuracy, macro-F1, the confusion matrix and per-class accuracy; regression:
//! MSE; generated tasks: the solved test on fresh sequences.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::task::evaluate::TaskMetrics;
use crate::train::protocol::TaskScores;
use crate::tui::theme::Theme;

/// The task pane.
pub struct TaskPane<'a> {
    /// The last evaluation's scores (`None` before the first).
    pub scores: Option<&'a TaskScores>,
    /// Colours.
    pub theme: &'a Theme,
    /// Surrounding block.
    pub block: Block<'a>,
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The lines of the pane (pure: tested without a terminal).
pub fn task_lines(s: &TaskScores, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled(crate::headless::task_metric(s), theme.value),
        Span::styled(format!(" · {} training sequences", s.sequences), theme.dim),
    ])];
    if let Some(t) = &s.test {
        out.push(Line::from(Span::styled(
            format!(
                "solved test, {} fresh sequences: {} wrong, {}",
                t.sequences,
                t.error_rate.map_or("–".into(), pct),
                if t.solved == Some(true) { "solved" } else { "not solved" }
            ),
            if t.solved == Some(true) {
                theme.running
            } else {
                theme.label
            },
        )));
    }
    metric_lines(&s.valid, "validation", &s.labels, theme, &mut out);
    out
}

fn metric_lines(m: &TaskMetrics, what: &str, labels: &[String], theme: &Theme, out: &mut Vec<Line<'static>>) {
    let mut head = format!("{what} ({} sequences): loss {:.4}", m.sequences, m.loss);
    if let Some(a) = m.accuracy {
        head.push_str(&format!(", accuracy {}", pct(a)));
    }
    if let Some(f) = m.macro_f1 {
        head.push_str(&format!(", macro-F1 {f:.4}"));
    }
    if let Some(x) = m.mse {
        head.push_str(&format!(", MSE {x:.5}"));
    }
    out.push(Line::from(Span::styled(head, theme.dim)));
    if let Some(r) = &m.chunk_report {
        out.push(Line::from(Span::styled(
            format!(
                "chunks: precision {}  recall {}  F1 {:.2}",
                pct(r.total.precision()),
                pct(r.total.recall()),
                100.0 * r.total.f1()
            ),
            theme.value,
        )));
        out.push(Line::from(Span::styled(
            format!("{:>8} {:>8} {:>8} {:>7} {:>7}", "type", "prec", "recall", "F1", "gold"),
            theme.label,
        )));
        let mut types: Vec<_> = r.by_type.iter().collect();
        types.sort_by_key(|(_, t)| std::cmp::Reverse(t.gold));
        for (ty, t) in types {
            out.push(Line::from(format!(
                "{:>8} {:>7.2}% {:>7.2}% {:>7.2} {:>7}",
                ty.chars().take(8).collect::<String>(),
                100.0 * t.precision(),
                100.0 * t.recall(),
                100.0 * t.f1(),
                t.gold
            )));
        }
    }
    if let Some(c) = &m.confusion {
        let name = |k: usize| -> String { labels.get(k).map_or(k.to_string(), |n| n.chars().take(5).collect()) };
        let mut header = vec![Span::styled(format!("{:>6}", "gold↓"), theme.label)];
        for p in 0..c.n {
            header.push(Span::styled(format!(" {:>5}", name(p)), theme.label));
        }
        header.push(Span::styled("    acc", theme.label));
        out.push(Line::from(header));
        for g in 0..c.n {
            let mut row = vec![Span::styled(format!("{:>6}", name(g)), theme.label)];
            for p in 0..c.n {
                let n = c.count(g, p);
                let style = match (g == p, n) {
                    (_, 0) => theme.dim,
                    (true, _) => theme.running,
                    (false, _) => theme.warn,
                };
                row.push(Span::styled(format!(" {n:>5}"), style));
            }
            row.push(Span::styled(
                format!(
                    " {:>6}",
                    c.class_accuracy(g).map_or("–".into(), |a| format!("{:.1}%", 100.0 * a))
                ),
                Style::default(),
            ));
            out.push(Line::from(row));
        }
    }
}

impl Widget for TaskPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = match self.scores {
            Some(s) => task_lines(s, self.theme),
            None => vec![Line::from(Span::styled(
                "The task's scores appear at the first evaluation.",
                self.theme.dim,
            ))],
        };
        Paragraph::new(lines).block(self.block).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::metrics::Confusion;

    fn text(lines: &[Line<'_>]) -> String {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn classification_shows_the_confusion_matrix_and_per_class_accuracy() {
        let mut c = Confusion::new(2);
        // gold 0: 3 right, 1 wrong; gold 1: 2 right.
        c.counts = vec![3, 1, 0, 2];
        let valid = TaskMetrics {
            loss: 0.5,
            sequences: 6,
            accuracy: Some(5.0 / 6.0),
            macro_f1: Some(0.8),
            confusion: Some(c),
            ..TaskMetrics::default()
        };
        let s = TaskScores {
            metric: "accuracy".into(),
            value: 5.0 / 6.0,
            higher_is_better: true,
            valid,
            test: None,
            sequences: 640,
            solved_at: None,
            labels: vec!["Greek".into(), "Korean".into()],
        };
        let t = text(&task_lines(&s, &Theme::new(false)));
        assert!(t.contains("accuracy 83.33%"), "{t}");
        assert!(t.contains("640 training sequences"), "{t}");
        assert!(t.contains(" Greek     3     1  75.0%"), "{t}");
        assert!(t.contains(" Korea     0     2 100.0%"), "{t}");
    }

    #[test]
    fn a_pane_before_the_first_evaluation_says_so() {
        let theme = Theme::new(false);
        let area = Rect::new(0, 0, 60, 4);
        let mut buf = Buffer::empty(area);
        TaskPane {
            scores: None,
            theme: &theme,
            block: Block::bordered().title("Task"),
        }
        .render(area, &mut buf);
        let s: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(s.contains("first evaluation"), "{s}");
    }
}
