"""Hidden tests for ``search`` (grade cell ``test_sim_search``).

References: a direct float64 computation of every score, ranked by a stable
sort, and faiss's exact flat indexes (inner product and L2) on float32 data.
"""

import numpy as np

from autograder.judge import points, suite_helper
from autograder.seam.submission import StudentError
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_sim_reference.py")


def found(submission, queries, corpus, k, metric, batch_size):
    return ref.pair(submission.search(queries, corpus, k, metric=metric, batch_size=batch_size), "search")


def faiss_ids(queries, corpus, k, metric):
    import faiss

    q, c = queries.astype(np.float32), corpus.astype(np.float32)
    if metric == "cosine":
        q, c = ref.unit(q).astype(np.float32), ref.unit(c).astype(np.float32)
    flat = faiss.IndexFlatL2(c.shape[1]) if metric == "l2" else faiss.IndexFlatIP(c.shape[1])
    flat.add(c)
    return flat.search(q, k)[1]


@points(1)
def test_sim_search_matches_exact_references(submission):
    """search returns the k nearest rows, best first, for every metric, as brute force and faiss's exact indexes do."""
    corpus, queries = ref.varied_rows(3000, 48, 71, np.float32), ref.varied_rows(60, 48, 72, np.float32)
    for metric, (reference, largest) in ref.SCORES.items():
        ids, vals = found(submission, queries, corpus, 10, metric, 16)
        check(ids.shape == (60, 10) and vals.shape == (60, 10), f"metric={metric}: shape {ids.shape}, not (Q, k)")
        check(bool(np.all((ids >= 0) & (ids < 3000))), f"metric={metric}: an id is outside 0 .. N-1")
        exact = reference(queries, corpus)
        best = np.take_along_axis(exact, ref.ranking(exact, largest)[:, :10], axis=1)
        assert_close(np.take_along_axis(exact, ids.astype(np.int64), axis=1).astype(np.float32), best.astype(np.float32), f"metric={metric}: the exact scores of the returned ids")
        assert_close(vals, best.astype(np.float32), f"metric={metric}: the returned values")
        theirs = faiss_ids(queries, corpus, 10, metric)
        overlap = np.mean([len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(ids, theirs)])
        check(overlap > 0.99, f"metric={metric}: only {overlap:.1%} of the ids agree with faiss's exact index")


@points(1)
def test_sim_search_batch_size_does_not_matter(submission):
    """search gives the same results for every batch_size, including ones that do not divide the number of queries."""
    corpus, queries = ref.rows(500, 24, 73), ref.rows(37, 24, 74)
    ties = np.random.default_rng(75)
    tied_corpus = ties.integers(-2, 3, size=(400, 6)).astype(np.float64)   # many exactly equal scores
    tied_queries = ties.integers(-2, 3, size=(37, 6)).astype(np.float64)
    cases = [(metric, (queries, corpus), "random") for metric in ("cosine", "dot", "l2")]
    # Integer data: dot products and squared distances are exact, so equal scores are truly equal.
    cases += [(metric, (tied_queries, tied_corpus), "tied") for metric in ("dot", "l2")]
    for metric, data, what in cases:
        ids0, vals0 = found(submission, *data, 8, metric, 1)
        check(ids0.shape == (37, 8), f"metric={metric}, batch_size=1: shape {ids0.shape}, not (37, 8)")
        for batch_size in (5, 36, 37, 38, 1000):
            ids, vals = found(submission, *data, 8, metric, batch_size)
            check(ids.shape == ids0.shape, f"metric={metric}: batch_size={batch_size} returned shape {ids.shape}, not (37, 8)")
            check(np.array_equal(ids, ids0), f"metric={metric} ({what} data): the ids change with batch_size={batch_size}")
            assert_close(vals, vals0, f"metric={metric}: values at batch_size={batch_size}")


@points(1)
def test_sim_search_unit_vectors_rank_alike(submission):
    """On unit vectors cosine, dot product and L2 return the same neighbours, and L2 squared is 2 - 2 cos."""
    corpus, queries = ref.unit(ref.rows(800, 32, 76)), ref.unit(ref.rows(40, 32, 77))
    by_cosine, cos_vals = found(submission, queries, corpus, 15, "cosine", 64)
    by_dot, dot_vals = found(submission, queries, corpus, 15, "dot", 64)
    by_l2, l2_vals = found(submission, queries, corpus, 15, "l2", 64)
    check(np.array_equal(by_cosine, by_dot), "on unit vectors, cosine and dot product found different neighbours")
    check(np.array_equal(by_cosine, by_l2), "on unit vectors, cosine and L2 found different neighbours")
    assert_close(dot_vals, cos_vals, "dot product against cosine on unit vectors")
    assert_close(l2_vals**2, 2 - 2 * cos_vals, "L2 distance squared against 2 - 2 cos on unit vectors")


@points(1)
def test_sim_search_edge_cases(submission):
    """k larger than the corpus returns every row ranked; zero vectors give no NaN; float32 stays float32."""
    corpus, queries = ref.rows(7, 10, 78, np.float32), ref.rows(4, 10, 79, np.float32)
    corpus[3] = 0.0
    queries[1] = 0.0
    for metric, (reference, largest) in ref.SCORES.items():
        ids, vals = found(submission, queries, corpus, 50, metric, 3)
        check(ids.shape == (4, 7), f"metric={metric}: k larger than the corpus gave shape {ids.shape}, not (Q, N)")
        check(np.issubdtype(ids.dtype, np.integer), f"metric={metric}: the ids have dtype {ids.dtype}, not integer")
        check(vals.dtype == np.float32, f"metric={metric}: float32 inputs gave {vals.dtype} values")
        check(not np.isnan(vals).any(), f"metric={metric}: a zero vector produced NaN")
        check(np.array_equal(ids, ref.ranking(reference(queries, corpus).astype(np.float32), largest)), f"metric={metric}: every row, ranked, with ties to the lower id")
        one, _ = found(submission, queries, corpus[:1], 3, metric, 2)
        check(one.tolist() == [[0]] * 4, f"metric={metric}: a corpus of one row returns that row for every query")


@points(1)
def test_sim_search_rejects_unknown_metrics(submission):
    """search raises ValueError for a metric it does not know, instead of guessing."""
    corpus, queries = ref.rows(20, 4, 80), ref.rows(3, 4, 81)
    for name in ("euclidean", "COSINE"):
        try:
            submission.search(queries, corpus, 2, metric=name, batch_size=8)
        except StudentError as exc:
            if exc.type_name != "ValueError":
                raise  # reported as the learner's own exception ("not implemented yet" for the stub)
            continue
        raise AssertionError(f"no error for metric={name!r}")
