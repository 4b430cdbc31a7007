"""The course GRU (Cho et al. 2014 v3, as in the course notes) as a PyTorch nn.Module.

Written by `rnn-lab export` for course-GRU models; needs only torch. PyTorch's nn.GRU applies
its reset gate *after* the recurrent product; the course form applies the relevance gate Γr to
c⟨t−1⟩ *before* it:

    Γu = σ(W_u [c⟨t−1⟩; x⟨t⟩] + b_u)
    Γr = σ(W_r [c⟨t−1⟩; x⟨t⟩] + b_r)
    c̃⟨t⟩ = tanh(W_c [Γr ∗ c⟨t−1⟩; x⟨t⟩] + b_c)
    c⟨t⟩ = Γu ∗ c̃⟨t⟩ + (1 − Γu) ∗ c⟨t−1⟩        (Γu = 1 takes the candidate; a⟨t⟩ = c⟨t⟩)

CourseGRU has nn.GRU's signature, state shapes and parameter names: per layer l (suffix `_l{l}`,
`_l{l}_reverse` for the backward direction) `weight_ih` [3H, X], `weight_hh` [3H, H], `bias_ih`
and `bias_hh` [3H], gate blocks in row order u, r, c. W_g = [weight_hh rows of g | weight_ih
rows of g]; b_g = bias_ih + bias_hh (both are added outside the products).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CourseGRU(nn.Module):
    """Multi-layer, optionally bidirectional course GRU; forward(input, hx) → (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.bidirectional = batch_first, bidirectional
        h, dirs = hidden_size, 2 if bidirectional else 1
        self.names = []
        for layer in range(num_layers):
            x = input_size if layer == 0 else h * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                self.register_parameter("weight_ih" + sfx, nn.Parameter(torch.empty(3 * h, x)))
                self.register_parameter("weight_hh" + sfx, nn.Parameter(torch.empty(3 * h, h)))
                if bias:
                    self.register_parameter("bias_ih" + sfx, nn.Parameter(torch.empty(3 * h)))
                    self.register_parameter("bias_hh" + sfx, nn.Parameter(torch.empty(3 * h)))
                self.names.append(sfx)
        self.reset_parameters()

    def reset_parameters(self):
        """nn.GRU's initialisation: every parameter uniform in ±1/√H."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _direction(self, xs, h, sfx, reverse):
        """One direction over time. xs [T, B, X], h [B, H] → outputs [T, B, H], last h."""
        hs = self.hidden_size
        w_ih, w_hh = getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx)
        b_ih, b_hh = getattr(self, "bias_ih" + sfx, None), getattr(self, "bias_hh" + sfx, None)
        gx = F.linear(xs, w_ih, b_ih)  # the x⟨t⟩ parts of u, r, c for every step: [T, B, 3H]
        w_ur, w_c = w_hh[: 2 * hs], w_hh[2 * hs :]
        b_ur, b_c = (b_hh[: 2 * hs], b_hh[2 * hs :]) if b_hh is not None else (None, None)
        steps = range(xs.shape[0] - 1, -1, -1) if reverse else range(xs.shape[0])
        out = [None] * xs.shape[0]
        for t in steps:
            ur = torch.sigmoid(gx[t, :, : 2 * hs] + F.linear(h, w_ur, b_ur))
            u, r = ur[:, :hs], ur[:, hs:]
            c_tilde = torch.tanh(gx[t, :, 2 * hs :] + F.linear(r * h, w_c, b_c))  # Γr before the product
            h = u * c_tilde + (1 - u) * h
            out[t] = h
        return torch.stack(out), h

    def forward(self, input, hx=None):
        """input [T, B, X] ([B, T, X] with batch_first); hx [layers·dirs, B, H] or None (zeros).
        Returns output [T, B, H·dirs] (batch-first likewise) and h_n [layers·dirs, B, H]."""
        xs = input.transpose(0, 1) if self.batch_first else input
        dirs = 2 if self.bidirectional else 1
        if hx is None:
            hx = xs.new_zeros(self.num_layers * dirs, xs.shape[1], self.hidden_size)
        h_n = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                i = layer * dirs + d
                o, h = self._direction(xs, hx[i], self.names[i], reverse=d == 1)
                outs.append(o)
                h_n.append(h)
            xs = torch.cat(outs, dim=-1)
        out = xs.transpose(0, 1) if self.batch_first else xs
        return out, torch.stack(h_n)
