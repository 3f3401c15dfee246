"""Hidden tests for ``group_advantages`` (grade cell ``test_rlvr_advantages``).

Rewards are seeded: binary ones (a verifier's), graded ones in quarters
(exactly representable, so a uniform group's mean is exact) and continuous
ones. The reference is the notebook's definition with the population std.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_rlvr_reference.py")


def binary(seed, prompts, group, p=0.5, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(prompts, group, generator=gen) < p).to(dtype)


def continuous(seed, prompts, group, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(prompts, group, generator=gen, dtype=dtype) * 2 + 1


def mixed_batch():
    """Groups all wrong, all right, all half right, and mixed ones, in one batch."""
    return torch.tensor([
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 1.0, 1.0, 0.0, 1.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
        [0.25, 1.0, 0.0, 0.5, 0.75, 0.25],
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ])


@points(1)
def test_rlvr_advantages_match_definition(submission):
    """Advantages equal (r - group mean) / (population std of the group + eps), with the eps passed in, in the rewards' shape and dtype."""
    cases = [
        (binary(100, 5, 8), {}),
        (binary(101, 3, 2, dtype=torch.float64), {}),
        (continuous(102, 7, 16), {}),
        (continuous(103, 1, 5, dtype=torch.float32), {}),
        (continuous(104, 4, 6), {"eps": 0.1}),
        (binary(105, 6, 4, p=0.3, dtype=torch.float64), {"eps": 0.5}),
    ]
    for rewards, kwargs in cases:
        got = submission.group_advantages(rewards, **kwargs)
        label = f"the advantages of {tuple(rewards.shape)} {rewards.dtype} rewards" + (f", eps={kwargs['eps']}" if kwargs else "")
        check(got.dtype == rewards.dtype, f"{label} must keep the rewards' dtype")
        assert_close(got, ref.advantages(rewards, **kwargs), label)


@points(1)
def test_rlvr_advantages_zero_mean_unit_spread_per_group(submission):
    """Within every group the advantages have mean zero and a population standard deviation of one (a uniform group: all zero)."""
    for rewards in (continuous(110, 9, 8), binary(111, 12, 16, p=0.4, dtype=torch.float64), mixed_batch().double()):
        got = submission.group_advantages(rewards, eps=1e-12)
        assert_close(got.mean(dim=1), torch.zeros(rewards.shape[0], dtype=rewards.dtype), "the mean advantage of each group")
        uniform = (rewards == rewards[:, :1]).all(dim=1)
        spread = got.std(dim=1, correction=0)
        expected = torch.where(uniform, 0.0, 1.0).to(rewards.dtype)
        assert_close(spread, expected, "the population standard deviation of each group's advantages")


@points(1)
def test_rlvr_advantages_uniform_group_is_zero(submission):
    """A group whose answers all earn the same reward gets advantages of exactly zero, never NaN or inf, and the other groups are unaffected."""
    for dtype in (torch.float32, torch.float64):
        rewards = mixed_batch().to(dtype)
        got = submission.group_advantages(rewards)
        check(bool(torch.isfinite(got).all()), f"the advantages contain NaN or inf ({dtype}): a uniform group divides by zero")
        check(bool((got[[0, 2, 3]] == 0).all()), f"groups whose rewards are all equal must get advantages of exactly 0 ({dtype})")
        assert_close(got[[1, 4, 5]], ref.advantages(rewards[[1, 4, 5]]), f"the advantages of the mixed groups next to uniform ones ({dtype})")
    single = submission.group_advantages(torch.ones(1, 8))
    check(bool((single == 0).all()), "a batch of a single all-correct group must get zero advantages")


@points(1)
def test_rlvr_advantages_groups_are_independent(submission):
    """Each group is normalised on its own: changing, shifting or scaling one group's rewards never changes another group's advantages."""
    rewards = continuous(120, 6, 5)
    # a tiny eps, so that rescaling a group changes its advantages only by round-off
    before = submission.group_advantages(rewards, eps=1e-12)
    changed = rewards.clone()
    changed[2] = changed[2] * 10 + 40  # one group rescaled and shifted
    changed[4] = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0], dtype=changed.dtype)
    after = submission.group_advantages(changed, eps=1e-12)
    others = [0, 1, 3, 5]
    assert_close(after[others], before[others], "the advantages of groups whose rewards did not change")
    assert_close(after[2], before[2], "a group's advantages after its rewards were scaled by 10 and shifted by 40")
    half = submission.group_advantages(rewards[:3], eps=1e-12)
    assert_close(half, before[:3], "the advantages of the first three groups computed without the others")
