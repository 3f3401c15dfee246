"""Seeded inputs and the reference attention for the flash_attention hidden suite.

The reference is torch's own scaled_dot_product_attention, computed here in
the judge; the learner's code never sees it.
"""

import torch
import torch.nn.functional as F


def random_qkv(seed, batch, heads, t_q, t_k, d, d_v=None, dtype=torch.float32, scale=1.0):
    """q (B, H, T_q, d), k (B, H, T_k, d), v (B, H, T_k, d_v) from a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, t_q, d, generator=gen, dtype=dtype) * scale
    k = torch.randn(batch, heads, t_k, d, generator=gen, dtype=dtype) * scale
    v = torch.randn(batch, heads, t_k, d_v or d, generator=gen, dtype=dtype)
    return q, k, v


def reference(q, k, v, causal=False):
    """Ordinary attention: torch's scaled_dot_product_attention."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def random_state_inputs(seed, rows, keys, d_v, dtype=torch.float64):
    """Scores (2, rows, keys) and values (2, keys, d_v) for the online-softmax tests."""
    gen = torch.Generator().manual_seed(seed)
    scores = 2 * torch.randn(2, rows, keys, generator=gen, dtype=dtype)
    values = torch.randn(2, keys, d_v, generator=gen, dtype=dtype)
    return scores, values
