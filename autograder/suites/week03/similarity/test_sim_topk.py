"""Hidden tests for ``top_k`` (grade cell ``test_sim_topk``).

The reference ranking is a full stable sort (numpy's ``argsort(kind="stable")``
on the negated or plain scores), which breaks ties by the lower column.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_sim_reference.py")


def ranked(submission, scores, k, largest):
    return ref.pair(submission.top_k(scores, k, largest=largest), "top_k")


@points(1)
def test_sim_topk_agrees_with_a_stable_sort(submission):
    """top_k returns the same indices and values as a full stable sort of every row, in both directions."""
    scores = ref.rows(20, 300, 61)
    for largest in (True, False):
        full = ref.ranking(scores, largest)
        for k in (1, 10, 299):
            ids, vals = ranked(submission, scores, k, largest)
            check(ids.shape == (20, k), f"top_k(k={k}) returned indices of shape {ids.shape}")
            check(np.array_equal(ids, full[:, :k]), f"top_k(k={k}, largest={largest}) picks different indices from a stable sort")
            assert_close(vals, np.take_along_axis(scores, full[:, :k], axis=1), f"top_k(k={k}, largest={largest}) values")


@points(1)
def test_sim_topk_best_first(submission):
    """The k entries come best first: largest first when largest=True, smallest first when largest=False."""
    scores = ref.rows(30, 500, 62, np.float32)
    # A partial selection can leave a small k sorted by accident; a k of 200 it cannot.
    for largest, k in [(True, 10), (True, 200), (False, 10), (False, 200)]:
        ids, vals = ranked(submission, scores, k, largest)
        steps = np.diff(vals.astype(np.float64), axis=1)
        check(bool((steps <= 0).all() if largest else (steps >= 0).all()), f"top_k(k={k}, largest={largest}) values are not in best-first order")
        best = -np.sort(-scores, axis=1)[:, :k] if largest else np.sort(scores, axis=1)[:, :k]
        assert_close(vals, best, f"the {k} best values of each row (largest={largest})")


@points(1)
def test_sim_topk_ties_go_to_the_lower_index(submission):
    """Equal scores are ranked by column, lower first, and the lower columns are the ones kept at the cut."""
    gen = np.random.default_rng(63)
    scores = gen.integers(0, 5, size=(12, 200)).astype(np.float64)   # forty-odd copies of each value
    scores[0] = 1.0                                                   # one row that is a single tie
    for largest in (True, False):
        full = ref.ranking(scores, largest)
        for k in (1, 5, 37, 120, 200):
            ids, _ = ranked(submission, scores, k, largest)
            check(np.array_equal(ids, full[:, :k]), f"top_k(k={k}, largest={largest}) does not break ties by the lower index")


@points(1)
def test_sim_topk_k_larger_than_the_row(submission):
    """With k at least the row length, top_k returns every item of the row, ranked."""
    scores = ref.rows(6, 9, 64)
    for k in (9, 10, 1000):
        for largest in (True, False):
            ids, vals = ranked(submission, scores, k, largest)
            check(ids.shape == (6, 9) and vals.shape == (6, 9), f"top_k(k={k}) on rows of 9 gave shape {ids.shape}, not (6, 9)")
            check(np.array_equal(ids, ref.ranking(scores, largest)), f"top_k(k={k}, largest={largest}) does not rank every item")
    ids, _ = ranked(submission, scores[:, :1], 5, True)
    check(ids.tolist() == [[0]] * 6, "top_k on rows of one item returns that item")


@points(1)
def test_sim_topk_dtypes_and_shapes(submission):
    """Indices are integers; values keep the dtype of the scores (float32, float64 or integer); one row works."""
    base = ref.rows(3, 50, 65)
    for scores in (base.astype(np.float32), base, (base * 100).astype(np.int64)):
        ids, vals = ranked(submission, scores, 4, True)
        check(np.issubdtype(ids.dtype, np.integer), f"top_k's indices have dtype {ids.dtype}, not an integer dtype")
        check(vals.dtype == scores.dtype, f"top_k's values have dtype {vals.dtype} for {scores.dtype} scores")
        check(np.array_equal(vals, np.take_along_axis(scores, ids, axis=1)), "top_k's values are not the scores at its indices")
    ids, vals = ranked(submission, base[:1], 3, False)
    check(ids.shape == (1, 3) and vals.shape == (1, 3), f"a single row of scores gave shape {ids.shape}, not (1, 3)")
