"""Hidden tests for ``exact_search`` (grade cell ``test_hnsw_exact``).

Ids are compared through their distances (two rows at the same distance may
come in either order); the reference is faiss's exact flat index and a direct
float64 computation.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_hnsw_reference.py")


def check_exact(ids, data, queries, k, what):
    ids = np.asarray(ids)
    kk = min(k, len(data))
    check(ids.shape == (len(queries), kk), f"{what}: the result has shape {ids.shape}, not (Q, min(k, N))")
    check(np.issubdtype(ids.dtype, np.integer), f"{what}: the ids should be an integer array")
    check(bool(np.all((ids >= 0) & (ids < len(data)))), f"{what}: an id is outside 0 .. N-1")
    check(all(len(set(row.tolist())) == kk for row in ids), f"{what}: a query's row repeats an id")
    dist = ref.squared_distances(data, queries)
    got = np.take_along_axis(dist, ids, axis=1)
    assert_close(got, np.sort(dist, axis=1)[:, :kk], f"{what}: the distances of the returned ids, in order")


@points(1)
def test_matches_brute_force_and_faiss(submission):
    """exact_search returns the k nearest rows, nearest first, as faiss's exact index does."""
    import faiss

    data = ref.clustered(2500, 20, 15, 201)
    queries = ref.clustered(40, 20, 15, 202)
    for k in (1, 10, 64):
        ids = submission.exact_search(data, queries, k)
        check_exact(ids, data, queries, k, f"k={k}")
        flat = faiss.IndexFlatL2(20)
        flat.add(data.astype(np.float32))
        _, theirs = flat.search(queries.astype(np.float32), k)
        overlap = ref.recall(np.asarray(ids), theirs)
        check(overlap > 0.99, f"k={k}: only {overlap:.1%} of the ids agree with faiss's exact search")


@points(1)
def test_edge_cases(submission):
    """exact_search handles k larger than the collection, one query, float32 input and exact matches."""
    data = ref.clustered(30, 6, 3, 203)
    queries = ref.clustered(4, 6, 3, 204)
    check_exact(submission.exact_search(data, queries, 100), data, queries, 100, "k larger than N")
    check_exact(submission.exact_search(data, queries[:1], 5), data, queries[:1], 5, "a single query")
    d32, q32 = data.astype(np.float32), queries.astype(np.float32)
    check_exact(submission.exact_search(d32, q32, 7), data.astype(np.float32), queries.astype(np.float32), 7, "float32 input")
    self_ids = np.asarray(submission.exact_search(data, data[:10], 1))
    check(self_ids.reshape(-1).tolist() == list(range(10)), "a stored row must be its own nearest neighbour")
