//! A 2-D projection of word vectors by principal component analysis, for the TUI's map.
//!
//! For n rows x_i (unit vectors, so that the picture reflects cosine similarity), centred as
//! y_i = x_i − x̄, the covariance is C = (1/n) Σ y_i y_iᵀ (dim × dim). Its two leading eigenvectors
//! e₁, e₂ (found by power iteration, the second after deflating C − λ₁e₁e₁ᵀ) are the axes, and
//! word i is drawn at (y_i·e₁, y_i·e₂). An eigenvector's sign is arbitrary; [`Projection::new`]
//! takes the previous axes and flips each new one to point the same way, so the picture does
//! not mirror itself between redraws while the vectors move.

/// Two principal axes and the points on them.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The first and second principal axes (unit vectors of length dim).
    pub axes: [Vec<f32>; 2],
    /// Variance along each axis (λ₁ ≥ λ₂).
    pub variance: [f64; 2],
    /// (x, y) of each row, in the rows' order.
    pub points: Vec<[f32; 2]>,
}

/// Power iteration for the leading eigenvector of the symmetric positive semi-definite `c`
/// (dim × dim, row-major), from `start`: v ← Cv / |Cv| until it stops turning. Returns (λ, v).
fn leading(c: &[f64], dim: usize, start: &[f64]) -> (f64, Vec<f64>) {
    let mut v = start.to_vec();
    let norm = |x: &[f64]| x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let n0 = norm(&v);
    if n0 == 0.0 {
        v = vec![0.0; dim];
        v[0] = 1.0;
    } else {
        v.iter_mut().for_each(|a| *a /= n0);
    }
    let mut lambda = 0.0;
    let mut w = vec![0.0; dim];
    for _ in 0..500 {
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = c[i * dim..(i + 1) * dim].iter().zip(&v).map(|(a, b)| a * b).sum();
        }
        let n = norm(&w);
        if n == 0.0 {
            return (0.0, v);
        }
        // Rayleigh quotient vᵀCv = v·w (|v| = 1).
        lambda = v.iter().zip(&w).map(|(a, b)| a * b).sum();
        let mut change = 0.0f64;
        for (vi, wi) in v.iter_mut().zip(&w) {
            let nv = wi / n;
            change = change.max((nv - *vi).abs());
            *vi = nv;
        }
        if change < 1e-9 {
            break;
        }
    }
    (lambda, v)
}

