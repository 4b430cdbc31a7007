#!/usr/bin/env python3
"""Side-by-side throughput of rnn-lab and PyTorch on this machine, one right after the other.

For each row: `rnn-lab bench` (training: forward + backward + clip + Adam, tokens/s from the
median step; sampling: batch 1, one token at a time) and ../shared/bench/torch_charlm.py (the
same work in PyTorch; for every cell the faster of oneDNN on/off), interleaved, --reps times; the
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
  variants  what users run, LSTM at H = 128 and 256: 2 layers; an embedding input (E = 65, PyTorch's
            `--input embed`); evaluation (forward only); a bidirectional tagger; masked batches of
            variable-length sequences (lengths uniform in [T/4, T]) for a tagger, a bidirectional
            tagger, a many-to-one classifier (18 classes) and a bidirectional classifier. The
            PyTorch side of the last six is bench/torch_variants.py (packed and padded-and-masked
            both tried where both are correct, oneDNN on and off; the fastest kept).

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
# ../shared beside the main checkout; a worktree under /work/wt/NAME finds it one level up.
SHARED = next((p for p in (os.path.join(ROOT, "..", "shared", "bench"), os.path.join(ROOT, "..", "..", "shared", "bench"))
               if os.path.isdir(p)), os.path.join(ROOT, "..", "shared", "bench"))


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


def fma_peak(threads, runs=3):
    """GFLOP/s of ../shared/bench/fma_peak.c on `threads` threads, median of `runs` (None if it
    cannot be built)."""
    src = os.path.join(SHARED, "fma_peak.c")
    exe = os.path.join(tempfile.gettempdir(), "rnnlab_fma_peak")
    try:
        if not os.path.exists(exe):
            subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", src, "-o", exe], check=True, capture_output=True)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        return statistics.median(run_json([exe], env)["fma_peak_gflops"] for _ in range(runs))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"fma_peak: {e}", file=sys.stderr)
        return None


VARIANTS = os.path.join(HERE, "torch_variants.py")


def rows_for(table, a):
    """(label, cell, H, mode, our extra args, torch script, [torch extra args, one list per PyTorch
    way of running it: the row keeps the fastest]) for every row of a table."""
    def charlm(cell, extra=()):
        # oneDNN on and off for every cell: on this machine oneDNN's RNN path is 7× slower than
        # ATen's at H = 64, its LSTM path the faster one at large H.
        ways = [list(extra), list(extra) + ["--no-mkldnn"]]
        return a.torch_script, ways

    if table == "train":
        return [(cell, cell, h, "train", [], *charlm(cell)) for cell in a.cells.split(",") for h in a.hidden_list]
    if table == "sample":
        hs = [h for h in a.hidden_list if h in (128, 512)] or a.hidden_list
        return [(cell, cell, h, "sample", [], *charlm(cell)) for cell in a.cells.split(",") for h in hs]
    if table == "variants":
        hs = [h for h in a.hidden_list if h in (128, 256)] or a.hidden_list
        mk = [[], ["--no-mkldnn"]]
        out = []
        for h in hs:
            out += [
                ("lstm, 2 layers", "lstm", h, "train", ["--layers", "2"], *charlm("lstm", ["--layers", "2"])),
                ("lstm, embedding E = 65", "lstm", h, "train", ["--embedding", "65"],
                 *charlm("lstm", ["--input", "embed"])),
                ("lstm, evaluation (forward only)", "lstm", h, "eval", ["--mode", "eval"], VARIANTS,
                 [["--mode", "eval"] + m for m in mk]),
                ("bidirectional lstm tagger", "lstm", h, "train", ["--bidirectional"], VARIANTS,
                 [["--bidirectional"] + m for m in mk]),
                ("lstm tagger, variable length", "lstm", h, "train", ["--variable-length"], VARIANTS,
                 [["--variable-length"] + p + m for p in ([], ["--pack"]) for m in mk]),
                ("bidirectional lstm tagger, variable length", "lstm", h, "train",
                 ["--bidirectional", "--variable-length"], VARIANTS,
                 [["--bidirectional", "--variable-length", "--pack"] + m for m in mk]),
                ("lstm classifier (18 classes), variable length", "lstm", h, "train",
                 ["--classes", "18", "--variable-length"], VARIANTS,
                 [["--classes", "18", "--variable-length"] + p + m for p in ([], ["--pack"]) for m in mk]),
                ("bidirectional lstm classifier, variable length", "lstm", h, "train",
                 ["--bidirectional", "--classes", "18", "--variable-length"], VARIANTS,
                 [["--bidirectional", "--classes", "18", "--variable-length", "--pack"] + m for m in mk]),
            ]
        return out
    raise SystemExit(f"unknown table {table}")


def measure(row, a):
    label, cell, h, mode, ours_extra, torch_script, torch_ways = row
    steps = 30 if h <= 256 else 12
    ours_bin = os.path.join(ROOT, "target", "release", "rnn-lab")
    ours, theirs, rss_o, rss_t, flop, peaks = [], [], [], [], None, []
    for _ in range(a.reps):
        # The VM's cores give more or less from one minute to the next: the peak is measured
        # again with every rep, and the row's fractions are of the median of these.
        p = fma_peak(a.threads, runs=1)
        if p:
            peaks.append(p)
        cmd = [ours_bin, "bench", "--cell", cell, "--hidden", str(h), "--threads", str(a.threads), "--json"] + ours_extra
        if mode == "sample":
            cmd += ["--mode", "sample", "--steps", "2000"]
        else:
            cmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
        r = run_json(cmd)
        ours.append(r["tokens_per_sec"])
        rss_o.append(r["peak_rss_mib"])
        flop = r["flop_per_token"]
        best = None
        for extra in torch_ways:
            tcmd = [a.torch_python, torch_script, "--cell", cell, "--hidden", str(h), "--threads", str(a.threads)]
            tcmd += extra
            if mode == "sample":
                tcmd += ["--mode", "forward", "--sample-len", "300"]
            else:
                tcmd += ["--seq", str(a.seq), "--batch", str(a.batch), "--steps", str(steps)]
            t = run_json(tcmd)
            if best is None or t["tokens_per_sec"] > best["tokens_per_sec"]:
                best = t
        theirs.append(best["tokens_per_sec"])
        rss_t.append(best["peak_rss_mib"])
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"{label} H={h} {mode}: rnn-lab {mo:,.0f}  torch {mt:,.0f}  ratio {mo / mt:.2f}", file=sys.stderr)
    row_peak = statistics.median(peaks) if peaks else None
    return dict(label=label, h=h, ours=mo, torch=mt, flop=flop, rss_o=statistics.median(rss_o),
                rss_t=statistics.median(rss_t), peak=row_peak)


def table_md(name, results, peak, a):
    def rate(tps, flop, row_peak):
        g = tps * flop / 1e9
        return f"{g:.1f}" + (f" ({100 * g / row_peak:.0f}%)" if row_peak else "")

    dates = sorted({r["date"] for r in results if r.get("date")})
    peaks = sorted({round(r.get("peak") or peak) for r in results if r.get("peak") or peak})
    peak_txt = (f"FMA peak {peaks[0]}–{peaks[-1]} GFLOP/s in these rows' sittings (compare.py measures it "
                "before every rep: the VM's cores give more or less from minute to minute); each row's "
                "fractions are of its own peak, in the last column") if peaks else None

    what = {"train": f"training tokens/s, T = {a.seq}, B = {a.batch}", "sample": "batch-1 sampling tokens/s",
            "variants": f"tokens/s (training unless the row says evaluation; real tokens only), T = {a.seq}, B = {a.batch}"}[name]
    lines = [
        f"{what}, {a.threads} threads; medians of {a.reps} interleaved reps; {machine()}; "
        f"{', '.join(dates) or datetime.date.today().isoformat()}; " + (peak_txt or "FMA peak not measured"),
        "",
        "| model | H | rnn-lab | PyTorch | ratio | rnn-lab GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) "
        "| rnn-lab peak RSS MiB | PyTorch peak RSS MiB | FMA peak GFLOP/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['h']} | {r['ours']:,.0f} | {r['torch']:,.0f} | {r['ours'] / r['torch']:.2f}× "
            f"| {rate(r['ours'], r['flop'], r.get('peak') or peak)} | {rate(r['torch'], r['flop'], r.get('peak') or peak)} "
            f"| {r['rss_o']:.0f} | {r['rss_t']:.0f} | {(r.get('peak') or peak or 0):.0f} |"
        )
    return "\n".join(lines)


def key(table, label, h, a):
    return f"{table}|{label}|{h}|T{a.seq}|B{a.batch}|th{a.threads}"


def load_results(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def save_results(path, store):
    with open(path, "w") as f:
        json.dump(store, f, indent=1, sort_keys=True)


def sorted_keys(store, table, a):
    """The stored rows of `table` for this shape, in the order of rows_for with every cell and size."""
    full = argparse.Namespace(**vars(a))
    full.cells, full.hidden_list = "rnn,gru,lstm", [64, 128, 256, 512]
    order = [key(table, r[0], r[2], a) for r in rows_for(table, full)]
    return [k for k in order if k in store] + sorted(k for k in store if k.startswith(table + "|") and k not in order
                                                       and k.endswith(f"T{a.seq}|B{a.batch}|th{a.threads}"))


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
    p.add_argument("--rows", default="", help="measure only the rows whose label contains this text "
                   "(e.g. --table variants --rows evaluation); the others keep their stored figures")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--update", metavar="FILE", help="replace the tables' marked blocks in FILE")
    p.add_argument("--readme", metavar="FILE",
                   help="also rewrite the short speed table between <!-- compare:readme --> markers in FILE "
                        "(README.md) from the rows in --results")
    p.add_argument("--render-only", action="store_true",
                   help="measure nothing: write the tables (and --readme) from the rows already in --results")
    p.add_argument("--results", metavar="JSON",
                   help="keep every measured row in JSON (rows measured earlier with the same shape and "
                        "threads are kept; a table lists all its rows found there), so a long table can be "
                        "measured in several sittings")
    a = p.parse_args()
    a.hidden_list = [int(x) for x in a.hidden.split(",")]
    tables = a.table or [a.mode or "train"]
    if "all" in tables:
        tables = ["train", "sample", "variants"]
    if a.render_only and not a.results:
        raise SystemExit("--render-only needs --results")
    peak = None if a.render_only else fma_peak(a.threads)
    store = load_results(a.results)
    for name in tables:
        results = [] if a.render_only else [measure(row, a) for row in rows_for(name, a) if a.rows in row[0]]
        if a.results:
            for r in results:
                store[key(name, r["label"], r["h"], a)] = dict(r, peak=r["peak"] or peak,
                                                               date=datetime.date.today().isoformat())
            save_results(a.results, store)
            results = [store[k] for k in sorted_keys(store, name, a)]
            peaks = [r["peak"] for r in results if r.get("peak")]
            peak = min(peaks) if peaks else peak
        md = table_md(name, results, peak, a)
        if a.update:
            update(a.update, name, md)
        else:
            print(md + "\n")
    if a.readme:
        update(a.readme, "readme", readme_md(store, a))


def short(n):
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e4 else f"{n / 1e3:.1f}k"


def readme_md(store, a):
    """The README's speed table: every training row (cells × H) and the sampling rows, as
    rnn-lab / PyTorch (ratio), from the stored results."""
    lines = ["| training tokens/s, rnn-lab / PyTorch | H = 64 | H = 128 | H = 256 | H = 512 |", "|---|---|---|---|---|"]
    dates = set()
    for cell in ("rnn", "gru", "lstm"):
        cells = []
        for h in (64, 128, 256, 512):
            r = store.get(key("train", cell, h, a))
            if r:
                dates.add(r.get("date", ""))
            cells.append(f"{short(r['ours'])} / {short(r['torch'])} ({r['ours'] / r['torch']:.2f}×)" if r else "not measured")
        lines.append(f"| {cell.upper() if cell != 'lstm' else 'LSTM'} | " + " | ".join(cells) + " |")
    lines += ["", "| batch-1 sampling tokens/s, rnn-lab / PyTorch | H = 128 | H = 512 |", "|---|---|---|"]
    for cell in ("rnn", "gru", "lstm"):
        cells = []
        for h in (128, 512):
            r = store.get(key("sample", cell, h, a))
            if r:
                dates.add(r.get("date", ""))
            cells.append(f"{short(r['ours'])} / {short(r['torch'])} ({r['ours'] / r['torch']:.1f}×)" if r else "not measured")
        lines.append(f"| {cell.upper() if cell != 'lstm' else 'LSTM'} | " + " | ".join(cells) + " |")
    lines.insert(0, f"{machine()}, {a.threads} threads, T = {a.seq}, B = {a.batch} (sampling: batch 1); medians of "
                    f"{a.reps} interleaved reps, measured {', '.join(sorted(d for d in dates if d))} by "
                    "`bench/compare.py`:\n")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
