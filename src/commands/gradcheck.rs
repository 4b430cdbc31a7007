//! `rnn-lab gradcheck`.

use super::CliError;
use crate::cli::{CellArg, GradcheckArgs};
use crate::nn::gradcheck::{cases, check_case, dropout_cases};
use crate::nn::CellKind;

/// Tolerance on the maximum relative error of any tensor.
pub const TOLERANCE: f64 = 1e-6;

/// Cells selected by `--cell`.
pub fn cells(c: CellArg) -> Vec<CellKind> {
    match c {
        CellArg::Rnn => vec![CellKind::Rnn],
        CellArg::Gru => vec![CellKind::Gru],
        CellArg::Lstm => vec![CellKind::Lstm],
        CellArg::All => vec![CellKind::Rnn, CellKind::Gru, CellKind::Lstm],
    }
}

/// Run the checks; print one line per tensor; fail when any exceeds the tolerance.
pub fn run(a: &GradcheckArgs) -> Result<(), CliError> {
    if a.layers == 0 {
        return Err(CliError::input("--layers must be at least 1"));
    }
    let mut worst = 0.0f64;
    let mut count = 0;
    let mut failed = 0;
    if !a.json {
        println!(
            "{:<44} {:<22} {:>6} {:>12} {:>12}",
            "case", "tensor", "elems", "max rel err", "max abs err"
        );
    }
    let mut all = cases(&cells(a.cell), a.layers, a.bidirectional);
    if a.dropout {
        all.extend(dropout_cases(&cells(a.cell), a.layers, a.bidirectional));
    }
    for case in all {
        for t in check_case(&case, 7) {
            count += 1;
            worst = worst.max(t.max_rel_err);
            let ok = t.max_rel_err < TOLERANCE;
            if !ok {
                failed += 1;
            }
            if a.json {
                let mut v = serde_json::to_value(&t).map_err(CliError::other)?;
                v["ok"] = serde_json::Value::Bool(ok);
                println!("{v}");
            } else {
                println!(
                    "{:<44} {:<22} {:>6} {:>12.3e} {:>12.3e}{}",
                    t.case,
                    t.tensor,
                    t.elements,
                    t.max_rel_err,
                    t.max_abs_err,
                    if ok { "" } else { "  FAIL" }
                );
            }
        }
    }
    eprintln!("gradcheck: {count} tensors, worst relative error {worst:.3e} (tolerance {TOLERANCE:e}), {failed} over");
    if failed > 0 {
        return Err(CliError::other(format!(
            "{failed} tensor(s) exceed the tolerance {TOLERANCE:e}"
        )));
    }
    Ok(())
}
