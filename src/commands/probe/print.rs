//! Printers for `rnn-lab probe CKPT --text "…" [--json]`: one JSON document for scripts and a
//! compact text table for people.
//!
//! # JSON layout (`format` = `"rnn-lab-probe/1"`)
//!
//! One object on one line. Time steps `t` are 0-based; `tokens[t]` is the input x⟨t+1⟩ of the
//! course notation. Non-finite numbers are written as `null`.
//!
//! ```text
//! {
//!   "format": "rnn-lab-probe/1",
//!   "step": 1200,                          // training step of the model probed
//!   "model": "lstm 1×64",                  // derived: cell, layers × hidden, "bi"
//!   "tokens": ["T", "h", …],
//!   "steps": [                             // model outputs, one per time step
//!     { "t": 0, "token": "T",
//!       "entropy": 2.31,                   // of the next-token distribution, nats
//!       "top": [ { "token": "h", "p": 0.41 }, … ] }   // top-5 next-token guesses
//!   ],
//!   "layers": [                            // every layer and direction, layer-major
//!     { "layer": 0, "direction": "fwd",    // "fwd" | "bwd"
//!       "hidden_size": 64,
//!       "gates": ["update", "forget", "output"],      // names, [] for a vanilla RNN
//!       "has_cell": true,                  // LSTM: "cell" present in each step
//!       "steps": [
//!         { "t": 0,
//!           "hidden": [ … H values … ],    // a⟨t⟩
//!           "gates": { "update": [ … H … ], "forget": [ … ], "output": [ … ] },
//!           "cell": [ … H … ],             // c⟨t⟩, only when has_cell
//!           "grad_norm": 0.0123 }          // ‖∂L_T/∂a⟨t⟩‖
//!       ] }
//!   ]
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::data::token::visible_token;
use crate::infer::analysis::describe;
use crate::infer::probe::{Direction, ProbeReport};

/// Identifies the JSON layout; bumped on incompatible change.
pub const JSON_FORMAT: &str = "rnn-lab-probe/1";

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    step: u64,
    model: String,
    tokens: &'a [String],
    steps: Vec<OutStep<'a>>,
    layers: Vec<Layer<'a>>,
}

#[derive(Serialize)]
struct OutStep<'a> {
    t: usize,
    token: Option<&'a str>,
    entropy: Option<f32>,
    top: Vec<Guess<'a>>,
}

#[derive(Serialize)]
struct Guess<'a> {
    token: &'a str,
    p: f32,
}

#[derive(Serialize)]
struct Layer<'a> {
    layer: usize,
    direction: Direction,
    hidden_size: usize,
    gates: Vec<&'a str>,
    has_cell: bool,
    steps: Vec<LayerStep<'a>>,
}

#[derive(Serialize)]
struct LayerStep<'a> {
    t: usize,
    hidden: Option<&'a [f32]>,
    gates: BTreeMap<&'a str, Option<&'a [f32]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<Option<&'a [f32]>>,
    grad_norm: Option<f32>,
}

fn width(m: &[Vec<f32>]) -> usize {
    m.iter().map(Vec::len).max().unwrap_or(0)
}

/// The probe as one JSON document on one line (layout in the module docs).
pub fn to_json(report: &ProbeReport) -> String {
    let n_out = report.tokens.len().max(report.entropy.len()).max(report.top.len());
    let steps = (0..n_out)
        .map(|t| OutStep {
            t,
            token: report.tokens.get(t).map(String::as_str),
            entropy: report.entropy.get(t).copied(),
            top: report
                .top
                .get(t)
                .map(|v| v.iter().map(|(token, p)| Guess { token, p: *p }).collect())
                .unwrap_or_default(),
        })
        .collect();
    let layers = report
        .dirs
        .iter()
        .map(|d| {
            let n = d
                .hidden
                .len()
                .max(d.grad_norm.len())
                .max(d.gates.iter().map(|g| g.values.len()).max().unwrap_or(0));
            Layer {
                layer: d.layer,
                direction: d.direction,
                hidden_size: width(&d.hidden),
                gates: d.gates.iter().map(|g| g.name.as_str()).collect(),
                has_cell: d.cell.is_some(),
                steps: (0..n)
                    .map(|t| LayerStep {
                        t,
                        hidden: d.hidden.get(t).map(Vec::as_slice),
                        gates: d
                            .gates
                            .iter()
                            .map(|g| (g.name.as_str(), g.values.get(t).map(Vec::as_slice)))
                            .collect(),
                        cell: d.cell.as_ref().map(|c| c.get(t).map(Vec::as_slice)),
                        grad_norm: d.grad_norm.get(t).copied(),
                    })
                    .collect(),
            }
        })
        .collect();
    let doc = Doc {
        format: JSON_FORMAT,
        step: report.step,
        model: describe(report),
        tokens: &report.tokens,
        steps,
        layers,
    };
    // Serializing these plain structs cannot fail (string keys, no maps with other keys).
    serde_json::to_string(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// A token quoted for a table cell: `'a'`, `'␣'` for space, `'↵'` for newline (see
/// [`visible_token`]).
fn quote(tok: &str) -> String {
    format!("'{}'", visible_token(tok))
}

fn num(v: Option<f32>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:+.3}"),
        Some(_) => "nan".into(),
        None => "—".into(),
    }
}

