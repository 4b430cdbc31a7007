//! Probes (issue 5) checked against the numerical core and against an independent reference.
//!
//! - The hidden states, gates and LSTM cell a probe reports equal a plain `forward_layers` on
//!   the same tokens (exactly) and an independent f64 forward pass written here from the
//!   equations of DESIGN.md §1 (so a gate shown under the wrong name is caught); entropy and
//!   top-5 equal those of softmax(logits) computed here.
//! - ‖∂L_T/∂a⟨t⟩‖ equals the gradient code's value (exactly), central finite differences of
//!   the reference on an additive perturbation of a⟨t⟩ (every t, layer and direction), and at
//!   the last step the analytic W_yᵀ(p − e_target).
//! - On untrained models with small weights the vanilla RNN's ‖∂L_T/∂a⟨t⟩‖ vanishes
//!   geometrically with distance from the end, the LSTM's (forget bias 1) clearly slower.
//! - Too-short texts and non-language models are typed errors; reports survive JSON.

use rnn_lab::commands::probe::print::to_json;
use rnn_lab::infer::probe::{probe, Direction, ProbeError, ProbeReport};
use rnn_lab::nn::cell::Cell;
use rnn_lab::nn::{Batch, CellKind, GruVariant, HeadKind, Init, InputKind, Model, ModelSpec, Scalar, Score, Targets};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Display text of token `i`: `«i»`, so a displayed top-5 candidate maps back to its id.
fn text_of(i: u32) -> String {
    format!("«{i}»")
}

/// Inverse of [`text_of`].
fn id_of(s: &str) -> usize {
    s.trim_start_matches('«')
        .trim_end_matches('»')
        .parse()
        .unwrap_or_else(|_| panic!("token {s:?} was not rendered by text_of"))
}

/// A deterministic pseudo-random token sequence (xorshift64*).
fn token_seq(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as u32 % vocab as u32
        })
        .collect()
}

/// Uniform values in ±1 from a seeded generator (for parameter fills).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Every cell the probe supports, with a label for messages.
const CELLS: [(CellKind, GruVariant, &str); 4] = [
    (CellKind::Rnn, GruVariant::Course, "rnn"),
    (CellKind::Gru, GruVariant::Course, "gru course"),
    (CellKind::Gru, GruVariant::Pytorch, "gru pytorch"),
    (CellKind::Lstm, GruVariant::Course, "lstm"),
];

/// Layouts: (layers, bidirectional, input).
const LAYOUTS: [(usize, bool, InputKind); 3] = [
    (1, false, InputKind::OneHot),
    (2, true, InputKind::OneHot),
    (2, false, InputKind::Embedding(3)),
];

fn spec(
    cell: CellKind,
    variant: GruVariant,
    layout: (usize, bool, InputKind),
    vocab: usize,
    hidden: usize,
) -> ModelSpec {
    let mut s = ModelSpec::char_lm(cell, vocab, hidden, layout.0);
    s.gru_variant = variant;
    s.bidirectional = layout.1;
    s.input = layout.2;
    s
}

/// An f64 model whose every parameter (biases, b_hn and embeddings included) is uniform in
/// ±`scale`, so every term of every equation matters.
fn random_model(spec: ModelSpec, seed: u64, scale: f64) -> Model<f64> {
    let mut m = Model::<f64>::new(spec, seed).expect("valid spec");
    let mut rng = Lcg(seed ^ 0xD1B5_4A32_D192_ED03);
    for v in &mut m.params.values {
        v.iter_mut().for_each(|x| *x = rng.next() * scale);
    }
    m
}

/// The same model with f32 parameters.
fn f32_twin(m: &Model<f64>) -> Model<f32> {
    Model {
        spec: m.spec.clone(),
        cell: m.cell,
        params: m.params.cast(),
        embed: m.embed,
        dirs: m.dirs.clone(),
        head_w: m.head_w,
        head_b: m.head_b,
    }
}

