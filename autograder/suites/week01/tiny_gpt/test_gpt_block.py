"""Hidden tests for the decoder block (grade cell ``test_gpt_block``).

Reference: ``llmcourse.gpt.Block`` (Pre-LN, causal multi-head attention, 4x
GELU MLP) holding the same seeded weights, evaluated in the judge.
"""

import torch

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_gpt_reference.py")


def _compare(submission, d_model, n_head, length, seed):
    block, state = ref.reference_block(d_model, n_head, seed)
    theirs = ref.load(submission.DecoderBlock(d_model, n_head), state, "block")
    x = torch.randn(2, length, d_model, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        want = block(x)
    assert_close(theirs(x), want, f"the block's output (d_model={d_model}, n_head={n_head}, T={length})")


@points(2)
def test_gpt_block_matches_reference(submission):
    """The block's output equals the reference Pre-LN block given the same weights, for several widths and head counts."""
    for d_model, n_head, length, seed in [(32, 4, 9, 10), (24, 3, 5, 11), (16, 1, 12, 12), (48, 8, 1, 13)]:
        _compare(submission, d_model, n_head, length, seed)


@points(1)
def test_gpt_block_is_causal_with_gradients(submission):
    """Changing later positions never changes earlier outputs, and the gradient with respect to the input equals the reference's."""
    block, state = ref.reference_block(32, 4, 20)
    theirs = ref.load(submission.DecoderBlock(32, 4), state, "block")
    gen = torch.Generator().manual_seed(21)
    x = torch.randn(1, 10, 32, generator=gen)
    out = theirs(x)
    for cut in (1, 4, 9):
        changed = x.clone()
        changed[:, cut:] = torch.randn(1, 10 - cut, 32, generator=gen)
        assert_close(theirs(changed)[:, :cut], out[:, :cut], f"outputs before position {cut} after changing later tokens")
    g = torch.randn(1, 10, 32, generator=gen, dtype=torch.float64)
    block.double()
    theirs.double()
    x64 = x.double().requires_grad_(True)
    (block(x64) * g).sum().backward()
    (grad_x,) = submission.vjp(theirs, (x.double().requires_grad_(True),), g)
    check(grad_x is not None, "the block's output does not depend on its input")
    assert_close(grad_x, x64.grad, "the gradient with respect to the block's input")


@points(1)
def test_gpt_block_rejects_indivisible_width(submission):
    """CausalSelfAttention raises ValueError when n_head does not divide d_model."""
    if not learner_raised("ValueError", submission.CausalSelfAttention, 30, 4):
        raise AssertionError("no error for d_model=30, n_head=4")
