"""Hidden tests for ``softmax`` (grade cell ``test_softmax``)."""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, assert_finite, check


@points(1)
def test_matches_torch_on_last_dim(submission):
    """softmax(x) equals torch.softmax along the last dimension, for several shapes and dtypes."""
    gen = torch.Generator().manual_seed(11)
    for shape in [(1,), (6,), (3, 9), (2, 4, 5), (2, 3, 4, 6)]:
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(shape, generator=gen, dtype=dtype) * 3
            p = submission.softmax(x)
            check(p.dtype == dtype, f"softmax should keep the input dtype ({dtype})")
            assert_close(p, torch.softmax(x, dim=-1), f"softmax of a {dtype} tensor of shape {shape}")


@points(1)
def test_matches_torch_on_any_dim(submission):
    """softmax(x, dim) normalises along the requested dimension, positive or negative."""
    x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(12))
    for dim in (0, 1, 2, -1, -2, -3):
        assert_close(submission.softmax(x, dim=dim), torch.softmax(x, dim=dim), f"softmax along dim={dim}")


@points(1)
def test_stable_for_large_logits(submission):
    """softmax stays finite for logits around +-1e4 and beyond, and is accurate in float64."""
    rows = [[1e4, 0.0, -1e4], [1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4, -1e4], [3e38, 0.0, -3e38]]
    assert_finite(submission.softmax(torch.tensor(rows)), "softmax of float32 logits around 1e4")
    # float32 cannot represent the logits' differences finely at this size, so
    # accuracy is judged in float64, where an overflowing exp shows up too.
    x = torch.tensor(rows[:3] + [[1e300, 0.0, -1e300]], dtype=torch.float64)
    p = submission.softmax(x)
    assert_finite(p, "softmax of float64 logits around 1e4 and 1e300")
    assert_close(p, torch.softmax(x, dim=-1), "softmax of large float64 logits")


@points(1)
def test_gradient_matches_torch(submission):
    """Gradients flow through softmax and equal torch's."""
    gen = torch.Generator().manual_seed(13)
    x = torch.randn(3, 6, generator=gen, dtype=torch.float64)
    g = torch.randn(3, 6, generator=gen, dtype=torch.float64)
    (grad,) = submission.vjp(submission.softmax, (x.clone().requires_grad_(True),), g)
    check(grad is not None, "softmax's output does not depend on its input")
    x_ref = x.clone().requires_grad_(True)
    (torch.softmax(x_ref, dim=-1) * g).sum().backward()
    assert_close(grad, x_ref.grad, "the gradient of softmax")
