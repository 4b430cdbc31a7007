#!/usr/bin/env python3
"""Silent corruption (issue 14, part 8): flip random bytes of a checkpoint and count how many
damaged files load without a word.

A small char LSTM is trained for a few steps; then N times (default 2000) a copy of its
latest.safetensors gets 1 to 4 random bytes replaced by different values, in one region chosen
at random: the 8-byte header length, the JSON header (tensor table and metadata) or the tensor
data. Each copy is loaded by `rnn-lab sample COPY --length 1`. Outcomes:
  - refused: exit 2, one line naming the file, no panic (what a damaged file must get);
  - loaded: exit 0. For tensor data this is a silent corruption: a failure. In the header a
    loaded copy is a failure too, unless the changed bytes were only the header's padding
    spaces after the JSON (safetensors pads the header to a multiple of 8 bytes) — counted as
    "harmless" — since every metadata value and the tensor table are covered by the checksums;
  - anything else (a panic, another exit status, a timeout): a failure.

Usage: python3 bench/reliability/mutation_trials.py [--trials 2000] [--seed 1]
"""

import argparse
import json
import struct
import subprocess

from common import BIN, random, run, run_dirs, table, workdir, write_experiment

TRAINING = ("batch_size = 4\nseq_len = 16\nsteps = 4\nlog_every = 2\neval_every = 0\ncheckpoint_every = 0\n"
            "sample_every = 0\nprobe_every = 0\nmax_val_tokens = 2000\n")


def padding_range(b):
    """Byte range of the spaces padding the JSON header (may be empty)."""
    (n,) = struct.unpack("<Q", b[:8])
    header = b[8 : 8 + n]
    end = len(header.rstrip(b" "))
    return range(8 + end, 8 + n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    d = workdir("rnn-mutate-")
    write_experiment(d, TRAINING, hidden=16, corpus_bytes=50_000)
    run(["train", "trial.toml", "--out", "runs", "--threads", "1"], d)
    original = (run_dirs(d / "runs")[0] / "latest.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", original[:8])
    regions = {"length": range(0, 8), "header": range(8, 8 + n), "tensors": range(8 + n, len(original))}
    pad = set(padding_range(original))
    counts = {r: {"trials": 0, "refused": 0, "loaded": 0, "harmless": 0, "failures": 0} for r in regions}
    examples = []
    target = d / "mutated.safetensors"
    for i in range(a.trials):
        region = rng.choice(list(regions))
        span = regions[region]
        positions = sorted({rng.choice(span) for _ in range(rng.randint(1, 4))})
        b = bytearray(original)
        for p in positions:
            b[p] = (b[p] + rng.randint(1, 255)) % 256
        target.write_bytes(b)
        c = counts[region]
        c["trials"] += 1
        try:
            p = subprocess.run([str(BIN), "sample", str(target), "--length", "1"], cwd=d, capture_output=True,
                               text=True, timeout=60)
            code, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            code, err = None, "timeout"
        if code == 2 and "panicked" not in err and target.name in err and len(err.strip().splitlines()) == 1:
            c["refused"] += 1
        elif code == 0 and region == "header" and all(p in pad for p in positions):
            c["harmless"] += 1
        elif code == 0:
            c["loaded"] += 1
            c["failures"] += 1
            examples.append(f"loaded silently: {region} bytes {positions}")
        else:
            c["failures"] += 1
            examples.append(f"{region} bytes {positions}: exit {code}: {err.strip()[-300:]}")
    rows = [[r, c["trials"], c["refused"], c["harmless"], c["loaded"], c["failures"]] for r, c in counts.items()]
    table(rows, ["region damaged", "trials", "refused (exit 2, one line)", "harmless (padding)", "loaded silently",
                 "failures"])
    for e in examples[:20]:
        print(e)
    total = sum(c["failures"] for c in counts.values())
    print(f"\ntotal: {a.trials} trials, {total} failures; checkpoint of {len(original)} bytes "
          f"({n} header, {len(original) - 8 - n} tensor data); work folder: {d}")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
