//! Optimizers (SGD with momentum, Adagrad, RMSprop, Adam), gradient clipping and
//! learning-rate schedules. All work over a [`Params`] list with state of the same shapes.

pub mod spec;

use crate::nn::error::NnError;
use crate::nn::gemm::with_simd;
use crate::nn::{Params, Scalar};
pub use spec::{OptimSpec, OptimizerKind, Schedule};

impl OptimSpec {
    /// Adam with the usual defaults, lr 2e-3, clip the global norm at 5.
    pub fn adam(lr: f64) -> Self {
        OptimSpec {
            kind: OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            lr,
            schedule: Schedule::Constant,
            clip_norm: Some(5.0),
            clip_value: None,
            weight_decay: 0.0,
            warmup: 0,
        }
    }

    /// Reject out-of-range hyper-parameters.
    pub fn check(&self) -> Result<(), NnError> {
        let bad = |field: &'static str, v: f64, why: &'static str| {
            Err(NnError::InvalidHyper {
                field,
                value: format!("{v}"),
                why,
            })
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr, "the learning rate must be a positive finite number");
        }
        let unit = |x: f64| (0.0..1.0).contains(&x);
        match self.kind {
            OptimizerKind::Sgd { momentum } if !unit(momentum) => {
                return bad("momentum", momentum, "must be in [0, 1)")
            }
            OptimizerKind::Adagrad { eps } if !(eps > 0.0 && eps.is_finite()) => return bad("eps", eps, "must be > 0"),
            OptimizerKind::Rmsprop { decay, .. } if !unit(decay) => return bad("decay", decay, "must be in [0, 1)"),
            OptimizerKind::Rmsprop { eps, .. } if !(eps > 0.0 && eps.is_finite()) => {
                return bad("eps", eps, "must be > 0")
            }
            OptimizerKind::Adam { beta1, .. } if !unit(beta1) => return bad("beta1", beta1, "must be in [0, 1)"),
            OptimizerKind::Adam { beta2, .. } if !unit(beta2) => return bad("beta2", beta2, "must be in [0, 1)"),
            OptimizerKind::Adam { eps, .. } if !(eps > 0.0 && eps.is_finite()) => {
                return bad("eps", eps, "must be > 0")
            }
            _ => {}
        }
        match self.schedule {
            Schedule::Step { every: 0, .. } => return bad("step_every", 0.0, "must be at least 1"),
            Schedule::Step { gamma, .. } if !(gamma > 0.0 && gamma <= 1.0) => {
                return bad("step_gamma", gamma, "must be in (0, 1]")
            }
            Schedule::EpochStep { after: 0, .. } => return bad("decay_after_epochs", 0.0, "must be at least 1"),
            Schedule::EpochStep { gamma, .. } if !(gamma > 0.0 && gamma <= 1.0) => {
                return bad("step_gamma", gamma, "must be in (0, 1]")
            }
            Schedule::Cosine { total: 0, .. } => return bad("steps", 0.0, "cosine schedule needs at least 1 step"),
            Schedule::Cosine { min_factor, .. } if !(0.0..=1.0).contains(&min_factor) => {
                return bad("min_lr_factor", min_factor, "must be in [0, 1]")
            }
            _ => {}
        }
        if let Some(c) = self.clip_norm {
            if !(c > 0.0 && c.is_finite()) {
                return bad("clip_norm", c, "must be > 0 (omit it to disable clipping)");
            }
        }
        if let Some(c) = self.clip_value {
            if !(c > 0.0 && c.is_finite()) {
                return bad("clip_value", c, "must be > 0 (omit it to disable clipping)");
            }
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", self.weight_decay, "must be ≥ 0");
        }
        Ok(())
    }
}

impl Schedule {
    /// Multiplier of the base learning rate at `step` (0-based).
    pub fn factor(&self, step: u64) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Step { every, gamma } => gamma.powi((step / every.max(1)) as i32),
            Schedule::EpochStep {
                after,
                gamma,
                steps_per_epoch,
            } => {
                // e epochs completed; epoch e (0-based) runs at gamma^max(0, e + 1 − after)
                let e = step / steps_per_epoch.max(1);
                gamma.powi((e + 1).saturating_sub(after).min(i32::MAX as u64) as i32)
            }
            Schedule::Cosine { total, min_factor } => {
                let p = (step as f64 / total.max(1) as f64).min(1.0);
                min_factor + (1.0 - min_factor) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
            }
        }
    }
}

/// Clip gradients in place: first each element to ±`clip_value`, then the global L2 norm to
/// `clip_norm`. Returns the raw global norm, before any clipping; a non-finite value is an error
/// (the caller pauses training) and leaves the gradients untouched.
pub fn clip<F: Scalar>(grads: &mut Params<F>, clip_norm: Option<f64>, clip_value: Option<f64>) -> Result<f64, NnError> {
    if let Some((i, v)) = grads.first_non_finite() {
        return Err(NnError::Diverged {
            what: format!("gradient of {}", grads.names[i]),
            value: format!("{v}"),
        });
    }
    let norm = grads.norm(); // reported: the raw norm, before any clipping
    if let Some(cv) = clip_value {
        let (lo, hi) = (F::of(-cv), F::of(cv));
        for g in grads.values.iter_mut() {
            g.iter_mut().for_each(|x| *x = x.max(lo).min(hi));
        }
    }
    let clipped = if clip_value.is_some() { grads.norm() } else { norm };
    if let Some(max) = clip_norm {
        if clipped > max {
            // g ← g · max / ‖g‖
            let s = F::of(max / clipped);
            for g in grads.values.iter_mut() {
                g.iter_mut().for_each(|x| *x *= s);
            }
        }
    }
    Ok(norm)
}

