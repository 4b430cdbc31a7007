#!/usr/bin/env python3
"""Train a char-level LM in PyTorch (CPU) on a text file for a wall-clock budget, the same way
rnn-lab trains a stream-mode experiment, and report the validation loss (nats/char).

Same model and data handling as rnn-lab's default LSTM experiment: one-hot input (|V| symbols,
sorted by frequency as rnn-lab does not matter for the loss), nn.LSTM/GRU/RNN with H units,
Linear head, cross-entropy summed over steps and averaged over sequences, Adam lr 2e-3,
gradient-norm clipping 5, truncated BPTT over B parallel streams with the state carried across
chunks, the last 5% of the text held out for validation (char-rnn's split).

The recipe options mirror rnn-lab's keys, so a tuned experiment can be run here as is:
--embedding E (nn.Embedding instead of one-hot), --tie (head.weight = embedding.weight, Press &
Wolf 2017; needs E = H), --dropout P with --dropout-kind standard (a new mask per step; between
layers through nn.LSTM's own `dropout`) or variational (one mask per sequence on the input, between
layers and before the head, AWD-LSTM's LockedDropout), --dropout-embedding P (whole tokens per
sequence), --init uniform|xavier|pytorch with --init-range and --orthogonal, --loss sum|mean,
--batches contiguous|random, --weight-decay (AdamW's decoupled decay on the weight matrices, not
the biases), --warmup N and --schedule constant|cosine over --steps (the time budget still ends the
run; without --steps the cosine runs over the time budget). Recurrent (state) dropout has no equivalent in nn.LSTM and is not offered.

Example: python3 bench/torch_train_charlm.py ../shared/data/tinyshakespeare.txt --minutes 10
Prints JSON lines (one per evaluation) and a final summary line.
"""
import argparse
import json
import math
import os
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="lstm")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--eval-every", type=float, default=60.0, help="seconds between evaluations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--embedding", type=int, default=0, help="embedding size (0 = one-hot input)")
    p.add_argument("--tie", action="store_true", help="tie the head to the embedding")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--dropout-kind", choices=["standard", "variational"], default="standard")
    p.add_argument("--dropout-embedding", type=float, default=0.0)
    p.add_argument("--init", choices=["uniform", "xavier", "pytorch"], default="pytorch")
    p.add_argument("--init-range", type=float, default=0.08)
    p.add_argument("--orthogonal", action="store_true", help="orthogonal recurrent gate blocks")
    p.add_argument("--forget-bias", type=float, default=None, help="initial LSTM forget bias (b_ih + b_hh)")
    p.add_argument("--loss", choices=["sum", "mean"], default="sum")
    p.add_argument("--batches", choices=["contiguous", "random"], default="contiguous")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--min-lr-factor", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=0, help="steps of the cosine schedule (and a cap; 0 = none)")
    p.add_argument("--clip", type=float, default=5.0)
    a = p.parse_args()
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(a.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.file, encoding="utf-8").read()
    chars = sorted(set(text))
    idx = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([idx[c] for c in text], dtype=torch.long)
    V = len(chars)
    split = int(len(data) * (1 - a.val_fraction))
    train, val = data[:split], data[split:]
    B, T = a.batch, a.seq
    per = (len(train) - 1) // B
    chunks = per // T

    cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[a.cell]
    kw = {"nonlinearity": "tanh"} if a.cell == "rnn" else {}

    if a.tie and a.embedding != a.hidden:
        p.error("--tie needs --embedding equal to --hidden")
    between = a.dropout if a.dropout_kind == "standard" and a.layers > 1 else 0.0

    def drop(x, p, locked):
        """Inverted dropout; `locked`: one mask per sequence, the same at every step."""
        if not model.training or p <= 0:
            return x
        shape = (x.shape[0], 1, x.shape[2]) if locked else x.shape
        return x * (torch.rand(shape) >= p).float() / (1 - p)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            inp = a.embedding or V
            self.embed = nn.Embedding(V, a.embedding) if a.embedding else None
            locked = a.dropout_kind == "variational"
            if locked and a.layers > 1:
                # Variational: one layer per module so LockedDropout can sit between them.
                self.rnns = nn.ModuleList(
                    cls(inp if i == 0 else a.hidden, a.hidden, batch_first=True, **kw) for i in range(a.layers))
            else:
                self.rnns = nn.ModuleList([cls(inp, a.hidden, num_layers=a.layers, batch_first=True,
                                               dropout=between, **kw)])
            self.out = nn.Linear(a.hidden, V)
            if a.tie:
                self.out.weight = self.embed.weight

        def forward(self, x, state):
            locked = a.dropout_kind == "variational"
            if self.embed is not None:
                if model.training and a.dropout_embedding > 0:
                    # Whole tokens: a token type dropped for the whole sequence.
                    keep = (torch.rand(x.shape[0], V) >= a.dropout_embedding).float() / (1 - a.dropout_embedding)
                    h = self.embed(x) * torch.gather(keep, 1, x).unsqueeze(-1)
                else:
                    h = self.embed(x)
            else:
                h = F.one_hot(x, V).float()
            h = drop(h, a.dropout, locked)
            new = []
            for i, rnn in enumerate(self.rnns):
                h, s = rnn(h, None if state is None else state[i])
                new.append(s)
                if i + 1 < len(self.rnns):
                    h = drop(h, a.dropout, locked)
            h = drop(h, a.dropout, locked)
            return self.out(h), new

    model = LM()
    # Initialisation: PyTorch's defaults, or rnn-lab's alternatives.
    with torch.no_grad():
        for name, w in model.named_parameters():
            if a.tie and name == "out.weight":
                continue
            if a.init == "uniform":
                if "bias" in name:
                    w.zero_()
                else:
                    w.uniform_(-a.init_range, a.init_range)
            elif a.init == "xavier":
                if "bias" in name:
                    w.zero_()
                elif name.startswith("rnns") or name.startswith("rnn"):
                    for blk in w.split(a.hidden, 0):
                        nn.init.xavier_uniform_(blk)
                else:
                    nn.init.xavier_uniform_(w)
            if a.orthogonal and "weight_hh" in name:
                for blk in w.split(a.hidden, 0):
                    nn.init.orthogonal_(blk)
        if a.tie and a.init == "pytorch":
            k = 1 / math.sqrt(a.hidden)
            model.embed.weight.uniform_(-k, k)  # a tied embedding starts as the head would
        if a.cell == "lstm" and a.forget_bias is not None:
            for name, w in model.named_parameters():
                if "bias_ih" in name:
                    w[a.hidden:2 * a.hidden] = a.forget_bias
                elif "bias_hh" in name:
                    w[a.hidden:2 * a.hidden] = 0.0
    decay = [w for n, w in model.named_parameters() if "bias" not in n]
    no_decay = [w for n, w in model.named_parameters() if "bias" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr)

    def lr_at(t, elapsed):
        f = 1.0
        if a.schedule == "cosine":
            # Over --steps, or (without --steps) over the time budget: the schedule then ends
            # exactly when the budget does, whatever this machine's speed.
            pr = min(t, a.steps) / a.steps if a.steps > 0 else min(elapsed / budget, 1.0)
            f = a.min_lr_factor + (1 - a.min_lr_factor) * 0.5 * (1 + math.cos(math.pi * pr))
        if t < a.warmup:
            f *= (t + 1) / a.warmup
        return a.lr * f

    def detach(s):
        if s is None:
            return None
        return [tuple(t.detach() for t in x) if isinstance(x, tuple) else x.detach() for x in s]

    @torch.no_grad()
    def evaluate():
        model.eval()
        vb = min(B, len(val) - 1)
        vper = (len(val) - 1) // vb
        starts = torch.arange(vb) * vper
        state, tot, n = None, 0.0, 0
        for at in range(0, vper, T):
            t = min(T, vper - at)
            pos = starts[:, None] + at + torch.arange(t)[None, :]
            logits, state = model(val[pos], state)
            tot += F.cross_entropy(logits.reshape(-1, V), val[pos + 1].reshape(-1), reduction="sum").item()
            n += pos.numel()
        model.train()
        return tot / n

    budget = a.minutes * 60
    t0 = time.perf_counter()
    next_eval = a.eval_every
    state, step, best = None, 0, float("inf")
    starts = torch.arange(B) * per
    gen = torch.Generator().manual_seed(a.seed)
    model.train()
    while True:
        if a.batches == "random":
            state = None
            st = torch.randint(0, len(train) - T - 1, (B,), generator=gen)
            pos = st[:, None] + torch.arange(T)[None, :]
        else:
            k = step % chunks
            if k == 0:
                state = None
            pos = starts[:, None] + k * T + torch.arange(T)[None, :]
        logits, state = model(train[pos], state)
        state = detach(state)
        loss = F.cross_entropy(logits.reshape(-1, V), train[pos + 1].reshape(-1), reduction="sum")
        loss = loss / (B if a.loss == "sum" else B * T)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, time.perf_counter() - t0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        el = time.perf_counter() - t0
        last = el >= budget or (a.steps and step >= a.steps)
        if el >= next_eval or last:
            ev0 = time.perf_counter()
            v = evaluate()
            t0 += time.perf_counter() - ev0  # evaluation time is not training time
            best = min(best, v)
            per_tok = loss.item() / (T if a.loss == "sum" else 1)
            print(json.dumps({"step": step, "train_s": round(el, 1), "train_loss": per_tok, "val_loss": v}), flush=True)
            next_eval += a.eval_every
            if last:
                break
    print(json.dumps({"summary": True, "cell": a.cell, "hidden": a.hidden, "layers": a.layers, "steps": step,
                      "minutes": a.minutes, "val_loss": v, "best_val_loss": best, "vocab": V,
                      "torch": torch.__version__, "threads": a.threads,
                      "recipe": {k: v for k, v in vars(a).items() if k not in ("file",)}}))


if __name__ == "__main__":
    main()
