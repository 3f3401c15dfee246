"""Hidden tests for ``repeat_kv`` (grade cell ``test_gqa_repeat_kv``).

The reference layout is the one torch's ``scaled_dot_product_attention``
uses with ``enable_gqa=True`` (and Llama's checkpoints): query head h reads
key/value head h // n_rep, which is ``repeat_interleave`` along the head axis.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check

LAYOUTS = [(1, 1, 3, 2, 4), (2, 2, 5, 4, 3), (3, 4, 2, 8, 2), (2, 1, 6, 3, 8), (1, 3, 4, 5, 1)]  # (B, kv, T, d, n_rep)


@points(1)
def test_query_head_reads_kv_head_h_div_n_rep(submission):
    """repeat_kv returns shape (B, n_kv_heads * n_rep, T, d) and head h is key/value head h // n_rep (the Llama convention)."""
    gen = torch.Generator().manual_seed(401)
    for batch, n_kv, length, d_head, n_rep in LAYOUTS:
        kv = torch.randn(batch, n_kv, length, d_head, generator=gen)
        got = submission.repeat_kv(kv, n_rep)
        check(
            tuple(got.shape) == (batch, n_kv * n_rep, length, d_head),
            f"repeat_kv of a {tuple(kv.shape)} tensor with n_rep={n_rep} has shape {tuple(got.shape)}",
        )
        assert_close(got, kv.repeat_interleave(n_rep, dim=1), f"repeat_kv of {n_kv} key/value heads, n_rep={n_rep}")


@points(1)
def test_matches_sdpa_head_sharing(submission):
    """Attention over repeat_kv'd keys and values equals torch's scaled_dot_product_attention with enable_gqa=True."""
    gen = torch.Generator().manual_seed(402)
    for batch, n_kv, length, d_head, n_rep in LAYOUTS:
        q = torch.randn(batch, n_kv * n_rep, length, d_head, generator=gen)
        k = torch.randn(batch, n_kv, length, d_head, generator=gen)
        v = torch.randn(batch, n_kv, length, d_head, generator=gen)
        want = torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        k_all, v_all = submission.repeat_kv(k, n_rep), submission.repeat_kv(v, n_rep)
        got = torch.nn.functional.scaled_dot_product_attention(q, k_all, v_all)
        assert_close(got, want, f"attention with {n_kv * n_rep} query heads sharing {n_kv} key/value heads")


@points(1)
def test_gradient_sums_over_each_group(submission):
    """Gradients flow back through repeat_kv: each key/value head receives the sum over the query heads of its group."""
    gen = torch.Generator().manual_seed(403)
    for batch, n_kv, length, d_head, n_rep in LAYOUTS[1:4]:
        kv = torch.randn(batch, n_kv, length, d_head, generator=gen, dtype=torch.float64)
        g = torch.randn(batch, n_kv * n_rep, length, d_head, generator=gen, dtype=torch.float64)
        (grad,) = submission.vjp(submission.repeat_kv, (kv.requires_grad_(True), n_rep), g)
        check(grad is not None, "the output of repeat_kv does not depend on its input")
        want = g.unflatten(1, (n_kv, n_rep)).sum(dim=2)
        assert_close(grad, want, f"the gradient of repeat_kv with n_rep={n_rep}")
