"""Hidden tests for ``split_heads`` and ``merge_heads`` (grade cell ``test_split_merge``).

The expected layout is built here with torch's ``unflatten``/``flatten`` on
seeded random inputs: head i owns features [i * d_head, (i + 1) * d_head).
"""

import torch

from autograder.judge import learner_raised, points
from llmcourse.testing import assert_close, check

SHAPES = [(1, 1, 4, 1), (2, 5, 12, 3), (3, 4, 16, 4), (2, 7, 24, 6), (1, 3, 8, 8)]  # (B, T, d, n_heads)


def heads_of(x, n_heads):
    """The reference split: (B, T, d) -> (B, n_heads, T, d // n_heads)."""
    return x.unflatten(-1, (n_heads, x.shape[-1] // n_heads)).transpose(1, 2)


@points(1)
def test_split_shape_and_layout(submission):
    """split_heads gives shape (B, n_heads, T, d_head) and head i holds features i*d_head..(i+1)*d_head-1 of each position."""
    gen = torch.Generator().manual_seed(101)
    for batch, length, width, n_heads in SHAPES:
        x = torch.randn(batch, length, width, generator=gen)
        got = submission.split_heads(x, n_heads)
        check(
            tuple(got.shape) == (batch, n_heads, length, width // n_heads),
            f"split_heads of a {(batch, length, width)} tensor into {n_heads} heads has shape {tuple(got.shape)}",
        )
        assert_close(got, heads_of(x, n_heads), f"the heads of a {(batch, length, width)} tensor, {n_heads} heads")


@points(1)
def test_merge_layout_and_round_trip(submission):
    """merge_heads puts the heads side by side again: it inverts split_heads in both directions."""
    gen = torch.Generator().manual_seed(102)
    for batch, length, width, n_heads in SHAPES:
        y = torch.randn(batch, n_heads, length, width // n_heads, generator=gen)
        merged = submission.merge_heads(y)
        assert_close(merged, y.transpose(1, 2).flatten(-2), f"merge_heads of a {tuple(y.shape)} tensor")
        x = torch.randn(batch, length, width, generator=gen)
        assert_close(submission.merge_heads(submission.split_heads(x, n_heads)), x, "merge_heads(split_heads(x))")


@points(1)
def test_split_rejects_indivisible_width(submission):
    """split_heads raises ValueError when the width is not divisible by the number of heads."""
    for width, n_heads in ((10, 4), (12, 5)):
        x = torch.zeros(2, 3, width)
        check(learner_raised("ValueError", submission.split_heads, x, n_heads),
              f"split_heads accepted a width of {width} with {n_heads} heads instead of raising ValueError")
