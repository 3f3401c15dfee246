"""Hidden tests for ``scaled_dot_product_attention`` (grade cell ``test_attention``).

Every expected value comes from torch's own attention, computed here in the
judge, on seeded random inputs.
"""

import math

import torch
import torch.nn.functional as F

from autograder.judge import points
from llmcourse.testing import assert_close, assert_finite, check


def random_qkv(seed, batch, t_q, t_k, d_k, d_v=None, dtype=torch.float32, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, t_q, d_k, generator=gen, dtype=dtype) * scale
    k = torch.randn(*batch, t_k, d_k, generator=gen, dtype=dtype) * scale
    v = torch.randn(*batch, t_k, d_v or d_k, generator=gen, dtype=dtype)
    return q, k, v


@points(2)
def test_matches_torch_without_mask(submission):
    """The output equals torch's scaled_dot_product_attention with no mask, for any leading dims."""
    for seed, batch in enumerate([(), (3,), (2, 4), (2, 2, 3)]):
        q, k, v = random_qkv(seed, batch, 6, 6, 16)
        out, _ = submission.scaled_dot_product_attention(q, k, v)
        assert_close(out, F.scaled_dot_product_attention(q, k, v), f"the output for leading dims {batch}")


@points(1)
def test_weights_are_scaled_softmax(submission):
    """The weights are softmax(q k^T / sqrt(d_k)) over keys: each row sums to one."""
    q, k, v = random_qkv(21, (2, 3), 5, 7, 32, dtype=torch.float64)
    _, w = submission.scaled_dot_product_attention(q, k, v)
    check(tuple(w.shape) == (2, 3, 5, 7), f"the weights have shape {tuple(w.shape)}, expected (..., T_q, T_k)")
    assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64), "the row sums of the weights")
    assert_close(w, torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(32), dim=-1), "the attention weights")


@points(1)
def test_rectangular_shapes(submission):
    """T_q may differ from T_k and d_v from d_k; the output has shape (..., T_q, d_v)."""
    q, k, v = random_qkv(22, (2,), 3, 9, 8, d_v=5)
    out, w = submission.scaled_dot_product_attention(q, k, v)
    check(tuple(out.shape) == (2, 3, 5), f"the output has shape {tuple(out.shape)}, expected (..., T_q, d_v)")
    assert_close(out, F.scaled_dot_product_attention(q, k, v), "the output with T_q != T_k and d_v != d_k")


@points(1)
def test_causal_mask_matches_torch(submission):
    """With a causal mask the output equals torch's causal attention and future keys get zero weight."""
    q, k, v = random_qkv(23, (2, 2), 8, 8, 16)
    mask = torch.ones(8, 8, dtype=torch.bool).tril()
    out, w = submission.scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), "the causal output")
    check(bool((w[..., ~mask] == 0).all()), "keys in the future of a query must get exactly zero weight")


@points(1)
def test_padding_mask_broadcasts(submission):
    """A padding mask of shape (B, 1, 1, T_k) broadcasts over heads and queries and matches torch."""
    q, k, v = random_qkv(24, (3, 2), 5, 6, 8)
    lengths = torch.tensor([6, 4, 1])
    mask = (torch.arange(6)[None, :] < lengths[:, None])[:, None, None, :]
    out, w = submission.scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), "the output with a padding mask")
    assert_close(w.sum(-1), torch.ones(3, 2, 5), "the row sums of the weights with a padding mask")


@points(1)
def test_future_never_changes_past(submission):
    """Under a causal mask, changing later keys and values never changes earlier outputs."""
    q, k, v = random_qkv(25, (2,), 10, 10, 8, dtype=torch.float64)
    mask = torch.ones(10, 10, dtype=torch.bool).tril()
    out, _ = submission.scaled_dot_product_attention(q, k, v, mask)
    k2, v2 = k.clone(), v.clone()
    k2[:, 6:] += 5.0
    v2[:, 6:] -= 7.0
    out2, _ = submission.scaled_dot_product_attention(q, k2, v2, mask)
    assert_close(out2[:, :6], out[:, :6], "outputs before the changed positions")
    check(not torch.allclose(out2[:, 6:], out[:, 6:]), "outputs at the changed positions should change")


@points(1)
def test_stable_for_large_scores(submission):
    """Attention stays finite and correct when the scores are in the thousands."""
    q, k, v = random_qkv(26, (2,), 6, 6, 64, scale=30.0)
    out, w = submission.scaled_dot_product_attention(q, k, v)
    assert_finite(w, "the weights for large scores")
    ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double()).float()
    assert_close(out, ref, "the output for large scores")


@points(1)
def test_gradients_match_torch(submission):
    """Gradients flow to q, k and v and equal torch's, with and without a causal mask."""
    for seed, causal in ((27, False), (28, True)):
        q, k, v = random_qkv(seed, (2,), 5, 5, 4, dtype=torch.float64)
        g = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        mask = torch.ones(5, 5, dtype=torch.bool).tril() if causal else None
        args = [t.clone().requires_grad_(True) for t in (q, k, v)]
        grads = submission.vjp(submission.scaled_dot_product_attention, (*args, mask), (g, None))
        refs = [t.clone().requires_grad_(True) for t in (q, k, v)]
        (F.scaled_dot_product_attention(*refs, is_causal=causal) * g).sum().backward()
        for name, got, ref in zip("qkv", grads, refs):
            check(got is not None, f"the output does not depend on {name}")
            assert_close(got, ref.grad, f"the gradient with respect to {name}{' (causal)' if causal else ''}")


@points(1)
def test_fully_masked_row_is_zero(submission):
    """A query that may attend to no key gets all-zero weights and output; other rows are unaffected."""
    q, k, v = random_qkv(29, (2,), 4, 5, 8)
    mask = torch.ones(2, 4, 5, dtype=torch.bool)
    mask[0, 1] = False
    mask[1, 3] = False
    mask[1, 0, 2:] = False
    out, w = submission.scaled_dot_product_attention(q, k, v, mask)
    assert_finite(out, "the output with a fully masked row")
    assert_close(w[0, 1], torch.zeros(5), "the weights of a fully masked row")
    assert_close(out[0, 1], torch.zeros(8), "the output of a fully masked row")
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), "the output with fully masked rows")


@points(1)
def test_implemented_from_scratch(submission):
    """Attention and softmax are computed correctly from tensor operations, not by torch's built-ins."""
    q, k, v = random_qkv(30, (2,), 4, 4, 8)
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    out, _ = submission.scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), "the masked output")
    assert_close(submission.softmax(q), torch.softmax(q, dim=-1), "softmax")
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
