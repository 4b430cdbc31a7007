#!/usr/bin/env python3
"""Train a char-level LM in PyTorch (CPU) on a text file for a wall-clock budget, the same way
rnn-lab trains a stream-mode experiment, and report the validation loss (nats/char).

Same model and data handling as rnn-lab's default LSTM experiment: one-hot input (|V| symbols,
sorted by frequency as rnn-lab does not matter for the loss), nn.LSTM/GRU/RNN with H units,
Linear head, cross-entropy summed over steps and averaged over sequences, Adam lr 2e-3,
gradient-norm clipping 5, truncated BPTT over B parallel streams with the state carried across
chunks, the last 5% of the text held out for validation (char-rnn's split).

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

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = cls(V, a.hidden, num_layers=a.layers, batch_first=True, **kw)
            self.out = nn.Linear(a.hidden, V)

        def forward(self, x, state):
            y, state = self.rnn(F.one_hot(x, V).float(), state)
            return self.out(y), state

    model = LM()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)

    def detach(s):
        if s is None:
            return None
        return tuple(t.detach() for t in s) if isinstance(s, tuple) else s.detach()

    @torch.no_grad()
    def evaluate():
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
        return tot / n

    budget = a.minutes * 60
    t0 = time.perf_counter()
    next_eval = a.eval_every
    state, step, best = None, 0, float("inf")
    starts = torch.arange(B) * per
    while True:
        k = step % chunks
        if k == 0:
            state = None
        pos = starts[:, None] + k * T + torch.arange(T)[None, :]
        logits, state = model(train[pos], state)
        state = detach(state)
        loss = F.cross_entropy(logits.reshape(-1, V), train[pos + 1].reshape(-1), reduction="sum") / B
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        el = time.perf_counter() - t0
        if el >= next_eval or el >= budget:
            ev0 = time.perf_counter()
            v = evaluate()
            t0 += time.perf_counter() - ev0  # evaluation time is not training time
            best = min(best, v)
            print(json.dumps({"step": step, "train_s": round(el, 1), "train_loss": loss.item() / T, "val_loss": v}), flush=True)
            next_eval += a.eval_every
            if el >= budget:
                break
    print(json.dumps({"summary": True, "cell": a.cell, "hidden": a.hidden, "layers": a.layers, "steps": step,
                      "minutes": a.minutes, "val_loss": v, "best_val_loss": best, "vocab": V,
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
