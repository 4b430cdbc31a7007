//! Golden tests: every cell on tiny hand-set weights, compared with values worked out by hand
//! (and with an independent plain-f64 transcription of DESIGN.md §1), never with the crate's
//! own cell code.
//!
//! Common setting: H = 2, one-hot input over |V| = 3 tokens, one layer, per-step softmax head
//! over 3 classes. Every parameter is set explicitly. Weights are written in the notes' layout
//! W_g `[H, H + X]` acting on the column [a⟨t−1⟩; x⟨t⟩] (columns 0..2 on a⟨t−1⟩, 2..5 on the
//! one-hot x⟨t⟩), so with x⟨t⟩ = one-hot(0) the input part of W_g[a; x] is column 2 of W_g.
//! Gate block g of a cell takes `W[g]`, `B[g]` (RNN: [a]; course GRU: [u, r, c]; PyTorch GRU:
//! [r, z, n]; LSTM: [u, f, o, c]). Head: z = W_y a + b_y, W_y `[3, 2]`.
//!
//! The one-step tests start from the carried state a⟨0⟩ = (0.5, −0.4) (and c⟨0⟩ = (0.3, 0.2) for
//! the LSTM), input token 0, target class 2, so that W_aa matters. Then
//!
//! - block 0: W_0[a⟨0⟩; x] + b_0 = (0.5·0.5 − 0.3·(−0.4) + 0.2 + 0.1, 0.1·0.5 + 0.2·(−0.4) − 0.5 − 0.2)
//!   = (0.25 + 0.12 + 0.3, 0.05 − 0.08 − 0.7) = (0.67, −0.73)
//! - block 1: (−0.2·0.5 + 0.4·(−0.4) + 0.3 + 0.0, 0.3·0.5 − 0.1·(−0.4) + 0.1 + 0.2)
//!   = (−0.1 − 0.16 + 0.3, 0.15 + 0.04 + 0.3) = (0.04, 0.49)
//! - block 2 on a⟨0⟩ (LSTM, used by the o gate): (0.125 − 0.04 − 0.6 − 0.1, −0.15 − 0.18 + 0.4 + 0.05)
//!   = (−0.615, 0.12)
//! - block 3 (LSTM candidate): (0.15 + 0.08 + 0.7 + 0.2, 0.1 − 0.04 − 0.3 − 0.1) = (1.13, −0.34)
//!
//! with σ(0.67) = 0.661503159, σ(−0.73) = 0.325194727, σ(0.04) = 0.509998667, σ(0.49) = 0.620106432,
//! tanh(0.67) = 0.584979883, tanh(−0.73) = −0.623065350. The per-cell derivations continue in
//! each test's doc comment. Tolerances: 1e-6 for the f64 model, 1e-5 for the f32 model.

#![allow(clippy::needless_range_loop)] // index loops mirror the equations' subscripts

use rnn_lab::nn::workspace::{DirCache, Workspace};
use rnn_lab::nn::{
    Batch, CellKind, GruVariant, HeadKind, Init, InputKind, LossStats, Model, ModelSpec, Scalar, Score, Targets,
    NO_INPUT,
};

const H: usize = 2;
const V: usize = 3;

/// Gate weights in the notes' layout: `W[g][j][k]`, row j of W_g, k over [a⟨t−1⟩ (2); x⟨t⟩ (3)].
const W: [[[f64; H + V]; H]; 4] = [
    [[0.5, -0.3, 0.2, -0.1, 0.4], [0.1, 0.2, -0.5, 0.3, 0.0]],
    [[-0.2, 0.4, 0.3, 0.6, -0.4], [0.3, -0.1, 0.1, -0.2, 0.5]],
    [[0.25, 0.1, -0.6, 0.2, 0.1], [-0.3, 0.45, 0.4, -0.3, 0.2]],
    [[0.3, -0.2, 0.7, -0.4, 0.2], [0.2, 0.1, -0.3, 0.5, -0.6]],
];
/// Gate biases `B[g][j]`.
const B: [[f64; H]; 4] = [[0.1, -0.2], [0.0, 0.2], [-0.1, 0.05], [0.2, -0.1]];
/// PyTorch GRU's b_hn (inside the reset product).
const B_HN: [f64; H] = [0.15, -0.25];
/// Head `W_y[k][j]` `[|Y|, H]` and `b_y`.
const W_Y: [[f64; H]; V] = [[1.0, -0.5], [0.3, 0.8], [-0.7, 0.2]];
const B_Y: [f64; V] = [0.1, 0.0, -0.1];
/// Carried state of the one-step tests.
const A0: [f64; H] = [0.5, -0.4];
const C0: [f64; H] = [0.3, 0.2];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Rnn,
    Gru,
    Torch,
    Lstm,
}

impl Kind {
    fn spec(self) -> ModelSpec {
        let (cell, variant) = match self {
            Kind::Rnn => (CellKind::Rnn, GruVariant::Course),
            Kind::Gru => (CellKind::Gru, GruVariant::Course),
            Kind::Torch => (CellKind::Gru, GruVariant::Pytorch),
            Kind::Lstm => (CellKind::Lstm, GruVariant::Course),
        };
        ModelSpec {
            cell,
            gru_variant: variant,
            vocab: V,
            input: InputKind::OneHot,
            hidden: H,
            layers: 1,
            bidirectional: false,
            head: HeadKind::PerStep,
            outputs: V,
            init: Init::Uniform(0.1),
            forget_bias: 1.0,
            init_recurrent: rnn_lab::nn::RecurrentInit::Same,
            tie_weights: false,
        }
    }

    fn gates(self) -> usize {
        match self {
            Kind::Rnn => 1,
            Kind::Gru | Kind::Torch => 3,
            Kind::Lstm => 4,
        }
    }
}

/// A model whose every parameter is one of the hand values above (internal layout:
/// W `[H + X, G·H]` = W_gᵀ side by side, head `[H, |Y|]` = W_yᵀ).
fn build<F: Scalar>(kind: Kind) -> Model<F> {
    let mut m = Model::<F>::new(kind.spec(), 99).expect("valid spec");
    assert_eq!(m.cell.gates(), kind.gates());
    let dp = m.dirs[0];
    let mut set = 0usize;
    for g in 0..kind.gates() {
        for j in 0..H {
            for k in 0..H + V {
                m.params.values[dp.w][[k, g * H + j]] = F::of(W[g][j][k]);
                set += 1;
            }
            m.params.values[dp.b][[0, g * H + j]] = F::of(B[g][j]);
            set += 1;
        }
    }
    if let Some(i) = dp.b_hn {
        for j in 0..H {
            m.params.values[i][[0, j]] = F::of(B_HN[j]);
            set += 1;
        }
    }
    for k in 0..V {
        for j in 0..H {
            m.params.values[m.head_w][[j, k]] = F::of(W_Y[k][j]);
            set += 1;
        }
        m.params.values[m.head_b][[0, k]] = F::of(B_Y[k]);
        set += 1;
    }
    assert_eq!(set, m.param_count(), "every parameter set by hand");
    m
}

