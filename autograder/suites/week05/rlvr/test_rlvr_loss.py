"""Hidden tests for ``grpo_loss`` (grade cell ``test_rlvr_loss``).

Inputs are seeded float64 log-probabilities whose ratios fall inside and
outside the clip range on both sides, with ragged bool masks; the reference
is the notebook's definition written in its "pessimistic" form (see
``_rlvr_reference.py``). Gradients are taken with respect to ``logp_new``.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_rlvr_reference.py")

ONE = torch.tensor(1.0, dtype=torch.float64)


def gradient(submission, new, old, refp, adv, mask, **kwargs):
    """d loss / d logp_new, computed inside the sandbox."""
    (grad,) = submission.vjp(
        submission.grpo_loss, (new.detach().clone().requires_grad_(True), old, refp, adv, mask), ONE, **kwargs
    )
    check(grad is not None, "the loss does not depend on logp_new")
    return grad


def reference_gradient(new, old, refp, adv, mask, **kwargs):
    leaf = new.detach().clone().requires_grad_(True)
    ref.grpo_objective(leaf, old, refp, adv, mask, **kwargs).backward()
    return leaf.grad


SETTINGS = [
    (200, 6, 9, {}),
    (201, 8, 5, {"clip_eps": 0.1, "beta": 0.0}),
    (202, 3, 12, {"clip_eps": 0.3, "beta": 0.5}),
    (203, 1, 1, {}),
    (204, 16, 4, {"beta": 0.1}),
]


def describe(batch, length, kwargs):
    return f"B={batch}, T={length}" + "".join(f", {k}={v}" for k, v in kwargs.items())


@points(2)
def test_rlvr_loss_matches_definition(submission):
    """The loss is minus the mean over sequences of the masked per-sequence mean of min(rho A, clip(rho) A) - beta * k3, as a 0-dim tensor."""
    for seed, batch, length, kwargs in SETTINGS:
        new, old, refp, adv, mask = ref.random_batch(seed, batch, length)
        got = submission.grpo_loss(new, old, refp, adv, mask, **kwargs)
        check(isinstance(got, torch.Tensor) and got.dim() == 0, "grpo_loss must return a 0-dimensional tensor")
        assert_close(got, ref.grpo_objective(new, old, refp, adv, mask, **kwargs), f"the loss ({describe(batch, length, kwargs)})")
    new, old, refp, adv, mask = (t.float() if t.dtype == torch.float64 else t for t in ref.random_batch(205, 5, 7))
    got = submission.grpo_loss(new, old, refp, adv, mask)
    assert_close(got, ref.grpo_objective(new.double(), old.double(), refp.double(), adv.double(), mask).float(), "the loss on float32 inputs")


@points(1)
def test_rlvr_loss_gradient_matches_definition(submission):
    """The gradient of the loss with respect to logp_new equals the definition's, token by token."""
    for seed, batch, length, kwargs in SETTINGS[:3]:
        new, old, refp, adv, mask = ref.random_batch(seed, batch, length)
        assert_close(
            gradient(submission, new, old, refp, adv, mask, **kwargs),
            reference_gradient(new, old, refp, adv, mask, **kwargs),
            f"the gradient with respect to logp_new ({describe(batch, length, kwargs)})",
        )


