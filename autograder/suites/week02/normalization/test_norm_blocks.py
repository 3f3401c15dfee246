"""Hidden tests for ``PreLNBlock`` and ``PostLNBlock`` (grade cell ``test_norm_blocks``).

The sublayer is built inside the notebook's process (torch's own modules,
reached through the seam) and given seeded weights; the reference formulas
x + f(LN(x)) and LN(x + f(x)) are evaluated here in the judge with
``torch.nn.LayerNorm`` and a copy of the same sublayer.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

helpers = suite_helper(__file__, "_norm_helpers.py")


def mlp_state(seed, d):
    """Seeded weights for a Linear(d, 2d) - GELU - Linear(2d, d) sublayer."""
    gen = torch.Generator().manual_seed(seed)
    return {
        "0.weight": torch.randn(2 * d, d, generator=gen) / d**0.5,
        "0.bias": 0.3 * torch.randn(2 * d, generator=gen),
        "2.weight": torch.randn(d, 2 * d, generator=gen) / (2 * d) ** 0.5,
        "2.bias": 0.3 * torch.randn(d, generator=gen),
    }


def mlp(nn, d):
    """The sublayer, built with the torch.nn namespace given (local, or the notebook's)."""
    return nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))


def block_and_reference(submission, kind, d, seed):
    """The learner's block around a seeded MLP, and (sublayer, LayerNorm) references holding the same weights."""
    sub_state = mlp_state(seed, d)
    norm_state = helpers.gain_and_bias(seed + 1, d)
    block = getattr(submission, kind)(d, mlp(submission.torch.nn, d))
    state = {f"sublayer.{k}": v for k, v in sub_state.items()}
    state.update({f"norm.{k}": v for k, v in norm_state.items()})
    helpers.load(block, state, kind)
    sub = mlp(torch.nn, d)
    sub.load_state_dict(sub_state)
    return block, sub, helpers.torch_layer_norm(norm_state, d)


@points(1)
def test_pre_ln_block(submission):
    """PreLNBlock computes x + sublayer(norm(x)): the input reaches the output unnormalized, only the sublayer sees the norm."""
    for d, shape, seed in ((8, (2, 5, 8), 600), (16, (3, 16), 610)):
        block, sub, norm = block_and_reference(submission, "PreLNBlock", d, seed)
        x = helpers.activations(seed + 5, shape, scale=3.0)
        with torch.no_grad():
            assert_close(block(x), x + sub(norm(x)), f"PreLNBlock on a {shape} input, compared with x + f(LN(x))")


@points(1)
def test_post_ln_block(submission):
    """PostLNBlock computes norm(x + sublayer(x)): the sum of the input and the sublayer's output is normalized."""
    for d, shape, seed in ((8, (2, 5, 8), 620), (16, (3, 16), 630)):
        block, sub, norm = block_and_reference(submission, "PostLNBlock", d, seed)
        x = helpers.activations(seed + 5, shape, scale=3.0)
        with torch.no_grad():
            assert_close(block(x), norm(x + sub(x)), f"PostLNBlock on a {shape} input, compared with LN(x + f(x))")


@points(1)
def test_blocks_around_a_silent_sublayer(submission):
    """With a sublayer that outputs zeros, a Pre-LN block is the identity and a Post-LN block is just its LayerNorm."""
    d = 12
    norm_state = helpers.gain_and_bias(640, d)
    silent = {"sublayer.weight": torch.zeros(d, d), "sublayer.bias": torch.zeros(d)}
    state = {**silent, **{f"norm.{k}": v for k, v in norm_state.items()}}
    x = helpers.activations(641, (4, 3, d), scale=5.0)
    nn = submission.torch.nn
    pre = helpers.load(submission.PreLNBlock(d, nn.Linear(d, d)), state, "PreLNBlock")
    assert_close(pre(x), x, "a Pre-LN block around a sublayer that outputs zeros, compared with its input")
    post = helpers.load(submission.PostLNBlock(d, nn.Linear(d, d)), state, "PostLNBlock")
    assert_close(post(x), helpers.torch_layer_norm(norm_state, d)(x).detach(),
                 "a Post-LN block around a sublayer that outputs zeros, compared with LayerNorm of its input")


@points(1)
def test_no_builtin_normalization(submission):
    """LayerNorm, RMSNorm and both blocks are built from tensor operations, not from torch's own normalization layers or functions."""
    d = 8
    x = helpers.activations(650, (2, 3, d))
    submission.LayerNorm(d)(x)
    submission.RMSNorm(d)(x)
    nn = submission.torch.nn
    submission.PreLNBlock(d, nn.Linear(d, d))(x)
    submission.PostLNBlock(d, nn.Linear(d, d))(x)
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
