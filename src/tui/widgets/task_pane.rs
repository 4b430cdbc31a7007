//! The task pane, in place of the samples of a language model: the task's scores at the last
//! evaluation. Tagging: token accuracy and conlleval's chunk precision / recall / F1 per type;
//! classification: accuracy, macro-F1, the confusion matrix and per-class accuracy; regression:
//! MSE; generated tasks: the solved test on fresh sequences. Below the scores, what the model
//! made of the first validation sequences: tagging, each sentence's tokens with their predicted
//! tags coloured by correctness (the gold tag beside a wrong one); regression, the predictions
//! plotted against the targets. ↑/↓ scroll the pane.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::task::evaluate::TaskMetrics;
use crate::train::protocol::{Examples, TaggedSeq, TaskScores};
use crate::tui::theme::Theme;

/// The task pane.
pub struct TaskPane<'a> {
    /// The last evaluation's scores (`None` before the first).
    pub scores: Option<&'a TaskScores>,
    /// Colours.
    pub theme: &'a Theme,
    /// Surrounding block.
    pub block: Block<'a>,
    /// Lines scrolled down.
    pub scroll: u16,
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

/// What the model made of the first validation sequences (see the module comment); `width`:
/// the columns available.
pub fn example_lines(s: &TaskScores, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    match &s.examples {
        Examples::None => Vec::new(),
        Examples::Tagged(seqs) => tagged_lines(seqs, &s.labels, theme),
        Examples::Regressed(pairs) => scatter_lines(pairs, width.saturating_sub(8).clamp(10, 60), 12, theme),
    }
}

/// Each sentence: a header line, then `token/TAG` per token, the tag in the running colour when
/// right and in the warning colour as `PREDICTED≠GOLD` when wrong.
pub fn tagged_lines(seqs: &[TaggedSeq], labels: &[String], theme: &Theme) -> Vec<Line<'static>> {
    let name = |k: u32| labels.get(k as usize).cloned().unwrap_or_else(|| k.to_string());
    let mut out = vec![Line::from(Span::styled(
        format!("the first {} validation sentences (↑/↓ scroll):", seqs.len()),
        theme.label,
    ))];
    for (i, q) in seqs.iter().enumerate() {
        let wrong = q.gold.iter().zip(&q.pred).filter(|(g, p)| g != p).count();
        out.push(Line::from(Span::styled(
            format!("{}. {} tokens, {} wrong", i + 1, q.tokens.len(), wrong),
            theme.dim,
        )));
        let mut spans = Vec::with_capacity(3 * q.tokens.len());
        for ((tok, &g), &p) in q.tokens.iter().zip(&q.gold).zip(&q.pred) {
            spans.push(Span::raw(format!("{tok}/")));
            if g == p {
                spans.push(Span::styled(name(p), theme.running));
            } else {
                spans.push(Span::styled(format!("{}≠{}", name(p), name(g)), theme.warn));
            }
            spans.push(Span::raw(" "));
        }
        out.push(Line::from(spans));
    }
    out
}

