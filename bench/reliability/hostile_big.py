#!/usr/bin/env python3
"""Big hostile corpora (issue 14, part 4), the script versions of two `cargo test` cases
(tests/hostile_files.rs has them at a smaller size):

  - one line of 1 GB (no line end at all), char level: streamed in 1 MiB pieces; the run must
    train 2 steps without a crash, with peak RSS at most 2.5x the file size;
  - a word-level corpus of 10^6 distinct words: refused with exit 2 and one line giving the
    max_vocab / min_count advice, without building a model;
  - the same corpus with max_vocab = 20000 set as advised: trains.

The files are generated lazily into a temporary folder (not committed) and deleted afterwards.

Usage: python3 bench/reliability/hostile_big.py [--line-mb 1000] [--words 1000000]
"""

import argparse
import os
import subprocess
import time

from common import BIN, table, workdir

TRAINING = ("batch_size = 4\nseq_len = 32\nsteps = 2\nlog_every = 1\neval_every = 0\ncheckpoint_every = 0\n"
            "sample_every = 0\nprobe_every = 0\nmax_val_tokens = 10000\n")


def measure(d, toml):
    t0 = time.time()
    p = subprocess.Popen([str(BIN), "train", toml, "--out", "runs", "--threads", "1"], cwd=d,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    return os.waitstatus_to_exitcode(status), err, ru.ru_maxrss * 1024, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--line-mb", type=int, default=1000)
    ap.add_argument("--words", type=int, default=1_000_000)
    a = ap.parse_args()
    d = workdir("rnn-hostile-big-")
    rows, failures = [], 0
    try:
        # One line of line-mb MB: a repeated sentence without any line end.
        line = d / "line.txt"
        chunk = (b"It was the best of times, it was the worst of times; " * 20000)[: 1 << 20]
        with open(line, "wb") as f:
            for _ in range(a.line_mb * 1_000_000 // len(chunk)):
                f.write(chunk)
        size = line.stat().st_size
        (d / "line.toml").write_text(f'[data]\nfiles = ["line.txt"]\n[model]\nhidden = 16\n[training]\n{TRAINING}')
        code, err, rss, secs = measure(d, "line.toml")
        ok = code == 0 and rss <= 2.5 * size and "panicked" not in err
        failures += not ok
        rows.append([f"one line of {size / 1e6:.0f} MB", f"exit {code}", f"{rss / 1e6:.0f} MB ({rss / size:.2f}x)",
                     f"{secs:.1f} s", "ok" if ok else "FAILED: " + err.strip()[-200:]])
        line.unlink()

        # 10^6 distinct words, 10 per line.
        words = d / "words.txt"
        with open(words, "w") as f:
            for i in range(0, a.words, 10):
                f.write(" ".join(f"w{j:x}" for j in range(i, min(i + 10, a.words))) + "\n")
        base = '[data]\nfiles = ["words.txt"]\nlevel = "word"\n{extra}\n[model]\nhidden = 16\nembedding = 16\n[training]\n'
        (d / "words.toml").write_text(base.format(extra="") + TRAINING)
        code, err, rss, secs = measure(d, "words.toml")
        lines = err.strip().splitlines()
        ok = code == 2 and len(lines) == 1 and "max_vocab" in err and "min_count" in err
        failures += not ok
        rows.append([f"{a.words} distinct words", f"exit {code}", f"{rss / 1e6:.0f} MB", f"{secs:.1f} s",
                     "ok" if ok else "FAILED"])
        print("message: " + err.strip())
        (d / "advised.toml").write_text(base.format(extra="max_vocab = 20000") + TRAINING)
        code, err, rss, secs = measure(d, "advised.toml")
        ok = code == 0
        failures += not ok
        rows.append(["the same, max_vocab = 20000", f"exit {code}", f"{rss / 1e6:.0f} MB", f"{secs:.1f} s",
                     "ok" if ok else "FAILED: " + err.strip()[-200:]])
    finally:
        subprocess.run(["rm", "-rf", str(d)])
    print()
    table(rows, ["corpus", "result", "peak RSS", "wall time", "verdict"])
    print(f"\ntotal: {len(rows)} trials, {failures} failures")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