/// Gates a probe must show for a cell, in order: (display name, column block in `W`).
/// Blocks per cell.rs: course GRU [u, r, c], PyTorch GRU [r, z, n], LSTM [u, f, o, c].
fn expected_gates(cell: Cell) -> Vec<(&'static str, usize)> {
    match cell {
        Cell::Rnn => vec![],
        Cell::Gru => vec![("update", 0), ("relevance", 1)],
        Cell::GruTorch => vec![("update_z", 1), ("reset", 0)],
        Cell::Lstm => vec![("update", 0), ("forget", 1), ("output", 2)],
    }
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= abs + rel * a.abs().max(b.abs())
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

// ---------------------------------------------------------------------------------------------
// An independent reference forward pass (f64), written from DESIGN.md §1
// ---------------------------------------------------------------------------------------------

struct RefDir {
    hidden: Vec<Vec<f64>>,
    /// (display name, values `[T][H]`), in the order the probe shows them.
    gates: Vec<(&'static str, Vec<Vec<f64>>)>,
    cell: Option<Vec<Vec<f64>>>,
}

struct Reference {
    dirs: Vec<RefDir>,
    /// Head outputs `[T][|Y|]`.
    logits: Vec<Vec<f64>>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Run `m` on `inputs` from zero state with plain loops over the documented parameter layout:
/// W `[H + X, G·H]`, rows 0..H act on a⟨t−1⟩, rows H.. on x⟨t⟩, column block k is gate k.
/// `bump = Some((i, t, j, eps))` adds `eps` to unit j of a⟨t⟩ of layer-direction i right after
/// it is computed, so everything downstream (later steps, upper layers, head) sees it.
fn reference(m: &Model<f64>, inputs: &[u32], bump: Option<(usize, usize, usize, f64)>) -> Reference {
    let s = &m.spec;
    let (h, nd, t_len) = (s.hidden, s.dirs(), inputs.len());
    let val = |i: usize| &m.params.values[i];
    let mut xs: Vec<Vec<f64>> = inputs
        .iter()
        .map(|&tok| match s.input {
            InputKind::OneHot => {
                let mut v = vec![0.0; s.vocab];
                v[tok as usize] = 1.0;
                v
            }
            InputKind::Embedding(_) => val(m.embed.expect("embedding table")).row(tok as usize).to_vec(),
        })
        .collect();
    let mut dirs: Vec<RefDir> = Vec::new();
    for l in 0..s.layers {
        for d in 0..nd {
            let i = l * nd + d;
            let dp = m.dirs[i];
            let (w, b) = (val(dp.w), val(dp.b));
            // Input side of block k: b_k + W_ax,k · x.
            let inp = |k: usize, x: &[f64]| -> Vec<f64> {
                (0..h)
                    .map(|j| {
                        b[[0, k * h + j]]
                            + x.iter()
                                .enumerate()
                                .map(|(q, xq)| xq * w[[h + q, k * h + j]])
                                .sum::<f64>()
                    })
                    .collect()
            };
            // Recurrent side of block k: W_aa,k · v.
            let rec = |k: usize, v: &[f64]| -> Vec<f64> {
                (0..h)
                    .map(|j| v.iter().enumerate().map(|(q, vq)| vq * w[[q, k * h + j]]).sum::<f64>())
                    .collect()
            };
            let add = |p: Vec<f64>, q: Vec<f64>| -> Vec<f64> { p.iter().zip(&q).map(|(a, b)| a + b).collect() };
            let act = |k: usize, x: &[f64], v: &[f64], f: fn(f64) -> f64| -> Vec<f64> {
                add(inp(k, x), rec(k, v)).into_iter().map(f).collect()
            };
            let names: Vec<&'static str> = expected_gates(m.cell).iter().map(|g| g.0).collect();
            let mut hidden = vec![vec![0.0; h]; t_len];
            let mut cell = vec![vec![0.0; h]; t_len];
            let mut gates = vec![vec![vec![0.0; h]; t_len]; names.len()];
            let (mut a, mut c) = (vec![0.0; h], vec![0.0; h]);
            let order: Vec<usize> = if d == 0 {
                (0..t_len).collect()
            } else {
                (0..t_len).rev().collect()
            };
            for t in order {
                let x = &xs[t];
                let (a_new, g): (Vec<f64>, Vec<Vec<f64>>) = match m.cell {
                    // a⟨t⟩ = tanh(W_a[a⟨t−1⟩; x⟨t⟩] + b_a)
                    Cell::Rnn => (act(0, x, &a, f64::tanh), vec![]),
                    Cell::Gru => {
                        let u = act(0, x, &a, sigmoid);
                        let r = act(1, x, &a, sigmoid);
                        let ra: Vec<f64> = r.iter().zip(&a).map(|(r, a)| r * a).collect();
                        // c̃ = tanh(W_c[Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c)
                        let cc = act(2, x, &ra, f64::tanh);
                        let an = (0..h).map(|j| u[j] * cc[j] + (1.0 - u[j]) * a[j]).collect();
                        (an, vec![u, r])
                    }
                    Cell::GruTorch => {
                        let r = act(0, x, &a, sigmoid);
                        let z = act(1, x, &a, sigmoid);
                        let b_hn = val(dp.b_hn.expect("b_hn"));
                        let hn: Vec<f64> = rec(2, &a).iter().enumerate().map(|(j, v)| v + b_hn[[0, j]]).collect();
                        // n = tanh(W_in x + b_in + r ∗ (W_hn h + b_hn))
                        let n: Vec<f64> = inp(2, x)
                            .iter()
                            .enumerate()
                            .map(|(j, v)| (v + r[j] * hn[j]).tanh())
                            .collect();
                        let an = (0..h).map(|j| (1.0 - z[j]) * n[j] + z[j] * a[j]).collect();
                        (an, vec![z, r])
                    }
                    Cell::Lstm => {
                        let u = act(0, x, &a, sigmoid);
                        let f = act(1, x, &a, sigmoid);
                        let o = act(2, x, &a, sigmoid);
                        let cc = act(3, x, &a, f64::tanh);
                        c = (0..h).map(|j| u[j] * cc[j] + f[j] * c[j]).collect();
                        let an = (0..h).map(|j| o[j] * c[j].tanh()).collect();
                        (an, vec![u, f, o])
                    }
                };
                a = a_new;
                if let Some((bi, bt, bj, eps)) = bump {
                    if bi == i && bt == t {
                        a[bj] += eps;
                    }
                }
                hidden[t].clone_from(&a);
                cell[t].clone_from(&c);
                for (k, gk) in g.into_iter().enumerate() {
                    gates[k][t] = gk;
                }
            }
            dirs.push(RefDir {
                hidden,
                gates: names.into_iter().zip(gates).collect(),
                cell: m.cell.has_memory().then_some(cell),
            });
        }
        // Layer l + 1 reads [a→⟨t⟩; a←⟨t⟩].
        xs = (0..t_len)
            .map(|t| {
                dirs[l * nd..]
                    .iter()
                    .flat_map(|d| d.hidden[t].iter().copied())
                    .collect()
            })
            .collect();
    }
    // ŷ⟨t⟩ logits = W_y[a→⟨t⟩; a←⟨t⟩] + b_y, head.w_y stored `[H·dirs, |Y|]`.
    let (wy, by) = (val(m.head_w), val(m.head_b));
    let logits = xs
        .iter()
        .map(|x| {
            (0..s.outputs)
                .map(|k| by[[0, k]] + x.iter().enumerate().map(|(q, v)| v * wy[[q, k]]).sum::<f64>())
                .collect()
        })
        .collect();
    Reference { dirs, logits }
}

/// Cross-entropy of the last step only: L_T = −ln softmax(z⟨T⟩)[target].
fn last_loss(r: &Reference, target: u32) -> f64 {
    let z = r.logits.last().expect("at least one step");
    -softmax(z)[target as usize].ln()
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the tests
// ---------------------------------------------------------------------------------------------

/// Shapes, names, order, display tokens.
fn check_shapes<F: Scalar>(m: &Model<F>, toks: &[u32], r: &ProbeReport, what: &str) {
    let t_len = toks.len() - 1;
    let (h, nd, y) = (m.spec.hidden, m.spec.dirs(), m.spec.outputs);
    let want_tokens: Vec<String> = toks[..t_len].iter().map(|&t| text_of(t)).collect();
    assert_eq!(r.tokens, want_tokens, "{what}: tokens shown via text_of");
    assert_eq!(r.entropy.len(), t_len, "{what}: entropy per step");
    assert_eq!(r.top.len(), t_len, "{what}: top-5 per step");
    assert!(r.top.iter().all(|v| v.len() == y.min(5)), "{what}: top-5 length");
    assert_eq!(
        r.dirs.len(),
        m.spec.layers * nd,
        "{what}: one DirProbe per layer × direction"
    );
    let gates = expected_gates(m.cell);
    for (i, d) in r.dirs.iter().enumerate() {
        assert_eq!(d.layer, i / nd, "{what}: layer of dirs[{i}]");
        let dir = if i % nd == 0 { Direction::Fwd } else { Direction::Bwd };
        assert_eq!(d.direction, dir, "{what}: direction of dirs[{i}]");
        let shape_ok = |v: &Vec<Vec<f32>>| v.len() == t_len && v.iter().all(|r| r.len() == h);
        assert!(shape_ok(&d.hidden), "{what}: hidden is [T][H]");
        let names: Vec<&str> = d.gates.iter().map(|g| g.name.as_str()).collect();
        let want: Vec<&str> = gates.iter().map(|g| g.0).collect();
        assert_eq!(names, want, "{what}: gate names");
        assert!(d.gates.iter().all(|g| shape_ok(&g.values)), "{what}: gates are [T][H]");
        assert_eq!(d.cell.is_some(), m.cell == Cell::Lstm, "{what}: cell only for LSTM");
        if let Some(c) = &d.cell {
            assert!(shape_ok(c), "{what}: cell is [T][H]");
        }
        assert_eq!(d.grad_norm.len(), t_len, "{what}: one gradient norm per step");
    }
}

/// Value ranges: gates in [0, 1], hidden in [−1, 1] (every cell), all finite.
fn check_ranges(r: &ProbeReport, what: &str) {
    for d in &r.dirs {
        let at = format!("{what}, layer {} {:?}", d.layer, d.direction);
        for v in d.hidden.iter().flatten() {
            assert!((-1.0..=1.0).contains(v), "{at}: hidden {v} outside [−1, 1]");
        }
        for g in &d.gates {
            for v in g.values.iter().flatten() {
                assert!((0.0..=1.0).contains(v), "{at}: gate {} = {v} outside [0, 1]", g.name);
            }
        }
        for v in d.cell.iter().flatten().flatten() {
            assert!(v.is_finite(), "{at}: cell {v}");
        }
        for v in &d.grad_norm {
            assert!(v.is_finite() && *v >= 0.0, "{at}: grad norm {v}");
        }
    }
}

/// Entropy and top-5 of step t against softmax(z) computed here; `tol` absolute.
fn check_outputs(r: &ProbeReport, t: usize, z: &[f64], tol: f64, what: &str) {
    let p = softmax(z);
    // H = −Σ p ln p
    let ent: f64 = -p.iter().filter(|&&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>();
    let e = f64::from(r.entropy[t]);
    assert!(close(e, ent, 0.0, tol), "{what}: entropy[{t}] = {e}, expected {ent}");
    let ln_v = (z.len() as f64).ln();
    assert!(
        (0.0..=ln_v + 1e-6).contains(&e),
        "{what}: entropy {e} outside [0, ln |V| = {ln_v}]"
    );
    let top = &r.top[t];
    let ids: Vec<usize> = top.iter().map(|(s, _)| id_of(s)).collect();
    for w in top.windows(2) {
        assert!(w[0].1 >= w[1].1, "{what}: top-5 at {t} not descending: {top:?}");
    }
    let sum: f32 = top.iter().map(|c| c.1).sum();
    assert!(sum <= 1.0 + 1e-6, "{what}: top-5 probabilities sum to {sum}");
    for (&id, (_, q)) in ids.iter().zip(top) {
        assert!(
            close(f64::from(*q), p[id], 0.0, tol),
            "{what}: p({id}) at {t}: {q} vs {}",
            p[id]
        );
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "{what}: repeated candidates {ids:?}");
    let lowest = top.last().map_or(1.0, |c| f64::from(c.1));
    for (k, &pk) in p.iter().enumerate() {
        if !ids.contains(&k) {
            assert!(
                pk <= lowest + tol,
                "{what}: token {k} (p = {pk}) missing from top-5 {top:?}"
            );
        }
    }
}

/// The report equals `forward_layers` + `forward_head` on a fresh workspace, exactly.
fn check_against_forward<F: Scalar>(m: &Model<F>, toks: &[u32], r: &ProbeReport, what: &str) {
    let t_len = toks.len() - 1;
    let (h, y) = (m.spec.hidden, m.spec.outputs);
    let gh = m.cell.gates() * h;
    let mut ws = m.workspace();
    m.forward_layers(&toks[..t_len], t_len, 1, &[], &mut ws);
    m.forward_head(&mut ws);
    let f = |x: F| x.f64() as f32;
    for (i, d) in r.dirs.iter().enumerate() {
        let c = &ws.dirs[i];
        for t in 0..t_len {
            for j in 0..h {
                let at = format!("{what}: dirs[{i}] t={t} unit {j}");
                assert_eq!(d.hidden[t][j], f(c.a[t * h + j]), "{at}: hidden");
                for (g, &(name, k)) in d.gates.iter().zip(&expected_gates(m.cell)) {
                    assert_eq!(g.values[t][j], f(c.gates[t * gh + k * h + j]), "{at}: gate {name}");
                }
                if let Some(cell) = &d.cell {
                    assert_eq!(cell[t][j], f(c.c[t * h + j]), "{at}: cell");
                }
            }
        }
    }
    for t in 0..t_len {
        let z: Vec<f64> = ws.logits[t * y..(t + 1) * y].iter().map(|v| v.f64()).collect();
        check_outputs(r, t, &z, 1e-6, what);
    }
}

/// The report against the independent reference; `tol` absolute.
fn check_against_reference(r: &ProbeReport, rf: &Reference, tol: f64, what: &str) {
    assert_eq!(r.dirs.len(), rf.dirs.len(), "{what}: layer-directions");
    let near = |a: &[Vec<f32>], b: &[Vec<f64>], name: &str| {
        for (t, (ra, rb)) in a.iter().zip(b).enumerate() {
            for (j, (x, y)) in ra.iter().zip(rb).enumerate() {
                assert!(
                    close(f64::from(*x), *y, 0.0, tol),
                    "{what}: {name} t={t} unit {j}: {x} vs reference {y}"
                );
            }
        }
    };
    for (i, (d, e)) in r.dirs.iter().zip(&rf.dirs).enumerate() {
        near(&d.hidden, &e.hidden, &format!("dirs[{i}] hidden"));
        for (g, (name, values)) in d.gates.iter().zip(&e.gates) {
            assert_eq!(&g.name, name, "{what}: gate order");
            near(&g.values, values, &format!("dirs[{i}] gate {name}"));
        }
        assert_eq!(d.cell.is_some(), e.cell.is_some(), "{what}: cell presence");
        if let (Some(a), Some(b)) = (&d.cell, &e.cell) {
            near(a, b, &format!("dirs[{i}] cell"));
        }
    }
    for (t, z) in rf.logits.iter().enumerate() {
        check_outputs(r, t, z, tol, what);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Probe values equal those of a plain forward pass
// ---------------------------------------------------------------------------------------------

#[test]
fn probe_values_equal_a_plain_forward_pass() {
    for (ci, &(cell, variant, name)) in CELLS.iter().enumerate() {
        for (li, &layout) in LAYOUTS.iter().enumerate() {
            // A vocabulary of 4 checks top-k with fewer than 5 classes.
            let vocab = if li == 2 { 4 } else { 7 };
            let seed = 100 + 10 * ci as u64 + li as u64;
            let what = format!("{name} {layout:?}");
            let h = 5;
            let m64 = random_model(spec(cell, variant, layout, vocab, h), seed, 0.7);
            let m32 = f32_twin(&m64);
            let toks = token_seq(10, vocab, seed);
            let r64 = probe(&m64, &toks, 42, &text_of).expect("probe f64");
            let r32 = probe(&m32, &toks, 42, &text_of).expect("probe f32");
            assert_eq!((r64.step, r32.step), (42, 42));
            let again = probe(&m32, &toks, 42, &text_of).expect("probe f32 again");
            assert_eq!(again, r32, "{what}: probing is deterministic");
            for (r, prec) in [(&r64, "f64"), (&r32, "f32")] {
                let what = format!("{what} {prec}");
                check_shapes(&m64, &toks, r, &what);
                check_ranges(r, &what);
            }
            check_against_forward(&m64, &toks, &r64, &format!("{what} f64"));
            check_against_forward(&m32, &toks, &r32, &format!("{what} f32"));
            let rf = reference(&m64, &toks[..toks.len() - 1], None);
            // f64 model: only the f32 rounding of the report separates it from the reference.
            check_against_reference(&r64, &rf, 1e-6, &format!("{what} f64 vs reference"));
            // f32 model (fast tanh, f32 products).
            check_against_reference(&r32, &rf, 2e-5, &format!("{what} f32 vs reference"));
            // The f64 workspace itself matches the reference to rounding.
            let mut ws = m64.workspace();
            let t_len = toks.len() - 1;
            m64.forward_layers(&toks[..t_len], t_len, 1, &[], &mut ws);
            for (i, e) in rf.dirs.iter().enumerate() {
                for (t, row) in e.hidden.iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        let got = ws.dirs[i].a[t * h + j];
                        assert!(close(got, *v, 0.0, 1e-12), "{what}: f64 a⟨{t}⟩[{j}] {got} vs {v}");
                    }
                }
            }
        }
    }
}

#[test]
fn gates_and_hidden_stay_in_range_when_saturated() {
    // Large weights drive every gate and tanh into saturation; f32 uses the fast tanh.
    for &(cell, variant, name) in &CELLS {
        for &layout in &LAYOUTS {
            let m64 = random_model(spec(cell, variant, layout, 6, 8), 7, 4.0);
            let m32 = f32_twin(&m64);
            let toks = token_seq(40, 6, 3);
            let what = format!("saturated {name} {layout:?}");
            let r64 = probe(&m64, &toks, 0, &text_of).expect("probe f64");
            let r32 = probe(&m32, &toks, 0, &text_of).expect("probe f32");
            check_ranges(&r64, &format!("{what} f64"));
            check_ranges(&r32, &format!("{what} f32"));
            check_against_forward(&m32, &toks, &r32, &format!("{what} f32"));
            let all = |r: &ProbeReport| -> Vec<f32> {
                r.dirs
                    .iter()
                    .flat_map(|d| d.hidden.iter().chain(d.gates.iter().flat_map(|g| &g.values)))
                    .flatten()
                    .copied()
                    .collect()
            };
            let v = all(&r32);
            assert!(
                v.iter().any(|x| x.abs() > 0.99),
                "{what}: the test should saturate something"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Gradient norms equal those from the gradient code and from finite differences
// ---------------------------------------------------------------------------------------------

#[test]
fn gradient_norms_equal_the_gradient_code_and_finite_differences() {
    const EPS: f64 = 1e-5;
    for (ci, &(cell, variant, name)) in CELLS.iter().enumerate() {
        for (li, &layout) in LAYOUTS.iter().enumerate() {
            let (vocab, h) = (6, 4);
            let seed = 300 + 10 * ci as u64 + li as u64;
            let what = format!("{name} {layout:?}");
            let m = random_model(spec(cell, variant, layout, vocab, h), seed, 0.8);
            let toks = token_seq(8, vocab, seed);
            let t_len = toks.len() - 1;
            let r = probe(&m, &toks, 0, &text_of).expect("probe");

            // (a) The gradient code: backward of a batch scoring only the last step.
            let batch = Batch::dense(t_len, 1, toks[..t_len].to_vec(), Targets::PerStep(toks[1..].to_vec()));
            let mut ws = m.workspace();
            ws.record_grad_norms = true;
            m.forward(&batch, Score::LastStep, &mut ws).expect("forward");
            let mut grads = m.params.zeros_like();
            m.backward(&batch, &mut ws, &mut grads);
            for (i, d) in r.dirs.iter().enumerate() {
                let code: Vec<f32> = ws.dirs[i].grad_norm.iter().map(|&g| g as f32).collect();
                assert_eq!(d.grad_norm, code, "{what}: dirs[{i}] grad norms vs backward");
            }

            // (b) Central finite differences of L_T on a⟨t⟩ + ε e_j, reference model.
            let target = toks[t_len];
            let inputs = &toks[..t_len];
            for (i, d) in r.dirs.iter().enumerate() {
                for t in 0..t_len {
                    let sq: f64 = (0..h)
                        .map(|j| {
                            let up = last_loss(&reference(&m, inputs, Some((i, t, j, EPS))), target);
                            let dn = last_loss(&reference(&m, inputs, Some((i, t, j, -EPS))), target);
                            ((up - dn) / (2.0 * EPS)).powi(2)
                        })
                        .sum();
                    let fd = sq.sqrt();
                    let code = ws.dirs[i].grad_norm[t];
                    assert!(
                        close(code, fd, 1e-6, 1e-9),
                        "{what}: dirs[{i}] ‖∂L/∂a⟨{t}⟩‖ = {code}, finite differences {fd}"
                    );
                    assert!(close(f64::from(d.grad_norm[t]), fd, 1e-6, 1e-9), "{what}: report");
                }
            }

            // (c) Analytic at the last step: ∂L/∂a⟨T⟩ = W_yᵀ(p − e_target) for each top direction.
            let rf = reference(&m, inputs, None);
            let mut dz = softmax(rf.logits.last().expect("logits"));
            dz[target as usize] -= 1.0;
            let wy = &m.params.values[m.head_w];
            let nd = m.spec.dirs();
            for p in 0..nd {
                let i = (m.spec.layers - 1) * nd + p;
                let da: Vec<f64> = (0..h)
                    .map(|j| dz.iter().enumerate().map(|(k, g)| wy[[p * h + j, k]] * g).sum())
                    .collect();
                let want = da.iter().map(|v| v * v).sum::<f64>().sqrt();
                let got = ws.dirs[i].grad_norm[t_len - 1];
                assert!(
                    close(got, want, 1e-9, 0.0),
                    "{what}: top dirs[{i}] last step {got} vs W_yᵀ(p − e) {want}"
                );
                let shown = f64::from(r.dirs[i].grad_norm[t_len - 1]);
                assert!(close(shown, want, 1e-6, 0.0), "{what}: report {shown} vs {want}");
                if p == 1 {
                    // The top backward pass reaches the last step's output only at t = T.
                    assert!(
                        r.dirs[i].grad_norm[..t_len - 1].iter().all(|&g| g == 0.0),
                        "{what}: top bwd grad norms before T must be 0: {:?}",
                        r.dirs[i].grad_norm
                    );
                }
            }

            // (d) The f32 model agrees with the f64 one.
            let r32 = probe(&f32_twin(&m), &toks, 0, &text_of).expect("probe f32");
            for (a, b) in r32.dirs.iter().zip(&r.dirs) {
                for (x, y) in a.grad_norm.iter().zip(&b.grad_norm) {
                    assert!(
                        close(f64::from(*x), f64::from(*y), 1e-4, 1e-7),
                        "{what}: f32 {x} vs f64 {y}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Vanishing gradients: vanilla RNN against LSTM
// ---------------------------------------------------------------------------------------------

const VANISH_H: usize = 32;
const VANISH_T: usize = 40;
const VANISH_V: usize = 16;

/// ‖∂L_T/∂a⟨t⟩‖ of an untrained 1-layer model with weights uniform in ±0.1 (LSTM forget
/// bias 1), probed on T = 40 steps of seeded random text.
fn gradient_profile(cell: CellKind, seed: u64) -> Vec<f64> {
    let mut s = ModelSpec::char_lm(cell, VANISH_V, VANISH_H, 1);
    s.init = Init::Uniform(0.1);
    s.forget_bias = 1.0;
    let m = Model::<f32>::new(s, seed).expect("valid spec");
    let toks = token_seq(VANISH_T + 1, VANISH_V, seed);
    let r = probe(&m, &toks, 0, &text_of).expect("probe");
    r.dirs[0].grad_norm.iter().map(|&g| f64::from(g)).collect()
}

/// Per-step ratio ‖∂L/∂a⟨T−d−1⟩‖ / ‖∂L/∂a⟨T−d⟩‖ fitted by least squares on ln‖·‖ against the
/// distance d = 1..=30 (d = 0 has only the head's contribution), and the norm 30 steps back
/// relative to the last step's.
fn decay(g: &[f64]) -> (f64, f64) {
    let last = g.len() - 1;
    let pts: Vec<(f64, f64)> = (1..=30).map(|d| (d as f64, g[last - d].ln())).collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    ((sxy / sxx).exp(), g[last - 30] / g[last])
}

#[test]
fn vanilla_rnn_gradient_vanishes_lstm_keeps_it() {
    for seed in [1u64, 2, 3] {
        let rnn = gradient_profile(CellKind::Rnn, seed);
        let lstm = gradient_profile(CellKind::Lstm, seed);
        let gru = gradient_profile(CellKind::Gru, seed);
        let (rnn_ratio, rnn_30) = decay(&rnn);
        let (lstm_ratio, lstm_30) = decay(&lstm);
        let (gru_ratio, gru_30) = decay(&gru);
        eprintln!(
            "seed {seed}: per-step ratio rnn {rnn_ratio:.3}, lstm {lstm_ratio:.3}, gru {gru_ratio:.3} \
             (info); ‖∂L/∂a‖ 30 steps back / last: rnn {rnn_30:.2e}, lstm {lstm_30:.2e}, gru {gru_30:.2e}"
        );
        for (name, g) in [("rnn", &rnn), ("lstm", &lstm)] {
            assert!(
                g.iter().all(|v| v.is_finite() && *v > 0.0),
                "seed {seed}: {name} norms {g:?}"
            );
        }
        assert!(rnn_ratio < 0.8, "seed {seed}: rnn per-step ratio {rnn_ratio}");
        assert!(
            rnn_30 < 1e-3,
            "seed {seed}: rnn norm 30 steps back is {rnn_30} of the last"
        );
        // Geometric: every step back shrinks the RNN's norm (after the head-only last step).
        for d in 1..30 {
            let (a, b) = (rnn[VANISH_T - 1 - d], rnn[VANISH_T - 2 - d]);
            assert!(b < a, "seed {seed}: rnn norm grows from {d} to {} steps back", d + 1);
        }
        assert!(
            lstm_ratio > rnn_ratio + 0.2,
            "seed {seed}: lstm per-step ratio {lstm_ratio} not clearly above rnn {rnn_ratio}"
        );
        assert!(
            lstm_30 > 100.0 * rnn_30,
            "seed {seed}: lstm keeps {lstm_30} 30 steps back, rnn {rnn_30}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn too_short_text_is_an_error() {
    let m = Model::<f32>::new(ModelSpec::char_lm(CellKind::Lstm, 5, 4, 1), 1).expect("spec");
    assert_eq!(probe(&m, &[3], 0, &text_of), Err(ProbeError::TooShort(1)));
    assert_eq!(probe(&m, &[], 0, &text_of), Err(ProbeError::TooShort(0)));
    assert!(probe(&m, &[3, 1], 0, &text_of).is_ok(), "2 tokens are enough");
    let msg = ProbeError::TooShort(1).to_string();
    assert!(msg.contains("at least 2") && msg.contains('1'), "{msg}");
}

#[test]
fn non_language_models_are_rejected() {
    for head in [HeadKind::SeqClassify, HeadKind::SeqRegress] {
        let mut s = ModelSpec::char_lm(CellKind::Gru, 5, 4, 1);
        s.head = head;
        s.outputs = 2;
        let m = Model::<f32>::new(s, 1).expect("spec");
        assert_eq!(
            probe(&m, &[0, 1, 2, 3], 0, &text_of),
            Err(ProbeError::NotLanguageModel),
            "{head:?}"
        );
    }
}

#[test]
fn tokens_outside_the_vocabulary_are_a_model_error() {
    let m = Model::<f32>::new(ModelSpec::char_lm(CellKind::Rnn, 5, 4, 1), 1).expect("spec");
    for toks in [vec![0u32, 9, 1], vec![0, 1, 9]] {
        match probe(&m, &toks, 0, &text_of) {
            Err(ProbeError::Model(msg)) => assert!(msg.contains('9'), "{msg}"),
            other => panic!("{toks:?}: expected a model error, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn report_survives_a_serde_json_round_trip() {
    for &(cell, variant, name) in &CELLS {
        let m = Model::<f32>::new(spec(cell, variant, LAYOUTS[1], 7, 3), 5).expect("spec");
        let r = probe(&m, &token_seq(9, 7, 5), 17, &text_of).expect("probe");
        let s = serde_json::to_string(&r).expect("serialize");
        let back: ProbeReport = serde_json::from_str(&s).expect("deserialize");
        assert_eq!(back, r, "{name}: round trip");
    }
}

#[test]
fn probe_print_json_holds_every_layer_and_direction() {
    for &(cell, variant, name) in &CELLS {
        for &layout in &LAYOUTS {
            let m = Model::<f32>::new(spec(cell, variant, layout, 7, 3), 9).expect("spec");
            let toks = token_seq(8, 7, 9);
            let r = probe(&m, &toks, 3, &text_of).expect("probe");
            let s = to_json(&r);
            let v: Value = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{name}: {e}: {s}"));
            assert_eq!(v["step"], 3);
            assert_eq!(v["tokens"].as_array().map(Vec::len), Some(toks.len() - 1));
            let layers = v["layers"].as_array().expect("layers");
            assert_eq!(layers.len(), r.dirs.len(), "{name} {layout:?}: every layer × direction");
            for (l, d) in layers.iter().zip(&r.dirs) {
                assert_eq!(l["layer"], d.layer);
                let dir = match d.direction {
                    Direction::Fwd => "fwd",
                    Direction::Bwd => "bwd",
                };
                assert_eq!(l["direction"], dir);
                let names: Vec<&str> = d.gates.iter().map(|g| g.name.as_str()).collect();
                assert_eq!(l["gates"], serde_json::json!(names));
                let steps = l["steps"].as_array().expect("steps");
                assert_eq!(steps.len(), toks.len() - 1);
                for (t, st) in steps.iter().enumerate() {
                    let hid = st["hidden"].as_array().expect("hidden");
                    for (x, y) in hid.iter().zip(&d.hidden[t]) {
                        let x = x.as_f64().expect("number");
                        assert!(close(x, f64::from(*y), 1e-6, 0.0), "{name}: hidden {x} vs {y}");
                    }
                    let g = st["grad_norm"].as_f64().expect("number");
                    assert!(close(g, f64::from(d.grad_norm[t]), 1e-6, 0.0));
                    for gate in &d.gates {
                        assert!(st["gates"][gate.name.as_str()].is_array(), "{name}: {}", gate.name);
                    }
                    assert_eq!(st.get("cell").is_some(), d.cell.is_some());
                }
            }
        }
    }
}
