#!/usr/bin/env python3
"""Big corpora (issue 14, part 5): load time, peak RSS and training speed of a char-level run on
10 MB, 100 MB and 1 GB corpora made by concatenating tiny-shakespeare (../shared/data; not
committed, written to a temporary folder and deleted afterwards).

For each size: `rnn-lab train` for 60 steps (LSTM 1x128, B 32, T 64, 1 thread, evaluation only at
the end, max_val_tokens 100000), timed from the start of the process to the "training ..." line
(the data loaded, the model built: the load time), its peak RSS (wait4's ru_maxrss) and the
median tokens/s of its metrics lines after the first 10 steps. Run it under
/work/bin/cpu-exclusive: it times things.

Usage: python3 bench/reliability/big_corpus.py [--sizes 10,100,1000] [--old PATH_TO_OLD_BINARY]
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from common import BIN, SHARED, table, workdir

TRAINING = ("batch_size = 32\nseq_len = 64\nsteps = 60\nlog_every = 5\neval_every = 0\ncheckpoint_every = 0\n"
            "sample_every = 0\nprobe_every = 0\nmax_val_tokens = 100000\n")


def make_corpus(path, mb):
    src = (SHARED / "tinyshakespeare.txt").read_bytes()
    want = mb * 1_000_000
    with open(path, "wb") as f:
        n = 0
        while n < want:
            chunk = src[: want - n]
            f.write(chunk)
            n += len(chunk)


def measure(binary, d, exp):
    t0 = time.time()
    p = subprocess.Popen([str(binary), "train", str(exp), "--out", str(d / "runs"), "--threads", "1", "--json"],
                         cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    load_s = None
    for line in p.stderr:
        if "rnn-lab: training" in line and load_s is None:
            load_s = time.time() - t0
            break
    out = p.stdout.read()
    rest = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(rest[-1000:])
    rates = [json.loads(l)["tokens_per_s"] for l in out.splitlines() if l.strip()]
    rates = [r for r in rates[2:] if r > 0]
    return load_s, ru.ru_maxrss * 1024 / 1e6, statistics.median(rates) if rates else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--old", default=None, help="an older rnn-lab binary to compare with")
    a = ap.parse_args()
    d = workdir("rnn-big-")
    rows = []
    try:
        for mb in [int(x) for x in a.sizes.split(",")]:
            corpus = d / f"corpus{mb}.txt"
            make_corpus(corpus, mb)
            exp = d / f"big{mb}.toml"
            exp.write_text(f'[experiment]\nname = "big{mb}"\n[data]\nfiles = ["{corpus.name}"]\n'
                           f'[model]\ncell = "lstm"\nhidden = 128\n[training]\n{TRAINING}')
            for name, binary in [("rnn-lab", BIN)] + ([("old", Path(a.old))] if a.old else []):
                load_s, rss_mb, rate = measure(binary, d, exp)
                size_mb = corpus.stat().st_size / 1e6
                rows.append([name, f"{size_mb:.0f} MB", f"{load_s:.2f} s", f"{rss_mb:.0f} MB",
                             f"{rss_mb / size_mb:.2f}×", f"{rate / 1000:.1f}k"])
                print(rows[-1], flush=True)
            corpus.unlink()
    finally:
        subprocess.run(["rm", "-rf", str(d)])
    print()
    table(rows, ["binary", "corpus", "load (to first step)", "peak RSS", "RSS / file size", "tokens/s (median)"])


if __name__ == "__main__":
    raise SystemExit(main())
