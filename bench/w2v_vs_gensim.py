#!/usr/bin/env python3
"""rnn-lab's word2vec against gensim's, side by side on this machine.

    /tmp/torchenv/bin/python bench/w2v_vs_gensim.py [--seeds 3] [--quick] [--only NAME]

For each configuration and seed, trains gensim's Word2Vec and `rnn-lab w2v train` with the same
settings (dimension, window, negatives, sample, min_count, epochs, learning rate from `lr` down
to `min_lr`, 2 threads), one after the other (the order alternates by seed), and prints a
Markdown table: training words/s (corpus words after min_count × epochs / seconds spent in
training, vocabulary building excluded on both sides; median over seeds), and the quality of
both sets of vectors measured by the *same* evaluator, `rnn-lab w2v eval` (case-insensitive,
as gensim's `evaluate_word_analogies` and `evaluate_word_pairs` with restrict_vocab 300000, and
60x faster): analogy top-1 accuracy with its coverage, and Spearman rho on WordSim-353,
SimLex-999 and MEN (mean +- standard deviation over seeds). For the first seed it also scores
both tools' vectors with gensim's evaluator and checks the numbers agree to 1e-6, and it prints
the nearest neighbours of 月, 山 and 春 from the Chinese character vectors.

Quality and speed can be had in separate sittings: W2V_BENCH_LOCK="" nice -n 15 ... for scores
on a shared machine (the words/s column is then meaningless), and under the lock for timings.

gensim trains from an in-memory list of token lists (its usual mode; `corpus_file` mode was
no faster here) with its compiled routines, and computes no loss (compute_loss=False, its
default); rnn-lab always computes its loss. Each training (either tool) runs in its own process
under /work/bin/cpu-exclusive when that exists (set W2V_BENCH_LOCK="" to run without it), so
no build runs during a timing and the lock is held only while a model trains, not while the
vectors are evaluated.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import logging

import gensim
import numpy as np
import scipy
from gensim.models import KeyedVectors, Word2Vec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
if not os.path.isdir(DATA):
    DATA = "/work/shared/data"
EVAL = os.path.join(DATA, "eval")
BIN = os.environ.get("RNN_LAB_BIN", os.path.join(ROOT, "target", "release", "rnn-lab"))
LOCK = os.environ.get("W2V_BENCH_LOCK", "/work/bin/cpu-exclusive")
LOCK = [LOCK] if LOCK and os.path.exists(LOCK) else []

CONFIGS = [
    # name, corpus, level, sg
    ("PTB skip-gram NS", os.path.join(DATA, "ptb", "ptb.train.txt"), "word", 1),
    ("PTB CBOW NS", os.path.join(DATA, "ptb", "ptb.train.txt"), "word", 0),
    ("Tang chars skip-gram NS", os.path.join(DATA, "chinese", "tang_regular.txt"), "char", 1),
]
COMMON = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, threads=2)
PAIRS = [("WS-353", "EN-WS-353-ALL.txt"), ("SimLex-999", "EN-SIMLEX-999.txt"), ("MEN", "EN-MEN-TR-3k.txt")]


def lr_of(sg):
    # The original tool's defaults (0.025 skip-gram, 0.05 CBOW) on both sides; gensim's
    # min_alpha default 0.0001 on both sides.
    return (0.025 if sg else 0.05), 0.0001


def sentences(path, level):
    with open(path, encoding="utf-8") as f:
        if level == "char":
            return [[c for c in line if not c.isspace()] for line in f]
        return [line.split() for line in f]


def train_gensim(path, level, sg, seed, out):
    """In its own process (under the CPU lock): train, save, print the training words/s."""
    sents = sentences(path, level)
    lr, min_lr = lr_of(sg)
    m = Word2Vec(
        vector_size=COMMON["dim"], window=COMMON["window"], negative=COMMON["negative"], hs=0,
        sample=COMMON["sample"], min_count=COMMON["min_count"], epochs=COMMON["epochs"], sg=sg,
        alpha=lr, min_alpha=min_lr, workers=COMMON["threads"], seed=seed,
    )
    m.build_vocab(sents)
    words = sum(m.wv.get_vecattr(w, "count") for w in m.wv.index_to_key)
    t = time.perf_counter()
    m.train(sents, total_examples=m.corpus_count, epochs=m.epochs)
    secs = time.perf_counter() - t
    m.wv.save_word2vec_format(out, binary=True)
    print(json.dumps({"words_per_s": words * COMMON["epochs"] / secs}))


def run_gensim(path, level, sg, seed, out):
    p = subprocess.run(
        LOCK + [sys.executable, os.path.abspath(__file__), "--train-gensim", path, level, str(sg), str(seed), out],
        capture_output=True, text=True, check=True,
    )
    wps = json.loads(p.stdout.strip().splitlines()[-1])["words_per_s"]
    return KeyedVectors.load_word2vec_format(out, binary=True), wps, None


def run_ours(path, level, sg, seed, out):
    lr, min_lr = lr_of(sg)
    args = LOCK + [
        BIN, "w2v", "train", path, "--out", out, "--json", "--level", level,
        "--arch", "skipgram" if sg else "cbow", "--objective", "ns",
        "--dim", str(COMMON["dim"]), "--window", str(COMMON["window"]),
        "--negative", str(COMMON["negative"]), "--sample", str(COMMON["sample"]),
        "--min-count", str(COMMON["min_count"]), "--epochs", str(COMMON["epochs"]),
        "--lr", str(lr), "--min-lr", str(min_lr), "--threads", str(COMMON["threads"]),
        "--seed", str(seed),
    ]
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    done = lines[-1]
    losses = [l["loss"] for l in lines if l["kind"] == "epoch"]
    wv = KeyedVectors.load_word2vec_format(out, binary=out.endswith(".bin"))
    return wv, done["corpus_words"] * COMMON["epochs"] / done["seconds"], losses


def quality(wv):
    q = {}
    score, sections = wv.evaluate_word_analogies(os.path.join(EVAL, "questions-words.txt"))
    total = sections[-1]
    answered = len(total["correct"]) + len(total["incorrect"])
    q["analogy"] = score
    q["analogy_cov"] = answered / 19544
    for name, f in PAIRS:
        (_, _), (rho, _), oov = wv.evaluate_word_pairs(os.path.join(EVAL, f))
        q[name] = rho
        q[name + "_cov"] = 1 - oov / 100
    return q


def ours_eval(vectors):
    p = subprocess.run(
        [BIN, "w2v", "eval", vectors, "--analogies", os.path.join(EVAL, "questions-words.txt")]
        + sum([["--pairs", os.path.join(EVAL, f)] for _, f in PAIRS], []) + ["--json"],
        capture_output=True, text=True, check=True,
    )
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    out = {"analogy": lines[0]["accuracy"], "analogy_cov": lines[0]["coverage"]}
    for (name, _), l in zip(PAIRS, lines[1:]):
        out[name] = l["spearman"]
        out[name + "_cov"] = l["coverage"]
    return out


def mean_sd(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.3f} ± {sd:.3f}"


def main():
    logging.disable(logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="first configuration only, 1 seed")
    ap.add_argument("--only", help="configurations whose name contains this (e.g. CBOW, Tang)")
    ap.add_argument("--train-gensim", nargs=5, metavar=("CORPUS", "LEVEL", "SG", "SEED", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.train_gensim:
        path, level, sg, seed, out = a.train_gensim
        return train_gensim(path, level, int(sg), int(seed), out)
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: run `cargo build --release` first")
    configs = CONFIGS[:1] if a.quick else CONFIGS
    if a.only:
        configs = [c for c in configs if a.only.lower() in c[0].lower()]
    seeds = [1] if a.quick else list(range(1, a.seeds + 1))
    tmp = tempfile.mkdtemp(prefix="w2v-bench-")
    rows, neighbours, agree = [], {}, []
    for name, path, level, sg in configs:
        res = {"gensim": [], "rnn-lab": []}
        for seed in seeds:
            order = ["gensim", "rnn-lab"] if seed % 2 else ["rnn-lab", "gensim"]
            for who in order:
                if who == "gensim":
                    vec_file = os.path.join(tmp, f"gensim-{seed}.bin")
                    wv, wps, losses = run_gensim(path, level, sg, seed, vec_file)
                else:
                    vec_file = os.path.join(tmp, f"ours-{seed}.bin")
                    wv, wps, losses = run_ours(path, level, sg, seed, vec_file)
                q = ours_eval(vec_file) if level == "word" else {}
                if level == "word" and seed == seeds[0]:
                    g = quality(wv)  # gensim's own evaluator, once per tool and configuration
                    agree.append(all(abs(g[k] - q[k]) < 1e-6 for k in q))
                if level == "char" and seed == seeds[0]:
                    neighbours[who] = {
                        c: [w for w, _ in wv.most_similar(c, topn=8)] for c in ["月", "山", "春"]
                    }
                res[who].append((wps, q, losses))
                print(f"# {name} seed {seed} {who}: {wps:,.0f} words/s {json.dumps(q)}", file=sys.stderr)
        rows.append((name, res))

    sys.stderr.flush()
    print(f"gensim {gensim.__version__} (numpy {np.__version__}, scipy {scipy.__version__}, "
          f"FAST_VERSION {gensim.models.word2vec_inner.FAST_VERSION}), Python {platform.python_version()}; "
          f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}); {len(seeds)} seed(s).")
    print(f"Settings, both sides: dim {COMMON['dim']}, window {COMMON['window']}, negative {COMMON['negative']}, "
          f"sample {COMMON['sample']}, min_count {COMMON['min_count']}, epochs {COMMON['epochs']}, "
          f"threads {COMMON['threads']}, lr 0.025 (skip-gram) / 0.05 (CBOW) linearly down to 0.0001.\n")
    cols = ["words/s", "analogy acc (coverage)"] + [f"{n} ρ" for n, _ in PAIRS] + ["final loss"]
    print("| configuration | tool | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for name, res in rows:
        med = {who: statistics.median(r[0] for r in res[who]) for who in res}
        for who in ["gensim", "rnn-lab"]:
            rs = res[who]
            wps = f"{med[who]:,.0f}"
            if who == "rnn-lab":
                wps += f" (×{med['rnn-lab'] / med['gensim']:.2f})"
            cells = [wps]
            if rs[0][1]:
                cov = rs[0][1]["analogy_cov"]
                cells.append(f"{mean_sd([r[1]['analogy'] for r in rs])} ({cov:.1%})")
                for n, _ in PAIRS:
                    cells.append(f"{mean_sd([r[1][n] for r in rs])} ({rs[0][1][n + '_cov']:.0%})")
            else:
                cells += ["–"] * (1 + len(PAIRS))
            cells.append(mean_sd([r[2][-1] for r in rs]) if rs[0][2] else "not computed")
            print(f"| {name} | {who} | " + " | ".join(cells) + " |")
    if agree:
        print(f"\n`rnn-lab w2v eval` and gensim's evaluator give the same numbers (to 1e-6) on both tools' vectors: "
              f"{'yes' if all(agree) else 'NO'}.")
    if neighbours:
        print("\nNearest neighbours (cosine, seed 1) in the Tang character vectors:\n")
        print("| character | gensim | rnn-lab |")
        print("|---|---|---|")
        for c in ["月", "山", "春"]:
            print(f"| {c} | {' '.join(neighbours['gensim'][c])} | {' '.join(neighbours['rnn-lab'][c])} |")


if __name__ == "__main__":
    main()
