//! Numbers derived from a probe, for the probe views and `rnn-lab probe`: per-unit saturation
//! fractions, variance, correlation with a text feature, the unit order used for display, the
//! gradient's decay per step and a one-line description of the model behind a report.
//!
//! Matrices are time-major `[T][H]` as in [`crate::infer::probe`]; rows may be ragged or hold
//! non-finite values (a report is data from another thread): missing and non-finite entries are
//! skipped, never indexed blindly.

use super::probe::{Direction, ProbeReport};

/// Below this a gate counts as left-saturated (≈ closed), as in Karpathy et al. 2015.
pub const LEFT_SATURATED: f32 = 0.1;
/// Above this a gate counts as right-saturated (≈ open).
pub const RIGHT_SATURATED: f32 = 0.9;

/// The number of units of a `[T][H]` matrix (the longest row).
pub fn width(m: &[Vec<f32>]) -> usize {
    m.iter().map(Vec::len).max().unwrap_or(0)
}

/// Entry `[t][u]` when present and finite.
pub fn value(m: &[Vec<f32>], t: usize, u: usize) -> Option<f32> {
    m.get(t).and_then(|row| row.get(u)).copied().filter(|v| v.is_finite())
}

/// Fractions of time steps one unit spends saturated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Saturation {
    /// Fraction of steps with value < [`LEFT_SATURATED`].
    pub left: f32,
    /// Fraction of steps with value > [`RIGHT_SATURATED`].
    pub right: f32,
}

/// Per unit, the fraction of time steps left- and right-saturated (finite values only; a unit
/// with no finite value gets 0, 0).
pub fn saturation(m: &[Vec<f32>]) -> Vec<Saturation> {
    (0..width(m))
        .map(|u| {
            let (mut n, mut left, mut right) = (0usize, 0usize, 0usize);
            for t in 0..m.len() {
                if let Some(v) = value(m, t, u) {
                    n += 1;
                    left += usize::from(v < LEFT_SATURATED);
                    right += usize::from(v > RIGHT_SATURATED);
                }
            }
            if n == 0 {
                Saturation::default()
            } else {
                Saturation {
                    left: left as f32 / n as f32,
                    right: right as f32 / n as f32,
                }
            }
        })
        .collect()
}

/// Mean and variance (population) of one unit over time; `None` without finite values.
fn moments(m: &[Vec<f32>], u: usize) -> Option<(f64, f64)> {
    let xs: Vec<f64> = (0..m.len()).filter_map(|t| value(m, t, u)).map(f64::from).collect();
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    Some((mean, var))
}

/// Per unit, the variance of its values over time (0 without data).
pub fn variance(m: &[Vec<f32>]) -> Vec<f32> {
    (0..width(m))
        .map(|u| moments(m, u).map_or(0.0, |(_, v)| v as f32))
        .collect()
}

/// Per unit, Pearson's r between the unit's values and `feature[t]` over the steps where both
/// exist (0 when undefined: constant unit or feature, fewer than two points).
pub fn correlation(m: &[Vec<f32>], feature: &[f32]) -> Vec<f32> {
    (0..width(m))
        .map(|u| {
            let pairs: Vec<(f64, f64)> = (0..m.len())
                .filter_map(|t| {
                    let x = value(m, t, u)?;
                    let y = feature.get(t).copied().filter(|y| y.is_finite())?;
                    Some((f64::from(x), f64::from(y)))
                })
                .collect();
            pearson(&pairs)
        })
        .collect()
}

fn pearson(pairs: &[(f64, f64)]) -> f32 {
    if pairs.len() < 2 {
        return 0.0;
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    let d = (sxx * syy).sqrt();
    if d > 1e-12 && d.is_finite() {
        (sxy / d) as f32
    } else {
        0.0
    }
}

/// A property of the probe text at each time step, to correlate units with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Characters since the last newline (0 at the start of a line).
    LinePosition,
    /// 1 inside "double quotes" (the quote characters themselves count as inside).
    InsideQuotes,
    /// 1 inside (), [] or {} at any depth (brackets themselves count as inside).
    InsideBrackets,
    /// 1 on whitespace.
    IsSpace,
    /// 1 on a vowel (a e i o u, either case).
    IsVowel,
    /// 1 on ASCII punctuation.
    IsPunctuation,
}

