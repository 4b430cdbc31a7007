//! The README's tour, run verbatim: every command of the indented shell blocks of its section
//! "A five-minute tour (headless)", in order, on a fresh copy of the repository's experiments and
//! the files they read, after another run of the same experiment already exists (as the TUI
//! leaves one). A command that fails, or prints an error or a warning, fails the test with its
//! output.
//!
//! A small extractor rather than the trycmd crate: the tour is written for a shell (an alias,
//! globs such as `ls runs/default-*/`, comments after `#`), which trycmd does not interpret, and
//! its outputs (losses, timings, samples) are not fixed text to compare. Each command runs in
//! `sh -c`, with `rnn-lab` on PATH as a link to the binary cargo built; `cargo build` is
//! skipped (cargo test has built it) and the `alias` line is what the link replaces.

use std::path::Path;
use std::process::Command;

/// The tour's commands: the lines of indented (4-space) blocks in the section, blank lines left
/// out.
fn tour_commands(readme: &str) -> Vec<String> {
    let start = readme
        .find("## A five-minute tour (headless)")
        .expect("the README has its tour section");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// Run `line` in `sh -c` in `dir`, with `dir/.bin` (holding an `rnn-lab` link to the binary
/// cargo built) first on PATH.
fn sh(dir: &Path, line: &str) -> std::process::Output {
    let bin = dir.join(".bin");
    if !bin.exists() {
        std::fs::create_dir_all(&bin).expect("mkdir .bin");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rnn-lab"), bin.join("rnn-lab")).expect("link rnn-lab");
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("PATH", std::env::join_paths(paths).expect("PATH"))
        .current_dir(dir)
        .output()
        .expect("run sh")
}

#[test]
fn the_readme_tour_runs_verbatim_after_a_tui_run() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let commands = tour_commands(&readme);
    assert!(
        commands.iter().filter(|c| c.starts_with("rnn-lab ")).count() >= 8,
        "the tour should have its commands: {commands:?}"
    );

    // A fresh copy: the experiments and what default.toml reads (README, docs, sources).
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    for sub in ["experiments", "docs", "src"] {
        copy_dir(&repo.join(sub), &d.join(sub));
    }
    std::fs::copy(repo.join("README.md"), d.join("README.md")).expect("copy README");

    // A run of the same experiment made before the tour, as opening the TUI makes.
    let o = sh(d, "rnn-lab train experiments/default.toml --steps 2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut ran = 0;
    for line in &commands {
        if line.starts_with("cargo build") || line.starts_with("alias rnn-lab=") {
            continue;
        }
        let o = sh(d, line);
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(
            o.status.success() && !err.contains("error:") && !err.contains("warning:"),
            "README tour command failed ({}): {line}\nstdout:\n{out}\nstderr:\n{err}",
            o.status
        );
        if line.starts_with("rnn-lab sample") || line.starts_with("rnn-lab eval") || line.starts_with("rnn-lab probe") {
            assert!(!out.trim().is_empty(), "{line}: printed nothing");
        }
        if line.contains("--resume") {
            // The tour's own run (newest), not the earlier 2-step one.
            assert!(
                err.contains("from step 30)"),
                "{line}: resumed from the wrong run:\n{err}"
            );
        }
        ran += 1;
    }
    assert!(ran >= 8, "ran {ran} commands");
}

#[test]
fn the_extractor_reads_indented_blocks_of_the_tour_only() {
    let md = "# x\n\n    not this\n\n## A five-minute tour (headless)\n\n    a one   # c\n    b\n\ntext\n\n    c\n\n## Next\n\n    d\n";
    assert_eq!(tour_commands(md), ["a one   # c", "b", "c"]);
}
