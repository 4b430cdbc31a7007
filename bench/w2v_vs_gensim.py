#!/usr/bin/env python3
"""rnn-lab's word2vec against gensim's, side by side on this machine.

    /tmp/torchenv/bin/python bench/w2v_vs_gensim.py [--corpus ptb|tang|all] [--seeds N]
        [--first-seed S] [--quick] [--only NAME] [--json RESULTS.json]

For each configuration and seed, trains gensim's Word2Vec and `rnn-lab w2v train` with the same
settings (dimension, window, negatives, sample, min_count, epochs, learning rate from `lr` down
to `min_lr`, 2 threads), one after the other (the order alternates by seed), and prints a
Markdown table: training words/s (corpus words after min_count × epochs / seconds spent in
training, vocabulary building excluded on both sides; median over seeds), and the quality of
both sets of vectors measured by the *same* evaluator, `rnn-lab w2v eval` (case-insensitive,
as gensim's `evaluate_word_analogies` and `evaluate_word_pairs` with restrict_vocab 300000, and
60x faster): analogy top-1 accuracy with its coverage, and Spearman rho on WordSim-353,
SimLex-999 and MEN (mean +- standard deviation over seeds), then for every metric the mean
difference rnn-lab - gensim with Welch's t test and an exact two-sided permutation test over the
seeds (are the two tools' scores drawn from the same distribution?). For the first seed it also
scores both tools' vectors with gensim's evaluator and checks the numbers agree to 1e-6.

`--corpus tang` trains skip-gram over the characters of the Tang poems (each non-space
character a token; experiments/word2vec/tang_chars.toml's settings, which are the same as
PTB's). There is no human-judged set for it, so quality is the overlap of the top-10 cosine
neighbours of the watched characters 月 山 春 水 花 酒 雪 夜 秋 between rnn-lab's and gensim's
vectors of the same seed, against the same overlap between gensim seed s and gensim seed s+1
(and rnn-lab's seeds between themselves): the noise floor of training itself.

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
WATCH = ["月", "山", "春", "水", "花", "酒", "雪", "夜", "秋"]
METRICS = ["analogy", "WS-353", "SimLex-999", "MEN"]
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


def welch_p(a, b):
    """Two-sided p of Welch's t test (unequal variances)."""
    from scipy.stats import ttest_ind
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def permutation_p(a, b, resamples=200_000, seed=0):
    """Two-sided p of a permutation test on the difference of means: exact (every split of the
    pooled scores into groups of len(a) and len(b)) when there are at most `resamples` splits."""
    import itertools
    import math
    pooled = np.array(list(a) + list(b), dtype=float)
    n, k = len(pooled), len(a)
    observed = abs(np.mean(a) - np.mean(b))
    total = pooled.sum()
    if math.comb(n, k) <= resamples:
        idx = np.array(list(itertools.combinations(range(n), k)))
    else:
        rng = np.random.default_rng(seed)
        idx = np.array([rng.permutation(n)[:k] for _ in range(resamples)])
    sa = pooled[idx].sum(axis=1)
    diffs = np.abs(sa / k - (total - sa) / (n - k))
    return float(np.mean(diffs >= observed - 1e-12))


def top_neighbours(wv, chars, n=10):
    return {c: [w for w, _ in wv.most_similar(c, topn=n)] for c in chars if c in wv.key_to_index}


def overlap(a, b):
    """Mean over the watched characters of |top10(a) ∩ top10(b)| / 10."""
    common = [c for c in a if c in b]
    return statistics.mean(len(set(a[c]) & set(b[c])) / len(a[c]) for c in common)