impl Feature {
    /// Every feature, in the order `f` cycles through them.
    pub const ALL: [Feature; 6] = [
        Feature::LinePosition,
        Feature::InsideQuotes,
        Feature::InsideBrackets,
        Feature::IsSpace,
        Feature::IsVowel,
        Feature::IsPunctuation,
    ];

    /// Name shown in the views.
    pub fn name(self) -> &'static str {
        match self {
            Feature::LinePosition => "position in line",
            Feature::InsideQuotes => "inside quotes",
            Feature::InsideBrackets => "inside brackets",
            Feature::IsSpace => "is space",
            Feature::IsVowel => "is vowel",
            Feature::IsPunctuation => "is punctuation",
        }
    }

    /// The next feature in [`Feature::ALL`].
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|&f| f == self).unwrap_or(0);
        Self::ALL
            .get((i + 1) % Self::ALL.len())
            .copied()
            .unwrap_or(Feature::LinePosition)
    }

    /// The feature's value at each token (tokens are display strings, one per step; a
    /// multi-character token counts by its first character, except for line position, which
    /// counts tokens).
    pub fn values(self, tokens: &[String]) -> Vec<f32> {
        let mut out = Vec::with_capacity(tokens.len());
        let (mut col, mut quoted, mut depth) = (0usize, false, 0usize);
        for tok in tokens {
            let c = tok.chars().next().unwrap_or('\0');
            let v = match self {
                Feature::LinePosition => {
                    let v = col as f32;
                    col = if tok.contains('\n') { 0 } else { col + 1 };
                    v
                }
                Feature::InsideQuotes => {
                    let inside = quoted || c == '"';
                    if c == '"' {
                        quoted = !quoted;
                    }
                    f32::from(u8::from(inside))
                }
                Feature::InsideBrackets => {
                    if matches!(c, '(' | '[' | '{') {
                        depth += 1;
                    }
                    let inside = depth > 0;
                    if matches!(c, ')' | ']' | '}') {
                        depth = depth.saturating_sub(1);
                    }
                    f32::from(u8::from(inside))
                }
                Feature::IsSpace => f32::from(u8::from(!tok.is_empty() && tok.chars().all(char::is_whitespace))),
                Feature::IsVowel => f32::from(u8::from(matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'))),
                Feature::IsPunctuation => f32::from(u8::from(c.is_ascii_punctuation())),
            };
            out.push(v);
        }
        out
    }
}

/// How units are ordered top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortMode {
    /// By unit index.
    Index,
    /// Most variable over the probe first.
    Variance,
    /// Largest |Pearson r| with the chosen [`Feature`] first.
    Correlation,
}

impl SortMode {
    /// The next mode in the cycle index → variance → correlation.
    pub fn next(self) -> Self {
        match self {
            SortMode::Index => SortMode::Variance,
            SortMode::Variance => SortMode::Correlation,
            SortMode::Correlation => SortMode::Index,
        }
    }
}

/// Unit indices in display order; ties keep index order. Always a permutation of
/// `0..width(m)`.
pub fn order(m: &[Vec<f32>], sort: SortMode, feature: Feature, tokens: &[String]) -> Vec<usize> {
    let h = width(m);
    let mut units: Vec<usize> = (0..h).collect();
    let keys: Vec<f32> = match sort {
        SortMode::Index => return units,
        SortMode::Variance => variance(m),
        SortMode::Correlation => correlation(m, &feature.values(tokens))
            .into_iter()
            .map(f32::abs)
            .collect(),
    };
    let key = |u: usize| {
        keys.get(u)
            .copied()
            .filter(|k| k.is_finite())
            .unwrap_or(f32::NEG_INFINITY)
    };
    // Descending key; stable sort keeps index order among ties.
    units.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    units
}

/// A short description of the model behind a report, from what it recorded: cell kind (from
/// the gate names), layers × hidden size, "bi" when bidirectional. E.g. "lstm 2×64".
pub fn describe(report: &ProbeReport) -> String {
    let Some(first) = report.dirs.first() else {
        return "empty probe".into();
    };
    let has = |n: &str| first.gates.iter().any(|g| g.name == n);
    let cell = if first.gates.is_empty() {
        "rnn"
    } else if has("reset") || has("update_z") {
        "gru-pt"
    } else if has("relevance") {
        "gru"
    } else if has("forget") || first.cell.is_some() {
        "lstm"
    } else {
        "gated"
    };
    let mut layers: Vec<usize> = report.dirs.iter().map(|d| d.layer).collect();
    layers.sort_unstable();
    layers.dedup();
    let hidden = width(&first.hidden);
    let bi = if report.dirs.iter().any(|d| d.direction == Direction::Bwd) {
        " bi"
    } else {
        ""
    };
    format!("{cell} {}×{hidden}{bi}", layers.len())
}