@points(1)
def test_rlvr_loss_clip_stops_gradient_on_its_side(submission):
    """With beta = 0 the gradient is zero exactly where the clip applies (ratio above 1 + eps with A > 0, below 1 - eps with A < 0) and flows everywhere else."""
    old = torch.full((6, 3), -1.5, dtype=torch.float64)
    shift = torch.tensor([0.5, -0.5, 0.5, -0.5, 0.1, 0.15], dtype=torch.float64)[:, None]
    new = old + shift
    adv = torch.tensor([1.0, -1.0, -1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    mask = torch.ones(6, 3, dtype=torch.bool)
    grad = gradient(submission, new, old, old, adv, mask, clip_eps=0.2, beta=0.0)
    zero = torch.zeros(3, dtype=torch.float64)
    assert_close(grad[0], zero, "the gradient of tokens with ratio e^0.5 > 1 + clip_eps and A > 0 (clipped)")
    assert_close(grad[1], zero, "the gradient of tokens with ratio e^-0.5 < 1 - clip_eps and A < 0 (clipped)")
    for row, what in ((2, "ratio above 1 + clip_eps with A < 0"), (3, "ratio below 1 - clip_eps with A > 0"),
                      (4, "ratio inside the clip range"), (5, "ratio e^0.15 inside clip_eps = 0.2")):
        expected = -adv[row] * new[row].sub(old[row]).exp() / (6 * 3)
        assert_close(grad[row], expected, f"the gradient of tokens with {what} (not clipped)")
    narrow = gradient(submission, new, old, old, adv, mask, clip_eps=0.1, beta=0.0)
    assert_close(narrow[5], zero, "the gradient of tokens with ratio e^0.15 > 1 + clip_eps for clip_eps = 0.1 and A > 0")
    # on-policy, the first step of every GRPO update: each token's gradient is -A / (sequences * its sequence's tokens)
    ragged = torch.tensor([[True, True, True], [True, False, False], [False, True, True], [True, True, False], [True] * 3, [True] * 3])
    on_policy = gradient(submission, old, old, old, adv, ragged, beta=0.0)
    expected = torch.where(ragged, -adv[:, None] / (6 * ragged.sum(1, keepdim=True)), 0.0).double()
    assert_close(on_policy, expected, "the on-policy gradient (logp_new == logp_old), -A / (number of sequences * tokens in the sequence)")


@points(1)
def test_rlvr_loss_kl_penalty(submission):
    """The KL term is the k3 estimator exp(ref - new) - (ref - new) - 1: zero when the policy equals the reference, positive otherwise, scaled by beta."""
    new, old, refp, _, mask = ref.random_batch(210, 5, 6, spread=0.7)
    no_adv = torch.zeros(5, dtype=torch.float64)
    at_ref = submission.grpo_loss(new, old, new.clone(), no_adv, mask, beta=0.3)
    assert_close(at_ref, torch.tensor(0.0, dtype=torch.float64), "the loss with zero advantages and the policy equal to the reference")
    for beta in (0.04, 0.3, 2.0):
        got = submission.grpo_loss(new, old, refp, no_adv, mask, beta=beta)
        check(got.item() > 0, f"with zero advantages and policy != reference the loss must be positive (beta={beta})")
        gap = refp - new
        k3 = gap.exp() - gap - 1
        per_sequence = torch.stack([k3[i][mask[i]].mean() for i in range(5)])
        assert_close(got, beta * per_sequence.mean(), f"the KL penalty with zero advantages (beta={beta})")
    free = submission.grpo_loss(new, old, refp, no_adv, mask, beta=0.0)
    assert_close(free, torch.tensor(0.0, dtype=torch.float64), "the loss with zero advantages and beta = 0")


@points(1)
def test_rlvr_loss_mask_respected(submission):
    """Masked positions never count (their values, their number, prompt positions before the answer), and every sequence weighs the same whatever its length."""
    new, old, refp, adv, mask = ref.random_batch(220, 6, 8)
    base = submission.grpo_loss(new, old, refp, adv, mask)
    gen = torch.Generator().manual_seed(221)
    noisy = [t.clone() for t in (new, old, refp)]
    for t in noisy:
        t[~mask] = 4 * torch.randn(int((~mask).sum()), generator=gen, dtype=torch.float64)
    assert_close(submission.grpo_loss(*noisy, adv, mask), base, "the loss after changing the log-probs of padding positions")
    grad = gradient(submission, new, old, refp, adv, mask)
    check(bool((grad[~mask] == 0).all()), "padding positions must get exactly zero gradient")
    pad = torch.full((6, 5), -2.0, dtype=torch.float64)
    wider = [torch.cat([t, pad], dim=1) for t in (new, old, refp)]
    wider_mask = torch.cat([mask, torch.zeros(6, 5, dtype=torch.bool)], dim=1)
    assert_close(submission.grpo_loss(*wider, adv, wider_mask), base, "the loss with five more padding columns")
    # prompt tokens masked at the start: the same answers moved right behind a 3-token prompt
    prompt = torch.full((6, 3), -0.7, dtype=torch.float64)
    shifted = [torch.cat([prompt, t], dim=1) for t in (new, old, refp)]
    shifted_mask = torch.cat([torch.zeros(6, 3, dtype=torch.bool), mask], dim=1)
    assert_close(submission.grpo_loss(*shifted, adv, shifted_mask), base, "the loss with masked prompt positions before the answers")
    # one answer of 2 tokens, one of 8: each sequence's mean counts once, not each token
    flat = torch.full((2, 8), -1.0, dtype=torch.float64)
    lengths_mask = torch.tensor([[True] * 2 + [False] * 6, [True] * 8])
    two = torch.tensor([3.0, -1.0], dtype=torch.float64)
    got = submission.grpo_loss(flat, flat, flat, two, lengths_mask)
    assert_close(got, -two.mean(), "the loss of a 2-token and an 8-token answer (each sequence weighs the same)")
    check(math.isfinite(got.item()), "the loss must be finite")
