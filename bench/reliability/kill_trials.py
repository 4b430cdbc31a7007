#!/usr/bin/env python3
"""kill -9 trials (issue 14, part 1).

Headless: N runs (default 50) of a small char LSTM are killed with SIGKILL at a random moment;
a third of them inside a checkpoint write (RNN_LAB_FAULT=slow-save keeps each write open for
0.4 s between writing the temporary file and the rename; the kill lands while the temporary file
exists), a third inside an evaluation (slow-eval; the kill lands after the metrics line of the
step before an evaluation step), a third at a uniformly random time. After each kill:
  1. latest.safetensors exists and loads (`rnn-lab sample` on it), and is at most one checkpoint
     interval behind the last step logged (log_every = 1), i.e. steps lost <= interval;
  2. metrics.jsonl is valid JSON Lines up to its last complete line (a torn last line is allowed
     and counted);
  3. `rnn-lab train --resume latest.safetensors` runs to the end, and its final checkpoint's
     tensors (parameters, optimizer state, carried state) are byte-identical to those of an
     uninterrupted run with the same seed and thread count.
A kill before the first checkpoint leaves nothing to resume from; the trial then checks that the
run directory holds no checkpoint at all (nothing half-written) and that steps lost <= interval.

TUI: M runs (default 20) of the same experiment in the TUI inside tmux (space starts training),
killed with SIGKILL at a random time; the same checks, the resumed run headless with the TUI's
thread count (all cores).

Usage: python3 bench/reliability/kill_trials.py [--headless 50] [--tui 20] [--seed 1]
"""

import argparse
import os
import signal
import subprocess

from common import (BIN, metrics_lines, random, read_safetensors, run, run_dirs, table, temporaries, time,
                    workdir, write_experiment)

EVERY = 20
STEPS = 200
TRAINING = (
    f"batch_size = 8\nseq_len = 32\nsteps = {STEPS}\nlog_every = 1\neval_every = {EVERY}\n"
    f"checkpoint_every = {EVERY}\nsample_every = 50\nprobe_every = 50\nmax_val_tokens = 4000\n"
)


def final_tensors(run_dir):
    meta, tensors = read_safetensors(run_dir / "latest.safetensors")
    return int(meta["step"]), tensors


def check_after_kill(d, rd, threads, reference, category):
    """The checks of one trial; returns a dict of results."""
    res = {"category": category, "ok": True, "why": "", "lost": 0, "torn": False, "resumed": False}
    try:
        lines, torn = metrics_lines(rd)
    except ValueError as e:
        return {**res, "ok": False, "why": f"bad metrics line: {e}"}
    res["torn"] = torn
    last = lines[-1]["step"] if lines else 0
    ck = rd / "latest.safetensors"
    if not ck.exists():
        res["lost"] = last
        if last > EVERY:
            return {**res, "ok": False, "why": f"no checkpoint but {last} steps logged"}
        if (rd / "best.safetensors").exists():
            return {**res, "ok": False, "why": "best without latest"}
        return res
    p = run(["sample", str(ck), "--length", "5"], d, check=False)
    if p.returncode != 0:
        return {**res, "ok": False, "why": f"latest does not load: {p.stderr.strip()}"}
    step = int(read_safetensors(ck)[0]["step"])
    res["lost"] = last - step
    if last - step > EVERY:
        return {**res, "ok": False, "why": f"checkpoint at {step}, last logged {last}"}
    out = d / f"resumed-{rd.name}"
    p = run(["train", "trial.toml", "--resume", str(ck), "--out", str(out), "--threads", str(threads)], d, check=False)
    if p.returncode != 0:
        return {**res, "ok": False, "why": f"resume failed: {p.stderr.strip()[-300:]}"}
    r_step, r_tensors = final_tensors(run_dirs(out)[0])
    ref_step, ref_tensors = reference
    if r_step != ref_step or r_tensors != ref_tensors:
        diff = [k for k in ref_tensors if r_tensors.get(k) != ref_tensors[k]]
        return {**res, "ok": False, "why": f"resumed run differs at step {r_step}: {diff[:3]}"}
    res["resumed"] = True
    if temporaries(rd):
        return {**res, "ok": False, "why": f"temporary files left after resume: {temporaries(rd)}"}
    return res


