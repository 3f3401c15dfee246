"""Hidden tests for expected_accepted_tokens (grade cell ``test_spec_expected_tokens``).

The closed form is compared with its definition as an expectation,
E = sum_{k=0}^{gamma} P(at least k drafts accepted) = sum_k alpha^k, and with
its limits: one token when nothing is accepted or nothing drafted, gamma + 1
when everything is.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check


def by_definition(alpha: float, gamma: int) -> float:
    """sum over k = 0..gamma of P(the first k drafts are all accepted): the tail-sum formula of E."""
    return sum(alpha**k for k in range(gamma + 1))


def as_number(value, what):
    check(isinstance(value, (int, float)) or (isinstance(value, torch.Tensor) and value.numel() == 1),
          f"{what} must be a number")
    return torch.tensor(float(value))


@points(1)
def test_spec_expected_tokens_matches_expectation(submission):
    """The expected number of tokens per target call is sum_{k=0}^{gamma} alpha^k for every alpha in [0, 1) and gamma."""
    for alpha in (0.05, 0.3, 0.5, 0.62, 0.8, 0.9, 0.97):
        for gamma in (1, 2, 3, 5, 8):
            got = as_number(submission.expected_accepted_tokens(alpha, gamma), "expected_accepted_tokens")
            assert_close(got, torch.tensor(by_definition(alpha, gamma)),
                         f"the expected tokens per call (alpha={alpha}, gamma={gamma})")


@points(1)
def test_spec_expected_tokens_limits(submission):
    """alpha = 1 gives gamma + 1 tokens (no division by zero), alpha = 0 gives one, gamma = 0 gives one."""
    for gamma in (0, 1, 4, 7):
        got = as_number(submission.expected_accepted_tokens(1.0, gamma), "expected_accepted_tokens")
        assert_close(got, torch.tensor(float(gamma + 1)), f"the expected tokens per call at alpha = 1, gamma={gamma}")
        got = as_number(submission.expected_accepted_tokens(0.0, gamma), "expected_accepted_tokens")
        assert_close(got, torch.tensor(1.0), f"the expected tokens per call at alpha = 0, gamma={gamma}")
    for alpha in (0.3, 0.9):
        got = as_number(submission.expected_accepted_tokens(alpha, 0), "expected_accepted_tokens")
        assert_close(got, torch.tensor(1.0), "the expected tokens per call with no drafts (gamma = 0)")