/// Whether an internal parameter name is a bias (`….b`, `….b_hn`, `head.b_y`): weight decay
/// leaves those alone.
pub fn is_bias(name: &str) -> bool {
    name.rsplit('.')
        .next()
        .is_some_and(|last| last == "b" || last.starts_with("b_"))
}

/// An optimizer with its per-parameter state.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer<F> {
    /// Settings.
    pub spec: OptimSpec,
    /// First state (momentum velocity, Adagrad/RMSprop accumulator, Adam m).
    pub s1: Params<F>,
    /// Second state (Adam v; empty otherwise).
    pub s2: Params<F>,
    /// Updates done (Adam's t).
    pub t: u64,
}

impl<F: Scalar> Optimizer<F> {
    /// Zero state shaped like `params`.
    pub fn new(spec: OptimSpec, params: &Params<F>) -> Result<Self, NnError> {
        spec.check()?;
        let s2 = if matches!(spec.kind, OptimizerKind::Adam { .. }) {
            params.zeros_like()
        } else {
            Params::new()
        };
        Ok(Optimizer {
            spec,
            s1: params.zeros_like(),
            s2,
            t: 0,
        })
    }

    /// Learning rate at the next update: lr · schedule(t) · warm-up(t), where
    /// warm-up(t) = min(1, (t + 1) / warmup) for t updates done.
    pub fn lr(&self) -> f64 {
        let warm = if self.t < self.spec.warmup {
            (self.t + 1) as f64 / self.spec.warmup as f64
        } else {
            1.0
        };
        self.spec.lr * self.spec.schedule.factor(self.t) * warm
    }

    /// One update θ ← θ − lr · direction(g), after the decoupled decay θ ← θ − lr·λ·θ of the
    /// weight matrices when `weight_decay` λ > 0. Returns the learning rate used.
    pub fn step(&mut self, params: &mut Params<F>, grads: &Params<F>) -> f64 {
        self.step_except(params, grads, None)
    }

    /// [`Self::step`] leaving tensor `frozen` (e.g. a frozen embedding) and its state untouched.
    pub fn step_except(&mut self, params: &mut Params<F>, grads: &Params<F>, frozen: Option<usize>) -> f64 {
        let lr = self.lr();
        self.t += 1;
        if self.spec.weight_decay > 0.0 {
            // AdamW's decoupled decay (Loshchilov & Hutter 2019): not through the gradient, so
            // Adam's per-parameter scaling does not weaken it; biases keep their values, and so
            // does a frozen tensor.
            let keep = F::of(1.0 - lr * self.spec.weight_decay);
            for (i, (name, v)) in params.names.iter().zip(params.values.iter_mut()).enumerate() {
                if !is_bias(name) && Some(i) != frozen {
                    v.iter_mut().for_each(|x| *x *= keep);
                }
            }
        }
        with_simd(|| self.update(params, grads, F::of(lr), frozen));
        lr
    }

    /// The elementwise updates of [`Self::step`] (compiled for AVX2 where the CPU has it).
    #[inline(always)]
    fn update(&mut self, params: &mut Params<F>, grads: &Params<F>, lr_f: F, frozen: Option<usize>) {
        let one = F::one();
        for i in (0..params.values.len()).filter(|&i| Some(i) != frozen) {
            let p = params.values[i].as_slice_mut().expect("parameters are contiguous");
            let g = grads.values[i].as_slice().expect("gradients are contiguous");
            let s1 = self.s1.values[i].as_slice_mut().expect("state is contiguous");
            match self.spec.kind {
                OptimizerKind::Sgd { momentum } => {
                    // v ← μ v + g; θ ← θ − lr v
                    let mu = F::of(momentum);
                    for ((p, &g), v) in p.iter_mut().zip(g).zip(s1.iter_mut()) {
                        *v = mu * *v + g;
                        *p -= lr_f * *v;
                    }
                }
                OptimizerKind::Adagrad { eps } => {
                    // G ← G + g²; θ ← θ − lr g / (√G + ε)
                    let eps = F::of(eps);
                    for ((p, &g), acc) in p.iter_mut().zip(g).zip(s1.iter_mut()) {
                        *acc += g * g;
                        *p -= lr_f * g / (acc.sqrt() + eps);
                    }
                }
                OptimizerKind::Rmsprop { decay, eps } => {
                    // S ← ρ S + (1 − ρ) g²; θ ← θ − lr g / (√S + ε)
                    let (rho, eps) = (F::of(decay), F::of(eps));
                    for ((p, &g), acc) in p.iter_mut().zip(g).zip(s1.iter_mut()) {
                        *acc = rho * *acc + (one - rho) * g * g;
                        *p -= lr_f * g / (acc.sqrt() + eps);
                    }
                }
                OptimizerKind::Adam { beta1, beta2, eps } => {
                    // m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
                    // θ ← θ − lr · m̂ / (√v̂ + ε), m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)
                    let s2 = self.s2.values[i].as_slice_mut().expect("state is contiguous");
                    let (b1, b2) = (F::of(beta1), F::of(beta2));
                    let c1 = F::of(1.0 - beta1.powi(self.t as i32));
                    let c2 = F::of(1.0 - beta2.powi(self.t as i32));
                    let eps = F::of(eps);
                    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(s1.iter_mut()).zip(s2.iter_mut()) {
                        *m = b1 * *m + (one - b1) * g;
                        *v = b2 * *v + (one - b2) * g * g;
                        *p -= lr_f * (*m / c1) / ((*v / c2).sqrt() + eps);
                    }
                }
            }
        }
    }
}
