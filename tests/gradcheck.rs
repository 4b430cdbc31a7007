//! Analytic gradients against central finite differences for every cell × {1, 2 layers} ×
//! {uni, bidirectional} × {one-hot, embedding} × each head (plus masked and carried-state cases,
//! tied weights), and all of it again under standard and variational dropout with the masks held
//! fixed.

use rnn_lab::nn::gradcheck::{cases, check_case, dropout_cases};
use rnn_lab::nn::CellKind;

fn run(cell: CellKind) {
    let mut worst = (0.0f64, String::new());
    let mut n = 0;
    for layers in [1, 2] {
        for bi in [false, true] {
            let mut all = cases(&[cell], layers, bi);
            all.extend(dropout_cases(&[cell], layers, bi));
            for case in all {
                let res = check_case(&case, 7);
                assert!(!res.is_empty(), "no tensors checked for {}", case.label());
                for t in res {
                    n += 1;
                    assert!(t.elements > 0);
                    if t.max_rel_err > worst.0 {
                        worst = (t.max_rel_err, format!("{} {}", t.case, t.tensor));
                    }
                    assert!(
                        t.max_rel_err < 1e-6,
                        "{} {}: rel err {:e} (abs {:e})",
                        t.case,
                        t.tensor,
                        t.max_rel_err,
                        t.max_abs_err
                    );
                }
            }
        }
    }
    eprintln!("{cell:?}: {n} tensors, worst {:e} at {}", worst.0, worst.1);
}

#[test]
fn gradcheck_rnn() {
    run(CellKind::Rnn);
}

#[test]
fn gradcheck_gru() {
    run(CellKind::Gru);
}

#[test]
fn gradcheck_lstm() {
    run(CellKind::Lstm);
}
