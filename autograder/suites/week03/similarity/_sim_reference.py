"""The judge's data and reference computations for the hidden tests of week03/similarity.

Data is generated here from fixed seeds, never taken from the notebook. The
references are the ecosystem's own (torch's cosine similarity and cdist,
faiss's exact flat indexes) or a direct float64 computation with no
expansion trick, and numpy's stable sort for rankings.
"""

import numpy as np
import torch


def rows(n, dim, seed, dtype=np.float64):
    """n rows of independent standard normal entries."""
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(dtype)


def varied_rows(n, dim, seed, dtype=np.float64):
    """Random directions with lengths spread over two orders of magnitude, like raw embeddings."""
    gen = np.random.default_rng(seed)
    directions = gen.normal(size=(n, dim))
    lengths = np.exp(gen.normal(scale=1.2, size=(n, 1)))
    return (directions * lengths).astype(dtype)


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def cosine(A, B):
    """torch's cosine similarity of every pair, in float64 (0 for a zero vector)."""
    a = torch.as_tensor(np.asarray(A, dtype=np.float64))
    b = torch.as_tensor(np.asarray(B, dtype=np.float64))
    return torch.nn.functional.cosine_similarity(a[:, None, :], b[None, :, :], dim=-1).numpy()


def dot(A, B):
    return np.asarray(A, dtype=np.float64) @ np.asarray(B, dtype=np.float64).T


def euclidean(A, B):
    """torch.cdist in float64, computed from differences (no expansion, no cancellation)."""
    a = torch.as_tensor(np.asarray(A, dtype=np.float64))
    b = torch.as_tensor(np.asarray(B, dtype=np.float64))
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist").numpy()


SCORES = {"cosine": (cosine, True), "dot": (dot, True), "l2": (euclidean, False)}


def ranking(scores, largest):
    """Every column of each row, best first, ties to the lower column (a stable sort)."""
    scores = np.asarray(scores)
    key = -scores.astype(np.float64) if largest else scores.astype(np.float64)
    return np.argsort(key, axis=1, kind="stable")


def as_array(value, what):
    """A learner's result as a numpy array, or a failure that says what it should have been."""
    from llmcourse.testing import check

    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    check(isinstance(value, np.ndarray), f"{what} should be a numpy array, got {type(value).__name__}")
    return value


def pair(result, what):
    """Split a learner's (indices, values) result, checking that it is a pair."""
    from llmcourse.testing import check

    check(isinstance(result, (tuple, list)) and len(result) == 2, f"{what} should return a pair (indices, values)")
    return as_array(result[0], f"{what}'s indices"), as_array(result[1], f"{what}'s values")
