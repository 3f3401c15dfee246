"""Hidden tests for ``expert_capacity`` (grade cell ``test_moe_capacity``).

Capacity factors are chosen exactly representable in binary (1, 1.25, 0.5,
...), and non-whole capacities are far from the next integer, so any correct
float formula gives the exact answer; the reference uses fractions.
"""

from autograder.judge import points
from llmcourse.testing import check

from autograder.judge import suite_helper

ref = suite_helper(__file__, "_moe_reference.py")

WHOLE = [(64, 8, 2, 1.0), (64, 8, 2, 1.25), (512, 8, 2, 2.0), (12, 4, 1, 1.0), (40, 4, 2, 0.5), (6, 6, 6, 1.0)]
FRACTIONAL = [(10, 4, 1, 1.0), (100, 8, 3, 1.0), (10, 3, 2, 2.0), (3, 8, 1, 1.0), (30, 8, 1, 1.25), (7, 16, 2, 0.5)]


def check_cases(submission, cases):
    for n_tokens, n_experts, k, factor in cases:
        got = submission.expert_capacity(n_tokens, n_experts, k, factor)
        check(isinstance(got, int), f"expert_capacity should return an int, got {type(got).__name__}")
        check(
            got == ref.capacity(n_tokens, n_experts, k, factor),
            f"expert_capacity({n_tokens}, {n_experts}, {k}, {factor}) = {got} is not "
            "ceil(capacity_factor * n_tokens * k / n_experts)",
        )


@points(1)
def test_capacity_whole_shares(submission):
    """When capacity_factor * N * k / E is a whole number, the capacity is exactly that number."""
    check_cases(submission, WHOLE)


@points(1)
def test_capacity_rounds_up(submission):
    """When capacity_factor * N * k / E is not whole, the capacity rounds up (never to zero for a positive share)."""
    check_cases(submission, FRACTIONAL)