/// The geometric factor by which the gradient norm changes per step back in time, from a
/// least-squares fit of log₁₀ ‖∂L/∂a⟨t⟩‖ against distance (e.g. 0.6 = shrinks 40% per step).
/// `None` with fewer than two usable points.
pub fn decay_per_step(grad_norm: &[f32]) -> Option<f64> {
    let n = grad_norm.len();
    let pts: Vec<(f64, f64)> = grad_norm
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_finite() && **g > 0.0)
        .map(|(t, &g)| ((n - 1 - t) as f64, f64::from(g).log10()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let k = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let f = 10f64.powf(sxy / sxx);
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_fractions() {
        // unit 0: 0.05, 0.5, 0.95, 0.95 → left 1/4, right 2/4; unit 1 always 0.5.
        let m = vec![vec![0.05, 0.5], vec![0.5, 0.5], vec![0.95, 0.5], vec![0.95, 0.5]];
        let s = saturation(&m);
        assert_eq!(s.len(), 2);
        assert!((s[0].left - 0.25).abs() < 1e-6 && (s[0].right - 0.5).abs() < 1e-6);
        assert_eq!(s[1], Saturation::default());
        assert!(saturation(&[]).is_empty());
    }

    #[test]
    fn saturation_skips_nan_and_ragged() {
        let m = vec![vec![0.0, 1.0], vec![f32::NAN], vec![0.0, 0.0]];
        let s = saturation(&m);
        assert_eq!(s[0].left, 1.0);
        assert_eq!(s[1].left, 0.5);
        assert_eq!(s[1].right, 0.5);
    }

    #[test]
    fn variance_order() {
        // unit 1 varies most, unit 2 some, unit 0 not at all.
        let m = vec![vec![0.3, -1.0, 0.1], vec![0.3, 1.0, -0.1], vec![0.3, -1.0, 0.1]];
        assert_eq!(order(&m, SortMode::Variance, Feature::IsSpace, &[]), vec![1, 2, 0]);
        assert_eq!(order(&m, SortMode::Index, Feature::IsSpace, &[]), vec![0, 1, 2]);
    }

    #[test]
    fn correlation_order() {
        let tokens: Vec<String> = "a b c".chars().map(String::from).collect();
        let space = Feature::IsSpace.values(&tokens);
        assert_eq!(space, vec![0.0, 1.0, 0.0, 1.0, 0.0]);
        // unit 2 = the feature, unit 0 = its negation (|r| = 1 too), unit 1 = noise.
        let m: Vec<Vec<f32>> = space
            .iter()
            .enumerate()
            .map(|(t, &s)| vec![-s, if t == 0 { 0.4 } else { 0.1 }, s])
            .collect();
        let r = correlation(&m, &space);
        assert!((r[0] + 1.0).abs() < 1e-5 && (r[2] - 1.0).abs() < 1e-5);
        assert!(r[1].abs() < 0.7);
        let o = order(&m, SortMode::Correlation, Feature::IsSpace, &tokens);
        assert_eq!(o, vec![0, 2, 1]);
    }

    #[test]
    fn features_from_text() {
        let tokens: Vec<String> = "ab\n\"c\"(d)".chars().map(String::from).collect();
        assert_eq!(
            Feature::LinePosition.values(&tokens),
            vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(
            Feature::InsideQuotes.values(&tokens),
            vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(
            Feature::InsideBrackets.values(&tokens),
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        );
        assert_eq!(Feature::IsVowel.values(&tokens)[0], 1.0);
    }

    #[test]
    fn correlation_degenerate() {
        assert_eq!(correlation(&[vec![1.0]], &[1.0]), vec![0.0]);
        assert_eq!(correlation(&[vec![1.0], vec![1.0]], &[0.0, 1.0]), vec![0.0]);
        assert!(correlation(&[], &[]).is_empty());
    }
}
