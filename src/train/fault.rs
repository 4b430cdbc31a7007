//! Fault injection for the reliability trials (`bench/reliability/`) and the tests that prove
//! what a run does when things go wrong. Read once from the environment variable
//! `RNN_LAB_FAULT`; unset (normal use) every hook is one load of a static and a branch.
//!
//! `RNN_LAB_FAULT` is a comma-separated list of:
//! - `spike@N`: before step N (1-based, once per process) multiply every parameter by 1000 — the
//!   training loss jumps by orders of magnitude while staying finite (a loss blow-up);
//! - `nan@N`: before step N (once per process) set the first parameter to NaN;
//! - `slow-save=MS`: sleep MS milliseconds inside every checkpoint write, after the bytes are
//!   written to the temporary file and before the rename (a wide window for `kill -9`);
//! - `slow-eval=MS`: sleep MS milliseconds inside every evaluation;
//! - `save-error=ENOSPC` (or `EROFS`, `EIO`), optionally `@K`: every checkpoint write (from the
//!   K-th on, counting from 1) fails with that error after the temporary file is written, as on a
//!   full disk or a read-only file system.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::trainer::Trainer;

/// The parsed `RNN_LAB_FAULT`.
#[derive(Debug, Default)]
struct Faults {
    spike_at: Option<u64>,
    nan_at: Option<u64>,
    slow_save: Option<Duration>,
    slow_eval: Option<Duration>,
    save_error: Option<(i32, u64)>,
}

static FAULTS: OnceLock<Faults> = OnceLock::new();
static SPIKED: AtomicBool = AtomicBool::new(false);
static NANED: AtomicBool = AtomicBool::new(false);
static SAVES: AtomicU64 = AtomicU64::new(0);

fn faults() -> &'static Faults {
    FAULTS.get_or_init(|| std::env::var("RNN_LAB_FAULT").map(|s| parse(&s)).unwrap_or_default())
}

fn parse(s: &str) -> Faults {
    let mut f = Faults::default();
    let ms = |v: &str| v.parse().ok().map(Duration::from_millis);
    for item in s.split(',').map(str::trim) {
        if let Some(n) = item.strip_prefix("spike@") {
            f.spike_at = n.parse().ok();
        } else if let Some(n) = item.strip_prefix("nan@") {
            f.nan_at = n.parse().ok();
        } else if let Some(v) = item.strip_prefix("slow-save=") {
            f.slow_save = ms(v);
        } else if let Some(v) = item.strip_prefix("slow-eval=") {
            f.slow_eval = ms(v);
        } else if let Some(v) = item.strip_prefix("save-error=") {
            let (name, from) = v.split_once('@').unwrap_or((v, "1"));
            let code = match name {
                "ENOSPC" => Some(libc::ENOSPC),
                "EROFS" => Some(libc::EROFS),
                "EIO" => Some(libc::EIO),
                _ => None,
            };
            f.save_error = code.zip(from.parse().ok());
        }
    }
    f
}

/// Before a training step: `spike@N`, `nan@N`.
pub(super) fn before_step(t: &mut Trainer) {
    let f = faults();
    let next = t.step + 1;
    if f.spike_at == Some(next) && !SPIKED.swap(true, Ordering::Relaxed) {
        for v in &mut t.model.params.values {
            v.mapv_inplace(|x| x * 1000.0);
        }
    }
    if f.nan_at == Some(next) && !NANED.swap(true, Ordering::Relaxed) {
        if let Some(v) = t.model.params.values.first_mut().and_then(|v| v.iter_mut().next()) {
            *v = f32::NAN;
        }
    }
}

/// Inside a checkpoint write, between writing the temporary file and renaming it:
/// `slow-save`, `save-error`.
pub(super) fn in_save() -> std::io::Result<()> {
    let f = faults();
    if let Some(d) = f.slow_save {
        std::thread::sleep(d);
    }
    let n = SAVES.fetch_add(1, Ordering::Relaxed) + 1;
    match f.save_error {
        Some((code, from)) if n >= from => Err(std::io::Error::from_raw_os_error(code)),
        _ => Ok(()),
    }
}

/// Inside an evaluation: `slow-eval`.
pub(super) fn in_eval() {
    if let Some(d) = faults().slow_eval {
        std::thread::sleep(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_item_and_ignores_junk() {
        let f = parse("spike@12, nan@3,slow-save=250,slow-eval=5,save-error=ENOSPC@3,bogus");
        assert_eq!(f.spike_at, Some(12));
        assert_eq!(f.nan_at, Some(3));
        assert_eq!(f.slow_save, Some(Duration::from_millis(250)));
        assert_eq!(f.slow_eval, Some(Duration::from_millis(5)));
        assert_eq!(f.save_error, Some((libc::ENOSPC, 3)));
        assert_eq!(parse("save-error=EROFS").save_error, Some((libc::EROFS, 1)));
        let none = parse("");
        assert!(none.spike_at.is_none() && none.save_error.is_none());
    }
}