def wait_for(pred, timeout=60, poll=0.005):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(poll)
    return None


def checkpoint_temporaries(rd):
    """The temporary files of checkpoint writes (not those of config.toml or probe.json)."""
    return [t for t in temporaries(rd) if ".safetensors." in t]


def headless_trial(d, i, rng, reference):
    category = ["save", "eval", "random"][i % 3]
    out = d / f"killed-{i}"
    env = dict(os.environ)
    if category == "save":
        env["RNN_LAB_FAULT"] = "slow-save=400"
    elif category == "eval":
        env["RNN_LAB_FAULT"] = "slow-eval=400"
    proc = subprocess.Popen([str(BIN), "train", "trial.toml", "--out", str(out), "--threads", "1"], cwd=d, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rd = wait_for(lambda: run_dirs(out)[0] if run_dirs(out) else None)
    landed = category
    if category == "save":
        # The k-th checkpoint write (1 to 9): wait for k temporary files to have appeared.
        k, seen, last_tmp = rng.randint(1, STEPS // EVERY - 1), 0, None
        while seen < k and proc.poll() is None:
            t = checkpoint_temporaries(rd)
            if t and t != last_tmp:
                seen += 1
            last_tmp = t or None
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))
        landed = "save" if checkpoint_temporaries(rd) else "save-missed"
    elif category == "eval":
        k = rng.randint(1, STEPS // EVERY - 1) * EVERY
        wait_for(lambda: (metrics_lines(rd)[0] or [{"step": 0}])[-1]["step"] >= k - 1 or proc.poll() is not None)
        time.sleep(rng.uniform(0.05, 0.3))
    else:
        time.sleep(rng.uniform(0.2, 4.0))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    else:
        landed = "finished-before-kill"
    proc.wait()
    return check_after_kill(d, rd, 1, reference, landed)


def tui_trial(d, i, rng, reference):
    session = f"rnnkill{os.getpid()}_{i}"
    runs = d / "runs"
    before = set(run_dirs(runs))
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(d),
                    f"exec {BIN} trial.toml"], check=True)
    try:
        pid = int(subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"], capture_output=True,
                                 text=True).stdout.strip())
        time.sleep(1.0)
        subprocess.run(["tmux", "send-keys", "-t", session, "space"], check=True)
        rd = wait_for(lambda: next(iter(set(run_dirs(runs)) - before), None), timeout=30)
        time.sleep(rng.uniform(0.3, 5.0))
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    if rd is None:
        return {"category": "tui", "ok": False, "why": "no run directory", "lost": 0, "torn": False, "resumed": False}
    return check_after_kill(d, rd, os.cpu_count(), reference, "tui")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--headless", type=int, default=50)
    ap.add_argument("--tui", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    d = workdir("rnn-kill-")
    write_experiment(d, TRAINING)
    results = []
    for threads, n, trial in [(1, a.headless, headless_trial), (os.cpu_count(), a.tui, tui_trial)]:
        if n == 0:
            continue
        ref_out = d / f"reference-{threads}"
        run(["train", "trial.toml", "--out", str(ref_out), "--threads", str(threads)], d)
        reference = final_tensors(run_dirs(ref_out)[0])
        for i in range(n):
            r = trial(d, i, rng, reference)
            results.append(r)
            print(f"{r['category']:>20} ok={r['ok']} lost={r['lost']} torn={r['torn']} resumed={r['resumed']} {r['why']}",
                  flush=True)
    cats = sorted({r["category"] for r in results})
    rows = []
    for c in cats:
        rs = [r for r in results if r["category"] == c]
        rows.append([c, len(rs), sum(not r["ok"] for r in rs), max(r["lost"] for r in rs),
                     sum(r["torn"] for r in rs), sum(r["resumed"] for r in rs)])
    print()
    table(rows, ["killed during", "trials", "failures", "steps lost (max)", "torn last line", "resumed bit-identical"])
    print(f"\ntotal: {len(results)} trials, {sum(not r['ok'] for r in results)} failures; checkpoint interval {EVERY}")
    print(f"work folder: {d}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
