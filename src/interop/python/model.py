"""An rnn-lab model in PyTorch, written by `rnn-lab export` (README.md beside this file).

Needs only torch; the `safetensors` package is used when installed, a small built-in reader and
writer of the same format otherwise.

    import sys; sys.path.insert(0, "EXPORT_DIR")
    from model import load
    model, vocab = load("EXPORT_DIR")

The model is the notes' network: tokens enter as one-hot columns (no parameters) or through
nn.Embedding, run through a stack of nn.RNN (tanh) / nn.GRU / nn.LSTM, or CourseGRU for the
course GRU (course_gru.py), with batch_first=True, and a per-step nn.Linear head.

`python model.py [EXPORT_DIR]` loads the export and compares its logits on a fixed input with
the ones rnn-lab computed (check.safetensors): the largest difference is printed.
"""

import json
import os
import random
import shutil
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "rnn-lab-pytorch"
HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------------
# safetensors: the package when installed, else the format itself (8-byte little-endian header
# length, a JSON header of dtype/shape/data_offsets, then the raw little-endian bytes).

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
}


def _read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        raw = bytearray(data[8 + n + lo : 8 + n + hi])
        out[name] = torch.frombuffer(raw, dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def _write_safetensors(tensors, path, metadata=None):
    names = {v: k for k, v in _DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


try:
    from safetensors.torch import load_file as _load_file
    from safetensors.torch import save_file as _save_file
except ImportError:  # the format is simple enough to read and write here
    _load_file, _save_file = _read_safetensors, _write_safetensors


# ---------------------------------------------------------------------------------------------
# The vocabulary: the same cutting of text into tokens as rnn-lab's src/data/vocab.rs.

_CLITICS = {"s", "re", "ve", "ll", "d", "m", "t"}
_DIGITS = "0123456789"


def _is_clitic(rest):
    end = 0
    while end < len(rest) and rest[end].isalnum():
        end += 1
    return rest[:end].lower() in _CLITICS


def split_words(line):
    """Word-level tokens of one line: runs of letters and digits, keeping ' ’ - between two
    letters or digits and . , between two digits; every other non-space character is a token of
    its own; a clitic written apart ('s, 're, …) and a <word> in angle brackets stay one token."""
    out = []
    for piece in line.split():
        if piece.isascii() and piece.isalnum():
            out.append(piece)
            continue
        if len(piece) > 2 and piece[0] == "<" and piece[-1] == ">" and all(c.isalnum() or c == "_" for c in piece[1:-1]):
            out.append(piece)
            continue
        start, prev = None, None
        for i, c in enumerate(piece):
            nxt = piece[i + 1] if i + 1 < len(piece) else None
            if c in "'\u2019-":
                joins = prev is not None and prev.isalnum() and nxt is not None and nxt.isalnum()
            elif c in ".,":
                joins = prev is not None and prev in _DIGITS and nxt is not None and nxt in _DIGITS
            else:
                joins = False
            clitic = c == "'" and start is None and _is_clitic(piece[i + 1 :])
            if c.isalnum() or (joins and start is not None) or clitic:
                if start is None:
                    start = i
            else:
                if start is not None:
                    out.append(piece[start:i])
                    start = None
                out.append(c)
            prev = c
        if start is not None:
            out.append(piece[start:])
    return out


class Vocab:
    """Token ↔ id table of an rnn-lab model (vocab.json)."""

    def __init__(self, raw):
        self.raw = raw
        self.level = raw["level"]
        self.lowercase = raw.get("lowercase", False)
        self.split_punctuation = raw.get("split_punctuation", True)
        self.tokens = list(raw["tokens"])
        self.unk = raw.get("unk")
        self.eos = raw.get("eos")
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def encode_line(self, line):
        """Ids of one line (no newline inside, already lower-cased if the vocabulary is) and the
        number of unknown tokens (mapped to <unk>, or dropped without one)."""
        pieces = line if self.level == "char" else (split_words(line) if self.split_punctuation else line.split())
        ids, unknown = [], 0
        for p in pieces:
            i = self.index.get(p)
            if i is None:
                unknown += 1
                if self.unk is not None:
                    ids.append(self.unk)
            else:
                ids.append(i)
        return ids, unknown

    def encode(self, text):
        """Ids of a text as rnn-lab's stream mode cuts it: a newline is the newline token when
        the vocabulary has one (characters), else <eos> after each non-empty line."""
        if self.lowercase:
            text = text.lower()
        newline = self.index.get("\n") if self.level == "char" else None
        lines = text.split("\n")
        out, unknown = [], 0
        for k, line in enumerate(lines):
            before = len(out)
            ids, u = self.encode_line(line)
            out += ids
            unknown += u
            if k + 1 < len(lines):
                if newline is not None:
                    out.append(newline)
                elif self.eos is not None and (len(out) > before or line.strip()):
                    out.append(self.eos)
        return out, unknown

    def decode(self, ids):
        """Text of ids: characters concatenated, words joined by spaces; <eos> is a newline."""
        parts = []
        for i in ids:
            if i < 0 or i >= len(self.tokens):
                continue
            parts.append("\n" if i == self.eos else self.tokens[i])
        return "".join(parts) if self.level == "char" else " ".join(parts).replace(" \n ", "\n")


# ---------------------------------------------------------------------------------------------
# The model.


class RnnLab(nn.Module):
    """Input (one-hot or nn.Embedding) → recurrent stack → nn.Linear head, as in rnn-lab."""

    def __init__(self, config, vocab=None):
        super().__init__()
        self.config = dict(config)
        self.vocab = vocab
        c = self.config
        self.cell, self.variant = c["cell"], c.get("gru_variant", "course")
        self.vocab_size, self.embedding = c["vocab_size"], c.get("embedding", 0)
        self.hidden, self.layers = c["hidden"], c["layers"]
        self.bidirectional = c.get("bidirectional", False)
        self.head_kind = c.get("head", "per_step")
        dirs = 2 if self.bidirectional else 1
        self.embed = nn.Embedding(self.vocab_size, self.embedding) if self.embedding else None
        x = self.embedding or self.vocab_size
        kw = dict(num_layers=self.layers, batch_first=True, bidirectional=self.bidirectional)
        if self.cell == "rnn":
            self.rnn = nn.RNN(x, self.hidden, nonlinearity="tanh", **kw)
        elif self.cell == "lstm":
            self.rnn = nn.LSTM(x, self.hidden, **kw)
        elif self.cell == "gru" and self.variant == "pytorch":
            self.rnn = nn.GRU(x, self.hidden, **kw)
        elif self.cell == "gru":
            sys.path.insert(0, HERE)
            from course_gru import CourseGRU

            self.rnn = CourseGRU(x, self.hidden, **kw)
        else:
            raise ValueError(f"unknown cell {self.cell!r}")
        self.head = nn.Linear(self.hidden * dirs, c["outputs"])

    def inputs(self, tokens):
        """x⟨t⟩ for token ids [B, T]: a one-hot column or an embedding row; id -1 gives x = 0."""
        real = (tokens >= 0).unsqueeze(-1)
        ids = tokens.clamp(min=0)
        dtype = self.head.weight.dtype
        x = self.embed(ids) if self.embed is not None else F.one_hot(ids, self.vocab_size).to(dtype)
        return x * real.to(dtype)

    def forward(self, tokens, state=None):
        """tokens [B, T] → (outputs, state). Per-step head: logits [B, T, |Y|]. Sequence heads:
        [B, |Y|] from a→ after the last step and a← at the first. state as the recurrent module
        takes it (h [L·dirs, B, H], or (h, c) for the LSTM); None starts from zero."""
        out, state = self.rnn(self.inputs(tokens), state)
        if self.head_kind == "per_step":
            return self.head(out), state
        last = out[:, -1, : self.hidden]
        if self.bidirectional:
            last = torch.cat([last, out[:, 0, self.hidden :]], dim=-1)
        return self.head(last), state

    @torch.no_grad()
    def nats_per_token(self, text, mode=None, chunk=256):
        """Mean cross-entropy per scored token of `text`, with rnn-lab eval's semantics. Stream:
        the text is one sequence from a zero state, token 1 the first input, tokens 2..N scored.
        Lines: each non-blank line from a zero state with x⟨1⟩ = 0; its tokens and <eos> scored.
        Returns (nats per token, tokens scored)."""
        mode = mode or self.config.get("mode") or "stream"
        device = self.head.weight.device
        total, count = 0.0, 0
        if mode == "stream":
            ids, _ = self.vocab.encode(text)
            ids = torch.tensor(ids, device=device)
            state = None
            for at in range(0, len(ids) - 1, chunk):
                x = ids[at : min(at + chunk, len(ids) - 1)]
                y = ids[at + 1 : at + 1 + len(x)]
                logits, state = self(x.unsqueeze(0), state)
                total += F.cross_entropy(logits[0].double(), y, reduction="sum").item()
                count += len(y)
        else:
            if self.vocab.lowercase:
                text = text.lower()
            for line in text.split("\n"):
                if not line.strip():
                    continue
                seq, _ = self.vocab.encode_line(line.rstrip("\r"))
                x = torch.tensor([-1] + seq, device=device)
                y = torch.tensor(seq + [self.vocab.eos], device=device)
                logits, _ = self(x.unsqueeze(0))
                total += F.cross_entropy(logits[0].double(), y, reduction="sum").item()
                count += len(y)
        return total / max(count, 1), count

    def save(self, directory):
        """Write this model where `rnn-lab import DIR` reads it: model.safetensors (float32),
        model.json, vocab.json, and config.toml (copied from the export it came from)."""
        os.makedirs(directory, exist_ok=True)
        sd = {k: v.detach().float().cpu().contiguous() for k, v in self.state_dict().items()}
        tmp = os.path.join(directory, ".model.safetensors.tmp")
        _save_file(sd, tmp, metadata={"format": "pt", "rnn-lab": FORMAT})
        os.replace(tmp, os.path.join(directory, "model.safetensors"))
        with open(os.path.join(directory, "model.json"), "w") as f:
            json.dump(self.config, f, indent=2)
        if self.vocab is not None:
            with open(os.path.join(directory, "vocab.json"), "w") as f:
                json.dump(self.vocab.raw, f, indent=2, ensure_ascii=False)
        src = getattr(self, "source_dir", None)
        if src and os.path.abspath(src) != os.path.abspath(directory):
            for name in ("config.toml", "model.py", "course_gru.py"):
                if os.path.exists(os.path.join(src, name)):
                    shutil.copyfile(os.path.join(src, name), os.path.join(directory, name))


def load(directory=HERE, weights=None, device="cpu", dtype=torch.float32):
    """The model of an export folder (weights from `weights`, default model.safetensors) and its
    vocabulary."""
    with open(os.path.join(directory, "model.json")) as f:
        config = json.load(f)
    with open(os.path.join(directory, "vocab.json")) as f:
        vocab = Vocab(json.load(f))
    model = RnnLab(config, vocab)
    sd = _load_file(weights or os.path.join(directory, "model.safetensors"))
    model.load_state_dict({k: v.to(dtype) for k, v in sd.items()})
    model.source_dir = directory
    return model.to(device=device, dtype=dtype).eval(), vocab


def batches(ids, batch, seq_len, steps, seed=0):
    """`steps` training batches (x, y) [batch, seq_len] of random windows of a token tensor:
    y is x shifted by one token."""
    rng = random.Random(seed)
    ids = torch.as_tensor(ids)
    for _ in range(steps):
        starts = [rng.randrange(0, len(ids) - seq_len - 1) for _ in range(batch)]
        x = torch.stack([ids[s : s + seq_len] for s in starts])
        y = torch.stack([ids[s + 1 : s + seq_len + 1] for s in starts])
        yield x, y


@torch.no_grad()
def check(directory=HERE):
    """Largest |logit difference| between this load (float64) and rnn-lab on check.safetensors."""
    model, _ = load(directory, dtype=torch.float64)
    ref = _read_safetensors(os.path.join(directory, "check.safetensors"))
    logits, _ = model(ref["inputs"].long())
    return (logits - ref["logits"].double()).abs().max().item()


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else HERE
    diff = check(where)
    ok = diff < 1e-4
    print(f"{where}: largest |logit difference| from rnn-lab {diff:.2e} ({'ok' if ok else 'MISMATCH'})")
    sys.exit(0 if ok else 1)