fn tol<F: Scalar>() -> f64 {
    if std::mem::size_of::<F>() == 8 {
        1e-6
    } else {
        1e-5
    }
}

#[track_caller]
fn close<F: Scalar>(got: &[F], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g.f64() - w).abs() < tol::<F>(),
            "{what}[{i}]: got {g}, want {w:.12} (|diff| {:e})",
            (g.f64() - w).abs()
        );
    }
}

/// One step from the carried state (A0, C0), token 0, target 2, B = 1.
fn one_step<F: Scalar>(kind: Kind) -> (Model<F>, Workspace<F>, LossStats) {
    let m = build::<F>(kind);
    let batch = Batch::dense(1, 1, vec![0], Targets::PerStep(vec![2]));
    let mut ws = m.workspace();
    m.forward(&batch, Score::All, &mut ws).expect("sizing pass");
    // Truncated BPTT's carried state: the next forward starts from a0 / c0.
    for j in 0..H {
        ws.dirs[0].a0[j] = F::of(A0[j]);
        ws.dirs[0].c0[j] = F::of(C0[j]);
    }
    let st = m.forward(&batch, Score::All, &mut ws).expect("forward");
    (m, ws, st)
}

/// Check hidden state, gates, the per-cell buffer (see [`memo`]), logits and loss of a one-step run.
fn check_one_step<F: Scalar>(kind: Kind, h: &[f64], gates: &[f64], memo_want: &[f64], z: &[f64], loss: f64) {
    let (_, ws, st) = one_step::<F>(kind);
    let d = &ws.dirs[0];
    close(&d.a[..H], h, "a⟨1⟩");
    if !gates.is_empty() {
        close(&d.gates[..gates.len()], gates, "gates");
    }
    if !memo_want.is_empty() {
        close(&memo(kind, d)[..H], memo_want, "per-cell buffer");
    }
    close(&ws.logits[..V], z, "logits");
    assert_eq!(st.count, 1);
    assert!((st.sum - loss).abs() < tol::<F>(), "loss {} vs {loss}", st.sum);
    assert!(
        (st.objective - loss).abs() < tol::<F>(),
        "objective {} vs {loss}",
        st.objective
    );
    assert!((st.mean() - loss).abs() < tol::<F>());
}

/// The per-cell buffer a step keeps beside the gates: LSTM c⟨t⟩, course GRU Γr ∗ c⟨t−1⟩,
/// PyTorch GRU W_hn a⟨t−1⟩ + b_hn (empty for the RNN).
fn memo<F>(kind: Kind, d: &DirCache<F>) -> &[F] {
    match kind {
        Kind::Rnn => &[],
        Kind::Gru => &d.gamma_r_c,
        Kind::Torch => &d.hn,
        Kind::Lstm => &d.c,
    }
}

/// Vanilla RNN, one step: a⟨1⟩ = tanh(W_a[a⟨0⟩; x⟨1⟩] + b_a) = tanh(0.67, −0.73)
/// = (0.584979883, −0.623065350).
/// z = W_y a + b_y = (1.0·0.58498 + 0.5·0.62307 + 0.1, 0.3·0.58498 − 0.8·0.62307, −0.7·0.58498 − 0.2·0.62307 − 0.1)
/// = (0.996512558, −0.322958315, −0.634098988); log Σ e^z = 1.376954789, loss = lse − z₂ = 2.011159777.
#[test]
fn golden_rnn_one_step() {
    let h = [0.584979882881, -0.623065349572];
    let z = [0.996512557667, -0.322958314794, -0.634098987931];
    check_one_step::<f64>(Kind::Rnn, &h, &[], &[], &z, 2.011159776553);
    check_one_step::<f32>(Kind::Rnn, &h, &[], &[], &z, 2.011159776553);
}

/// Course GRU, one step: Γu = σ(0.67, −0.73) = (0.661503159, 0.325194727);
/// Γr = σ(0.04, 0.49) = (0.509998667, 0.620106432);
/// Γr ∗ c⟨0⟩ = (0.254999333, −0.248042573);
/// c̃ = tanh(W_c[Γr ∗ c⟨0⟩; x] + b_c) = tanh(0.25·0.255 + 0.1·(−0.248) − 0.6 − 0.1,
/// −0.3·0.255 + 0.45·(−0.248) + 0.4 + 0.05) = tanh(−0.661054424, 0.261881042) = (−0.579064700, 0.256054092);
/// c⟨1⟩ = Γu ∗ c̃ + (1 − Γu) ∗ c⟨0⟩ = (0.6615·(−0.5791) + 0.3385·0.5, 0.3252·0.2561 + 0.6748·(−0.4))
/// = (−0.213804708, −0.186654669); z = (−0.020477374, −0.213465147, 0.012332362); loss = 1.017258446.
/// Gates in the workspace are [Γu, Γr, c̃]; `gamma_r_c` holds Γr ∗ c⟨t−1⟩.
#[test]
fn golden_gru_course_one_step() {
    let h = [-0.213804707883, -0.186654668502];
    let gates = [
        0.661503159203,
        0.325194727418,
        0.509998666880,
        0.620106432343,
        -0.579064699771,
        0.256054091627,
    ];
    let gamma_r_c = [0.254999333440, -0.248042572937];
    let z = [-0.020477373632, -0.213465147167, 0.012332361818];
    check_one_step::<f64>(Kind::Gru, &h, &gates, &gamma_r_c, &z, 1.017258446391);
    check_one_step::<f32>(Kind::Gru, &h, &gates, &gamma_r_c, &z, 1.017258446391);
}

/// PyTorch GRU, one step (blocks [r, z, n]): r = σ(0.67, −0.73) = (0.661503159, 0.325194727);
/// z = σ(0.04, 0.49) = (0.509998667, 0.620106432);
/// hn = W_hn h⟨0⟩ + b_hn = (0.125 − 0.04 + 0.15, −0.15 − 0.18 − 0.25) = (0.235, −0.58);
/// W_in x + b_in = (−0.6 − 0.1, 0.4 + 0.05) = (−0.7, 0.45);
/// n = tanh(−0.7 + 0.6615·0.235, 0.45 + 0.3252·(−0.58)) = tanh(−0.544546758, 0.261387058)
/// = (−0.496421972, 0.255592437); h⟨1⟩ = (1 − z) ∗ n + z ∗ h⟨0⟩ = (0.011751905, −0.150944650);
/// logits (0.187224230, −0.117230149, −0.138415264); loss = 1.225634620. `hn` holds W_hn a⟨0⟩ + b_hn.
#[test]
fn golden_gru_pytorch_one_step() {
    let h = [0.011751905200, -0.150944650315];
    let gates = [
        0.661503159203,
        0.325194727418,
        0.509998666880,
        0.620106432343,
        -0.496421972347,
        0.255592436644,
    ];
    let hn = [0.235, -0.58];
    let z = [0.187224230357, -0.117230148692, -0.138415263703];
    check_one_step::<f64>(Kind::Torch, &h, &gates, &hn, &z, 1.225634620226);
    check_one_step::<f32>(Kind::Torch, &h, &gates, &hn, &z, 1.225634620226);
}

