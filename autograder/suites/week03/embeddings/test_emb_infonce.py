"""Hidden tests for ``info_nce`` (grade cell ``test_emb_infonce``).

Reference: torch's cross-entropy of the cosine logits divided by the
temperature, row i against column i (``_emb_reference.info_nce``); gradients
are autograd's gradients of that definition.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_emb_reference.py")

CASES = [(81, 8, 16, 0.07), (82, 32, 64, 0.5), (83, 3, 5, 1.0), (84, 64, 32, 0.02), (85, 1, 8, 0.1)]


@points(1)
def test_emb_infonce_matches_reference(submission):
    """InfoNCE equals torch's cross-entropy of the normalised, temperature-divided logits, in float32 and float64, for several batch sizes and temperatures."""
    for dtype in (torch.float32, torch.float64):
        for seed, batch, dim, tau in CASES:
            a, b = ref.pairs(seed, batch, dim, dtype)
            label = f"B={batch}, d={dim}, temperature={tau}, {dtype}"
            got = ref.scalar(submission.info_nce(a, b, tau), f"info_nce ({label})")
            check(got.dtype == dtype, f"info_nce returned {got.dtype} for {dtype} inputs")
            assert_close(got, ref.info_nce(a.double(), b.double(), tau).to(dtype), f"info_nce ({label})")


@points(1)
def test_emb_infonce_gradients(submission):
    """The gradients with respect to both batches equal autograd's gradients of the definition."""
    for seed, batch, dim, tau in CASES[:3]:
        a, b = ref.pairs(seed, batch, dim, torch.float64)
        ref.check_gradients(submission, submission.info_nce, ref.info_nce, a, b, tau,
                            ("a", "b"), "info_nce", f"B={batch}, temperature={tau}")


@points(1)
def test_emb_infonce_limits(submission):
    """InfoNCE ignores the rows' lengths, is near 0 for a perfectly aligned batch at a small temperature, and near log B for unrelated batches."""
    a, b = ref.pairs(91, 16, 32, torch.float64, spread=False)
    scales = torch.exp(torch.linspace(-3, 3, 16, dtype=torch.float64))[:, None]
    assert_close(submission.info_nce(a * scales, b * scales.flip(0), 0.1), submission.info_nce(a, b, 0.1),
                 "info_nce of the same batches with rows rescaled")
    basis = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(92), dtype=torch.float64))[0]
    aligned = ref.scalar(submission.info_nce(basis[:12], basis[:12].clone(), 0.05), "info_nce of an aligned batch")
    check(aligned.item() < 1e-6, "a batch whose pairs are identical and orthogonal to the other rows should have a loss near 0 at temperature 0.05")
    gen = torch.Generator().manual_seed(93)
    for batch in (8, 64):
        x, y = torch.randn(batch, 4096, generator=gen, dtype=torch.float64), torch.randn(batch, 4096, generator=gen, dtype=torch.float64)
        value = ref.scalar(submission.info_nce(x, y, 1.0), "info_nce of unrelated batches").item()
        check(abs(value - math.log(batch)) < 0.05, f"unrelated batches of {batch} at temperature 1 should give a loss near log {batch}")