impl Projection {
    /// Project `rows` (n × dim, row-major) onto their two principal axes, each axis signed to
    /// agree with `previous` (when given, same dim).
    pub fn new(rows: &[f32], dim: usize, previous: Option<&[Vec<f32>; 2]>) -> Projection {
        let n = rows.len().checked_div(dim).unwrap_or(0);
        let mut mean = vec![0.0f64; dim];
        for r in rows.chunks_exact(dim.max(1)).take(n) {
            for (m, x) in mean.iter_mut().zip(r) {
                *m += f64::from(*x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        // C = (1/n) Σ y yᵀ, y = x − x̄.
        let mut c = vec![0.0f64; dim * dim];
        let mut y = vec![0.0f64; dim];
        for r in rows.chunks_exact(dim.max(1)).take(n) {
            for ((yi, x), m) in y.iter_mut().zip(r).zip(&mean) {
                *yi = f64::from(*x) - m;
            }
            for i in 0..dim {
                let yi = y[i];
                for (cij, yj) in c[i * dim..(i + 1) * dim].iter_mut().zip(&y) {
                    *cij += yi * yj;
                }
            }
        }
        c.iter_mut().for_each(|x| *x /= n.max(1) as f64);
        // A fixed start not orthogonal to anything in particular; the previous axis when known
        // (it is close, so few iterations are needed).
        let fixed: Vec<f64> = (0..dim).map(|i| 1.0 + (i as f64 * 0.618_034).fract()).collect();
        let start = |k: usize| -> Vec<f64> {
            previous.map_or_else(|| fixed.clone(), |p| p[k].iter().map(|x| f64::from(*x)).collect())
        };
        let (l1, e1) = leading(&c, dim, &start(0));
        // Deflate: C − λ₁ e₁e₁ᵀ has e₂ as its leading eigenvector.
        for i in 0..dim {
            for j in 0..dim {
                c[i * dim + j] -= l1 * e1[i] * e1[j];
            }
        }
        let mut s2 = start(1);
        // Keep the start off e₁ (Gram–Schmidt), else the iteration may stall on round-off.
        let d: f64 = s2.iter().zip(&e1).map(|(a, b)| a * b).sum();
        s2.iter_mut().zip(&e1).for_each(|(a, b)| *a -= d * b);
        let (l2, e2) = leading(&c, dim, &s2);
        let mut axes = [e1, e2];
        if let Some(p) = previous {
            for (a, q) in axes.iter_mut().zip(p) {
                let agree: f64 = a.iter().zip(q).map(|(x, y)| x * f64::from(*y)).sum();
                if agree < 0.0 {
                    a.iter_mut().for_each(|x| *x = -*x);
                }
            }
        }
        let points = rows
            .chunks_exact(dim.max(1))
            .take(n)
            .map(|r| {
                let p = |e: &[f64]| -> f32 {
                    r.iter()
                        .zip(&mean)
                        .zip(e)
                        .map(|((x, m), e)| (f64::from(*x) - m) * e)
                        .sum::<f64>() as f32
                };
                [p(&axes[0]), p(&axes[1])]
            })
            .collect();
        Projection {
            axes: axes.map(|a| a.into_iter().map(|x| x as f32).collect()),
            variance: [l1.max(0.0), l2.max(0.0)],
            points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points x = 3a·u + 1b·v + 0.1c·w for orthonormal u, v, w in 4-D and a, b, c over a grid:
    /// the axes must be ±u and ±v, with variances 9·var(a) and var(b).
    #[test]
    fn finds_the_planted_axes_and_variances() {
        let s = 0.5f32;
        let u = [s, s, s, s];
        let v = [s, -s, s, -s];
        let w = [s, s, -s, -s];
        let vals = [-1.0f32, 0.0, 1.0];
        let mut rows = Vec::new();
        for a in vals {
            for b in vals {
                for c in vals {
                    for k in 0..4 {
                        rows.push(3.0 * a * u[k] + b * v[k] + 0.1 * c * w[k] + 7.0);
                    }
                }
            }
        }
        let p = Projection::new(&rows, 4, None);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f32>();
        assert!((dot(&p.axes[0], &u).abs() - 1.0).abs() < 1e-5, "{:?}", p.axes);
        assert!((dot(&p.axes[1], &v).abs() - 1.0).abs() < 1e-5, "{:?}", p.axes);
        // var(a) over {−1, 0, 1} uniformly = 2/3.
        assert!((p.variance[0] - 9.0 * 2.0 / 3.0).abs() < 1e-6, "{:?}", p.variance);
        assert!((p.variance[1] - 2.0 / 3.0).abs() < 1e-6, "{:?}", p.variance);
        // The point of (a, b, c) = (1, −1, 0) (index 2·9 + 0·3 + 1) is (±3, ∓1).
        let q = p.points[19];
        assert!(
            (q[0].abs() - 3.0).abs() < 1e-4 && (q[1].abs() - 1.0).abs() < 1e-4,
            "{q:?}"
        );
    }

    #[test]
    fn keeps_the_previous_orientation() {
        let rows: Vec<f32> = (0..40)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) * if i % 2 == 0 { 2.0 } else { 1.0 })
            .collect();
        let first = Projection::new(&rows, 2, None);
        let flipped = [
            first.axes[0].iter().map(|x| -x).collect::<Vec<_>>(),
            first.axes[1].clone(),
        ];
        let again = Projection::new(&rows, 2, Some(&flipped));
        for (a, b) in again.axes[0].iter().zip(&flipped[0]) {
            assert!((a - b).abs() < 1e-5);
        }
        for (p, q) in again.points.iter().zip(&first.points) {
            assert!((p[0] + q[0]).abs() < 1e-4 && (p[1] - q[1]).abs() < 1e-4);
        }
    }
}
