//! Other programs (sbatch, squeue, scancel), each with a time-out: a scheduler that does not
//! answer becomes an error, never a hang.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Why a program could not be run to the end.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExternalError {
    /// Not installed or not on PATH.
    #[error("{program} not found: is it installed and on PATH?")]
    Missing {
        /// The program.
        program: String,
    },
    /// Did not finish in time; it was killed.
    #[error("{program} did not answer within {secs} s")]
    Timeout {
        /// The program.
        program: String,
        /// The time-out.
        secs: u64,
    },
    /// Could not be started or waited for.
    #[error("{program}: {why}")]
    Io {
        /// The program.
        program: String,
        /// What went wrong.
        why: String,
    },
}

/// What a finished program printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// The first non-empty line of stderr (else stdout), for one-line messages.
    pub fn first_line(&self) -> String {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("(no output)")
            .to_string()
    }
}

/// Run `program args…` with no input; kill it (and its process group) after `timeout`.
///
/// # Errors
/// [`ExternalError`]: missing, timed out, or could not be started.
pub fn run(program: &str, args: &[String], timeout: Duration) -> Result<Output, ExternalError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ExternalError::Missing {
                program: program.to_string(),
            },
            _ => ExternalError::Io {
                program: program.to_string(),
                why: e.to_string(),
            },
        })?;
    // Read both pipes on their own threads so that a chatty program never blocks on a full pipe.
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = reader(child.stdout.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let err = reader(child.stderr.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= timeout => {
                // SAFETY: signalling the process group this function started.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.wait();
                return Err(ExternalError::Timeout {
                    program: program.to_string(),
                    secs: timeout.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                return Err(ExternalError::Io {
                    program: program.to_string(),
                    why: e.to_string(),
                })
            }
        }
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_named() {
        let e = run("rnn-lab-no-such-program", &[], Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, ExternalError::Missing { .. }), "{e}");
    }

    #[test]
    fn a_hanging_program_is_killed() {
        let t = Instant::now();
        let e = run("sleep", &["30".into()], Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, ExternalError::Timeout { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn output_is_captured() {
        let o = run(
            "sh",
            &["-c".into(), "echo out; echo err >&2; exit 3".into()],
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(o.stdout.trim(), "out");
        assert_eq!(o.first_line(), "err");
    }
}
