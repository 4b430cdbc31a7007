//! `rnn-lab eval` for task models: the task's metrics on a file with its labels, or for a
//! generated task on the solved test's fresh sequences (drawn from the experiment's seed).

use serde_json::{json, Value};

use super::loaded::Loaded;
use super::CliError;
use crate::cli::EvalArgs;
use crate::config::TaskSource;
use crate::task::evaluate::{evaluate, EvalScratch, TaskMetrics};
use crate::task::generators::stream;
use crate::task::input::read_for_eval;
use crate::task::TaskKind;

/// Score a task checkpoint.
pub fn run(a: &EvalArgs, l: &Loaded) -> Result<(), CliError> {
    let Some(task) = &l.task else {
        return Err(CliError::other("not a task checkpoint"));
    };
    let ck = a.checkpoint.display();
    let (set, what, unknown) = match (&a.file, &l.exp.task.source) {
        (None, TaskSource::Generated { generator, criterion, .. }) => (
            generator.generate(l.exp.seed, stream::TEST, criterion.test_size),
            format!("solved test ({} fresh sequences)", criterion.test_size),
            0,
        ),
        (Some(_), TaskSource::Generated { generator, .. }) => {
            return Err(CliError::input(format!(
                "{ck}: `{}` is a generated task: eval scores it on fresh test sequences, without a file (rnn-lab eval CKPT)",
                generator.name()
            )))
        }
        (None, _) => {
            return Err(CliError::input(format!(
                "{ck}: give the file to score, in the task's format with its labels: rnn-lab eval CKPT FILE"
            )))
        }
        (Some(f), _) => {
            let text = crate::data::files::read_text(f).map_err(CliError::input)?;
            let r = read_for_eval(&l.exp, task, &text, f).map_err(CliError::input)?;
            (r.set, f.display().to_string(), r.unknown)
        }
    };
    let m = evaluate(&l.model, task, &set, 128, &mut EvalScratch::default()).map_err(CliError::other)?;
    if a.json {
        println!("{}", to_json(&what, l, &m, unknown));
    } else {
        print!("{}", to_text(&what, l, &m, unknown));
    }
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// The human report: one summary line, then the conlleval per-type table or the confusion
/// matrix.
pub fn to_text(what: &str, l: &Loaded, m: &TaskMetrics, unknown: usize) -> String {
    let Some(task) = &l.task else {
        return String::new();
    };
    let mut s = format!("{what}: ");
    match task.kind {
        TaskKind::Tagging => {
            s.push_str(&format!("accuracy {} of {} tokens", pct(m.accuracy), m.scored));
            if let Some(r) = &m.chunk_report {
                s.push_str(&format!(
                    ", chunk F1 {:.2} (precision {:.2}%, recall {:.2}%; {} gold chunks, {} found, {} correct)",
                    100.0 * r.total.f1(),
                    100.0 * r.total.precision(),
                    100.0 * r.total.recall(),
                    r.total.gold,
                    r.total.guessed,
                    r.total.correct
                ));
            }
            s.push_str(&format!(", loss {:.4} nats/token", m.loss));
        }
        TaskKind::Classification => s.push_str(&format!(
            "accuracy {} of {} sequences, macro-F1 {:.4}, loss {:.4} nats/sequence",
            pct(m.accuracy),
            m.sequences,
            m.macro_f1.unwrap_or(0.0),
            m.loss
        )),
        _ => s.push_str(&format!(
            "MSE {:.6} over {} sequences",
            m.mse.unwrap_or(m.loss),
            m.sequences
        )),
    }
    if let (Some(t), Some(g)) = (&m.tally, &task.generator) {
        let c = g.criterion();
        s.push_str(&format!(
            "; {} of {} wrong ({}), {}",
            t.wrong,
            t.sequences,
            pct(m.error_rate),
            if m.solved == Some(true) { "solved" } else { "not solved" }
        ));
        s.push_str(&format!(" (criterion: at most {:.3}% wrong", 100.0 * c.max_wrong));
        if let Some(x) = c.max_mse {
            s.push_str(&format!(", MSE < {x}"));
        }
        s.push(')');
    }
    if unknown > 0 {
        s.push_str(&format!("; {unknown} unknown token(s)"));
    }
    s.push('\n');
    if let Some(r) = &m.chunk_report {
        for (ty, t) in &r.by_type {
            s.push_str(&format!(
                "{ty:>10}: precision {:6.2}%  recall {:6.2}%  F1 {:6.2}  {:>6} gold {:>6} found\n",
                100.0 * t.precision(),
                100.0 * t.recall(),
                100.0 * t.f1(),
                t.gold,
                t.guessed
            ));
        }
    }
    if let Some(c) = &m.confusion {
        let names = task.labels.names();
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).clamp(4, 12);
        s.push_str(&format!("{:>w$}  gold ↓ / predicted →\n", ""));
        s.push_str(&format!("{:>w$}", ""));
        for n in names {
            s.push_str(&format!(" {:>5}", n.chars().take(5).collect::<String>()));
        }
        s.push_str("   acc\n");
        for (g, n) in names.iter().enumerate() {
            s.push_str(&format!("{:>w$}", n.chars().take(w).collect::<String>()));
            for p in 0..names.len() {
                s.push_str(&format!(" {:>5}", c.count(g, p)));
            }
            s.push_str(&format!(
                "  {}\n",
                c.class_accuracy(g).map_or("—".into(), |a| format!("{:.1}%", 100.0 * a))
            ));
        }
    }
    s
}

/// The JSON report: the metrics, plus the labels, the confusion matrix and conlleval's counts
/// per chunk type where they apply.
pub fn to_json(what: &str, l: &Loaded, m: &TaskMetrics, unknown: usize) -> Value {
    let mut v = json!({
        "file": what,
        "kind": l.exp.task.kind.name(),
        "unknown": unknown,
    });
    if let (Value::Object(o), Ok(Value::Object(mm))) = (&mut v, serde_json::to_value(m)) {
        o.extend(mm);
    }
    if let Some(task) = &l.task {
        v["labels"] = json!(task.labels.names());
    }
    if let Some(c) = &m.confusion {
        let rows: Vec<Vec<u64>> = (0..c.n).map(|g| (0..c.n).map(|p| c.count(g, p)).collect()).collect();
        v["confusion"] = json!(rows);
    }
    if let Some(r) = &m.chunk_report {
        let types: serde_json::Map<String, Value> = r
            .by_type
            .iter()
            .map(|(k, t)| {
                (
                    k.clone(),
                    json!({"gold": t.gold, "found": t.guessed, "correct": t.correct,
                           "precision": t.precision(), "recall": t.recall(), "f1": t.f1()}),
                )
            })
            .collect();
        v["chunks"] =
            json!({"gold": r.total.gold, "found": r.total.guessed, "correct": r.total.correct, "by_type": types});
    }
    if let Some(t) = &m.tally {
        v["wrong"] = json!(t.wrong);
    }
    v
}