/// LSTM, one step from (a⟨0⟩, c⟨0⟩) = ((0.5, −0.4), (0.3, 0.2)): Γu = σ(0.67, −0.73) = (0.661503159, 0.325194727);
/// Γf = σ(0.04, 0.49) = (0.509998667, 0.620106432); Γo = σ(−0.615, 0.12) = (0.350919476, 0.529964052);
/// c̃ = tanh(1.13, −0.34) = (0.811019262, −0.327477395) (no Γr in the candidate: the notes' typo);
/// c⟨1⟩ = Γu ∗ c̃ + Γf ∗ c⟨0⟩ = (0.5365 + 0.1530, −0.1065 + 0.1240) = (0.689491404, 0.017527364);
/// a⟨1⟩ = Γo ∗ tanh(c⟨1⟩) = (0.209728839, 0.009287922); logits (0.305084878, 0.070348989, −0.244952603);
/// loss = 1.411959821. Gates are [Γu, Γf, Γo, c̃]; `c` holds c⟨t⟩.
#[test]
fn golden_lstm_one_step() {
    let h = [0.209728839016, 0.009287921926];
    let gates = [
        0.661503159203,
        0.325194727418,
        0.509998666880,
        0.620106432343,
        0.350919475755,
        0.529964051765,
        0.811019262100,
        -0.327477394809,
    ];
    let c = [0.689491404117, 0.017527364328];
    let z = [0.305084878053, 0.070348989246, -0.244952602926];
    check_one_step::<f64>(Kind::Lstm, &h, &gates, &c, &z, 1.411959821283);
    check_one_step::<f32>(Kind::Lstm, &h, &gates, &c, &z, 1.411959821283);
}

// ---------------------------------------------------------------------------------------------
// Independent reference: DESIGN.md §1 transcribed in plain f64, one scalar at a time.

