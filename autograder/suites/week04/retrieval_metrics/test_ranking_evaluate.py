"""Hidden tests for ``evaluate`` (grade cell ``test_ranking_evaluate``).

Reference: the mean over the judged queries of pytrec_eval's per-query
recall_k, P_k, recip_rank and ndcg_cut_k, with 0 for queries the run does not
answer (pytrec_eval leaves those out).
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_ranking_reference.py")

MEASURES = {"recall": "recall_{k}", "precision": "P_{k}", "mrr": "recip_rank", "ndcg": "ndcg_cut_{k}"}


def reference_means(run, qrels, k):
    return {name: sum(ref.per_query_reference(run, qrels, m.format(k=k)).values()) / len(qrels)
            for name, m in MEASURES.items()}


def check_scores(scores, want, what):
    check(isinstance(scores, dict) and set(scores) == set(MEASURES),
          f"{what}: evaluate must return a dict with the keys recall, precision, mrr and ndcg")
    ref.compare([scores[name] for name in MEASURES], [want[name] for name in MEASURES],
                f"{what}: the averages of recall, precision, mrr and ndcg (in that order)")


@points(1)
def test_evaluate_matches_pytrec_eval(submission):
    """evaluate averages each metric over the judged queries exactly as pytrec_eval's per-query numbers do, ignoring unjudged queries."""
    run, qrels = ref.collection(seed=51, n_queries=80)
    extra_run, _ = ref.collection(seed=52, n_queries=10)   # queries nobody judged: ignored
    for k in (3, 10):
        check_scores(submission.evaluate({**run, **extra_run}, qrels, k), reference_means(run, qrels, k), f"k={k}")


@points(1)
def test_evaluate_counts_unanswered_queries_as_zero(submission):
    """A judged query the run does not answer counts as 0 in every average; an empty run scores 0 everywhere."""
    run, qrels = ref.collection(seed=53, n_queries=40)
    half = {q: r for i, (q, r) in enumerate(run.items()) if i % 2 == 0}
    check_scores(submission.evaluate(half, qrels, 5), reference_means(half, qrels, 5), "a run answering half the queries")
    full, part = submission.evaluate(run, qrels, 5), submission.evaluate(half, qrels, 5)
    full = ref.numbers([full[name] for name in MEASURES], "evaluate's averages")
    part = ref.numbers([part[name] for name in MEASURES], "evaluate's averages")
    check(all(p <= f for p, f in zip(part, full)), "answering fewer queries raised an average")
    check_scores(submission.evaluate({}, qrels, 5), dict.fromkeys(MEASURES, 0.0), "an empty run")
    one = {"q": {"a": 1}, "nothing-relevant": {"b": 0}}
    check_scores(submission.evaluate({"q": ["a"], "nothing-relevant": ["b"]}, one, 1),
                 {"recall": 0.5, "precision": 0.5, "mrr": 0.5, "ndcg": 0.5},
                 "a query with no relevant document still counts in the average")


@points(1)
def test_evaluate_is_written_by_hand(submission):
    """The metrics are computed by your own code, not by pytrec_eval or scikit-learn."""
    submission.evaluate({"q": ["a", "b"]}, {"q": {"b": 1}}, 2)
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
