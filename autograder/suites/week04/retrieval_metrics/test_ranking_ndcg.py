"""Hidden tests for ``ndcg_at_k`` (grade cell ``test_ranking_ndcg``).

Reference: pytrec_eval's ``ndcg_cut_k``: linear gain (the grade), discount
log2(rank + 1), ideal DCG from all judged documents sorted by grade and cut at
k. Properties: nDCG lies in [0, 1], equals 1 for a ranking in ideal order, and
falls below 1 when a judged document is missing from the top k.
"""

import math

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_ranking_reference.py")


@points(2)
def test_ndcg_matches_pytrec_eval(submission):
    """nDCG@k equals pytrec_eval's ndcg_cut_k on random rankings with judgments graded 0 to 3."""
    for seed in (41, 42):
        run, qrels = ref.collection(seed=seed)
        for k in (1, 3, 5, 10, 20, 40):
            want = ref.per_query_reference(run, qrels, f"ndcg_cut_{k}")
            got = [submission.ndcg_at_k(run[q], qrels[q], k) for q in qrels]
            ref.compare(got, [want[q] for q in qrels], f"nDCG@{k}")


@points(1)
def test_ndcg_is_one_for_an_ideal_ranking(submission):
    """nDCG is 1 for every ranking in ideal order (equal grades in any order), within [0, 1] always, and 0.0 with nothing relevant."""
    run, qrels = ref.collection(seed=43, n_queries=25)
    for q, judgments in qrels.items():
        relevant = ref.relevant_list(judgments)
        for k in (1, 2, 5, 30):
            value = ref.numbers([submission.ndcg_at_k(run[q], judgments, k)], "nDCG@k")[0]
            check(0.0 <= value <= 1.0 + 1e-12, f"nDCG@{k} left the interval [0, 1]")
            if not relevant:
                check(value == 0.0, "nDCG is not 0.0 for a query with no relevant document")
                continue
            ideal = sorted(relevant, key=lambda d: -judgments[d])
            swapped = sorted(reversed(relevant), key=lambda d: -judgments[d])  # equal grades in the other order
            for order in (ideal, swapped, ideal + ["unjudged-1", "unjudged-2"]):
                got = ref.numbers([submission.ndcg_at_k(order, judgments, k)], "nDCG@k")[0]
                check(abs(got - 1.0) <= 1e-9, f"nDCG@{k} of a ranking in ideal order is not 1")


@points(1)
def test_ndcg_ideal_comes_from_the_judgments(submission):
    """A ranking that misses a judged relevant document scores below 1, by the ideal DCG of all the judgments."""
    judgments = {"best": 3, "good": 2, "fair": 1, "off": 0}
    ndcg = submission.ndcg_at_k
    idcg3 = 3 + 2 / math.log2(3) + 1 / 2
    ref.compare([ndcg(["good", "fair"], judgments, 3)], [(2 + 1 / math.log2(3)) / idcg3],
                "nDCG@3 of a ranking that misses the best document")
    ref.compare([ndcg(["fair"], judgments, 5)], [1 / idcg3], "nDCG@5 of a ranking holding only the fair document")
    ref.compare([ndcg(["best", "off", "good"], judgments, 2)], [3 / (3 + 2 / math.log2(3))],
                "nDCG@2 of a ranking with a non-relevant second result")
    before = ref.numbers([ndcg(["good", "fair"], {"good": 2, "fair": 1}, 2)], "nDCG@2")[0]
    after = ref.numbers([ndcg(["good", "fair"], {"good": 2, "fair": 1, "unseen": 3}, 2)], "nDCG@2")[0]
    check(after < before, "judging one more relevant document that the ranking missed did not lower nDCG")


@points(1)
def test_ndcg_edge_cases(submission):
    """nDCG@k handles k beyond the ranking, empty rankings, and counts a repeated id only at its first position."""
    ndcg = submission.ndcg_at_k
    judgments = {"a": 2, "b": 1}
    ref.compare([ndcg(["a", "b"], judgments, 50)], [1.0], "nDCG@50 of a 2-item ranking in ideal order")
    ref.compare([ndcg([], judgments, 5)], [0.0], "nDCG@5 of an empty ranking")
    ref.compare([ndcg(["a", "a", "a"], {"a": 3}, 3)], [1.0], "nDCG@3 of a ranking repeating its only relevant id")
    ref.compare([ndcg(["b", "b", "a"], judgments, 3)], [(1 + 2 / 2) / (2 + 1 / math.log2(3))],
                "nDCG@3 of a ranking with a repeated id (the repeat earns nothing)")
    ref.compare([ndcg(["x"], {"x": 0}, 1)], [0.0], "nDCG@1 when every judgment is 0")
