#!/usr/bin/env python3
"""Does a model exported with `rnn-lab export --pytorch` compute in PyTorch what it computes in
rnn-lab, and does `rnn-lab import` bring a PyTorch-trained model back? (Not part of cargo test.)

Unidirectional models (every cell: rnn, gru course, gru pytorch, lstm; one and two layers; one-hot
and embedding input; plus lines mode and a word-level model) are trained a few steps with
`rnn-lab train` on a small text this script writes. For each:
  1. `rnn-lab eval CKPT eval.txt` gives nats/token; the export, loaded with the three lines the
     export prints (run verbatim in a fresh Python), scores the same text with rnn-lab's eval
     semantics in float32 and float64: |Δ nats| must be ≤ 1e-5;
  2. `python model.py` compares the load with the logits rnn-lab wrote (check.safetensors);
  3. the model trains 5 more steps in PyTorch, `model.save(DIR)`, `rnn-lab import DIR`, and
     `rnn-lab eval` of the import must match PyTorch's own score of the trained weights;
  4. `rnn-lab import` of the untouched export gives back every tensor of the checkpoint, bit for bit.

Bidirectional language models are rejected by rnn-lab (they need the future), so bidirectional
models are trained here, in PyTorch (nn.RNN / nn.GRU / nn.LSTM / CourseGRU, a few steps of a
per-step objective), written as rnn-lab checkpoints with a mapping independent of rnn-lab's,
exported by `rnn-lab export`, and compared twice: rnn-lab's own forward pass (the logits in
check.safetensors, computed by the library) against the PyTorch original, and the export loaded
through model.py against the original on the evaluation text (per-step logits and nats/token).

Usage: /tmp/torchenv/bin/python bench/export_check.py [--bin target/release/rnn-lab] [--keep DIR]
Prints one line per configuration and a markdown table; exits 1 if any figure exceeds 1e-5.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYDIR = os.path.join(REPO, "src", "interop", "python")
TOL = 1e-5

WORDS = (
    "the a one every some old young quick lazy small great river mountain city garden fox dog bird "
    "king queen child runs sleeps sings jumps over under near beside and but while because, quietly "
    "slowly . ! ? ; walks sees finds keeps loses 1.5 2,000 don't it's snack-food"
).split()


def corpus(seed, sentences):
    rng = random.Random(seed)
    lines = []
    for _ in range(sentences):
        n = rng.randint(4, 11)
        words = [rng.choice(WORDS) for _ in range(n)]
        words[0] = words[0].capitalize()
        lines.append(" ".join(words) + rng.choice([".", "!", "?"]))
    return "\n".join(lines) + "\n"


def sh(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{r.stderr}")
    return r.stdout


# ------------------------------------------------------------------------------------------------
# Unidirectional: trained by rnn-lab.

UNI = [
    # label, [model] TOML, [data] extras
    ("rnn L1 one-hot", 'cell = "rnn"\nhidden = 24', ""),
    ("rnn L2 emb", 'cell = "rnn"\nhidden = 24\nlayers = 2\nembedding = 12', ""),
    ("gru-course L1 one-hot", 'cell = "gru"\nhidden = 24', ""),
    ("gru-course L2 emb", 'cell = "gru"\nhidden = 24\nlayers = 2\nembedding = 12', ""),
    ("gru-pytorch L1 one-hot", 'cell = "gru"\ngru_variant = "pytorch"\nhidden = 24', ""),
    ("gru-pytorch L2 emb", 'cell = "gru"\ngru_variant = "pytorch"\nhidden = 24\nlayers = 2\nembedding = 12', ""),
    ("lstm L1 one-hot", 'cell = "lstm"\nhidden = 24', ""),
    ("lstm L2 emb", 'cell = "lstm"\nhidden = 24\nlayers = 2\nembedding = 12', ""),
    ("lstm L1 lines", 'cell = "lstm"\nhidden = 24', 'mode = "lines"'),
    ("gru-course L2 word", 'cell = "gru"\nhidden = 24\nlayers = 2\nembedding = 16', 'level = "word"\nlowercase = true'),
]

# Runs in a fresh interpreter: the three lines `rnn-lab export` printed, then the checks.
CHILD = r"""
import json, sys, torch, torch.nn.functional as F
THREE = sys.argv[1]; EXPORT, TRAIN, EVAL, SAVE = sys.argv[2:6]
exec(THREE)                                     # model, vocab = load(EXPORT)
from model import load, check, batches
text = open(EVAL).read()
out = {"nats32": model.nats_per_token(text)[0]}
m64, _ = load(EXPORT, dtype=torch.float64)
out["nats64"], out["tokens"] = m64.nats_per_token(text)
out["check"] = check(EXPORT)
# Continue training in PyTorch (float32), save where rnn-lab import reads it.
torch.manual_seed(0)
model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
ids = torch.tensor(vocab.encode(open(TRAIN).read())[0])
for x, y in batches(ids, batch=8, seq_len=32, steps=5):
    logits, _ = model(x)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    opt.zero_grad(); loss.backward(); opt.step()
