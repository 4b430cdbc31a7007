//! End to end in a real terminal: runs the `tui_demo` example (the real TUI over the fake
//! trainer) inside tmux, as a user would: open the default experiment, start training, watch the
//! step counter move, change the temperature, quit saving, and check the terminal is restored
//! (alternate screen left, canonical mode back).
//!
//! Needs tmux for a pseudo-terminal. In CI (`CI` set, as `.ci/run` runs, which installs tmux) a
//! missing tmux fails the test; on a developer's machine the test is skipped with a loud
//! SKIPPED line on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `tui_demo` example next to this test's profile directory, built if missing.
fn demo_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?.to_path_buf();
    let bin = profile_dir.join("examples").join("tui_demo");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--example", "tui_demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if release {
        cmd.arg("--release");
    }
    // Always rebuild: cheap when fresh, and a stale demo would test old code.
    let ok = cmd.status().ok()?.success();
    (ok && bin.is_file()).then_some(bin)
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}

impl Session {
    fn capture(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0]).unwrap_or_default()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.0.as_str()];
        args.extend_from_slice(keys);
        let _ = tmux(&args);
    }

    /// Wait until the screen satisfies `pred`; panics with the screen after `secs`.
    fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if t0.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The number after "step " on the status line.
fn step_counter(screen: &str) -> Option<u64> {
    let i = screen.find("step ")?;
    let digits: String = screen[i + 5..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

#[test]
fn drive_the_tui_in_tmux() -> Result<(), Box<dyn std::error::Error>> {
    if tmux(&["-V"]).is_none() {
        if in_ci() {
            return Err("tmux is not installed, and CI is set: .ci/run installs tmux, so the \
                        end-to-end TUI test must run here"
                .into());
        }
        eprintln!(
            "\n*** SKIPPED drive_the_tui_in_tmux: tmux is not installed, so the TUI was NOT driven \
             end to end (install tmux; in CI, with CI=true, this is a failure) ***\n"
        );
        return Ok(());
    }
    let Some(bin) = demo_binary() else {
        return Err("could not build the tui_demo example".into());
    };
    let tmp = tempfile::tempdir()?;
    let name = format!("rnnlab-e2e-{}", std::process::id());
    let shell_cmd = format!(
        "RNN_LAB_DEMO_STEP_MS=5 {}; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 60",
        shell_quote(&bin)
    );
    let dir = tmp.path().to_string_lossy().into_owned();
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "100",
        "-y",
        "30",
        "-c",
        &dir,
        &shell_cmd,
    ])
    .ok_or("tmux new-session failed")?;
    let s = Session(name);

    s.wait_for("the experiment browser", 10, |t| {
        t.contains("char-lstm") && t.contains("Enter open")
    });
    s.keys(&["Enter"]);
    s.wait_for("the training screen", 5, |t| {
        t.contains("READY") && t.contains("space start")
    });
    s.keys(&["Space"]);
    let first = s.wait_for("steps", 10, |t| step_counter(t).is_some_and(|n| n > 0));
    let n1 = step_counter(&first).unwrap_or(0);
    let later = s.wait_for("the step counter to move", 10, |t| {
        step_counter(t).is_some_and(|n| n > n1 + 20)
    });
    assert!(later.contains("RUNNING"), "{later}");
    s.keys(&["+", "+", "+"]);
    s.wait_for("temperature 0.95", 5, |t| t.contains("T 0.95"));
    s.keys(&["Space"]);
    s.wait_for("paused", 5, |t| t.contains("PAUSED"));
    s.keys(&["q"]);
    s.wait_for("the quit question", 5, |t| {
        t.contains("Save a checkpoint before quitting?")
    });
    s.keys(&["y"]);
    let end = s.wait_for("exit", 10, |t| t.contains("EXIT="));
    assert!(end.contains("EXIT=0"), "{end}");
    assert!(!end.contains("rnn-lab  Browser"), "the TUI screen is gone:\n{end}");
    let canon = s.wait_for("stty output", 5, |t| t.lines().any(|l| l.trim().ends_with("icanon")));
    assert!(
        canon.lines().any(|l| l.trim() == "icanon"),
        "raw mode left on:\n{canon}"
    );
    let alt = tmux(&["display-message", "-p", "-t", &s.0, "#{alternate_on}"]).unwrap_or_default();
    assert_eq!(alt.trim(), "0", "alternate screen left");
    // The run directory was written and ends with a checkpoint.
    let run = std::fs::read_dir(tmp.path().join("runs"))?
        .filter_map(Result::ok)
        .next()
        .ok_or("no run dir")?;
    assert!(run.path().join("latest.safetensors").is_file());
    Ok(())
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

#[test]
fn piped_stdout_is_refused_with_a_pointer_to_headless() -> Result<(), Box<dyn std::error::Error>> {
    let Some(bin) = demo_binary() else {
        return Err("could not build the tui_demo example".into());
    };
    let tmp = tempfile::tempdir()?;
    let out = Command::new(bin).current_dir(tmp.path()).output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("stdout is not a terminal; use `rnn-lab --headless EXP.toml`"),
        "{stderr}"
    );
    Ok(())
}
