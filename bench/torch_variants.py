#!/usr/bin/env python3
"""PyTorch (CPU) side of the shapes `rnn-lab bench` times beyond ../shared/bench/torch_charlm.py:
forward-only evaluation, bidirectional layers, masked batches of variable-length sequences and a
many-to-one classification head, each written the way a PyTorch user writes it.

Model: one-hot input (F.one_hot(x, V).float(), as torch_charlm.py) or --embedding E
(nn.Embedding(V, E)), nn.RNN(tanh) / nn.GRU / nn.LSTM (batch_first, --layers, --bidirectional),
then either a per-step head nn.Linear(dirs·H, V) with cross-entropy summed over the real tokens
(a language model, or a tagger with V tags) or, with --classes K, a many-to-one head
nn.Linear(dirs·H, K) on the state after each sequence's last real step (forward direction) and
after its first step (backward direction), cross-entropy summed over the sequences.
Adam lr 2e-3 and clip_grad_norm_(5.0) in training; --mode eval runs the forward pass and the
loss under torch.no_grad() in model.eval().

--variable-length draws each row's length uniformly in [T/4, T] (as rnn-lab bench does) and
pads the rest. --pack runs the layers on nn.utils.rnn.pack_padded_sequence (the only correct way
for bidirectional layers, whose backward direction would otherwise start in the padding);
without it, unidirectional layers run over the padding and the loss is masked. tokens/s counts
real tokens only.

Data: uniform random tokens, 8 batches reused. Prints one JSON line.
"""
import argparse
import json
import os
import resource
import time


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="lstm")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--embedding", type=int, default=0, help="learned embedding of this size (0: one-hot)")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mode", choices=["train", "eval"], default="train")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--variable-length", action="store_true")
    p.add_argument("--pack", action="store_true", help="pack_padded_sequence (variable length)")
    p.add_argument("--classes", type=int, default=0, help="many-to-one classification with K classes")
    p.add_argument("--no-mkldnn", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main():
    a = parse()
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[k] = str(a.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)
    if a.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    if a.bidirectional and a.variable_length and not a.pack:
        raise SystemExit("bidirectional layers over padded batches need --pack")

    V, H, L, B, T = a.vocab, a.hidden, a.layers, a.batch, a.seq
    dirs = 2 if a.bidirectional else 1
    rnn_cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[a.cell]
    width = a.embedding or V
    out_n = a.classes or V

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, a.embedding) if a.embedding else None
            kw = dict(nonlinearity="tanh") if a.cell == "rnn" else {}
            self.rnn = rnn_cls(width, H, num_layers=L, batch_first=True, bidirectional=a.bidirectional, **kw)
            self.out = nn.Linear(dirs * H, out_n)

        def forward(self, x, lengths):
            e = self.embed(x) if self.embed is not None else F.one_hot(x, V).float()
            if a.pack:
                packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
                y, _ = self.rnn(packed)
                y, _ = pad_packed_sequence(y, batch_first=True, total_length=T)
            else:
                y, _ = self.rnn(e)
            if a.classes:
                # forward direction after the last real step, backward direction after step 0
                last = (lengths - 1).view(B, 1, 1).expand(B, 1, dirs * H)
                feat = y.gather(1, last).squeeze(1)
                if dirs == 2:
                    feat = torch.cat([feat[:, :H], y[:, 0, H:]], dim=1)
                return self.out(feat)
            return self.out(y)

    model = Net()
    g = torch.Generator().manual_seed(a.seed)
    nb = 8
    xs = torch.randint(0, V, (nb, B, T), generator=g)
    ys = torch.randint(0, V, (nb, B, T), generator=g)
    cs = torch.randint(0, max(out_n, 1), (nb, B), generator=g)
    if a.variable_length:
        lens = torch.randint(max(T // 4, 1), T + 1, (nb, B), generator=g)
    else:
        lens = torch.full((nb, B), T, dtype=torch.long)
    masks = torch.arange(T).view(1, 1, T) < lens.view(nb, B, 1)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    if a.mode == "eval":
        model.eval()

    def loss_of(i):
        x, y, m, n = xs[i % nb], ys[i % nb], masks[i % nb], lens[i % nb]
        logits = model(x, n)
        if a.classes:
            return F.cross_entropy(logits, cs[i % nb], reduction="sum")
        per = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="none")
        return (per * m.reshape(-1)).sum() if a.variable_length else per.sum()

    def step(i):
        if a.mode == "eval":
            with torch.no_grad():
                return loss_of(i)
        loss = loss_of(i)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss

    for i in range(a.warmup):
        step(i)
    tokens = 0
    t0 = time.perf_counter()
    for i in range(a.steps):
        loss = step(i)
        tokens += int(lens[i % nb].sum())
    dt = time.perf_counter() - t0
    print(json.dumps(dict(
        cell=a.cell, hidden=H, layers=L, bidirectional=a.bidirectional, variable_length=a.variable_length,
        pack=a.pack, classes=a.classes, embedding=a.embedding, mode=a.mode, threads=a.threads,
        mkldnn=not a.no_mkldnn, torch=torch.__version__, steps=a.steps,
        tokens_per_sec=tokens / dt, ms_per_step=1000 * dt / a.steps, final_loss=float(loss.detach()),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


if __name__ == "__main__":
    main()