/// A compact human-readable table: the outputs per step (entropy, top-5), then for each layer
/// and direction the hidden state, every gate and the LSTM cell for the first `unit_limit`
/// units (at least 1), with ‖∂L/∂a⟨t⟩‖ beside the hidden state.
pub fn to_text(report: &ProbeReport, unit_limit: usize) -> String {
    let mut out = String::new();
    let limit = unit_limit.max(1);
    let tok_w = report
        .tokens
        .iter()
        .map(|t| quote(t).chars().count())
        .max()
        .unwrap_or(3)
        .clamp(5, 14);
    let _ = writeln!(
        out,
        "probe at step {} · {} · {} steps",
        report.step,
        describe(report),
        report.tokens.len()
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{:>4} {:<tok_w$} {:>8}  top-5 next", "t", "token", "entropy");
    let n_out = report.tokens.len().max(report.entropy.len());
    for t in 0..n_out {
        let tok = report.tokens.get(t).map_or("—".into(), |s| quote(s));
        let ent = report.entropy.get(t).map_or("—".into(), |e| format!("{e:.3}"));
        let top: Vec<String> = report
            .top
            .get(t)
            .map(|v| v.iter().map(|(s, p)| format!("{} {p:.2}", quote(s))).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "{t:>4} {tok:<tok_w$} {ent:>8}  {}", top.join("  "));
    }
    for d in &report.dirs {
        let h = width(&d.hidden);
        let shown = h.min(limit);
        let dir = match d.direction {
            Direction::Fwd => "fwd",
            Direction::Bwd => "bwd",
        };
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "layer {} {dir} · {h} units{}",
            d.layer,
            if shown < h {
                format!(" (first {shown} shown)")
            } else {
                String::new()
            }
        );
        let units: String = (0..shown).map(|u| format!(" {:>7}", format!("u{u}"))).collect();
        let mut table = |title: &str, m: &[Vec<f32>], grad: bool| {
            let _ = writeln!(out, "  {title}");
            let g = if grad {
                format!(" {:>9}", "‖∂L/∂a‖")
            } else {
                String::new()
            };
            let _ = writeln!(out, "{:>4} {:<tok_w$}{g}{units}", "t", "token");
            for t in 0..m.len().max(if grad { d.grad_norm.len() } else { 0 }) {
                let tok = report.tokens.get(t).map_or("—".into(), |s| quote(s));
                let g = if grad {
                    let v = d.grad_norm.get(t).map_or("—".into(), |v| format!("{v:.2e}"));
                    format!(" {v:>9}")
                } else {
                    String::new()
                };
                let vals: String = (0..shown)
                    .map(|u| format!(" {:>7}", num(m.get(t).and_then(|r| r.get(u)).copied())))
                    .collect();
                let _ = writeln!(out, "{t:>4} {tok:<tok_w$}{g}{vals}");
            }
        };
        table("hidden a⟨t⟩", &d.hidden, true);
        for gate in &d.gates {
            table(&format!("gate {}", gate.name), &gate.values, false);
        }
        if let Some(c) = &d.cell {
            table("cell c⟨t⟩", c, false);
        }
    }
    out
}
