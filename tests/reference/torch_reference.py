#!/usr/bin/env python3
"""Independent reference values from PyTorch for tests/torch_reference.rs.

Builds small nn.RNN / nn.GRU / nn.LSTM models (one-hot input, optional 2 layers and
bidirectional) with deterministic weights, runs one batch, and writes the loss (cross-entropy
summed over steps, mean over sequences), the top layer's outputs and every gradient, all in
rnn-lab's checkpoint names and layouts, to torch_reference.json.

Regenerate: python3 tests/reference/torch_reference.py  (needs torch; the JSON is committed,
so the Rust test does not need Python).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
V, H, T, B = 5, 3, 4, 2


def det(shape, k):
    n = 1
    for s in shape:
        n *= s
    vals = [0.6 * math.sin(0.37 * i + 1.3 * k) for i in range(n)]
    return torch.tensor(vals).reshape(shape)


def case(cell, layers, bidir):
    cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
    kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    rnn = cls(V, H, num_layers=layers, bidirectional=bidir, **kw)
    dirs = 2 if bidir else 1
    head = nn.Linear(H * dirs, V)
    k = 0
    with torch.no_grad():
        for name, p in list(rnn.named_parameters()) + list(head.named_parameters()):
            k += 1
            p.copy_(det(p.shape, k))
    x = torch.tensor([[(3 * t + 2 * b + 1) % V for b in range(B)] for t in range(T)])
    y = torch.tensor([[(5 * t + b + 2) % V for b in range(B)] for t in range(T)])
    out, _ = rnn(F.one_hot(x, V).double())  # [T, B, H*dirs]
    logits = head(out)
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="sum") / B
    loss.backward()

    g = 4 if cell == "lstm" else (3 if cell == "gru" else 1)
    # torch gate rows -> rnn-lab names
    names = {"rnn": ["a"], "gru": ["r", "z", "n"], "lstm": ["u", "f", "c", "o"]}[cell]
    params, grads = {}, {}

    def put(name, value, grad):
        params[name] = value.detach().reshape(-1).tolist(), list(value.shape)
        grads[name] = grad.detach().reshape(-1).tolist(), list(grad.shape)

    P = dict(rnn.named_parameters())
    for l in range(layers):
        for d in range(dirs):
            sfx = f"_l{l}" + ("_reverse" if d == 1 else "")
            wih, whh = P["weight_ih" + sfx], P["weight_hh" + sfx]
            bih, bhh = P["bias_ih" + sfx], P["bias_hh" + sfx]
            pre = f"layers.{l}.{'fwd' if d == 0 else 'bwd'}"
            for gi, gname in enumerate(names):
                rows = slice(gi * H, (gi + 1) * H)
                w = torch.cat([whh[rows], wih[rows]], dim=1)
                gw = torch.cat([whh.grad[rows], wih.grad[rows]], dim=1)
                if cell == "gru" and gname == "n":
                    put(f"{pre}.w_n", w, gw)
                    put(f"{pre}.b_n", bih[rows], bih.grad[rows])
                    put(f"{pre}.b_hn", bhh[rows], bhh.grad[rows])
                else:
                    # the two biases only appear summed; their gradients are equal
                    put(f"{pre}.w_{gname}", w, gw)
                    put(f"{pre}.b_{gname}", bih[rows] + bhh[rows], bih.grad[rows])
    put("head.w_y", head.weight, head.weight.grad)
    put("head.b_y", head.bias, head.bias.grad)
    return {
        "cell": cell,
        "layers": layers,
        "bidirectional": bidir,
        "vocab": V,
        "hidden": H,
        "steps": T,
        "batch": B,
        "inputs": x.reshape(-1).tolist(),
        "targets": y.reshape(-1).tolist(),
        "loss": float(loss),
        "top_outputs": out.detach().reshape(-1).tolist(),
        "params": params,
        "grads": grads,
        "torch": torch.__version__,
    }


cases = [case(c, l, b) for c in ("rnn", "gru", "lstm") for (l, b) in ((1, False), (2, True))]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "torch_reference.json"), "w") as f:
    json.dump(cases, f)
print(f"wrote {len(cases)} cases")