def main():
    logging.disable(logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="how many seeds")
    ap.add_argument("--first-seed", type=int, default=1, help="seeds first..first+N-1 (default 1)")
    ap.add_argument("--corpus", choices=["ptb", "tang", "all"], default="ptb")
    ap.add_argument("--quick", action="store_true", help="first configuration only, 1 seed")
    ap.add_argument("--only", help="configurations whose name contains this (e.g. CBOW, skip-gram)")
    ap.add_argument("--json", help="also write every run's figures here (rewritten after each training)")
    ap.add_argument("--train-gensim", nargs=5, metavar=("CORPUS", "LEVEL", "SG", "SEED", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.train_gensim:
        path, level, sg, seed, out = a.train_gensim
        return train_gensim(path, level, int(sg), int(seed), out)
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: run `cargo build --release` first")
    configs = [c for c in CONFIGS if a.corpus == "all" or (c[2] == "char") == (a.corpus == "tang")]
    configs = configs[:1] if a.quick else configs
    if a.only:
        configs = [c for c in configs if a.only.lower() in c[0].lower()]
    seeds = [a.first_seed] if a.quick else list(range(a.first_seed, a.first_seed + a.seeds))
    tmp = tempfile.mkdtemp(prefix="w2v-bench-")
    rows, neighbours, agree, raw, checked = [], {}, [], [], False
    for name, path, level, sg in configs:
        res = {"gensim": [], "rnn-lab": []}
        neighbours = {"gensim": [], "rnn-lab": []}
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
                    agree += [f"{name} {who} {k}: ours {q[k]:.8f}, gensim's {g[k]:.8f}"
                              for k in q if abs(g[k] - q[k]) >= 1e-6]
                    checked = True
                if level == "char":
                    neighbours[who].append(top_neighbours(wv, WATCH))
                res[who].append((wps, q, losses))
                raw.append({"config": name, "tool": who, "seed": seed, "words_per_s": wps, "quality": q,
                            "epoch_losses": losses, "neighbours": neighbours[who][-1] if level == "char" else None})
                if a.json:
                    with open(a.json, "w", encoding="utf-8") as f:
                        json.dump(raw, f, ensure_ascii=False, indent=1)
                print(f"# {name} seed {seed} {who}: {wps:,.0f} words/s {json.dumps(q)}", file=sys.stderr)
        res["neighbours"] = neighbours
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
        med = {who: statistics.median(r[0] for r in res[who]) for who in ["gensim", "rnn-lab"]}
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
    if len(seeds) > 1 and any(res["gensim"][0][1] for _, res in rows):
        print(f"\nrnn-lab − gensim over seeds {seeds[0]}–{seeds[-1]}: mean difference, Welch's t test p, "
              "exact permutation test p (two-sided):\n")
        print("| configuration | " + " | ".join(METRICS) + " |")
        print("|---|" + "---|" * len(METRICS))
        for name, res in rows:
            if not res["gensim"][0][1]:
                continue
            cells = []
            for m in METRICS:
                g = [r[1][m] for r in res["gensim"]]
                o = [r[1][m] for r in res["rnn-lab"]]
                cells.append(f"{statistics.mean(o) - statistics.mean(g):+.4f} "
                             f"(t p = {welch_p(o, g):.2f}, perm. p = {permutation_p(o, g):.2f})")
            print(f"| {name} | " + " | ".join(cells) + " |")
    if checked:
        print(f"\n`rnn-lab w2v eval` and gensim's evaluator give the same numbers (to 1e-6) on both tools' vectors "
              f"(first seed): {'yes' if not agree else 'NO: ' + '; '.join(agree)}.")
    for name, res in rows:
        nb = res["neighbours"]
        if not nb["gensim"]:
            continue
        cross = [overlap(o, g) for o, g in zip(nb["rnn-lab"], nb["gensim"])]
        floor_g = [overlap(x, y) for x, y in zip(nb["gensim"], nb["gensim"][1:])]
        floor_o = [overlap(x, y) for x, y in zip(nb["rnn-lab"], nb["rnn-lab"][1:])]
        print(f"\n{name}: overlap of the top-10 cosine neighbours of {' '.join(WATCH)} (mean over the "
              "characters, then mean ± sd over pairs of runs):\n")
        print("| pair of vector sets | pairs | top-10 overlap |")
        print("|---|---|---|")
        print(f"| rnn-lab seed s vs gensim seed s | {len(cross)} | {mean_sd(cross)} |")
        if floor_g:
            print(f"| gensim seed s vs gensim seed s+1 (noise floor) | {len(floor_g)} | {mean_sd(floor_g)} |")
            print(f"| rnn-lab seed s vs rnn-lab seed s+1 | {len(floor_o)} | {mean_sd(floor_o)} |")
        print("\nPer character, rnn-lab vs gensim (same seed) and gensim vs gensim (next seed), mean over pairs:\n")
        print("| character | rnn-lab vs gensim | gensim vs gensim | gensim seed 1 top 10 | rnn-lab seed 1 top 10 |")
        print("|---|---|---|---|---|")
        for c in WATCH:
            if c not in nb["gensim"][0]:
                continue
            x = statistics.mean(len(set(o[c]) & set(g[c])) / 10 for o, g in zip(nb["rnn-lab"], nb["gensim"]))
            y = (f"{statistics.mean(len(set(p[c]) & set(q[c])) / 10 for p, q in zip(nb['gensim'], nb['gensim'][1:])):.2f}"
                 if floor_g else "–")
            print(f"| {c} | {x:.2f} | {y} | {' '.join(nb['gensim'][0][c])} | {' '.join(nb['rnn-lab'][0][c])} |")

if __name__ == "__main__":
    main()
