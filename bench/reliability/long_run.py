#!/usr/bin/env python3
"""Long runs and terminal behaviour (issue 14, part 7).

The TUI runs inside tmux (from a bash prompt, so that Ctrl-Z has a shell to return to) on a
small char LSTM that trains, probes every 25 steps and samples every 100 for --minutes
(default 30). Every 10 s the script samples the process's RSS (/proc/PID/status VmRSS) and the
frame rate the TUI shows in its status line ("N fps"). Then, on the same process:
  - a resize storm: 200 window resizes to random sizes from 20x8 to 250x70, 10 ms apart; the
    TUI must still run and redraw at 160x48;
  - Ctrl-Z and `fg`: the shell must get its prompt back (the terminal restored) and, after
    `fg`, the TUI must draw again — when the TUI suspends on Ctrl-Z (issue 9); otherwise
    reported as "no suspend";
  - SIGHUP: the TUI must save (latest.safetensors at the step it reached) and exit.

Figures: the median RSS of minutes 1-6 and of the last 5 minutes, the range, and the slope of a
least-squares line over the samples after the first minute (KiB per minute); frame rate
median, minimum and maximum. Memory is "flat" when the last median is less than 5% above the
first (bounded histories, no growth per step or per probe; single samples may peak for a moment
during an evaluation or a checkpoint write).

Usage: python3 bench/reliability/long_run.py [--minutes 30]
"""

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import time

from common import BIN, read_safetensors, rss_kb, run_dirs, workdir, write_experiment

TRAINING = ("batch_size = 16\nseq_len = 64\nsteps = 100000000\nlog_every = 10\neval_every = 200\n"
            "checkpoint_every = 500\nsample_every = 100\nprobe_every = 25\nmax_val_tokens = 20000\n")


def tmux(*args, capture=False):
    p = subprocess.run(["tmux", *args], capture_output=True, text=True)
    return p.stdout if capture else p.returncode


def screen(session):
    return tmux("capture-pane", "-p", "-t", session, capture=True)


def child_pid(shell_pid):
    """The rnn-lab process started by the pane's shell."""
    try:
        out = subprocess.run(["pgrep", "-P", str(shell_pid), "-f", "rnn-lab"], capture_output=True,
                             text=True).stdout.split()
        return int(out[0]) if out else None
    except ValueError:
        return None


def fps_of(text):
    m = re.findall(r"(\d+) fps", text)
    return int(m[-1]) if m else None


def step_of(text):
    """The training step on the status line (`step 1,234/…`), or -1."""
    m = re.search(r"step ([\d,]+)", text)
    return int(m.group(1).replace(",", "")) if m else -1


