"""Hidden tests for acceptance_rate and residual_distribution (grade cell ``test_spec_distributions``).

Both are checked against their definitions, computed here in float64, on
batches of random distributions with leading batch axes, and on the edge
cases: identical and disjoint distributions, and zeros on either side.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check


def random_pairs(seed: int, shape=(4, 3, 9), dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    p = torch.softmax(2 * torch.randn(shape, generator=gen, dtype=torch.float64), dim=-1)
    q = torch.softmax(2 * torch.randn(shape, generator=gen, dtype=torch.float64), dim=-1)
    # Knock out some tokens on each side, then renormalise.
    p = p * (torch.rand(shape, generator=gen) > 0.25)
    q = q * (torch.rand(shape, generator=gen) > 0.25)
    p[..., 0] += 1e-3
    q[..., 1] += 1e-3
    return (p / p.sum(-1, keepdim=True)).to(dtype), (q / q.sum(-1, keepdim=True)).to(dtype)


@points(1)
def test_spec_acceptance_rate_is_one_minus_total_variation(submission):
    """acceptance_rate(p, q) = sum_x min(p(x), q(x)) = 1 - TV(p, q) per row, over any leading batch axes."""
    for seed, shape in [(0, (9,)), (1, (5, 7)), (2, (2, 3, 11))]:
        p, q = random_pairs(seed, shape)
        got = submission.acceptance_rate(p, q)
        assert_close(got, 1 - 0.5 * (p - q).abs().sum(-1), "the acceptance rate")
        assert_close(submission.acceptance_rate(q, p), got, "the acceptance rate with p and q swapped")
    p, _ = random_pairs(3, (4, 6))
    assert_close(submission.acceptance_rate(p, p), torch.ones(4, dtype=torch.float64), "the acceptance rate of p with itself")
    a = torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
    assert_close(submission.acceptance_rate(a, a.flip(-1)), torch.zeros(1, dtype=torch.float64),
                 "the acceptance rate of distributions with disjoint supports")


@points(2)
def test_spec_residual_is_normalised_positive_part(submission):
    """residual_distribution(p, q) = max(0, p - q) / sum max(0, p - q) per row, and p where p equals q."""
    for seed, shape in [(4, (9,)), (5, (5, 7)), (6, (2, 3, 11))]:
        p, q = random_pairs(seed, shape)
        got = submission.residual_distribution(p, q)
        excess = (p - q).clamp(min=0)
        assert_close(got, excess / excess.sum(-1, keepdim=True), "the residual distribution")
        check(bool((got[q >= p] == 0).all()), "the residual must give zero mass wherever q >= p")
    p32, q32 = random_pairs(7, (6, 5), torch.float32)
    got = submission.residual_distribution(p32, q32)
    check(got.dtype == torch.float32, "the residual keeps the dtype of its inputs")
    assert_close(got.sum(-1), torch.ones(6), "every residual row sums to one")
    a = torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
    assert_close(submission.residual_distribution(a, a.flip(-1)), a, "the residual when q is disjoint from p (it is p)")
    p, q = random_pairs(8, (3, 6))
    q[1] = p[1]
    got = submission.residual_distribution(p, q)
    check(bool(torch.isfinite(got).all()), "the residual must be finite even in rows where p equals q")
    assert_close(got[1], p[1], "the residual in a row where p equals q (return p)")