/// Regression: the prediction (rows, larger at the top) against the target (columns) of each
/// pair, as a `width` × `height` character plot over the range of both; `•` marks a cell holding
/// pairs, `·` the diagonal where the prediction equals the target.
pub fn scatter_lines(pairs: &[(f64, f64)], width: usize, height: usize, theme: &Theme) -> Vec<Line<'static>> {
    let finite: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|(t, p)| t.is_finite() && p.is_finite())
        .collect();
    let mut out = vec![Line::from(Span::styled(
        format!(
            "prediction (↑) against target (→), {} validation sequences; · = right",
            finite.len()
        ),
        theme.label,
    ))];
    if finite.is_empty() || width < 2 || height < 2 {
        return out;
    }
    let lo = finite.iter().fold(f64::INFINITY, |m, &(t, p)| m.min(t).min(p));
    let hi = finite.iter().fold(f64::NEG_INFINITY, |m, &(t, p)| m.max(t).max(p));
    let span = if hi > lo { hi - lo } else { 1.0 };
    // Cell of a value along an axis of n cells: ⌊(v − lo)/span · (n − 1) + ½⌋.
    let cell = |v: f64, n: usize| (((v - lo) / span * (n - 1) as f64).round() as usize).min(n - 1);
    let mut grid = vec![vec![' '; width]; height];
    let diagonal = (0..width).map(|c| (c, lo + span * c as f64 / (width - 1) as f64));
    for (c, v) in diagonal {
        grid[height - 1 - cell(v, height)][c] = '·';
    }
    for &(t, p) in &finite {
        grid[height - 1 - cell(p, height)][cell(t, width)] = '•';
    }
    for (r, row) in grid.into_iter().enumerate() {
        let label = match r {
            0 => format!("{hi:>7.3}"),
            r if r == height - 1 => format!("{lo:>7.3}"),
            _ => " ".repeat(7),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{label}│"), theme.dim),
            Span::styled(row.into_iter().collect::<String>(), theme.value),
        ]));
    }
    out.push(Line::from(Span::styled(
        format!("{}└{}", " ".repeat(7), "─".repeat(width)),
        theme.dim,
    )));
    out.push(Line::from(Span::styled(
        format!("{}{lo:<8.3}{:>w$.3}", " ".repeat(8), hi, w = width.saturating_sub(8)),
        theme.dim,
    )));
    out
}

impl Widget for TaskPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let width = self.block.inner(area).width as usize;
        let lines = match self.scores {
            Some(s) => {
                let mut l = task_lines(s, self.theme);
                l.extend(example_lines(s, self.theme, width));
                l
            }
            None => vec![Line::from(Span::styled(
                "The task's scores appear at the first evaluation.",
                self.theme.dim,
            ))],
        };
        Paragraph::new(lines)
            .block(self.block)
            .wrap(Wrap { trim: false })
            .scroll((self.scroll, 0))
            .render(area, buf);
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
            examples: Examples::None,
        };
        let t = text(&task_lines(&s, &Theme::new(false)));
        assert!(t.contains("accuracy 83.33%"), "{t}");
        assert!(t.contains("640 training sequences"), "{t}");
        assert!(t.contains(" Greek     3     1  75.0%"), "{t}");
        assert!(t.contains(" Korea     0     2 100.0%"), "{t}");
    }

    #[test]
    fn tagging_colours_each_tag_by_correctness_and_names_the_gold_one_when_wrong() {
        let theme = Theme::new(false);
        assert_ne!(theme.running, theme.warn);
        let seqs = vec![TaggedSeq {
            tokens: vec!["the".into(), "dog".into()],
            gold: vec![0, 1],
            pred: vec![0, 0],
        }];
        let labels: Vec<String> = vec!["B-NP".into(), "I-NP".into()];
        let l = tagged_lines(&seqs, &labels, &theme);
        let t = text(&l);
        assert!(t.contains("1. 2 tokens, 1 wrong"), "{t}");
        assert!(t.contains("the/B-NP dog/B-NP≠I-NP "), "{t}");
        let spans = &l[2].spans;
        assert_eq!(spans[1].style, theme.running);
        assert_eq!(spans[4].style, theme.warn);
    }

    #[test]
    fn regression_plots_predictions_against_targets_with_the_diagonal() {
        let theme = Theme::new(false);
        // Two right answers (0, 0) and (1, 1), one wrong: target 0, predicted 1.
        let l = scatter_lines(&[(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)], 11, 5, &theme);
        let rows: Vec<String> = l
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(rows[0].contains("3 validation sequences"), "{rows:?}");
        // Top row (prediction 1): the wrong pair at target 0, the diagonal, the right pair at 1.
        assert_eq!(rows[1], "  1.000│•        ·•");
        // Middle row (0.5): only the diagonal, over the columns 0.4–0.6 that round to it.
        assert_eq!(rows[3], "       │    ···    ");
        // Bottom row (0): the right pair at target 0 on the diagonal, which goes on at 0.1.
        assert_eq!(rows[5], "  0.000│•·         ");
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
            scroll: 0,
        }
        .render(area, &mut buf);
        let s: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(s.contains("first evaluation"), "{s}");
    }
}
