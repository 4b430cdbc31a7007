#!/usr/bin/env python3
"""Disk trouble (issue 14, part 6) on a real file system: a small tmpfs (needs root:
mount -t tmpfs) holds the runs folder.

  full:      the tmpfs is sized so that the first checkpoints fit and a later write runs out of
             space (each save writes latest.safetensors through a temporary file, plus
             best.safetensors after an improving evaluation);
  read-only: the run directory is made read-only (chmod 555) while the run trains, after its
             first checkpoint; the run is started as user nobody (setpriv), since root ignores
             file permissions. (Remounting the tmpfs read-only is refused while the run holds
             metrics.jsonl open for writing.)
  tui-full:  the full-disk case in the TUI (inside tmux): training pauses with the message.

Checks, each case: headless exits with status 1 (not a panic, not killed) and one error line
naming the file and the OS error ("No space left on device", "Permission denied");
latest.safetensors still loads (`rnn-lab sample`) and holds the step of the last successful
save; no temporary file is left (when the file system allows deleting it). The TUI case: the
screen shows the message and the run is paused, and the TUI quits cleanly with q.

Usage: sudo python3 bench/reliability/disk_trials.py [--reps 3]
"""

import argparse
import os
import subprocess
import time

from common import BIN, read_safetensors, run, run_dirs, table, temporaries, workdir, write_experiment

TRAINING = ("batch_size = 4\nseq_len = 32\nsteps = 400\nlog_every = 10\neval_every = 20\ncheckpoint_every = 20\n"
            "sample_every = 0\nprobe_every = 0\nmax_val_tokens = 2000\n")


def mount(mnt, size_kb):
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)], check=True)


def umount(mnt):
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def checkpoint_size(d):
    run(["train", "trial.toml", "--out", "sizing", "--threads", "1", "--steps", "20"], d)
    return (run_dirs(d / "sizing")[0] / "latest.safetensors").stat().st_size


def check_left(d, rd, why):
    ck = rd / "latest.safetensors"
    if not ck.exists():
        return f"{why}: no latest.safetensors"
    p = run(["sample", str(ck), "--length", "3"], d, check=False)
    if p.returncode != 0:
        return f"{why}: latest.safetensors does not load: {p.stderr.strip()}"
    return None


def headless(d, mnt, size_kb, read_only):
    mount(mnt, size_kb * (4 if read_only else 1))
    try:
        cmd = [str(BIN), "train", "trial.toml", "--out", str(mnt / "runs"), "--threads", "1"]
        if read_only:
            os.chmod(mnt, 0o777)
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if read_only:
            while proc.poll() is None:
                rds = run_dirs(mnt / "runs")
                if rds and (rds[0] / "latest.safetensors").exists():
                    os.chmod(rds[0], 0o555)
                    break
                time.sleep(0.02)
        err = proc.communicate(timeout=600)[1]
        rd = run_dirs(mnt / "runs")[0]
        want = "Permission denied" if read_only else "No space left on device"
        lines = [l for l in err.strip().splitlines() if "error" in l]
        problems = []
        if proc.returncode != 1:
            problems.append(f"exit {proc.returncode}")
        if "panicked" in err:
            problems.append("panic")
        if len(lines) != 1 or want not in lines[0] or "latest.safetensors" not in err and "best.safetensors" not in err:
            problems.append(f"message: {err.strip()[-300:]!r}")
        bad = check_left(d, rd, "after the failed write")
        if bad:
            problems.append(bad)
        step = int(read_safetensors(rd / "latest.safetensors")[0]["step"])
        if temporaries(rd):
            problems.append(f"temporary files left: {temporaries(rd)}")
        return problems, step, lines[0] if lines else err.strip()[-200:]
    finally:
        umount(mnt)


def tui(d, size_kb):
    # The TUI writes its runs under ./runs: the tmpfs is mounted there.
    mnt = d / "runs"
    mount(mnt, size_kb)
    session = f"rnndisk{os.getpid()}"
    try:
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", "-c", str(d),
                        f"exec {BIN} trial.toml"], check=True)
        time.sleep(1.0)
        subprocess.run(["tmux", "send-keys", "-t", session, "space"], check=True)
        screen, t0 = "", time.time()
        while time.time() - t0 < 300:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                    text=True).stdout
            if "No space left on device" in screen:
                break
            time.sleep(0.2)
        problems = []
        if "No space left on device" not in screen:
            problems.append("no message on screen")
        rds = run_dirs(mnt)
        if not rds:
            return ["no run directory"], 0, ""
        rd = rds[0]
        m1 = (rd / "metrics.jsonl").stat().st_size if (rd / "metrics.jsonl").exists() else 0
        time.sleep(2.0)
        m2 = (rd / "metrics.jsonl").stat().st_size if (rd / "metrics.jsonl").exists() else 0
        if m2 != m1:
            problems.append("still training after the failed write (metrics.jsonl grows)")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        time.sleep(1.0)
        # A confirmation prompt for unsaved work, if any.
        subprocess.run(["tmux", "send-keys", "-t", session, "y"], capture_output=True)
        time.sleep(1.0)
        alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
        if alive:
            problems.append("the TUI did not quit")
        bad = check_left(d, rd, "after the failed write")
        if bad:
            problems.append(bad)
        step = int(read_safetensors(rd / "latest.safetensors")[0]["step"]) if not bad else 0
        line = next((l.strip(" │") for l in screen.splitlines() if "No space left" in l), "")
        return problems, step, line
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        umount(mnt)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (mount -t tmpfs)")
        return 2
    d = workdir("rnn-disk-")
    write_experiment(d, TRAINING, hidden=64, corpus_bytes=100_000)
    os.chmod(d, 0o755)  # readable by nobody (the read-only case)
    size = checkpoint_size(d)
    # Room for 2.5 checkpoints plus the small files: the first save writes latest and best, the
    # temporary file of the next write needs a third and finds the disk full.
    size_kb = int(size * 2.5 / 1024) + 64
    mnt = d / "mnt"
    rows, failures, messages = [], 0, []
    for case in ["full", "read-only", "tui-full"]:
        for _ in range(a.reps):
            if case == "tui-full":
                problems, step, msg = tui(d, size_kb)
            else:
                problems, step, msg = headless(d, mnt, size_kb, case == "read-only")
            failures += bool(problems)
            rows.append([case, "ok" if not problems else "; ".join(problems), step])
            messages.append(msg)
    table(rows, ["case", "result", "latest checkpoint step"])
    print("\nmessages:")
    for m in sorted(set(messages)):
        print(f"  {m}")
    print(f"\ntotal: {len(rows)} trials, {failures} failures; checkpoint {size} bytes, tmpfs {size_kb} KiB")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
