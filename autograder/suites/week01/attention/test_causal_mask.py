"""Hidden tests for ``causal_mask`` (grade cell ``test_causal_mask``)."""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check


@points(1)
def test_shape_and_dtype(submission):
    """causal_mask(T) is a bool tensor of shape (T, T), for T = 1 and larger."""
    for T in (1, 2, 7, 64):
        m = submission.causal_mask(T)
        check(isinstance(m, torch.Tensor), "causal_mask must return a tensor")
        check(m.dtype == torch.bool, f"causal_mask must return a bool tensor, got {m.dtype}")
        check(tuple(m.shape) == (T, T), f"causal_mask({T}) has shape {tuple(m.shape)}")


@points(1)
def test_true_on_and_below_diagonal(submission):
    """causal_mask(T)[i, j] is True exactly when j <= i."""
    for T in (1, 3, 10):
        assert_close(submission.causal_mask(T), torch.ones(T, T).tril().bool(), f"causal_mask({T})")
