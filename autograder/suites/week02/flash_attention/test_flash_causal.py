"""Hidden tests for ``flash_attention(..., causal=True)`` (grade cell ``test_flash_causal``).

Expected values are torch's causal scaled_dot_product_attention, computed in
the judge. Query i may attend to keys 0..i, whatever tile it falls in.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

inputs = suite_helper(__file__, "_flash_inputs.py")


@points(2)
def test_causal_matches_attention_every_block_size(submission):
    """With causal=True the output equals ordinary causal attention for every block size, dividing T or not, and larger than T."""
    for seed, (length, blocks) in enumerate([(37, (1, 4, 10, 37, 50)), (48, (8, 16, 20))]):
        q, k, v = inputs.random_qkv(600 + seed, 2, 2, length, length, 8)
        expected = inputs.reference(q, k, v, causal=True)
        for block in blocks:
            out = submission.flash_attention(q, k, v, block_size=block, causal=True)
            check(tuple(out.shape) == tuple(expected.shape),
                  f"the output has shape {tuple(out.shape)}, expected (B, H, T, d_v) (block_size={block})")
            assert_close(out, expected, f"the causal output for T={length}, block_size={block}")


@points(1)
def test_causal_future_never_changes_past(submission):
    """With causal=True, changing the keys and values from position t on never changes the outputs before t."""
    length, cut, block = 29, 13, 6
    q, k, v = inputs.random_qkv(610, 1, 3, length, length, 8)
    before = submission.flash_attention(q, k, v, block_size=block, causal=True)
    gen = torch.Generator().manual_seed(611)
    k2, v2 = k.clone(), v.clone()
    k2[..., cut:, :] = 10 * torch.randn(1, 3, length - cut, 8, generator=gen)
    v2[..., cut:, :] = 10 * torch.randn(1, 3, length - cut, 8, generator=gen)
    after = submission.flash_attention(q, k2, v2, block_size=block, causal=True)
    assert_close(after[..., :cut, :], before[..., :cut, :], f"the outputs before position {cut} after changing the future")
    check(not torch.allclose(after[..., cut:, :], before[..., cut:, :]),
          "changing the keys and values should change the outputs that may see them")
