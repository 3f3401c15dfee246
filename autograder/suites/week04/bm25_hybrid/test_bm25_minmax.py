"""Hidden tests for ``minmax_fusion`` (grade cell ``test_bm25_minmax``).

Reference: the definition, sum over the lists holding an id of
weight * (s - min) / (max - min), with 1.0 for a list of equal scores.
"""

import numpy as np

from autograder.judge import points, suite_helper
from autograder.seam.submission import StudentError
from llmcourse.testing import check

ref = suite_helper(__file__, "_bm25_reference.py")


@points(1)
def test_bm25_minmax_matches_its_definition(submission):
    """Each fused score is the weighted sum of the id's min-max normalised scores, on lists of different lengths and scales."""
    for seed, weights in [(41, [0.5, 0.5]), (42, [0.2, 0.8, 1.5]), (43, [1.0, 0.0, 0.3, 2.0]), (44, [0.7, 0.3])]:
        lists = ref.random_result_lists(seed, n_lists=len(weights))
        ref.check_fusion(submission.minmax_fusion(lists, weights), ref.minmax_definition(lists, weights), lists,
                         f"minmax_fusion with weights {weights}")
    # Negative scores (cosine similarities, floored BM25) normalise like any others.
    lists = [[("a", -0.1), ("b", -0.4), ("c", -0.9)], [("c", 0.3), ("d", -0.2)]]
    ref.check_fusion(submission.minmax_fusion(lists, [1.0, 1.0]), ref.minmax_definition(lists, [1.0, 1.0]), lists,
                     "minmax_fusion of negative scores")


@points(1)
def test_bm25_minmax_edge_cases(submission):
    """Equal scores or one item normalise to 1.0 (no division by zero), an empty list adds nothing, rescaling a list changes nothing, and mismatched weights raise ValueError."""
    cases = [
        ([[("p", 0.4), ("q", 0.4), ("r", 0.4)], [("s", 2.0), ("p", 1.0)]], [0.6, 0.4]),
        ([[("only", 3.5)], [("x", 1.0), ("y", 0.5), ("only", 0.0)]], [1.0, 1.0]),
        ([[], [("x", 1.0), ("y", 0.5)], []], [0.3, 0.5, 0.2]),
        ([[("x", 0.0), ("y", 0.0)]], [1.0]),
    ]
    for lists, weights in cases:
        got = submission.minmax_fusion(lists, weights)
        values = np.array([s for _, s in ref.pairs(got, "minmax_fusion")])
        check(bool(np.isfinite(values).all()), "minmax_fusion returned a non-finite score (a division by zero?)")
        ref.check_fusion(got, ref.minmax_definition(lists, weights), lists, "minmax_fusion with constant, single or empty lists")
    lists = ref.random_result_lists(45, n_lists=2)
    base = ref.pairs(submission.minmax_fusion(lists, [0.4, 0.6]), "minmax_fusion")
    rescaled = [[(d, 50.0 * s - 8.0) for d, s in lists[0]], lists[1]]
    again = ref.pairs(submission.minmax_fusion(rescaled, [0.4, 0.6]), "minmax_fusion")
    check([d for d, _ in again] == [d for d, _ in base], "rescaling one list's scores (a * s + b, a > 0) changed the fused order")
    try:
        submission.minmax_fusion([[("a", 1.0)], [("b", 2.0)]], [1.0])
    except StudentError as exc:
        if exc.type_name != "ValueError":
            raise  # the learner's own exception ("not implemented yet" for the stub)
        return
    raise AssertionError("no ValueError for two lists and one weight")
