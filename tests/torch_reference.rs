//! rnn-lab against an independent reference: PyTorch's nn.RNN, nn.GRU (the `pytorch` GRU
//! variant) and nn.LSTM, 1 layer and 2 bidirectional layers, in f64. The reference numbers were
//! computed by tests/reference/torch_reference.py (committed beside its JSON output): loss,
//! top-layer outputs and every gradient must agree to 1e-9.

use std::collections::HashMap;

use rnn_lab::nn::{Batch, CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Score, Targets};
use serde_json::Value;

fn tensors(v: &Value) -> HashMap<String, (Vec<usize>, Vec<f64>)> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, t)| {
            let data: Vec<f64> = t[0]
                .as_array()
                .expect("data")
                .iter()
                .map(|x| x.as_f64().expect("f64"))
                .collect();
            let shape: Vec<usize> = t[1]
                .as_array()
                .expect("shape")
                .iter()
                .map(|x| x.as_u64().expect("dim") as usize)
                .collect();
            (k.clone(), (shape, data))
        })
        .collect()
}

#[test]
fn matches_pytorch() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("reference/torch_reference.json")).expect("reference json");
    assert_eq!(cases.len(), 6);
    for c in &cases {
        let cell = match c["cell"].as_str().expect("cell") {
            "rnn" => CellKind::Rnn,
            "gru" => CellKind::Gru,
            _ => CellKind::Lstm,
        };
        let u = |k: &str| c[k].as_u64().expect("int") as usize;
        let (v, h, t, b) = (u("vocab"), u("hidden"), u("steps"), u("batch"));
        let spec = ModelSpec {
            cell,
            gru_variant: GruVariant::Pytorch,
            vocab: v,
            input: InputKind::OneHot,
            hidden: h,
            layers: u("layers"),
            bidirectional: c["bidirectional"].as_bool().expect("bool"),
            head: HeadKind::PerStep,
            outputs: v,
            init: Init::Uniform(0.1),
            forget_bias: 1.0,
            init_recurrent: rnn_lab::nn::RecurrentInit::Same,
            tie_weights: false,
        };
        let label = format!("{:?} L{} bi={}", cell, spec.layers, spec.bidirectional);
        let mut model = Model::<f64>::new(spec, 0).expect("model");
        let mut params = model.params.clone();
        model
            .import_into(&mut params, &tensors(&c["params"]))
            .expect("import reference weights");
        model.params = params;
        let ints = |k: &str| -> Vec<u32> {
            c[k].as_array()
                .expect("array")
                .iter()
                .map(|x| x.as_u64().expect("int") as u32)
                .collect()
        };
        let batch = Batch::dense(t, b, ints("inputs"), Targets::PerStep(ints("targets")));
        let mut ws = model.workspace();
        let st = model.forward(&batch, Score::All, &mut ws).expect("forward");
        let loss = c["loss"].as_f64().expect("loss");
        assert!(
            (st.objective - loss).abs() < 1e-9,
            "{label}: loss {} vs torch {loss}",
            st.objective
        );

        // Top-layer outputs [T, B, H·dirs] against each direction's a⟨t⟩.
        let dirs = model.spec.dirs();
        let top = (model.spec.layers - 1) * dirs;
        let out: Vec<f64> = c["top_outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .map(|x| x.as_f64().expect("f64"))
            .collect();
        for tt in 0..t {
            for bb in 0..b {
                for d in 0..dirs {
                    for j in 0..h {
                        let ours = ws.dirs[top + d].a[(tt * b + bb) * h + j];
                        let theirs = out[(tt * b + bb) * h * dirs + d * h + j];
                        assert!(
                            (ours - theirs).abs() < 1e-9,
                            "{label}: a⟨{tt}⟩ row {bb} dir {d} unit {j}: {ours} vs {theirs}"
                        );
                    }
                }
            }
        }

        let mut grads = model.params.zeros_like();
        model.backward(&batch, &mut ws, &mut grads);
        let ref_grads = tensors(&c["grads"]);
        let ours = model.export_from(&grads);
        assert_eq!(ours.len(), ref_grads.len(), "{label}: tensor count");
        for g in ours {
            let (shape, data) = ref_grads
                .get(&g.name)
                .unwrap_or_else(|| panic!("{label}: torch has no {}", g.name));
            assert_eq!(&g.shape, shape, "{label}: {} shape", g.name);
            for (i, (a, r)) in g.data.iter().zip(data).enumerate() {
                assert!((a - r).abs() < 1e-9, "{label}: ∂{}[{i}] = {a}, torch {r}", g.name);
            }
        }
    }
}
