#!/usr/bin/env python3
"""Per-phase split of a training step, from perf samples.

Records `rnn-lab bench` (training, --threads threads) with `perf record --call-graph dwarf`,
then assigns every sample to the phase whose source line it is in: walking the sample's stack
from the leaf, the first frame in one of rnn-lab's step files decides, by the file and the text
of the line (products are told apart by their operands). Prints a markdown table of the share
of CPU samples per phase (both threads together; waiting threads are not sampled).

Usage (from the repo root, after `cargo build --release`; run it under cpu-exclusive for a
profile of the machine when nothing else runs):
  python3 bench/profile_step.py --cell lstm --hidden 128 [--bin target/release/rnn-lab]
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PHASES = [
    "recurrent product a⟨t−1⟩·W_aa (forward)",
    "recurrent product ∂pre·W_aaᵀ (backward)",
    "weight-gradient products (∂W_aa = Σ a⟨t−1⟩ᵀ·∂pre)",
    "input products (embedding, layers above the first)",
    "head products (logits, ∂W_y, ∂a)",
    "gate math (cell forward/backward, elementwise)",
    "input gather, bias, carried state, masks",
    "softmax and loss",
    "optimizer and clipping",
    "packing W_aa / W_aaᵀ",
    "threads: gradient combine, sub-batch copy, hand-off",
    "other",
]


def source_window(path, line, cache={}):
    if path not in cache:
        try:
            with open(path) as f:
                cache[path] = f.read().split("\n")
        except OSError:
            cache[path] = []
    lines = cache[path]
    return " ".join(lines[max(0, line - 4):line + 3])


def phase_of(frames):
    """frames: [(symbol, file, line)], leaf first."""
    in_product = False  # below a product kernel (the cells' products are inlined, line 0)
    for sym, path, line in frames:
        if "gemm::avx2" in sym or "mat_mul" in sym or "matrixmultiply" in sym:
            in_product = True
        if "pack_panels" in sym:
            return "packing W_aa / W_aaᵀ"
        if path is None:
            continue
        name = os.path.basename(path)
        here = source_window(path, line) if line else ""
        is_product = "mat_mul" in here
        if name in ("lstm.rs", "rnn.rs", "gru.rs", "gru_torch.rs"):
            if is_product:
                if ".t()" in here:
                    return "recurrent product ∂pre·W_aaᵀ (backward)"
                return "recurrent product a⟨t−1⟩·W_aa (forward)"
            return "gate math (cell forward/backward, elementwise)"
        if name == "cell.rs":
            if in_product and "backward" in sym:
                return "recurrent product ∂pre·W_aaᵀ (backward)"
            if in_product and "forward" in sym:
                return "recurrent product a⟨t−1⟩·W_aa (forward)"
            return "gate math (cell forward/backward, elementwise)"
        if name == "backward.rs" and "/model/" in path:
            if is_product:
                if "head" in here or "dz" in here:
                    return "head products (logits, ∂W_y, ∂a)"
                if "emb" in here or "part.a" in here or "rows_w" in here:
                    return "input products (embedding, layers above the first)"
                return "weight-gradient products (∂W_aa = Σ a⟨t−1⟩ᵀ·∂pre)"
            if "pack_panels" in here:
                return "packing W_aa / W_aaᵀ"
            if "col_sums" in here or "gflat" in here:
                return "input gather, bias, carried state, masks"
            continue
        if name == "forward.rs" and "/model/" in path:
            if is_product:
                if "logits" in here or "head" in here or "out" in here:
                    return "head products (logits, ∂W_y, ∂a)"
                return "input products (embedding, layers above the first)"
            if "pack_panels" in here:
                return "packing W_aa / W_aaᵀ"
            return "input gather, bias, carried state, masks"
        if name == "loss.rs":
            return "softmax and loss"
        if "/optim" in path:
            return "optimizer and clipping"
        if name in ("shard.rs", "pool.rs"):
            return "threads: gradient combine, sub-batch copy, hand-off"
        if name in ("workspace.rs",):
            return "input gather, bias, carried state, masks"
    return "other"


def parse(script_out):
    """Samples of `perf script -F comm,sym,srcline`: [(symbol, file, line)] per sample."""
    samples, cur, sym = [], [], None
    for raw in script_out.split("\n"):
        if not raw.strip():
            if cur:
                samples.append(cur)
            cur, sym = [], None
            continue
        if raw.startswith("\t") and not raw.startswith("\t\t"):
            # "\t  addr symbol"
            parts = raw.strip().split(None, 1)
            sym = parts[1] if len(parts) > 1 else "?"
            cur.append([sym, None, None])
        elif raw.startswith("  ") and cur:
            m = re.match(r"\s+(\S+):(\d+)", raw)
            if m:
                cur[-1][1], cur[-1][2] = m.group(1), int(m.group(2))
    if cur:
        samples.append(cur)
    return samples


def resolve(path):
    """perf gives a srcline's file name only: find it under src/ (nn/ first)."""
    if path is None:
        return None
    for base in ("src/nn/model", "src/nn", "src/optim", "src/commands/bench", "src"):
        p = os.path.join(ROOT, base, path)
        if os.path.exists(p):
            return p
    return "/elsewhere/" + path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "rnn-lab"))
    p.add_argument("--cell", default="lstm")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--freq", type=int, default=1000)
    a = p.parse_args()
    data = os.path.join(tempfile.gettempdir(), f"rnnlab_profile_{os.getpid()}.data")
    cmd = ["perf", "record", "-q", "--call-graph", "dwarf,65528", "-F", str(a.freq), "-o", data, a.bin, "bench",
           "--cell", a.cell, "--hidden", str(a.hidden), "--threads", str(a.threads), "--steps", str(a.steps), "--json"]
    bench = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym,srcline"], check=True,
                         capture_output=True, text=True).stdout
    os.unlink(data)
    counts = collections.Counter()
    for s in parse(out):
        frames = [(sym, resolve(f), ln) for sym, f, ln in s]
        counts[phase_of(frames)] += 1
    total = sum(counts.values())
    print(f"{a.cell} H = {a.hidden}, {a.threads} threads, {total} samples; bench: {bench.strip()[:200]}", file=sys.stderr)
    print("| phase | share of CPU samples |")
    print("|---|---|")
    for ph in PHASES:
        if counts[ph]:
            print(f"| {ph} | {100 * counts[ph] / total:.1f}% |")


if __name__ == "__main__":
    main()