def slope(xs, ys):
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    d = workdir("rnn-long-")
    write_experiment(d, TRAINING, hidden=64, corpus_bytes=300_000)
    session = f"rnnlong{os.getpid()}"
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", "-c", str(d), "bash --norc --noprofile")
    problems = []
    try:
        shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}", capture=True).strip())
        tmux("send-keys", "-t", session, f"PS1='prompt$ ' {BIN} trial.toml", "Enter")
        time.sleep(1.5)
        tmux("send-keys", "-t", session, "space")
        pid = None
        for _ in range(100):
            pid = child_pid(shell)
            if pid:
                break
            time.sleep(0.1)
        if not pid:
            print("the TUI did not start:\n" + screen(session))
            return 1
        t0 = time.time()
        samples = []  # (minutes, rss KiB, fps)
        while time.time() - t0 < a.minutes * 60:
            time.sleep(10)
            if not os.path.exists(f"/proc/{pid}"):
                problems.append("the TUI exited during the run")
                break
            samples.append(((time.time() - t0) / 60, rss_kb(pid), fps_of(screen(session))))
            m, r, f = samples[-1]
            print(f"{m:6.2f} min  rss {r} KiB  {f} fps", flush=True)

        late = [(m, r) for m, r, _ in samples if m >= 1.0 and r]
        fps = [f for _, _, f in samples if f is not None]
        if late:
            # Steady state: the median of the first 5 minutes after the first against that of the
            # last 5 (an evaluation or a checkpoint write allocates buffers for a moment: single
            # samples peak and come back, so medians, not the maximum, show growth).
            end = late[-1][0]
            first = statistics.median(r for m, r in late if m < 6.0)
            last = statistics.median(r for m, r in late if m >= end - 5.0)
            rmin, rmax = min(r for _, r in late), max(r for _, r in late)
            k = slope([m for m, _ in late], [r for _, r in late])
            flat = last - first < 0.05 * first
            print(f"\nRSS median minutes 1-6 {first:.0f} KiB, last 5 minutes {last:.0f} KiB "
                  f"({(last - first) / first:+.1%}); range {rmin}-{rmax} KiB; slope {k:+.1f} KiB/min "
                  f"-> {'flat' if flat else 'GROWING'}")
            if not flat:
                problems.append("memory grows")
        if fps:
            print(f"frame rate: median {statistics.median(fps)} fps, min {min(fps)}, max {max(fps)} "
                  f"({len(fps)} samples)")

        # Resize storm.
        for _ in range(200):
            tmux("resize-window", "-t", session, "-x", str(rng.randint(20, 250)), "-y", str(rng.randint(8, 70)))
            time.sleep(0.01)
        tmux("resize-window", "-t", session, "-x", "160", "-y", "48")
        time.sleep(1.5)
        s = screen(session)
        storm_ok = os.path.exists(f"/proc/{pid}") and fps_of(s) is not None
        print(f"resize storm (200 resizes): {'ok' if storm_ok else 'FAILED'}")
        if not storm_ok:
            problems.append("resize storm")

        # Ctrl-Z and fg.
        tmux("send-keys", "-t", session, "C-z")
        time.sleep(1.5)
        s = screen(session)
        alt = tmux("display-message", "-p", "-t", session, "#{alternate_on}", capture=True).strip()
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        if "prompt$" in s and "Stopped" in s and alt == "0" and state == "T":
            tmux("send-keys", "-t", session, "fg", "Enter")
            time.sleep(2.0)
            s1 = screen(session)
            back = fps_of(s1) is not None
            time.sleep(2.0)
            trains = step_of(screen(session)) > step_of(s1)
            print(f"Ctrl-Z: terminal restored (shell prompt, main screen, process stopped); "
                  f"fg: {'redrawn' if back else 'NOT redrawn'}, "
                  f"{'training again' if trains else 'NOT training'}")
            if not back:
                problems.append("fg did not redraw")
            if not trains:
                problems.append("training did not go on after fg")
        else:
            print(f"Ctrl-Z: NOT suspended (prompt {'prompt$' in s}, Stopped {'Stopped' in s}, "
                  f"alternate screen {alt}, process state {state})")
            problems.append("Ctrl-Z did not suspend")

        # SIGHUP saves.
        os.kill(pid, signal.SIGHUP)
        for _ in range(300):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        rd = run_dirs(d / "runs")[0]
        lines = (rd / "metrics.jsonl").read_text().splitlines()
        last = max((int(l.split('"step":')[1].split(",")[0]) for l in lines if '"step":' in l), default=0)
        step = int(read_safetensors(rd / "latest.safetensors")[0]["step"])
        hup_ok = not os.path.exists(f"/proc/{pid}") and step >= last
        print(f"SIGHUP: {'exited' if not os.path.exists(f'/proc/{pid}') else 'STILL RUNNING'}, "
              f"latest.safetensors at step {step}, last logged step {last}")
        if not hup_ok:
            problems.append("SIGHUP did not save and exit")
    finally:
        tmux("kill-session", "-t", session)
    print(f"\nload average at the end: {os.getloadavg()}")
    print("failures: " + (", ".join(problems) if problems else "0"))
    print(f"work folder: {d}")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