model.save(SAVE)
trained, _ = load(SAVE, dtype=torch.float64)
out["trained64"] = trained.nats_per_token(text)[0]
print(json.dumps(out))
"""


def tensors(path):
    from safetensors.numpy import load_file

    return {k: v for k, v in load_file(path).items() if not k.startswith(("optim.", "state."))}


def uni_case(rl, work, label, model_toml, data_extra, text_files):
    name = label.replace(" ", "_").replace("-", "_")
    d = os.path.join(work, name)
    os.makedirs(d)
    train, eval_txt = text_files
    exp = os.path.join(d, "exp.toml")
    with open(exp, "w") as f:
        f.write(
            f'[experiment]\nname = "{name}"\n\n[data]\nfiles = ["{train}"]\n{data_extra}\n\n[model]\n{model_toml}\n\n'
            "[training]\nsteps = 150\nbatch_size = 16\nseq_len = 32\nlr = 1e-2\neval_every = 0\nsample_every = 0\nprobe_every = 0\n"
        )
    sh([rl, "train", exp, "--out", os.path.join(d, "runs"), "--threads", "1"])
    (run,) = os.listdir(os.path.join(d, "runs"))
    ckpt = os.path.join(d, "runs", run, "latest.safetensors")
    ev = json.loads(sh([rl, "eval", ckpt, eval_txt, "--json"]))
    export = os.path.join(d, "export")
    three = sh([rl, "export", ckpt, "--pytorch", export])
    saved = os.path.join(d, "continued")
    child = json.loads(sh([sys.executable, "-c", CHILD, three, export, train, eval_txt, saved], cwd=d).strip().splitlines()[-1])
    check_cli = sh([sys.executable, os.path.join(export, "model.py")])
    assert "ok" in check_cli, check_cli
    # Back: the PyTorch-trained weights, and the untouched export (round trip).
    imported = os.path.join(d, "imported.safetensors")
    sh([rl, "import", saved, "--out", imported])
    ev_imp = json.loads(sh([rl, "eval", imported, eval_txt, "--json"]))
    sh([rl, "probe", imported, "--text", "The quick fox", "--json"])
    rt = os.path.join(d, "roundtrip.safetensors")
    sh([rl, "import", export, "--out", rt])
    a, b = tensors(ckpt), tensors(rt)
    same = sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a)
    # Standard tools read the state_dict too: safetensors.torch into the plain PyTorch module.
    from safetensors.torch import load_file

    sd = load_file(os.path.join(export, "model.safetensors"))
    plain_ok = all(v.dtype == torch.float32 for v in sd.values()) and any(k.startswith("rnn.weight_ih_l0") for k in sd)
    return {
        "label": label,
        "rnn_lab": ev["nats_per_token"],
        "tokens": ev["tokens"],
        "d32": abs(child["nats32"] - ev["nats_per_token"]),
        "d64": abs(child["nats64"] - ev["nats_per_token"]),
        "check": child["check"],
        "trained_rnn_lab": ev_imp["nats_per_token"],
        "d_import": abs(child["trained64"] - ev_imp["nats_per_token"]),
        "moved": abs(child["trained64"] - child["nats64"]),
        "roundtrip": same and plain_ok and child["tokens"] == ev["tokens"],
    }


# ------------------------------------------------------------------------------------------------
# Bidirectional: trained in PyTorch, written as an rnn-lab checkpoint, exported by rnn-lab.

sys.path.insert(0, PYDIR)
from course_gru import CourseGRU  # noqa: E402  (the module export writes)

GATES = {"rnn": ["a"], "gru-pytorch": ["r", "z", "n"], "gru-course": ["u", "r", "c"], "lstm": ["u", "f", "c", "o"]}


class Original(nn.Module):
    def __init__(self, kind, vocab, hidden, layers, emb):
        super().__init__()
        self.vocab, self.kind = vocab, kind
        self.embed = nn.Embedding(vocab, emb) if emb else None
        x = emb or vocab
        kw = dict(num_layers=layers, batch_first=True, bidirectional=True)
        self.rnn = {
            "rnn": lambda: nn.RNN(x, hidden, **kw),
            "gru-pytorch": lambda: nn.GRU(x, hidden, **kw),
            "gru-course": lambda: CourseGRU(x, hidden, **kw),
            "lstm": lambda: nn.LSTM(x, hidden, **kw),
        }[kind]()
        self.head = nn.Linear(2 * hidden, vocab)

    def forward(self, tokens):
        real = (tokens >= 0).unsqueeze(-1).to(self.head.weight.dtype)
        ids = tokens.clamp(min=0)
        x = self.embed(ids) if self.embed is not None else F.one_hot(ids, self.vocab).to(self.head.weight.dtype)
        out, _ = self.rnn(x * real)
        return self.head(out)


def write_rnn_lab_checkpoint(path, m, kind, vocab_tokens, hidden, layers, emb):
    """The notes' layout, worked out here from PyTorch's documentation, not from rnn-lab's code:
    w_g = [W_hh rows of g | W_ih rows of g], b_g = b_ih + b_hh (GRU n: b_n = b_ih, b_hn = b_hh)."""
    from safetensors.torch import save_file

    p = {k: v.detach().float() for k, v in m.named_parameters()}
    out = {}
    if emb:
        out["embed.weight"] = p["embed.weight"]
    for l in range(layers):
        for d, dn in ((0, "fwd"), (1, "bwd")):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            wih, whh = p[f"rnn.weight_ih{sfx}"], p[f"rnn.weight_hh{sfx}"]
            bih, bhh = p[f"rnn.bias_ih{sfx}"], p[f"rnn.bias_hh{sfx}"]
            for k, g in enumerate(GATES[kind]):
                rows = slice(k * hidden, (k + 1) * hidden)
                out[f"layers.{l}.{dn}.w_{g}"] = torch.cat([whh[rows], wih[rows]], dim=1).contiguous()
                if kind == "gru-pytorch" and g == "n":
                    out[f"layers.{l}.{dn}.b_n"] = bih[rows].contiguous()
                    out[f"layers.{l}.{dn}.b_hn"] = bhh[rows].contiguous()
                else:
                    out[f"layers.{l}.{dn}.b_{g}"] = (bih[rows] + bhh[rows]).contiguous()
    out["head.w_y"] = p["head.weight"].contiguous()
    out["head.b_y"] = p["head.bias"].contiguous()
    cell, variant = ("gru", kind.split("-")[1]) if kind.startswith("gru") else (kind, "course")
    spec = {
        "cell": cell,
        "gru_variant": variant,
        "vocab": len(vocab_tokens),
        "input": {"embedding": emb} if emb else "onehot",
        "hidden": hidden,
        "layers": layers,
        "bidirectional": True,
        "head": "per_step",
        "outputs": len(vocab_tokens),
        "init": {"uniform": 0.08},
        "forget_bias": 1.0,
    }
    vocab = {"level": "char", "lowercase": False, "split_punctuation": True, "tokens": vocab_tokens, "unk": None, "eos": None}
    config = f'[data]\nfiles = ["train.txt"]\nmode = "stream"\n\n[model]\ncell = "{cell}"\nhidden = {hidden}\nlayers = {layers}\nbidirectional = true\n'
    meta = {"format": "rnn-lab-checkpoint", "version": "1", "config": config, "vocab": json.dumps(vocab), "spec": json.dumps(spec), "step": "20"}
    save_file(out, path, metadata=meta)


def bi_case(rl, work, kind, layers, train_text, eval_text):
    torch.manual_seed(layers * 10 + len(kind))
    label = f"{kind} L{layers} bidirectional"
    d = os.path.join(work, label.replace(" ", "_"))
    os.makedirs(d)
    tokens = sorted(set(train_text + eval_text))
    index = {c: i for i, c in enumerate(tokens)}
    hidden, emb = 16, (12 if layers == 2 else 0)
    m = Original(kind, len(tokens), hidden, layers, emb)
    ids = torch.tensor([index[c] for c in train_text])
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    rng = random.Random(layers)
    for _ in range(20):  # a per-step objective: predict the previous character
        starts = [rng.randrange(1, len(ids) - 33) for _ in range(8)]
        x = torch.stack([ids[s : s + 32] for s in starts])
        y = torch.stack([ids[s - 1 : s + 31] for s in starts])
        loss = F.cross_entropy(m(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    m = m.double().eval()
    ckpt = os.path.join(d, "bi.safetensors")
    write_rnn_lab_checkpoint(ckpt, m, kind, tokens, hidden, layers, emb)
    export = os.path.join(d, "export")
    sh([rl, "export", ckpt, "--pytorch", export])
    from safetensors.torch import load_file

    ref = load_file(os.path.join(export, "check.safetensors"))
    with torch.no_grad():
        # rnn-lab's forward (check.safetensors) against the PyTorch original.
        d_lib = (m(ref["inputs"].long()) - ref["logits"].double()).abs().max().item()
        # The export loaded through model.py against the original, on the evaluation text.
        sys.path.insert(0, export)
        import importlib

        mod = importlib.import_module("model")
        mod = importlib.reload(mod)
        sys.path.remove(export)
        ex, _ = mod.load(export, dtype=torch.float64)
        x = torch.tensor([[index[c] for c in eval_text[:-1]]])
        y = torch.tensor([index[c] for c in eval_text[1:]])
        a, b = m(x)[0], ex(x)[0][0]
        d_logits = (a - b).abs().max().item()
        na = F.cross_entropy(a, y).item()
        nb = F.cross_entropy(b, y).item()
    return {"label": label, "d_lib": d_lib, "d_logits": d_logits, "d_nats": abs(na - nb), "nats": nb, "tokens": len(y)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "rnn-lab"))
    ap.add_argument("--keep", help="work in this folder and keep it")
    a = ap.parse_args()
    rl = os.path.abspath(a.bin)
    if not os.path.exists(rl):
        raise SystemExit(f"{rl}: build it first (cargo build --release)")
    work = a.keep or tempfile.mkdtemp(prefix="export_check_")
    if a.keep:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    train, eval_txt = os.path.join(work, "train.txt"), os.path.join(work, "eval.txt")
    train_text, eval_text = corpus(1, 600), corpus(2, 60)
    with open(train, "w") as f:
        f.write(train_text)
    with open(eval_txt, "w") as f:
        f.write(eval_text)
    print(f"torch {torch.__version__}, work folder {work}", file=sys.stderr)

    bad = False
    uni = []
    for label, model_toml, extra in UNI:
        r = uni_case(rl, work, label, model_toml, extra, (train, eval_txt))
        worst = max(r["d32"], r["d64"], r["check"], r["d_import"])
        bad |= worst > TOL or not r["roundtrip"]
        print(
            f"{label:24} eval {r['rnn_lab']:.6f} nats/token ({r['tokens']} tokens)  |Δ| f32 {r['d32']:.1e}  f64 {r['d64']:.1e}"
            f"  logits {r['check']:.1e}  after PyTorch training {r['d_import']:.1e} (moved {r['moved']:.3f})"
            f"  round trip {'identical' if r['roundtrip'] else 'DIFFERENT'}",
            file=sys.stderr,
        )
        uni.append(r)
    bi = []
    for kind in ("rnn", "gru-course", "gru-pytorch", "lstm"):
        for layers in (1, 2):
            r = bi_case(rl, work, kind, layers, train_text, eval_text)
            bad |= max(r["d_lib"], r["d_logits"], r["d_nats"]) > TOL
            print(
                f"{r['label']:26} rnn-lab forward vs PyTorch |Δ logit| {r['d_lib']:.1e}  export vs original |Δ logit| {r['d_logits']:.1e}  |Δ nats| {r['d_nats']:.1e}",
                file=sys.stderr,
            )
            bi.append(r)

    print("| configuration | `rnn-lab eval` nats/token | PyTorch f32 \\|Δ\\| | PyTorch f64 \\|Δ\\| | check logits \\|Δ\\| | after 5 PyTorch steps, import \\|Δ\\| | round trip |")
    print("|---|---|---|---|---|---|---|")
    for r in uni:
        print(
            f"| {r['label']} | {r['rnn_lab']:.6f} | {r['d32']:.1e} | {r['d64']:.1e} | {r['check']:.1e} | {r['d_import']:.1e} | {'identical' if r['roundtrip'] else 'DIFFERENT'} |"
        )
    print()
    print("| bidirectional (trained in PyTorch) | rnn-lab forward vs PyTorch \\|Δ logit\\| | export vs original \\|Δ logit\\| | \\|Δ nats/token\\| |")
    print("|---|---|---|---|")
    for r in bi:
        print(f"| {r['label']} | {r['d_lib']:.1e} | {r['d_logits']:.1e} | {r['d_nats']:.1e} |")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if bad:
        print(f"FAILED: a difference above {TOL}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
