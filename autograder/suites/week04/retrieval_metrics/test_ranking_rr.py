"""Hidden tests for ``reciprocal_rank`` (grade cell ``test_ranking_rr``).

Reference: pytrec_eval's ``recip_rank`` (ranks counted from 1, no cut-off).
"""

from autograder.judge import points, suite_helper

ref = suite_helper(__file__, "_ranking_reference.py")


@points(1)
def test_reciprocal_rank_matches_pytrec_eval(submission):
    """The reciprocal rank equals pytrec_eval's recip_rank for graded judgments and for plain lists of relevant ids."""
    run, qrels = ref.collection(seed=31)
    want = ref.per_query_reference(run, qrels, "recip_rank")
    ref.compare([submission.reciprocal_rank(run[q], qrels[q]) for q in qrels], [want[q] for q in qrels],
                "the reciprocal rank with graded judgments")
    some = list(qrels)[:20]
    ref.compare([submission.reciprocal_rank(run[q], ref.relevant_list(qrels[q])) for q in some], [want[q] for q in some],
                "the reciprocal rank with a list of relevant ids")


@points(1)
def test_reciprocal_rank_edge_cases(submission):
    """Ranks count from 1: a relevant top result scores 1.0; no relevant document retrieved, or none at all, scores 0.0."""
    rr = submission.reciprocal_rank
    ref.compare([rr(["a", "b"], ["a"])], [1.0], "the reciprocal rank with a relevant document on top")
    ref.compare([rr(["x", "x", "a"], {"a": 1})], [1 / 3], "the reciprocal rank with the first relevant document third")
    ref.compare([rr(["x", "y", "a"], {"x": 0, "y": 0, "a": 0})], [0.0], "the reciprocal rank when every judgment is 0")
    ref.compare([rr(["x", "y"], ["a"])], [0.0], "the reciprocal rank when no relevant document is retrieved")
    ref.compare([rr([], ["a"])], [0.0], "the reciprocal rank of an empty ranking")
