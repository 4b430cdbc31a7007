//! The regularisation and recipe options end to end through the real binary: a run with
//! variational dropout (recurrent and whole-token too), tied weights, weight decay, warm-up,
//! the mean loss and random windows resumes exactly; a bad tie is a located error.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use cli::{run, stderr};

fn setup(model: &str, training: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "the quick brown fox jumps over the lazy dog.\n".repeat(60);
    std::fs::write(dir.path().join("corpus.txt"), text).expect("write corpus");
    let exp = format!(
        "[experiment]\nname = \"reg\"\nseed = 5\n[data]\nfiles = [\"corpus.txt\"]\n\
         [model]\ncell = \"lstm\"\nhidden = 16\nlayers = 2\n{model}\n\
         [training]\nbatch_size = 4\nseq_len = 16\nsteps = 20\nlog_every = 5\neval_every = 10\n\
         checkpoint_every = 10\nsample_every = 10\nprobe_every = 10\n{training}"
    );
    std::fs::write(dir.path().join("reg.toml"), exp).expect("write experiment");
    dir
}

fn metrics(out: &Path) -> Vec<(u64, String, String)> {
    let run_dir = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .next()
        .expect("a run folder");
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .expect("metrics.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|x| x["step"].as_u64().unwrap_or(0) > 10)
        .map(|x| {
            (
                x["step"].as_u64().unwrap_or(0),
                x["train_loss"].to_string(),
                x["val_loss"].to_string(),
            )
        })
        .collect()
}

fn latest(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .next()
        .expect("a run folder")
        .join("latest.safetensors")
}

/// Every new option at once: the masks and windows are functions of (seed, step), so the second
/// half of a resumed run logs the losses of the uninterrupted one.
#[test]
fn resumed_run_with_dropout_and_the_recipe_options_matches() {
    for batches in ["contiguous", "random"] {
        let d = setup(
            "embedding = 16\ntie_weights = true\ndropout = 0.3\ndropout_kind = \"variational\"\n\
             dropout_recurrent = 0.2\ndropout_embedding = 0.1\ninit = \"pytorch\"\ninit_recurrent = \"orthogonal\"",
            &format!("weight_decay = 0.01\nwarmup_steps = 5\nloss = \"mean\"\nlr = 0.01\nbatches = \"{batches}\""),
        );
        let full = run(&["train", "reg.toml", "--out", "full", "--threads", "2"], d.path());
        assert!(full.status.success(), "{}", stderr(&full));
        let half = run(
            &["train", "reg.toml", "--steps", "10", "--out", "half", "--threads", "2"],
            d.path(),
        );
        assert!(half.status.success(), "{}", stderr(&half));
        let ck = latest(&d.path().join("half"));
        let ck = ck.to_str().expect("utf-8 path");
        let resumed = run(
            &[
                "train",
                "reg.toml",
                "--resume",
                ck,
                "--out",
                "resumed",
                "--threads",
                "2",
            ],
            d.path(),
        );
        assert!(resumed.status.success(), "{}", stderr(&resumed));
        let a = metrics(&d.path().join("full"));
        assert!(!a.is_empty());
        assert_eq!(a, metrics(&d.path().join("resumed")), "{batches}: resumed run differs");
        // Sampling and evaluation read the checkpoint (tied, no dropout at inference).
        let s = run(&["sample", ck, "--length", "20"], d.path());
        assert!(s.status.success(), "{}", stderr(&s));
    }
}

/// Tying with sizes that disagree, and recurrent dropout with standard masks, are located
/// one-line errors with exit status 2.
#[test]
fn bad_regularisation_settings_are_located_errors() {
    for (model, key) in [
        ("embedding = 8\ntie_weights = true", "tie_weights"),
        ("tie_weights = true", "tie_weights"),
        ("dropout = 1.0", "dropout"),
        ("dropout_recurrent = 0.2", "dropout_recurrent"),
    ] {
        let d = setup(model, "");
        let o = run(&["check", "reg.toml"], d.path());
        assert_eq!(o.status.code(), Some(2), "{model}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("reg.toml") && e.contains(key), "{model}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
    }
}
