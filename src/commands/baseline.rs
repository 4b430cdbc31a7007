//! `rnn-lab baseline`: a task's no-network baseline (most frequent tag per word, or the majority
//! class) fitted on the experiment's training data and scored on its validation and test data,
//! to put a model's score in context.

use super::CliError;
use crate::cli::BaselineArgs;
use crate::task::baseline::Baseline;
use crate::task::evaluate::TaskMetrics;

/// One line per scored set: "validation (N sequences): accuracy …, chunk F1 …".
fn line(what: &str, m: &TaskMetrics) -> String {
    let mut s = format!("{what} ({} sequences):", m.sequences);
    if let Some(a) = m.accuracy {
        s.push_str(&format!(" accuracy {:.2}%", 100.0 * a));
    }
    if let Some(f) = m.chunk_f1 {
        s.push_str(&format!(
            ", chunk F1 {:.2} (precision {:.2}%, recall {:.2}%)",
            100.0 * f,
            100.0 * m.chunk_precision.unwrap_or(0.0),
            100.0 * m.chunk_recall.unwrap_or(0.0)
        ));
    }
    if let Some(f) = m.macro_f1 {
        s.push_str(&format!(", macro-F1 {f:.4}"));
    }
    s
}

/// Fit and score the baseline of a tagging or classification experiment.
pub fn run(a: &BaselineArgs) -> Result<(), CliError> {
    let exp = crate::config::load(&a.experiment).map_err(CliError::input)?;
    if exp.task.is_language_model() {
        return Err(CliError::input(format!(
            "{}: a language model has no task baseline (baselines are for tagging and classification)",
            a.experiment.display()
        )));
    }
    let task = crate::task::load::load_task(&exp).map_err(CliError::input)?;
    let Some(b) = Baseline::fit(&task) else {
        return Err(CliError::input(format!(
            "{}: a {} task has no baseline here (tagging: most frequent tag; classification: majority class)",
            a.experiment.display(),
            task.kind.name()
        )));
    };
    let name = match b {
        Baseline::MostFrequentTag(_) => "most frequent tag",
        Baseline::Majority(_) => "majority class",
    };
    let valid = b.evaluate(&task, &task.valid);
    let test = task.test.as_ref().map(|t| b.evaluate(&task, t));
    if a.json {
        let v = serde_json::json!({ "baseline": name, "valid": valid, "test": test });
        println!("{v}");
    } else {
        println!("baseline: {name}, fitted on {} training sequences", task.train.len());
        println!("{}", line("validation", &valid));
        if let Some(t) = &test {
            println!("{}", line("test", t));
        }
    }
    Ok(())
}
