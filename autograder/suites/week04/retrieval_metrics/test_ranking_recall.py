"""Hidden tests for ``recall_at_k`` (grade cell ``test_ranking_recall``).

Reference: pytrec_eval's ``recall_k`` (relevant = grade >= 1) on seeded random
collections; properties: the value never falls as k grows and stays in [0, 1].
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_ranking_reference.py")

KS = (1, 3, 10, 25, 40)


@points(1)
def test_recall_matches_pytrec_eval(submission):
    """recall@k equals pytrec_eval's recall_k for graded judgments and for plain lists of relevant ids."""
    run, qrels = ref.collection(seed=11)
    for k in KS:
        want = ref.per_query_reference(run, qrels, f"recall_{k}")
        got_dict = [submission.recall_at_k(run[q], qrels[q], k) for q in qrels]
        ref.compare(got_dict, [want[q] for q in qrels], f"recall@{k} with graded judgments")
        got_list = [submission.recall_at_k(run[q], ref.relevant_list(qrels[q]), k) for q in list(qrels)[:20]]
        ref.compare(got_list, [want[q] for q in list(qrels)[:20]], f"recall@{k} with a list of relevant ids")


@points(1)
def test_recall_edge_cases(submission):
    """recall@k is 0.0 without relevant documents or retrieved ones, counts a repeated id once, and handles k beyond the ranking."""
    r = submission.recall_at_k
    ranking = ["a", "b", "c", "d"]
    for empty in ([], (), {}, {"a": 0, "b": 0}):
        ref.compare([r(ranking, empty, 3)], [0.0], "recall@3 for a query with no relevant document")
    ref.compare([r([], ["a", "b"], 5)], [0.0], "recall@5 of an empty ranking")
    ref.compare([r(ranking, ("b", "z"), 100)], [0.5], "recall@100 of a 4-item ranking holding one of two relevant ids")
    ref.compare([r(ranking, ["c", "c", "z"], 4)], [0.5], "recall@4 when the relevant list names an id twice")
    ref.compare([r(["a", "a", "a", "b"], ["a", "x"], 3)], [0.5], "recall@3 of a ranking repeating one relevant id")
    ref.compare([r(["a", "a", "b"], {"a": 1, "b": 2, "c": 3}, 3)], [2 / 3], "recall@3 of a ranking with a repeat")
    check(r(["b", "b", "b"], ["b"], 3) <= 1.0, "recall must not exceed 1 when a ranking repeats a relevant id")


@points(1)
def test_recall_never_falls_as_k_grows(submission):
    """recall@k never falls as k grows, stays in [0, 1], and reaches 1 once every relevant id is in the top k."""
    run, qrels = ref.collection(seed=12, n_queries=15)
    for q in qrels:
        values = ref.numbers([submission.recall_at_k(run[q], qrels[q], k) for k in range(1, len(run[q]) + 3)], "recall@k")
        check(all(0.0 <= v <= 1.0 for v in values), "recall@k left the interval [0, 1]")
        check(all(a <= b for a, b in zip(values, values[1:])), "recall@k fell when k grew")
        relevant = ref.relevant_list(qrels[q])
        if relevant and set(relevant) <= set(run[q]):
            check(values[-1] == 1.0, "recall is not 1.0 although every relevant id is in the ranking")
    # A ranking built to retrieve every relevant document eventually.
    judgments = {"x1": 1, "x2": 3, "x3": 2, "x4": 0}
    ranking = ["n1", "x2", "n2", "n3", "x1", "x4", "n4", "x3"]
    values = ref.numbers([submission.recall_at_k(ranking, judgments, k) for k in range(1, 10)], "recall@k")
    check(all(a <= b for a, b in zip(values, values[1:])), "recall@k fell when k grew")
    check(values[-1] == 1.0, "recall is not 1.0 although every relevant id is in the ranking")
