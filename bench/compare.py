#!/usr/bin/env python3
"""Side-by-side throughput of rnn-lab and PyTorch on this machine, one right after the other.

For each cell and hidden size: `rnn-lab bench` (training: forward + backward + clip + Adam,
tokens/s from the median step) and ../shared/bench/torch_charlm.py (the same step in PyTorch;
for the LSTM the faster of oneDNN on/off), each repeated --reps times; the medians and their
ratio go into a markdown table. --mode sample times batch-1 generation instead.

Usage (from the repo root, after `cargo build --release`):
  python3 bench/compare.py --torch-python /tmp/torchenv/bin/python > /tmp/table.md
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torch-python", default="python3")
    p.add_argument("--torch-script", default=os.path.join(ROOT, "..", "shared", "bench", "torch_charlm.py"))
    p.add_argument("--cells", default="rnn,gru,lstm")
    p.add_argument("--hidden", default="64,128,256,512")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--mode", choices=["train", "sample"], default="train")
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    a = p.parse_args()
    ours_bin = os.path.join(ROOT, "target", "release", "rnn-lab")
    rows = []
    for cell in a.cells.split(","):
        for h in [int(x) for x in a.hidden.split(",")]:
            steps = 30 if h <= 256 else 12
            ours, theirs, rss_o, rss_t = [], [], [], []
            for _ in range(a.reps):
                cmd = [ours_bin, "bench", "--cell", cell, "--hidden", str(h), "--threads", str(a.threads), "--json"]
                if a.mode == "train":
                    cmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
                else:
                    cmd += ["--mode", "sample", "--steps", "2000"]
                r = run_json(cmd)
                ours.append(r["tokens_per_sec"])
                rss_o.append(r["peak_rss_mib"])
                best = None
                variants = [[]] + ([["--no-mkldnn"]] if cell == "lstm" else [])
                for extra in variants:
                    tcmd = [a.torch_python, a.torch_script, "--cell", cell, "--hidden", str(h), "--threads", str(a.threads)] + extra
                    if a.mode == "train":
                        tcmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
                    else:
                        tcmd += ["--mode", "forward", "--sample-len", "300"]
                    t = run_json(tcmd)
                    if best is None or t["tokens_per_sec"] > best["tokens_per_sec"]:
                        best = t
                theirs.append(best["tokens_per_sec"])
                rss_t.append(best["peak_rss_mib"])
            mo, mt = statistics.median(ours), statistics.median(theirs)
            rows.append((cell, h, mo, mt, mo / mt, statistics.median(rss_o), statistics.median(rss_t)))
            print(f"{cell} H={h}: rnn-lab {mo:,.0f}  torch {mt:,.0f}  ratio {mo / mt:.2f}", file=sys.stderr)
    what = "training tokens/s (T=%d, B=%d)" % (a.seq, a.batch) if a.mode == "train" else "batch-1 sampling tokens/s"
    print(f"| cell | H | rnn-lab {what} | PyTorch | ratio | rnn-lab peak RSS MiB | PyTorch peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for cell, h, mo, mt, r, ro, rt in rows:
        print(f"| {cell} | {h} | {mo:,.0f} | {mt:,.0f} | {r:.2f}× | {ro:.0f} | {rt:.0f} |")


if __name__ == "__main__":
    main()
