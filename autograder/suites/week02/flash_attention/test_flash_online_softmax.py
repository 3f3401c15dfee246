"""Hidden tests for ``block_state`` and ``merge_states`` (grade cell ``test_flash_online_softmax``).

The properties: one block's state is its row max, its denominator relative to
that max and its unnormalised weighted sum of values; merging the states of
disjoint blocks gives the state of their union, in any order and grouping;
a fully masked block is the identity of merging; nothing overflows for very
large scores. Expected values come from torch's softmax in the judge.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

inputs = suite_helper(__file__, "_flash_inputs.py")
NAMES = ("m (the row max)", "l (the denominator)", "acc (the weighted sum)")


def expected_state(scores, values):
    """(m, l, acc) of one block, computed with torch's softmax."""
    m = scores.amax(dim=-1)
    l = torch.exp(scores - m.unsqueeze(-1)).sum(dim=-1)
    acc = torch.softmax(scores, dim=-1) @ values * l.unsqueeze(-1)
    return m, l, acc


def assert_state(got, want, what):
    check(isinstance(got, (tuple, list)) and len(got) == 3, f"{what} must be a triple (m, l, acc)")
    for g, w, name in zip(got, want, NAMES):
        assert_close(g, w, f"{name} of {what}")


@points(1)
def test_block_state_is_a_softmax(submission):
    """One block's state holds its row max, its denominator sum(exp(s - m)) and acc with acc / l = softmax(s) @ v."""
    scores, values = inputs.random_state_inputs(400, rows=5, keys=9, d_v=3)
    state = submission.block_state(scores, values)
    assert_state(state, expected_state(scores, values), "the state of one block")
    m, l, acc = state
    assert_close(acc / l.unsqueeze(-1), torch.softmax(scores, dim=-1) @ values, "acc / l of one block")


@points(2)
def test_merging_equals_one_block(submission):
    """Merging the states of consecutive blocks equals the state of all their keys, whatever the order, grouping and block sizes."""
    scores, values = inputs.random_state_inputs(410, rows=6, keys=16, d_v=4)
    scores[:, :3, 11:] += 25.0  # some rows find their largest scores late: the max must move
    scores[:, 3:, :2] += 25.0   # others find them first
    bounds = [0, 3, 4, 11, 16]
    blocks = [
        submission.block_state(scores[..., lo:hi], values[:, lo:hi])
        for lo, hi in zip(bounds, bounds[1:])
    ]
    whole = expected_state(scores, values)

    left = blocks[0]
    for block in blocks[1:]:
        left = submission.merge_states(left, block)
    assert_state(left, whole, "blocks merged left to right")

    right = blocks[-1]
    for block in reversed(blocks[:-1]):
        right = submission.merge_states(block, right)
    assert_state(right, whole, "blocks merged right to left")

    swapped = submission.merge_states(
        submission.merge_states(blocks[3], blocks[1]), submission.merge_states(blocks[2], blocks[0])
    )
    assert_state(swapped, whole, "blocks merged in pairs, in another order")
    m, l, acc = left
    assert_close(acc / l.unsqueeze(-1), torch.softmax(scores, dim=-1) @ values, "acc / l after merging")


@points(1)
def test_masked_and_extreme_blocks(submission):
    """A fully masked block gives (-inf, 0, 0) and changes nothing when merged; scores of 1e4 do not overflow."""
    scores, values = inputs.random_state_inputs(420, rows=4, keys=6, d_v=3)
    masked_scores = scores.clone()
    masked_scores[:, 1:3] = -math.inf  # rows 1 and 2 see no key of this block
    m, l, acc = submission.block_state(masked_scores, values)
    assert_finite(l, "l with fully masked rows")
    assert_finite(acc, "acc with fully masked rows")
    check(bool((m[:, 1:3] == -math.inf).all()), "a fully masked row must have m = -inf")
    assert_close(l[:, 1:3], torch.zeros(2, 2, dtype=l.dtype), "l of fully masked rows")
    assert_close(acc[:, 1:3], torch.zeros(2, 2, 3, dtype=acc.dtype), "acc of fully masked rows")

    nothing = submission.block_state(torch.full_like(scores, -math.inf), values)
    other_scores, other_values = inputs.random_state_inputs(421, rows=4, keys=5, d_v=3)
    other = submission.block_state(other_scores, other_values)
    assert_state(submission.merge_states(nothing, other), expected_state(other_scores, other_values),
                 "a fully masked block merged before another block")
    assert_state(submission.merge_states(other, nothing), expected_state(other_scores, other_values),
                 "a fully masked block merged after another block")

    huge = (scores * 5e3).float()
    big_values = values.float()
    halves = [submission.block_state(huge[..., :3], big_values[:, :3]), submission.block_state(huge[..., 3:], big_values[:, 3:])]
    m, l, acc = submission.merge_states(*halves)
    assert_finite(acc / l.unsqueeze(-1), "the output for scores of size 1e4")
    assert_close(acc / l.unsqueeze(-1), torch.softmax(huge, dim=-1) @ big_values, "the output for scores of size 1e4")
