"""Hidden tests for ``flash_attention`` without a mask (grade cell ``test_flash_forward``).

Every expected value is torch's scaled_dot_product_attention, computed in the
judge on seeded inputs. Block sizes cover 1, sizes that divide the length,
sizes that do not (a shorter last block), the length itself and sizes larger
than it.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

inputs = suite_helper(__file__, "_flash_inputs.py")


@points(1)
def test_flash_matches_attention_every_block_size(submission):
    """The output equals ordinary attention for every block size: 1, dividing T, not dividing T, T itself and larger than T."""
    cases = [((2, 3, 37, 16), (1, 5, 16, 37, 64)), ((1, 2, 64, 8), (8, 32, 63))]
    for seed, ((batch, heads, length, d), blocks) in enumerate(cases):
        q, k, v = inputs.random_qkv(500 + seed, batch, heads, length, length, d)
        expected = inputs.reference(q, k, v)
        for block in blocks:
            out = submission.flash_attention(q, k, v, block_size=block)
            check(tuple(out.shape) == tuple(expected.shape),
                  f"the output has shape {tuple(out.shape)}, expected (B, H, T_q, d_v) (block_size={block})")
            assert_close(out, expected, f"the output for T={length}, block_size={block}")


@points(1)
def test_flash_queries_and_keys_of_different_lengths(submission):
    """T_q may differ from T_k and d_v from d: the output has shape (B, H, T_q, d_v) and equals ordinary attention."""
    for seed, (t_q, t_k, d, d_v, block) in enumerate([(5, 23, 8, 12, 4), (40, 9, 16, 4, 16), (3, 50, 4, 4, 7)]):
        q, k, v = inputs.random_qkv(510 + seed, 2, 2, t_q, t_k, d, d_v=d_v)
        out = submission.flash_attention(q, k, v, block_size=block)
        check(tuple(out.shape) == (2, 2, t_q, d_v),
              f"the output has shape {tuple(out.shape)}, expected (B, H, T_q, d_v) = {(2, 2, t_q, d_v)}")
        assert_close(out, inputs.reference(q, k, v), f"the output for T_q={t_q}, T_k={t_k}, block_size={block}")


@points(1)
def test_flash_stable_for_large_scores_and_float64(submission):
    """Scores in the thousands do not overflow, and float64 inputs give a float64 result as exact as ordinary attention's."""
    q, k, v = inputs.random_qkv(520, 1, 2, 30, 30, 16, scale=30.0)
    out = submission.flash_attention(q, k, v, block_size=8)
    assert_finite(out, "the output for very large scores")
    assert_close(out, inputs.reference(q, k, v), "the output for very large scores")

    q, k, v = inputs.random_qkv(521, 2, 1, 19, 19, 8, dtype=torch.float64)
    out = submission.flash_attention(q, k, v, block_size=6)
    check(out.dtype == torch.float64, f"float64 inputs gave a {out.dtype} output")
    assert_close(out, inputs.reference(q, k, v), "the output in float64")


@points(1)
def test_flash_gradients_match_torch(submission):
    """Gradients with respect to q, k and v equal those of ordinary attention, with and without the causal mask."""
    for seed, causal in enumerate((False, True)):
        q, k, v = inputs.random_qkv(530 + seed, 1, 2, 17, 17, 8, dtype=torch.float64)
        g = torch.randn(1, 2, 17, 8, generator=torch.Generator().manual_seed(540 + seed), dtype=torch.float64)
        leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
        (inputs.reference(*leaves, causal=causal) * g).sum().backward()
        grads = submission.vjp(
            submission.flash_attention,
            tuple(t.clone().requires_grad_(True) for t in (q, k, v)),
            g,
            block_size=6,
            causal=causal,
        )
        for got, leaf, name in zip(grads, leaves, "qkv"):
            check(got is not None, f"the output does not depend on {name}")
            assert_close(got, leaf.grad, f"the gradient with respect to {name} (causal={causal})")


@points(1)
def test_flash_built_from_tensor_operations(submission):
    """Attention is computed correctly from tensor operations, not by torch's own attention."""
    q, k, v = inputs.random_qkv(550, 1, 2, 12, 12, 8)
    out = submission.flash_attention(q, k, v, block_size=5, causal=True)
    assert_close(out, inputs.reference(q, k, v, causal=True), "the causal output")
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
