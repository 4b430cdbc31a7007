#!/usr/bin/env python3
"""Side-by-side throughput of rnn-lab and PyTorch on this machine, one right after the other.

For each row: `rnn-lab bench` (training: forward + backward + clip + Adam, tokens/s from the
median step; sampling: batch 1, one token at a time) and ../shared/bench/torch_charlm.py (the
same work in PyTorch; for the LSTM the faster of oneDNN on/off), interleaved, --reps times; the
medians, their ratio, the GFLOP/s each side reaches and the fraction of the machine's FMA peak
(../shared/bench/fma_peak.c, built with gcc -O3 -march=native, run on --threads threads) go into
a markdown table.

FLOPs are counted the same way for both sides (rnn-lab's `flop_per_token`, see
src/commands/bench/measure.rs): the recurrent, input and head products, ×3 for training; a
one-hot input is a row gather and counts nothing, although PyTorch multiplies the one-hot
matrix out.

Tables (--table, repeatable; `all` = every one):
  train     RNN, GRU, LSTM at H = 64, 128, 256, 512 (T = 64, B = 32)
  sample    batch-1 sampling at H = 128, 512
  variants  what users run: 2-layer LSTM, LSTM with an embedding input (E = 65, PyTorch's
            `--input embed`), at H = 128 and 256

With --update FILE, each table replaces the lines between `<!-- compare:NAME -->` and
`<!-- /compare:NAME -->` in FILE (the machine, date and peak go in with it); without, the
tables go to stdout. Run it under /work/bin/cpu-exclusive.

Usage (from the repo root, after `cargo build --release`):
  python3 bench/compare.py --torch-python /tmp/torchenv/bin/python --table all --update docs/performance.md
  python3 bench/compare.py --torch-python /tmp/torchenv/bin/python --table train --cells lstm --hidden 128
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "bench")


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]


def machine():
    name = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def fma_peak(threads):
    """GFLOP/s of ../shared/bench/fma_peak.c on `threads` threads (None if it cannot be built)."""
    src = os.path.join(SHARED, "fma_peak.c")
    exe = os.path.join(tempfile.gettempdir(), "rnnlab_fma_peak")
    try:
        subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", src, "-o", exe], check=True, capture_output=True)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        return statistics.median(run_json([exe], env)["fma_peak_gflops"] for _ in range(3))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"fma_peak: {e}", file=sys.stderr)
        return None


def rows_for(table, a):
    """(label, cell, H, mode, our extra args, torch extra args) for every row of a table."""
    if table == "train":
        return [(cell, cell, h, "train", [], []) for cell in a.cells.split(",") for h in a.hidden_list]
    if table == "sample":
        hs = [h for h in a.hidden_list if h in (128, 512)] or a.hidden_list
        return [(cell, cell, h, "sample", [], []) for cell in a.cells.split(",") for h in hs]
    if table == "variants":
        hs = [h for h in a.hidden_list if h in (128, 256)] or a.hidden_list
        out = []
        for h in hs:
            out.append(("lstm, 2 layers", "lstm", h, "train", ["--layers", "2"], ["--layers", "2"]))
            out.append(("lstm, embedding E = 65", "lstm", h, "train", ["--embedding", "65"], ["--input", "embed"]))
        return out
    raise SystemExit(f"unknown table {table}")


def measure(row, a):
    label, cell, h, mode, ours_extra, torch_extra = row
    steps = 30 if h <= 256 else 12
    ours_bin = os.path.join(ROOT, "target", "release", "rnn-lab")
    ours, theirs, rss_o, rss_t, flop = [], [], [], [], None
    for _ in range(a.reps):
        cmd = [ours_bin, "bench", "--cell", cell, "--hidden", str(h), "--threads", str(a.threads), "--json"] + ours_extra
        if mode == "train":
            cmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
        else:
            cmd += ["--mode", "sample", "--steps", "2000"]
        r = run_json(cmd)
        ours.append(r["tokens_per_sec"])
        rss_o.append(r["peak_rss_mib"])
        flop = r["flop_per_token"]
        best = None
        variants = [[]] + ([["--no-mkldnn"]] if cell == "lstm" else [])
        for extra in variants:
            tcmd = [a.torch_python, a.torch_script, "--cell", cell, "--hidden", str(h), "--threads", str(a.threads)]
            tcmd += extra + torch_extra
            if mode == "train":
                tcmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
            else:
                tcmd += ["--mode", "forward", "--sample-len", "300"]
            t = run_json(tcmd)
            if best is None or t["tokens_per_sec"] > best["tokens_per_sec"]:
                best = t
        theirs.append(best["tokens_per_sec"])
        rss_t.append(best["peak_rss_mib"])
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"{label} H={h} {mode}: rnn-lab {mo:,.0f}  torch {mt:,.0f}  ratio {mo / mt:.2f}", file=sys.stderr)
    return dict(label=label, h=h, ours=mo, torch=mt, flop=flop, rss_o=statistics.median(rss_o),
                rss_t=statistics.median(rss_t))


def table_md(name, results, peak, a):
    def rate(tps, flop):
        g = tps * flop / 1e9
        return f"{g:.1f}" + (f" ({100 * g / peak:.0f}%)" if peak else "")

    what = {"train": f"training tokens/s, T = {a.seq}, B = {a.batch}", "sample": "batch-1 sampling tokens/s",
            "variants": f"training tokens/s, T = {a.seq}, B = {a.batch}"}[name]
    lines = [
        f"{what}, {a.threads} threads; medians of {a.reps} interleaved reps; {machine()}; "
        f"{datetime.date.today().isoformat()}; FMA peak {peak:.0f} GFLOP/s"
        if peak else f"{what}; FMA peak not measured",
        "",
        "| model | H | rnn-lab | PyTorch | ratio | rnn-lab GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) "
        "| rnn-lab peak RSS MiB | PyTorch peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['h']} | {r['ours']:,.0f} | {r['torch']:,.0f} | {r['ours'] / r['torch']:.2f}× "
            f"| {rate(r['ours'], r['flop'])} | {rate(r['torch'], r['flop'])} | {r['rss_o']:.0f} | {r['rss_t']:.0f} |"
        )
    return "\n".join(lines)


def update(path, name, md):
    text = open(path).read()
    pat = re.compile(rf"(<!-- compare:{name} -->\n).*?(<!-- /compare:{name} -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"{path}: no <!-- compare:{name} --> ... <!-- /compare:{name} --> block")
    text = pat.sub(lambda m: m.group(1) + md + "\n" + m.group(2), text)
    open(path, "w").write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torch-python", default="python3")
    p.add_argument("--torch-script", default=os.path.join(SHARED, "torch_charlm.py"))
    p.add_argument("--table", action="append", choices=["train", "sample", "variants", "all"])
    p.add_argument("--mode", choices=["train", "sample"], help="old spelling of --table train/sample")
    p.add_argument("--cells", default="rnn,gru,lstm")
    p.add_argument("--hidden", default="64,128,256,512")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--update", metavar="FILE", help="replace the tables' marked blocks in FILE")
    a = p.parse_args()
    a.hidden_list = [int(x) for x in a.hidden.split(",")]
    tables = a.table or [a.mode or "train"]
    if "all" in tables:
        tables = ["train", "sample", "variants"]
    peak = fma_peak(a.threads)
    for name in tables:
        results = [measure(row, a) for row in rows_for(name, a)]
        md = table_md(name, results, peak, a)
        if a.update:
            update(a.update, name, md)
        else:
            print(md + "\n")


if __name__ == "__main__":
    main()
