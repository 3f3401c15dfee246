"""Hidden tests for cosine_similarity, dot_similarity and l2_distance (grade cell ``test_sim_metrics``).

References are torch's cosine similarity and cdist in float64; results are
compared under the course's tolerance policy for the learner's dtype.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_sim_reference.py")

METRICS = [("cosine_similarity", ref.cosine), ("dot_similarity", ref.dot), ("l2_distance", ref.euclidean)]


def scores_of(submission, name, A, B):
    return ref.as_array(getattr(submission, name)(A, B), f"{name}'s result")


@points(1)
def test_sim_metrics_agree_with_torch(submission):
    """The three metrics agree with torch's references on random vectors of several shapes and lengths."""
    for n, m, dim, seed in [(7, 5, 16, 11), (1, 30, 3, 12), (40, 1, 384, 13), (25, 60, 64, 14)]:
        A, B = ref.varied_rows(n, dim, seed), ref.varied_rows(m, dim, seed + 100)
        for name, reference in METRICS:
            got = scores_of(submission, name, A, B)
            assert_close(got, reference(A, B), f"{name} of {n} by {m} vectors of width {dim}")


@points(1)
def test_sim_metrics_zero_vectors(submission):
    """A zero vector has cosine 0.0 with every vector, itself included (never NaN); dot and L2 stay exact."""
    for dtype in (np.float64, np.float32):
        A, B = ref.rows(6, 12, 21, dtype), ref.rows(5, 12, 22, dtype)
        A[[1, 4]] = 0.0
        B[2] = 0.0
        for name, reference in METRICS:
            got = scores_of(submission, name, A, B)
            check(not np.isnan(got).any(), f"{name} returned NaN for a zero vector ({np.dtype(dtype).name})")
            assert_close(got, reference(A, B).astype(dtype), f"{name} with zero vectors ({np.dtype(dtype).name})")
        both_zero = scores_of(submission, "cosine_similarity", np.zeros((2, 3)), np.zeros((3, 3)))
        assert_close(both_zero, np.zeros((2, 3)), "the cosine of two zero vectors")


@points(1)
def test_sim_metrics_dtypes_and_shapes(submission):
    """Scores are (n, m) arrays, float32 when both inputs are float32 and float64 otherwise; a 1-D input is one row."""
    A32, B32 = ref.rows(4, 8, 31, np.float32), ref.rows(9, 8, 32, np.float32)
    for name, _ in METRICS:
        got = scores_of(submission, name, A32, B32)
        check(got.shape == (4, 9), f"{name}: shape {got.shape} for 4 rows against 9 rows")
        check(got.dtype == np.float32, f"{name}: float32 inputs gave {got.dtype} scores, not float32")
        mixed = scores_of(submission, name, A32, B32.astype(np.float64))
        check(mixed.dtype == np.float64, f"{name}: float32 against float64 gave {mixed.dtype}, not float64")
        single = scores_of(submission, name, A32[0].astype(np.float64), B32.astype(np.float64))
        check(single.shape == (1, 9), f"{name}: a 1-D first input gave shape {single.shape}, not (1, m)")


@points(1)
def test_sim_cosine_ignores_length(submission):
    """cosine_similarity depends only on directions, from very short to very long vectors, in float32 and float64."""
    A, B = ref.rows(10, 32, 41), ref.rows(12, 32, 42)
    expected = ref.cosine(A, B)
    # Per-row scales: squares of these lengths fit float32, products of two squared norms do not.
    scales = np.array([1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9])
    for dtype in (np.float32, np.float64):
        row_a = scales[np.arange(10) % len(scales)][:, None]
        row_b = scales[::-1][np.arange(12) % len(scales)][:, None]
        got = scores_of(submission, "cosine_similarity", (A * row_a).astype(dtype), (B * row_b).astype(dtype))
        check(bool(np.isfinite(got).all()), f"cosine_similarity of very long or very short {np.dtype(dtype).name} vectors is not finite")
        assert_close(got, expected.astype(dtype), f"cosine of rescaled {np.dtype(dtype).name} vectors")
    for name in ("dot_similarity", "l2_distance"):
        big_a, big_b = (A * 1e9).astype(np.float32), (B * 1e9).astype(np.float32)
        got = scores_of(submission, name, big_a, big_b)
        assert_close(got, dict(METRICS)[name](big_a, big_b).astype(np.float32), f"{name} of float32 vectors of length ~1e10")


@points(1)
def test_sim_l2_survives_cancellation(submission):
    """l2_distance is never negative or NaN, even between equal float32 vectors, where the expansion cancels."""
    # Embeddings share a large common component; the differences between them are small.
    gen = np.random.default_rng(51)
    common = gen.normal(size=64) * 3.0
    X = (common + gen.normal(size=(300, 64))).astype(np.float32)
    for B, what in [(X, "a set against itself"), (X[::-1] + np.float32(1e-4), "nearly equal vectors")]:
        got = scores_of(submission, "l2_distance", X, B)
        check(not np.isnan(got).any(), f"l2_distance returned NaN for {what} (clamp before the square root)")
        check(bool((got >= 0).all()), f"l2_distance returned a negative distance for {what}")
    own = scores_of(submission, "l2_distance", X, X)
    check(np.array_equal(own.argmin(axis=1), np.arange(300)), "a vector is not its own nearest vector under l2_distance")
    off_diagonal = ~np.eye(300, dtype=bool)
    assert_close(own[off_diagonal], ref.euclidean(X, X)[off_diagonal].astype(np.float32), "l2_distance between distinct vectors")
