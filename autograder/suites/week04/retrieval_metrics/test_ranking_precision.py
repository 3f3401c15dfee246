"""Hidden tests for ``precision_at_k`` (grade cell ``test_ranking_precision``).

Reference: pytrec_eval's ``P_k``, which divides by k even when the ranking is
shorter than k.
"""

from autograder.judge import points, suite_helper

ref = suite_helper(__file__, "_ranking_reference.py")


@points(1)
def test_precision_matches_pytrec_eval(submission):
    """precision@k equals pytrec_eval's P_k for graded judgments and for plain lists of relevant ids."""
    run, qrels = ref.collection(seed=21)
    for k in (1, 5, 10, 20, 50):
        want = ref.per_query_reference(run, qrels, f"P_{k}")
        got = [submission.precision_at_k(run[q], qrels[q], k) for q in qrels]
        ref.compare(got, [want[q] for q in qrels], f"precision@{k} with graded judgments")
        got_list = [submission.precision_at_k(run[q], tuple(ref.relevant_list(qrels[q])), k) for q in list(qrels)[:20]]
        ref.compare(got_list, [want[q] for q in list(qrels)[:20]], f"precision@{k} with a tuple of relevant ids")


@points(1)
def test_precision_edge_cases(submission):
    """precision@k divides by k for short rankings, counts a repeated id once, and is 0.0 with nothing relevant or retrieved."""
    p = submission.precision_at_k
    ref.compare([p(["a", "b"], ["a", "b"], 8)], [0.25], "precision@8 of a 2-item ranking that is all relevant")
    ref.compare([p(["a", "a", "a", "a"], ["a", "b"], 4)], [0.25], "precision@4 of a ranking repeating one relevant id")
    ref.compare([p(["a", "b", "c"], {"a": 0, "b": 0}, 3)], [0.0], "precision@3 when every judgment is 0")
    ref.compare([p(["a", "b", "c"], [], 2)], [0.0], "precision@2 with no relevant document")
    ref.compare([p([], {"a": 2}, 5)], [0.0], "precision@5 of an empty ranking")
