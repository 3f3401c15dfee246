"""Hidden tests for ``mha_parameter_count`` (grade cell ``test_parameter_count``).

The expected count is the number of parameters torch's own module has.
"""

import torch

from autograder.judge import points
from llmcourse.testing import check

CONFIGS = [(8, 1), (8, 8), (12, 3), (64, 4), (64, 16), (768, 12)]  # (d_model, n_heads)


def torch_count(d_model, n_heads, bias):
    module = torch.nn.MultiheadAttention(d_model, n_heads, bias=bias)
    return sum(p.numel() for p in module.parameters())


def check_counts(submission, bias):
    for d_model, n_heads in CONFIGS:
        got = submission.mha_parameter_count(d_model, n_heads, bias=bias)
        check(isinstance(got, int), f"mha_parameter_count should return an int, got {type(got).__name__}")
        check(
            got == torch_count(d_model, n_heads, bias),
            f"mha_parameter_count({d_model}, {n_heads}, bias={bias}) = {got} is not the layer's parameter count",
        )


@points(1)
def test_count_with_bias(submission):
    """With biases the count equals torch.nn.MultiheadAttention's, for several widths and head counts."""
    check_counts(submission, bias=True)


@points(1)
def test_count_without_bias(submission):
    """With bias=False the count equals torch.nn.MultiheadAttention(bias=False)'s."""
    check_counts(submission, bias=False)
