//! The `rnn-lab probe` printers: the JSON layout documented in `probe_print` and the text table.

#[path = "fixtures/probes.rs"]
mod probes;

use rnn_lab::commands::probe::print::{to_json, to_text, JSON_FORMAT};
use serde_json::Value;

#[test]
fn json_layout() {
    let r = probes::report(probes::Cell::Lstm, "ab \"c\"", 3, 2, true);
    let s = to_json(&r);
    assert!(!s.contains('\n'), "one line");
    let v: Value = serde_json::from_str(&s).expect("valid JSON");
    assert_eq!(v["format"], JSON_FORMAT);
    assert_eq!(v["step"], 1200);
    assert_eq!(v["model"], "lstm 2×3 bi");
    assert_eq!(v["tokens"].as_array().map(Vec::len), Some(6));
    assert_eq!(v["steps"][1]["token"], "b");
    assert_eq!(v["steps"][1]["top"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["steps"][1]["top"][0]["token"], " ");
    let layers = v["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 4);
    assert_eq!(layers[1]["layer"], 0);
    assert_eq!(layers[1]["direction"], "bwd");
    assert_eq!(layers[2]["layer"], 1);
    assert_eq!(layers[0]["hidden_size"], 3);
    assert_eq!(layers[0]["gates"], serde_json::json!(["update", "forget", "output"]));
    assert_eq!(layers[0]["has_cell"], true);
    let step = &layers[0]["steps"][2];
    assert_eq!(step["t"], 2);
    let h = step["hidden"][1].as_f64().expect("number");
    assert!((h - f64::from(r.dirs[0].hidden[2][1])).abs() < 1e-6);
    let f = step["gates"]["forget"][0].as_f64().expect("number");
    assert!((f - f64::from(r.dirs[0].gates[1].values[2][0])).abs() < 1e-6);
    assert_eq!(step["cell"].as_array().map(Vec::len), Some(3));
    let g = step["grad_norm"].as_f64().expect("number");
    assert!((g - f64::from(r.dirs[0].grad_norm[2])).abs() < 1e-6);
}

#[test]
fn json_rnn_and_non_finite() {
    let mut r = probes::report(probes::Cell::Rnn, "abc", 2, 1, false);
    r.dirs[0].hidden[0][0] = f32::NAN;
    r.dirs[0].grad_norm[1] = f32::INFINITY;
    let v: Value = serde_json::from_str(&to_json(&r)).expect("valid JSON");
    let l = &v["layers"][0];
    assert_eq!(l["gates"], serde_json::json!([]));
    assert_eq!(l["has_cell"], false);
    assert!(l["steps"][0].get("cell").is_none(), "no cell key for non-LSTM");
    assert!(l["steps"][0]["hidden"][0].is_null(), "NaN → null");
    assert!(l["steps"][1]["grad_norm"].is_null(), "∞ → null");
}

#[test]
fn json_degenerate() {
    for (name, r) in probes::degenerate() {
        let s = to_json(&r);
        assert!(serde_json::from_str::<Value>(&s).is_ok(), "{name}: {s}");
        let _ = to_text(&r, 0);
        let _ = to_text(&r, 1000);
    }
}

#[test]
fn json_snapshot() {
    let r = probes::report(probes::Cell::Gru, "a b", 2, 1, false);
    let v: Value = serde_json::from_str(&to_json(&r)).expect("valid JSON");
    insta::assert_snapshot!("json_gru_tiny", serde_json::to_string_pretty(&v).unwrap_or_default());
}

#[test]
fn text_table() {
    let r = probes::report(probes::Cell::Lstm, "Hi \"yo\"\n", 6, 1, false);
    let t = to_text(&r, 4);
    assert!(t.contains("first 4 shown"));
    assert!(t.contains("gate forget") && t.contains("cell c⟨t⟩"));
    insta::assert_snapshot!("text_lstm_4_units", t);
}
