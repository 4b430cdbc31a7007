"""Helpers shared by the reliability trials (standard library only).

Each trial script runs the release binary (target/release/rnn-lab; build it first with
`cargo build --release`, or name another with RNN_LAB_BIN) in a temporary folder and prints a summary table; see
docs/reliability.md for the trials and their latest figures."""

import json
import os
import random
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The binary under test: $RNN_LAB_BIN, or the release build of this checkout.
BIN = Path(os.environ.get("RNN_LAB_BIN", REPO / "target" / "release" / "rnn-lab"))
# The public corpora beside the repository (../shared/data), also found from a worktree in a
# folder beside the main checkout; $RNN_LAB_SHARED names another.
SHARED = Path(os.environ.get("RNN_LAB_SHARED") or next(
    (p for p in (REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data") if p.is_dir()),
    REPO.parent / "shared" / "data"))


def corpus_text(min_bytes=200_000):
    """Public-domain text: tiny-shakespeare when ../shared/data has it, else the repo's docs."""
    ts = SHARED / "tinyshakespeare.txt"
    if ts.is_file():
        t = ts.read_text()
    else:
        t = "".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    while len(t) < min_bytes:
        t += t
    return t


def workdir(prefix):
    return Path(tempfile.mkdtemp(prefix=prefix))


def write_experiment(d, training, name="trial", cell="lstm", hidden=32, corpus_bytes=200_000):
    (d / "corpus.txt").write_text(corpus_text(corpus_bytes)[:corpus_bytes])
    (d / f"{name}.toml").write_text(
        f'[experiment]\nname = "{name}"\nseed = 11\n[data]\nfiles = ["corpus.txt"]\n'
        f'[model]\ncell = "{cell}"\nhidden = {hidden}\n[training]\n{training}\n[sampling]\nlength = 40\n'
    )
    return d / f"{name}.toml"


def run(args, cwd, env=None, check=True, timeout=600):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([str(BIN)] + args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"rnn-lab {' '.join(args)}: exit {p.returncode}: {p.stderr[-2000:]}")
    return p


def run_dirs(out):
    out = Path(out)
    return sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []


def read_safetensors(path):
    """(metadata dict, {name: raw bytes}) of a safetensors file."""
    b = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = b[8 + n :]
    return meta, {k: data[v["data_offsets"][0] : v["data_offsets"][1]] for k, v in header.items()}


def metrics_lines(run_dir):
    """(complete lines parsed, whether a torn last line was present). Raises on a bad complete line."""
    p = Path(run_dir) / "metrics.jsonl"
    if not p.exists():
        return [], False
    raw = p.read_bytes()
    parts = raw.split(b"\n")
    complete, torn = parts[:-1], parts[-1]
    return [json.loads(l) for l in complete if l.strip()], bool(torn.strip())


def temporaries(run_dir):
    return [p.name for p in Path(run_dir).iterdir() if p.name.endswith(".tmp")]


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def table(rows, headers):
    w = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    fmt = " | ".join("{:<%d}" % n for n in w)
    print(fmt.format(*headers))
    print("-+-".join("-" * n for n in w))
    for r in rows:
        print(fmt.format(*[str(x) for x in r]))


__all__ = [
    "REPO", "BIN", "SHARED", "corpus_text", "workdir", "write_experiment", "run", "run_dirs",
    "read_safetensors", "metrics_lines", "temporaries", "rss_kb", "table", "random", "time", "shutil",
]