fn sigma(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// W_g[v; x] + b_g with x = one-hot(tok) (or 0 for no input).
fn affine(g: usize, v: [f64; H], tok: Option<usize>) -> [f64; H] {
    let mut out = [0.0; H];
    for j in 0..H {
        let mut s = B[g][j];
        for k in 0..H {
            s += W[g][j][k] * v[k];
        }
        if let Some(t) = tok {
            s += W[g][j][H + t];
        }
        out[j] = s;
    }
    out
}

/// One reference step: (gates block-major [G·H], the per-cell buffer [H] (see [`memo`]), a⟨t⟩, c⟨t⟩).
fn ref_step(kind: Kind, a: [f64; H], c: [f64; H], tok: Option<usize>) -> (Vec<f64>, [f64; H], [f64; H], [f64; H]) {
    match kind {
        Kind::Rnn => {
            let p = affine(0, a, tok);
            let a1 = p.map(f64::tanh);
            (vec![], [0.0; H], a1, [0.0; H])
        }
        Kind::Gru => {
            let u = affine(0, a, tok).map(sigma);
            let r = affine(1, a, tok).map(sigma);
            let rc = [r[0] * a[0], r[1] * a[1]];
            let cc = affine(2, rc, tok).map(f64::tanh);
            let c1 = [u[0] * cc[0] + (1.0 - u[0]) * a[0], u[1] * cc[1] + (1.0 - u[1]) * a[1]];
            ([u, r, cc].concat(), rc, c1, [0.0; H])
        }
        Kind::Torch => {
            let r = affine(0, a, tok).map(sigma);
            let z = affine(1, a, tok).map(sigma);
            // Recurrent and input parts of the n block kept apart: hn = W_hn h + b_hn,
            // W_in x + b_in.
            let mut hn = [0.0; H];
            let mut inn = [0.0; H];
            for j in 0..H {
                hn[j] = W[2][j][0] * a[0] + W[2][j][1] * a[1] + B_HN[j];
                inn[j] = B[2][j] + tok.map_or(0.0, |t| W[2][j][H + t]);
            }
            let n = [(inn[0] + r[0] * hn[0]).tanh(), (inn[1] + r[1] * hn[1]).tanh()];
            let h1 = [(1.0 - z[0]) * n[0] + z[0] * a[0], (1.0 - z[1]) * n[1] + z[1] * a[1]];
            ([r, z, n].concat(), hn, h1, [0.0; H])
        }
        Kind::Lstm => {
            let u = affine(0, a, tok).map(sigma);
            let f = affine(1, a, tok).map(sigma);
            let o = affine(2, a, tok).map(sigma);
            let cc = affine(3, a, tok).map(f64::tanh);
            let c1 = [u[0] * cc[0] + f[0] * c[0], u[1] * cc[1] + f[1] * c[1]];
            let a1 = [o[0] * c1[0].tanh(), o[1] * c1[1].tanh()];
            ([u, f, o, cc].concat(), c1, a1, c1)
        }
    }
}

/// Logits and cross-entropy of the head on a⟨t⟩.
fn ref_head(a: [f64; H], target: usize) -> ([f64; V], f64) {
    let mut z = [0.0; V];
    for k in 0..V {
        z[k] = W_Y[k][0] * a[0] + W_Y[k][1] * a[1] + B_Y[k];
    }
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    (z, lse - z[target])
}

/// Two steps, B = 2, from zero state, time-major: sequence 0 reads tokens (0, 2) with targets
/// (2, 1); sequence 1 reads (no input, 1) — x⟨1⟩ = 0 as at the start of a line — with targets
/// (0, 2). With `masked`, sequence 1 has length 1: its step 2 is padding (state passes through,
/// not scored). Every a⟨t⟩, gate, per-cell buffer and logit is compared with the reference above, and the
/// loss with Σ CE (objective = Σ / B).
fn check_two_steps<F: Scalar>(kind: Kind, masked: bool) {
    let m = build::<F>(kind);
    let inputs = vec![0, NO_INPUT, 2, 1];
    let targets = vec![2, 0, 1, 2];
    let mut batch = Batch::dense(2, 2, inputs.clone(), Targets::PerStep(targets.clone()));
    if masked {
        batch.mask = vec![1, 1, 1, 0];
    }
    let mut ws = m.workspace();
    let st = m.forward(&batch, Score::All, &mut ws).expect("forward");
    let g = kind.gates() * H;
    let mut sum = 0.0;
    let mut count = 0;
    for b in 0..2 {
        let (mut a, mut c) = ([0.0; H], [0.0; H]);
        for t in 0..2 {
            let i = t * 2 + b;
            let what = format!("{kind:?} t={t} b={b}");
            if masked && batch.mask[i] == 0 {
                // Padding: a⟨t⟩ = a⟨t−1⟩ (and c for the LSTM).
                close(&ws.dirs[0].a[i * H..(i + 1) * H], &a, &format!("{what} padded a"));
                if kind == Kind::Lstm {
                    close(&ws.dirs[0].c[i * H..(i + 1) * H], &c, &format!("{what} padded c"));
                }
                continue;
            }
            let tok = (inputs[i] != NO_INPUT).then_some(inputs[i] as usize);
            let (gates, memo_want, a1, c1) = ref_step(kind, a, c, tok);
            close(&ws.dirs[0].a[i * H..(i + 1) * H], &a1, &format!("{what} a"));
            if kind != Kind::Rnn {
                close(&ws.dirs[0].gates[i * g..(i + 1) * g], &gates, &format!("{what} gates"));
                close(
                    &memo(kind, &ws.dirs[0])[i * H..(i + 1) * H],
                    &memo_want,
                    &format!("{what} per-cell buffer"),
                );
            }
            let (z, ce) = ref_head(a1, targets[i] as usize);
            close(&ws.logits[i * V..(i + 1) * V], &z, &format!("{what} logits"));
            sum += ce;
            count += 1;
            a = a1;
            c = c1;
        }
    }
    assert_eq!(st.count, count);
    assert!(
        (st.sum - sum).abs() < 2.0 * tol::<F>(),
        "{kind:?} loss {} vs {sum}",
        st.sum
    );
    assert!(
        (st.objective - sum / 2.0).abs() < tol::<F>(),
        "{kind:?} objective {} vs {}",
        st.objective,
        sum / 2.0
    );
}

/// The reference itself agrees with the hand numbers of the one-step tests.
#[test]
fn reference_matches_hand_numbers() {
    let (_, _, a, _) = ref_step(Kind::Rnn, A0, C0, Some(0));
    assert!((a[0] - 0.584979882881).abs() < 1e-11 && (a[1] + 0.623065349572).abs() < 1e-11);
    let (_, _, a, _) = ref_step(Kind::Gru, A0, C0, Some(0));
    assert!((a[0] + 0.213804707883).abs() < 1e-11 && (a[1] + 0.186654668502).abs() < 1e-11);
    let (_, _, a, _) = ref_step(Kind::Torch, A0, C0, Some(0));
    assert!((a[0] - 0.011751905200).abs() < 1e-11 && (a[1] + 0.150944650315).abs() < 1e-11);
    let (_, c, a, _) = ref_step(Kind::Lstm, A0, C0, Some(0));
    assert!((a[0] - 0.209728839016).abs() < 1e-11 && (c[1] - 0.017527364328).abs() < 1e-11);
    let (_, loss) = ref_head([0.584979882881, -0.623065349572], 2);
    assert!((loss - 2.011159776553).abs() < 1e-11);
}

#[test]
fn golden_two_steps_rnn() {
    check_two_steps::<f64>(Kind::Rnn, false);
    check_two_steps::<f32>(Kind::Rnn, false);
    check_two_steps::<f64>(Kind::Rnn, true);
}

#[test]
fn golden_two_steps_gru_course() {
    check_two_steps::<f64>(Kind::Gru, false);
    check_two_steps::<f32>(Kind::Gru, false);
    check_two_steps::<f64>(Kind::Gru, true);
}

#[test]
fn golden_two_steps_gru_pytorch() {
    check_two_steps::<f64>(Kind::Torch, false);
    check_two_steps::<f32>(Kind::Torch, false);
    check_two_steps::<f64>(Kind::Torch, true);
}

#[test]
fn golden_two_steps_lstm() {
    check_two_steps::<f64>(Kind::Lstm, false);
    check_two_steps::<f32>(Kind::Lstm, false);
    check_two_steps::<f64>(Kind::Lstm, true);
}

/// Head gradient of one step (B = 1, objective = CE): with p = softmax(z) and e = one-hot(target),
/// ∂/∂b_y = p − e and ∂/∂W_y[k][j] = (p_k − e_k) · a_j. For the RNN step above,
/// p = (0.683486598, 0.182680034, 0.133833368), so ∂b_y = (0.683486598, 0.182680034, −0.866166632)
/// and e.g. ∂W_y[2][0] = −0.866166632 · 0.584979883 = −0.506690060. One step further back,
/// ∂b_a = (W_yᵀ(p − e)) ∗ (1 − a²) and ∂W_a[j][k] = ∂b_a[j] · [a⟨0⟩; x]_k.
#[test]
fn golden_head_gradient_one_step() {
    for kind in [Kind::Rnn, Kind::Gru, Kind::Torch, Kind::Lstm] {
        let (m, mut ws, _) = one_step::<f64>(kind);
        let batch = Batch::dense(1, 1, vec![0], Targets::PerStep(vec![2]));
        let mut grads = m.params.zeros_like();
        m.backward(&batch, &mut ws, &mut grads);
        let (_, _, a, _) = ref_step(kind, A0, C0, Some(0));
        let (z, _) = ref_head(a, 2);
        let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
        let dz: Vec<f64> = (0..V)
            .map(|k| (z[k] - lse).exp() - if k == 2 { 1.0 } else { 0.0 })
            .collect();
        close(
            grads.values[m.head_b].as_slice().expect("contiguous"),
            &dz,
            &format!("{kind:?} ∂b_y"),
        );
        for k in 0..V {
            for j in 0..H {
                let got = grads.values[m.head_w][[j, k]];
                assert!(
                    (got - dz[k] * a[j]).abs() < 1e-9,
                    "{kind:?} ∂W_y[{k}][{j}] = {got}, want {}",
                    dz[k] * a[j]
                );
            }
        }
        if kind == Kind::Rnn {
            assert!((dz[0] - 0.683486597970).abs() < 1e-11);
            assert!((grads.values[m.head_w][[0, 2]] + 0.506690060).abs() < 1e-8);
            let dp = m.dirs[0];
            for j in 0..H {
                let da: f64 = (0..V).map(|k| W_Y[k][j] * dz[k]).sum();
                let dpre = da * (1.0 - a[j] * a[j]);
                assert!((grads.values[dp.b][[0, j]] - dpre).abs() < 1e-9, "∂b_a[{j}]");
                let col = [A0[0], A0[1], 1.0, 0.0, 0.0];
                for (k, &v) in col.iter().enumerate() {
                    assert!((grads.values[dp.w][[k, j]] - dpre * v).abs() < 1e-9, "∂W_a[{j}][{k}]");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PyTorch nn.GRU, as documented (https://pytorch.org/docs/stable/generated/torch.nn.GRU.html):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ∗ (W_hn h + b_hn))
//   h' = (1 − z) ∗ n + z ∗ h
// with weight_ih_l0 `[3H, X]`, weight_hh_l0 `[3H, H]`, bias_ih_l0, bias_hh_l0 `[3H]`, rows (r, z, n).

const T_WIH: [[f64; 2]; 6] = [
    [0.4, -0.2],
    [0.1, 0.3],
    [-0.3, 0.5],
    [0.2, 0.1],
    [0.6, -0.4],
    [-0.1, 0.2],
];
const T_WHH: [[f64; 2]; 6] = [
    [0.2, 0.1],
    [-0.3, 0.4],
    [0.5, -0.2],
    [0.1, 0.3],
    [-0.4, 0.6],
    [0.3, -0.5],
];
const T_BIH: [f64; 6] = [0.05, -0.1, 0.2, 0.0, -0.15, 0.1];
const T_BHH: [f64; 6] = [0.1, 0.05, -0.05, 0.15, 0.3, -0.2];
/// Embedding table `[3, 2]` feeding x.
const T_EMB: [[f64; 2]; 3] = [[0.7, -0.3], [-0.5, 0.9], [0.2, 0.4]];
const T_H0: [f64; 2] = [0.3, -0.6];

/// The PyTorch parameters mapped onto rnn-lab's fused layout: W rows 0..H = W_hhᵀ, rows H.. =
/// W_ihᵀ; b = b_ih + b_hh for the r and z blocks, b = b_in for n, and b_hn kept apart.
fn torch_model<F: Scalar>() -> Model<F> {
    let mut spec = Kind::Torch.spec();
    spec.input = InputKind::Embedding(2);
    let mut m = Model::<F>::new(spec, 5).expect("valid spec");
    let dp = m.dirs[0];
    let e = m.embed.expect("embedding");
    for t in 0..3 {
        for k in 0..2 {
            m.params.values[e][[t, k]] = F::of(T_EMB[t][k]);
        }
    }
    for i in 0..6 {
        for k in 0..2 {
            m.params.values[dp.w][[k, i]] = F::of(T_WHH[i][k]);
            m.params.values[dp.w][[H + k, i]] = F::of(T_WIH[i][k]);
        }
        let b = if i < 4 { T_BIH[i] + T_BHH[i] } else { T_BIH[i] };
        m.params.values[dp.b][[0, i]] = F::of(b);
    }
    let bhn = dp.b_hn.expect("b_hn");
    for j in 0..2 {
        m.params.values[bhn][[0, j]] = F::of(T_BHH[4 + j]);
    }
    m
}

/// Two steps of PyTorch's equations from h⟨0⟩ = (0.3, −0.6), inputs embed(1) = (−0.5, 0.9),
/// embed(2) = (0.2, 0.4). Step 1 by hand:
/// gi = W_ih x + b_ih = (−0.33, 0.12 | 0.80, −0.01 | −0.81, 0.33);
/// gh = W_hh h + b_hh = (0.10, −0.28 | 0.22, 0.00 | −0.18, 0.19);
/// r = σ(−0.23, −0.16) = (0.442752145, 0.460085115); z = σ(1.02, −0.01) = (0.734972599, 0.497500021);
/// n = tanh(−0.81 + 0.4428·(−0.18), 0.33 + 0.4601·0.19) = (−0.711243245, 0.394751466);
/// h⟨1⟩ = (1 − z) ∗ n + z ∗ h⟨0⟩ = (0.031992832, −0.100137409).
/// Step 2: r = (0.536530996, 0.510085429), z = (0.580791617, 0.550615546),
/// n = (−0.068037577, 0.088188263), h⟨2⟩ = (−0.009940754, −0.015506780).
/// Note b_hn sits inside the r product: folding it into b_n (as the course form would) gives a
/// different n, which the test also checks.
#[test]
fn golden_gru_pytorch_matches_torch_equations() {
    let hand_h = [[0.031992831558, -0.100137409115], [-0.009940754214, -0.015506779797]];
    let hand_r = [[0.442752145401, 0.460085115444], [0.536530995880, 0.510085428590]];
    let hand_z = [[0.734972599467, 0.497500020833], [0.580791616551, 0.550615545956]];
    let hand_n = [[-0.711243244669, 0.394751465888], [-0.068037576773, 0.088188262937]];
    // Independent transcription of the documented equations.
    let mut h = T_H0;
    for (t, tok) in [1usize, 2].into_iter().enumerate() {
        let x = T_EMB[tok];
        let gi: Vec<f64> = (0..6)
            .map(|i| T_WIH[i][0] * x[0] + T_WIH[i][1] * x[1] + T_BIH[i])
            .collect();
        let gh: Vec<f64> = (0..6)
            .map(|i| T_WHH[i][0] * h[0] + T_WHH[i][1] * h[1] + T_BHH[i])
            .collect();
        let mut next = [0.0; 2];
        for j in 0..2 {
            let r = sigma(gi[j] + gh[j]);
            let z = sigma(gi[2 + j] + gh[2 + j]);
            let n = (gi[4 + j] + r * gh[4 + j]).tanh();
            assert!(
                (r - hand_r[t][j]).abs() < 1e-11
                    && (z - hand_z[t][j]).abs() < 1e-11
                    && (n - hand_n[t][j]).abs() < 1e-11
            );
            next[j] = (1.0 - z) * n + z * h[j];
        }
        h = next;
        assert!((h[0] - hand_h[t][0]).abs() < 1e-11 && (h[1] - hand_h[t][1]).abs() < 1e-11);
    }
    fn run<F: Scalar>(hand_h: &[[f64; 2]; 2], hand_r: &[[f64; 2]; 2], hand_z: &[[f64; 2]; 2], hand_n: &[[f64; 2]; 2]) {
        let m = torch_model::<F>();
        let batch = Batch::dense(2, 1, vec![1, 2], Targets::PerStep(vec![0, 1]));
        let mut ws = m.workspace();
        m.forward(&batch, Score::All, &mut ws).expect("sizing pass");
        ws.dirs[0].a0[0] = F::of(T_H0[0]);
        ws.dirs[0].a0[1] = F::of(T_H0[1]);
        m.forward(&batch, Score::All, &mut ws).expect("forward");
        for t in 0..2 {
            let g = &ws.dirs[0].gates[t * 6..(t + 1) * 6];
            close(&g[0..2], &hand_r[t], &format!("r⟨{}⟩", t + 1));
            close(&g[2..4], &hand_z[t], &format!("z⟨{}⟩", t + 1));
            close(&g[4..6], &hand_n[t], &format!("n⟨{}⟩", t + 1));
            close(&ws.dirs[0].a[t * 2..(t + 1) * 2], &hand_h[t], &format!("h⟨{}⟩", t + 1));
        }
        // hn at step 1 = W_hn h⟨0⟩ + b_hn = (−0.18, 0.19).
        close(&ws.dirs[0].hn[0..2], &[-0.18, 0.19], "W_hn h + b_hn");
    }
    run::<f64>(&hand_h, &hand_r, &hand_z, &hand_n);
    run::<f32>(&hand_h, &hand_r, &hand_z, &hand_n);
    // b_hn inside the reset product matters: with r < 1, moving b_hn into b_in changes n.
    let folded = (T_WIH[4][0] * -0.5
        + T_WIH[4][1] * 0.9
        + T_BIH[4]
        + T_BHH[4]
        + 0.442752145401 * (T_WHH[4][0] * 0.3 + T_WHH[4][1] * -0.6))
        .tanh();
    assert!(
        (folded - hand_n[0][0]).abs() > 1e-2,
        "the test distinguishes b_hn placement"
    );
}

/// The PyTorch variant with z = 1 keeps the state (h = (1 − z) ∗ n + z ∗ h⟨t−1⟩), while the
/// course GRU with Γu = 1 takes the candidate: a huge positive update/z bias checks the direction
/// of the interpolation in both forms.
#[test]
fn golden_gru_update_direction() {
    for kind in [Kind::Gru, Kind::Torch] {
        let mut m = build::<f64>(kind);
        let dp = m.dirs[0];
        let zblock = if kind == Kind::Gru { 0 } else { 1 };
        for j in 0..H {
            m.params.values[dp.b][[0, zblock * H + j]] = 40.0;
        }
        let batch = Batch::dense(1, 1, vec![0], Targets::PerStep(vec![2]));
        let mut ws = m.workspace();
        m.forward(&batch, Score::All, &mut ws).expect("sizing");
        ws.dirs[0].a0.copy_from_slice(&A0);
        m.forward(&batch, Score::All, &mut ws).expect("forward");
        let h = &ws.dirs[0].a[..H];
        if kind == Kind::Torch {
            close(h, &A0, "pytorch z = 1 keeps h⟨t−1⟩");
        } else {
            let cc = &ws.dirs[0].gates[2 * H..3 * H];
            close(h, &[cc[0], cc[1]], "course Γu = 1 takes c̃");
        }
    }
}

/// `Score::LastStep` scores only the last real step of each sequence: in the masked two-step
/// batch that is t = 2 of sequence 0 (target 1) and t = 1 of sequence 1 (target 0), so the loss
/// is CE(z⟨2⟩₀, 1) + CE(z⟨1⟩₁, 0) over 2 positions, objective = that sum / B.
#[test]
fn golden_last_step_scoring() {
    for kind in [Kind::Rnn, Kind::Gru, Kind::Torch, Kind::Lstm] {
        let m = build::<f64>(kind);
        let mut batch = Batch::dense(2, 2, vec![0, NO_INPUT, 2, 1], Targets::PerStep(vec![2, 0, 1, 2]));
        batch.mask = vec![1, 1, 1, 0];
        let mut ws = m.workspace();
        let st = m.forward(&batch, Score::LastStep, &mut ws).expect("forward");
        let (_, _, a1, c1) = ref_step(kind, [0.0; H], [0.0; H], Some(0));
        let (_, _, a2, _) = ref_step(kind, a1, c1, Some(2));
        let (_, _, b1, _) = ref_step(kind, [0.0; H], [0.0; H], None);
        let want = ref_head(a2, 1).1 + ref_head(b1, 0).1;
        assert_eq!(st.count, 2);
        assert!((st.sum - want).abs() < 1e-9, "{kind:?}: {} vs {want}", st.sum);
        assert!((st.objective - want / 2.0).abs() < 1e-9);
    }
}

/// `backward` adds into the gradient list (it does not overwrite), and the probe norm
/// ‖∂L/∂a⟨1⟩‖ of the one-step RNN is ‖W_yᵀ(p − e)‖ when requested.
#[test]
fn golden_backward_accumulates_and_records_norms() {
    let (m, mut ws, _) = one_step::<f64>(Kind::Rnn);
    let batch = Batch::dense(1, 1, vec![0], Targets::PerStep(vec![2]));
    let mut once = m.params.zeros_like();
    ws.record_grad_norms = true;
    m.backward(&batch, &mut ws, &mut once);
    let mut twice = once.clone();
    m.backward(&batch, &mut ws, &mut twice);
    for (a, b) in once.values.iter().zip(&twice.values) {
        for (&x, &y) in a.iter().zip(b) {
            assert!((2.0 * x - y).abs() < 1e-12);
        }
    }
    let p = [0.683486597970, 0.182680034207, 0.133833367824];
    let dz = [p[0], p[1], p[2] - 1.0];
    let da: Vec<f64> = (0..H).map(|j| (0..V).map(|k| W_Y[k][j] * dz[k]).sum()).collect();
    let norm = (da[0] * da[0] + da[1] * da[1]).sqrt();
    assert_eq!(ws.dirs[0].grad_norm.len(), 1);
    assert!(
        (ws.dirs[0].grad_norm[0] - norm).abs() < 1e-9,
        "{} vs {norm}",
        ws.dirs[0].grad_norm[0]
    );
}

// ---------------------------------------------------------------------------------------------
// Deep and bidirectional stacks against an independent plain-f64 reference.
//
// Gradient checks prove backward consistent with forward, but not that forward is the right
// function: a reversed time direction or a swapped [a→; a←] concatenation would pass them.
// Here every weight of a 2-layer bidirectional model is set from a fixed hand pattern and the
// whole forward pass is recomputed from DESIGN.md §1: layer 0 reads the one-hot x⟨t⟩, its
// forward pass runs t = 1..T and its backward pass t = T..1 (from a zero state at t = T + 1);
// layer 1 reads x⟨t⟩ = [a→⟨t⟩; a←⟨t⟩] of layer 0; the per-step head reads [a→⟨t⟩; a←⟨t⟩] of
// layer 1; a sequence head reads [a→ after the last real step; a← at t = 1]. Padding steps
// (mask 0) pass the state through unchanged.

/// Hand pattern for W_g of layer l, direction d: entry (j, k) of `[H, H + X]`, in [−0.8, 0.8].
fn pat_w(l: usize, d: usize, g: usize, j: usize, k: usize) -> f64 {
    (((l * 13 + d * 7 + g * 5 + j * 3 + k * 2) % 17) as f64 - 8.0) / 10.0
}

/// Hand pattern for b_g (and b_hn with g = 9), in [−0.3, 0.3].
fn pat_b(l: usize, d: usize, g: usize, j: usize) -> f64 {
    (((l * 5 + d * 3 + g * 7 + j) % 7) as f64 - 3.0) / 10.0
}

/// Hand pattern for the head W_y `[|Y|, H·dirs]` and b_y.
fn pat_y(k: usize, i: usize) -> f64 {
    (((k * 5 + i * 3) % 9) as f64 - 4.0) / 5.0
}

fn build_stack(kind: Kind, layers: usize, head: HeadKind) -> Model<f64> {
    let mut s = kind.spec();
    s.layers = layers;
    s.bidirectional = true;
    s.head = head;
    let mut m = Model::<f64>::new(s, 1).expect("valid spec");
    let g_n = kind.gates();
    for l in 0..layers {
        for d in 0..2 {
            let dp = m.dirs[l * 2 + d];
            for g in 0..g_n {
                for j in 0..H {
                    for k in 0..H + dp.x {
                        m.params.values[dp.w][[k, g * H + j]] = pat_w(l, d, g, j, k);
                    }
                    m.params.values[dp.b][[0, g * H + j]] = pat_b(l, d, g, j);
                }
            }
            if let Some(i) = dp.b_hn {
                for j in 0..H {
                    m.params.values[i][[0, j]] = pat_b(l, d, 9, j);
                }
            }
        }
    }
    for k in 0..V {
        for i in 0..2 * H {
            m.params.values[m.head_w][[i, k]] = pat_y(k, i);
        }
        m.params.values[m.head_b][[0, k]] = pat_y(k, 7);
    }
    m
}

/// One step of layer l, direction d, dense input x, written from the equations.
fn gen_step(kind: Kind, l: usize, d: usize, a: &[f64], c: &[f64], x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    // W_g[v; x] + b_g, with the x part optional (PyTorch GRU keeps the parts apart).
    let lin = |g: usize, v: &[f64], with_x: bool, with_v: bool| -> Vec<f64> {
        (0..H)
            .map(|j| {
                let mut s = if with_x { pat_b(l, d, g, j) } else { 0.0 };
                if with_v {
                    s += (0..H).map(|k| pat_w(l, d, g, j, k) * v[k]).sum::<f64>();
                }
                if with_x {
                    s += (0..x.len()).map(|k| pat_w(l, d, g, j, H + k) * x[k]).sum::<f64>();
                }
                s
            })
            .collect()
    };
    let full = |g: usize, v: &[f64]| lin(g, v, true, true);
    match kind {
        Kind::Rnn => (full(0, a).into_iter().map(f64::tanh).collect(), vec![0.0; H]),
        Kind::Gru => {
            let u: Vec<f64> = full(0, a).into_iter().map(sigma).collect();
            let r: Vec<f64> = full(1, a).into_iter().map(sigma).collect();
            let rc: Vec<f64> = (0..H).map(|j| r[j] * a[j]).collect();
            let cc: Vec<f64> = full(2, &rc).into_iter().map(f64::tanh).collect();
            (
                (0..H).map(|j| u[j] * cc[j] + (1.0 - u[j]) * a[j]).collect(),
                vec![0.0; H],
            )
        }
        Kind::Torch => {
            let r: Vec<f64> = full(0, a).into_iter().map(sigma).collect();
            let z: Vec<f64> = full(1, a).into_iter().map(sigma).collect();
            let hn: Vec<f64> = lin(2, a, false, true)
                .iter()
                .enumerate()
                .map(|(j, v)| v + pat_b(l, d, 9, j))
                .collect();
            let inn = lin(2, a, true, false);
            let n: Vec<f64> = (0..H).map(|j| (inn[j] + r[j] * hn[j]).tanh()).collect();
            (
                (0..H).map(|j| (1.0 - z[j]) * n[j] + z[j] * a[j]).collect(),
                vec![0.0; H],
            )
        }
        Kind::Lstm => {
            let u: Vec<f64> = full(0, a).into_iter().map(sigma).collect();
            let f: Vec<f64> = full(1, a).into_iter().map(sigma).collect();
            let o: Vec<f64> = full(2, a).into_iter().map(sigma).collect();
            let cc: Vec<f64> = full(3, a).into_iter().map(f64::tanh).collect();
            let c1: Vec<f64> = (0..H).map(|j| u[j] * cc[j] + f[j] * c[j]).collect();
            ((0..H).map(|j| o[j] * c1[j].tanh()).collect(), c1)
        }
    }
}

/// Reference hidden states `out[l][d][t][b]` of a bidirectional stack.
fn ref_stack(
    kind: Kind,
    layers: usize,
    inputs: &[u32],
    mask: &[u8],
    steps: usize,
    b: usize,
) -> Vec<Vec<Vec<Vec<Vec<f64>>>>> {
    let real = |t: usize, r: usize| mask.is_empty() || mask[t * b + r] != 0;
    let mut out = Vec::new();
    for l in 0..layers {
        let mut dirs = Vec::new();
        for d in 0..2 {
            let mut hs = vec![vec![vec![0.0; H]; b]; steps];
            for r in 0..b {
                let (mut a, mut c) = (vec![0.0; H], vec![0.0; H]);
                let order: Vec<usize> = if d == 0 {
                    (0..steps).collect()
                } else {
                    (0..steps).rev().collect()
                };
                for t in order {
                    if real(t, r) {
                        let x: Vec<f64> = if l == 0 {
                            (0..V)
                                .map(|v| if inputs[t * b + r] as usize == v { 1.0 } else { 0.0 })
                                .collect()
                        } else {
                            let below: &Vec<Vec<Vec<Vec<f64>>>> = &out[l - 1];
                            [below[0][t][r].clone(), below[1][t][r].clone()].concat()
                        };
                        let (a1, c1) = gen_step(kind, l, d, &a, &c, &x);
                        a = a1;
                        c = c1;
                    }
                    hs[t][r] = a.clone();
                }
            }
            dirs.push(hs);
        }
        out.push(dirs);
    }
    out
}

fn ref_logits(fwd: &[f64], bwd: &[f64]) -> Vec<f64> {
    let cat = [fwd, bwd].concat();
    (0..V)
        .map(|k| pat_y(k, 7) + (0..2 * H).map(|i| pat_y(k, i) * cat[i]).sum::<f64>())
        .collect()
}

fn ce(z: &[f64], target: usize) -> f64 {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[target]
}

/// Two bidirectional layers, per-step head, T = 4, B = 2 (sequence 1 has length 3), every
/// hidden state of every layer and direction, every logit and the loss.
#[test]
fn golden_deep_bidirectional_per_step() {
    for kind in [Kind::Rnn, Kind::Gru, Kind::Torch, Kind::Lstm] {
        let m = build_stack(kind, 2, HeadKind::PerStep);
        let (steps, b) = (4, 2);
        let inputs = vec![0, 2, 1, NO_INPUT, 2, 0, 1, 1];
        let inputs_ref: Vec<u32> = inputs.iter().map(|&x| if x == NO_INPUT { 99 } else { x }).collect();
        let mask = vec![1, 1, 1, 1, 1, 1, 1, 0];
        let targets = vec![1, 0, 2, 2, 0, 1, 1, 0];
        let batch = Batch {
            steps,
            batch: b,
            inputs,
            targets: Targets::PerStep(targets.clone()),
            mask: mask.clone(),
            features: Vec::new(),
        };
        let mut ws = m.workspace();
        let st = m.forward(&batch, Score::All, &mut ws).expect("forward");
        let hs = ref_stack(kind, 2, &inputs_ref, &mask, steps, b);
        let mut sum = 0.0;
        for t in 0..steps {
            for r in 0..b {
                let i = t * b + r;
                for l in 0..2 {
                    for d in 0..2 {
                        let got = &ws.dirs[l * 2 + d].a[i * H..(i + 1) * H];
                        close(got, &hs[l][d][t][r], &format!("{kind:?} layer {l} dir {d} t={t} b={r}"));
                    }
                }
                let z = ref_logits(&hs[1][0][t][r], &hs[1][1][t][r]);
                close(
                    &ws.logits[i * V..(i + 1) * V],
                    &z,
                    &format!("{kind:?} logits t={t} b={r}"),
                );
                if mask[i] == 1 {
                    sum += ce(&z, targets[i] as usize);
                }
            }
        }
        assert_eq!(st.count, 7);
        assert!((st.sum - sum).abs() < 1e-9, "{kind:?} loss {} vs {sum}", st.sum);
    }
}

/// Sequence classification on a bidirectional layer reads a→ after the last real step and a←
/// at t = 1 (which has seen the whole sequence). Lengths 4 and 2 of T = 4.
#[test]
fn golden_bidirectional_sequence_head() {
    for kind in [Kind::Rnn, Kind::Gru, Kind::Torch, Kind::Lstm] {
        let m = build_stack(kind, 1, HeadKind::SeqClassify);
        let (steps, b) = (4, 2);
        let inputs = vec![0, 1, 2, 2, 1, 0, 0, 0];
        let mask = vec![1, 1, 1, 1, 1, 0, 1, 0];
        let batch = Batch {
            steps,
            batch: b,
            inputs: inputs.clone(),
            targets: Targets::Class(vec![2, 1]),
            mask: mask.clone(),
            features: Vec::new(),
        };
        let mut ws = m.workspace();
        let st = m.forward(&batch, Score::All, &mut ws).expect("forward");
        let hs = ref_stack(kind, 1, &inputs, &mask, steps, b);
        let last = [3, 1];
        let mut sum = 0.0;
        for r in 0..b {
            let z = ref_logits(&hs[0][0][last[r]][r], &hs[0][1][0][r]);
            close(
                &ws.logits[r * V..(r + 1) * V],
                &z,
                &format!("{kind:?} sequence logits b={r}"),
            );
            sum += ce(&z, [2, 1][r]);
        }
        assert_eq!(st.count, 2);
        assert!((st.sum - sum).abs() < 1e-9, "{kind:?} loss {} vs {sum}", st.sum);
    }
}

/// Truncated BPTT carries the state: a stream of T = 6 run as one chunk or as two chunks of 3
/// joined by `carry_state` gives the same a⟨t⟩ (and c⟨t⟩) at every step and the same loss sum;
/// `reset_state` starts over from zero.
#[test]
fn chunks_with_carried_state_equal_one_long_chunk() {
    for kind in [Kind::Rnn, Kind::Gru, Kind::Torch, Kind::Lstm] {
        let m = build::<f64>(kind);
        let b = 2;
        let stream: Vec<u32> = vec![0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 2, 0];
        let target: Vec<u32> = stream.iter().map(|x| (x + 1) % 3).collect();
        let whole = Batch::dense(6, b, stream.clone(), Targets::PerStep(target.clone()));
        let mut ws = m.workspace();
        let st = m.forward(&whole, Score::All, &mut ws).unwrap();
        let (h_all, c_all) = (ws.dirs[0].a[..6 * b * H].to_vec(), ws.dirs[0].c.clone());
        let mut ws2 = m.workspace();
        let mut sum = 0.0;
        for chunk in 0..2 {
            let r = chunk * 3 * b..(chunk + 1) * 3 * b;
            let part = Batch::dense(3, b, stream[r.clone()].to_vec(), Targets::PerStep(target[r].to_vec()));
            sum += m.forward(&part, Score::All, &mut ws2).unwrap().sum;
            let o = chunk * 3 * b * H;
            close(
                &ws2.dirs[0].a[..3 * b * H],
                &h_all[o..o + 3 * b * H],
                &format!("{kind:?} chunk {chunk} a"),
            );
            if kind == Kind::Lstm {
                close(
                    &ws2.dirs[0].c[..3 * b * H],
                    &c_all[o..o + 3 * b * H],
                    &format!("{kind:?} chunk {chunk} c"),
                );
            }
            m.carry_state(&mut ws2);
        }
        assert!((sum - st.sum).abs() < 1e-12, "{kind:?}: {sum} vs {}", st.sum);
        // After a reset the first chunk repeats exactly.
        ws2.reset_state();
        let first = Batch::dense(
            3,
            b,
            stream[..3 * b].to_vec(),
            Targets::PerStep(target[..3 * b].to_vec()),
        );
        m.forward(&first, Score::All, &mut ws2).unwrap();
        close(
            &ws2.dirs[0].a[..3 * b * H],
            &h_all[..3 * b * H],
            &format!("{kind:?} after reset"),
        );
    }
}

/// Sequence heads on the one-step RNN (logits z = (0.996512558, −0.322958315, −0.634098988)):
/// classification gives the same CE as the per-step head (2.011159777 for class 2);
/// regression with targets y = (1, 0, −0.5) gives MSE = mean((z − y)²)
/// = (0.0000122 + 0.1043021 + 0.0179825) / 3 = 0.040765591 and ∂b_y = 2(z − y) / 3
/// = (−0.0023250, −0.2153055, −0.0893993) (B = 1).
#[test]
fn golden_sequence_heads_one_step() {
    let z = [0.996512557667, -0.322958314794, -0.634098987931];
    for head in [HeadKind::SeqClassify, HeadKind::SeqRegress] {
        let mut m = build::<f64>(Kind::Rnn);
        m.spec.head = head;
        let targets = if head == HeadKind::SeqClassify {
            Targets::Class(vec![2])
        } else {
            Targets::Real(vec![1.0, 0.0, -0.5])
        };
        let batch = Batch::dense(1, 1, vec![0], targets);
        let mut ws = m.workspace();
        m.forward(&batch, Score::All, &mut ws).expect("sizing");
        ws.dirs[0].a0.copy_from_slice(&A0);
        let st = m.forward(&batch, Score::All, &mut ws).expect("forward");
        close(&ws.logits[..V], &z, "outputs");
        let mut grads = m.params.zeros_like();
        m.backward(&batch, &mut ws, &mut grads);
        let db = grads.values[m.head_b].as_slice().unwrap().to_vec();
        if head == HeadKind::SeqClassify {
            assert!((st.sum - 2.011159776553).abs() < 1e-9);
            close(&db, &[0.683486597970, 0.182680034207, 0.133833367824 - 1.0], "∂b_y");
        } else {
            let y = [1.0, 0.0, -0.5];
            let mse = (0..V).map(|k| (z[k] - y[k]).powi(2)).sum::<f64>() / 3.0;
            assert!((mse - 0.040765591).abs() < 1e-9, "hand MSE {mse}");
            assert!((st.sum - mse).abs() < 1e-9, "{} vs {mse}", st.sum);
            assert!((st.objective - mse).abs() < 1e-9);
            close(&db, &[-0.0023250, -0.2153055, -0.0893993], "∂b_y");
        }
    }
}
