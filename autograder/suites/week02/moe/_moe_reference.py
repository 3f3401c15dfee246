"""Reference computations for the week02/moe hidden suite (judge side only).

Routing uses torch.topk and torch.softmax; capacities use exact rational
arithmetic on the float capacity factor; the layer's expected output is built
from expert outputs the learner's own experts computed, with a plain loop over
tokens in order for the capacity rule.
"""

import math
from fractions import Fraction

import torch


def route(logits, k):
    """Mixtral-style routing: the k largest logits (descending) and a softmax over them."""
    top, idx = torch.topk(logits, k, dim=-1)
    return torch.softmax(top, dim=-1), idx


def balance_loss(logits, idx, n_experts):
    """E * sum_i f_i P_i with f_i over all N*k choices and P_i the mean full-softmax probability."""
    counts = torch.zeros(n_experts, dtype=logits.dtype)
    for e in idx.flatten().tolist():
        counts[e] += 1
    share = counts / idx.numel()
    return n_experts * (share * torch.softmax(logits, dim=-1).mean(dim=0)).sum()


def capacity(n_tokens, n_experts, k, factor):
    """ceil(factor * n_tokens * k / n_experts), computed exactly."""
    return math.ceil(Fraction(factor) * n_tokens * k / n_experts)


def served_mask(idx, n_experts, cap):
    """(N, k) bool: which routing choices an expert serves, first come first served in token order."""
    keep = torch.zeros(idx.shape, dtype=torch.bool)
    taken = [0] * n_experts
    for t in range(idx.shape[0]):
        for j in range(idx.shape[1]):
            e = int(idx[t, j])
            if cap is None or taken[e] < cap:
                keep[t, j] = True
                taken[e] += 1
    return keep


def expected_output(expert_out, gates, idx, keep=None):
    """sum_j gates[t, j] * expert_out[t, idx[t, j]] over the served choices; expert_out is (N, E, d)."""
    rows = torch.arange(idx.shape[0]).unsqueeze(1)
    picked = expert_out[rows, idx]                                   # (N, k, d)
    weights = gates if keep is None else gates * keep.to(gates.dtype)
    return (weights.unsqueeze(-1) * picked).sum(dim=1)
