"""The week04/retrieval_metrics exercise, graded end to end through the real engine.

A differently written correct solution (numpy arrays of hits and gains, a
dict-driven evaluate with statistics.fmean) must earn full marks; each
realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week04/retrieval_metrics")
SOLUTION = EXERCISE.source_path

VECTORISED = {
    "recall_precision": '''
def relevant_ids(relevant_docs):
    if hasattr(relevant_docs, "items"):
        return frozenset(d for d, g in relevant_docs.items() if g >= 1)
    return frozenset(relevant_docs)


def first_time_hits(retrieved_docs, relevant, k):
    """1.0 where position i (< k) holds a relevant id seen there for the first time, else 0.0."""
    seen, flags = set(), []
    for doc in list(retrieved_docs)[:k]:
        flags.append(1.0 if doc in relevant and doc not in seen else 0.0)
        seen.add(doc)
    return np.array(flags)


def recall_at_k(retrieved_docs, relevant_docs, k):
    relevant = relevant_ids(relevant_docs)
    return float(first_time_hits(retrieved_docs, relevant, k).sum() / len(relevant)) if relevant else 0.0


def precision_at_k(retrieved_docs, relevant_docs, k):
    return float(first_time_hits(retrieved_docs, relevant_ids(relevant_docs), k).sum()) / k
''',
    "reciprocal_rank": '''
def reciprocal_rank(retrieved_docs, relevant_docs):
    hits = first_time_hits(retrieved_docs, relevant_ids(relevant_docs), len(retrieved_docs))
    where = np.flatnonzero(hits)
    return float(1.0 / (where[0] + 1)) if where.size else 0.0
''',
    "ndcg": '''
def ndcg_at_k(retrieved_docs, qrels_for_query, k):
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    firsts = list(dict.fromkeys(retrieved_docs[:k]))          # first occurrences, in order
    positions = [list(retrieved_docs).index(d) for d in firsts]
    gains = np.array([qrels_for_query.get(d, 0) for d in firsts], dtype=float)
    dcg = float(np.dot(gains, discounts[positions])) if firsts else 0.0
    ideal = np.sort(np.array([g for g in qrels_for_query.values() if g > 0], dtype=float))[::-1][:k]
    idcg = float(np.dot(ideal, discounts[: len(ideal)]))
    return dcg / idcg if idcg else 0.0
''',
    "evaluate": '''
import statistics


def evaluate(run, qrels, k):
    metrics = {
        "recall": lambda r, j: recall_at_k(r, j, k),
        "precision": lambda r, j: precision_at_k(r, j, k),
        "mrr": reciprocal_rank,
        "ndcg": lambda r, j: ndcg_at_k(r, j, k),
    }
    return {name: statistics.fmean(fn(run.get(q, ()), j) for q, j in qrels.items()) for name, fn in metrics.items()}
''',
}

WRONG = {
    # Recall divided by k: that is precision.
    "recall_divided_by_k": (
        edited(SOLUTION, "recall_precision", ("return len(found) / len(wanted)", "return len(found) / k")),
        {"test_recall_matches_pytrec_eval", "test_recall_edge_cases", "test_recall_never_falls_as_k_grows"},
    ),
    # Recall divided by min(k, |R|), R-precision-like: 1.0 at k=1 for a hit, then it can fall.
    "recall_over_min_k_relevant": (
        edited(SOLUTION, "recall_precision", ("return len(found) / len(wanted)", "return len(found) / min(k, len(wanted))")),
        {"test_recall_matches_pytrec_eval", "test_recall_never_falls_as_k_grows"},
    ),
    # Precision divided by the length of a short ranking instead of k (empty slots not counted as misses).
    "precision_over_ranking_length": (
        edited(SOLUTION, "recall_precision", ("return len(found) / k", "return len(found) / min(k, len(retrieved_docs))")),
        {"test_precision_matches_pytrec_eval", "test_precision_edge_cases"},
    ),
    # Every judged id taken as relevant, grade 0 included.
    "zero_grades_count_as_relevant": (
        edited(SOLUTION, "recall_precision", ("return {doc for doc, grade in relevant_docs.items() if grade > 0}", "return set(relevant_docs)")),
        {"test_recall_matches_pytrec_eval", "test_recall_edge_cases", "test_precision_matches_pytrec_eval",
         "test_reciprocal_rank_edge_cases"},
    ),
    # Ranks counted from 0: a relevant top result divides by zero, the rest are off by one.
    "reciprocal_rank_zero_based": (
        edited(SOLUTION, "reciprocal_rank", ("enumerate(retrieved_docs, start=1)", "enumerate(retrieved_docs)"),
               ("return 1.0 / position", "return 1.0 / max(position, 1)")),
        {"test_reciprocal_rank_matches_pytrec_eval", "test_reciprocal_rank_edge_cases"},
    ),
    # The ideal DCG from the grades of what was retrieved: missing a relevant document costs nothing.
    "ndcg_ideal_from_retrieved": (
        edited(SOLUTION, "ndcg", (
            "sorted((g for g in qrels_for_query.values() if g > 0), reverse=True)[:k]",
            "sorted((qrels_for_query.get(d, 0) for d in set(retrieved_docs[:k])), reverse=True)",
        )),
        {"test_ndcg_matches_pytrec_eval", "test_ndcg_ideal_comes_from_the_judgments"},
    ),
    # Exponential gain 2^g - 1 where the specification (and pytrec_eval's ndcg_cut) uses the grade.
    "ndcg_exponential_gain": (
        edited(SOLUTION, "ndcg",
               ("dcg += qrels_for_query.get(doc, 0) / math.log2", "dcg += (2 ** qrels_for_query.get(doc, 0) - 1) / math.log2"),
               ("sum(g / math.log2", "sum((2 ** g - 1) / math.log2")),
        {"test_ndcg_matches_pytrec_eval", "test_ndcg_ideal_comes_from_the_judgments"},
    ),
    # Averaging only over the queries the run answered: silence looks like success.
    "evaluate_over_answered_queries": (
        edited(SOLUTION, "evaluate", (
            "    for qid, judgments in qrels.items():\n        ranking = run.get(qid, [])\n",
            "    for qid, ranking in run.items():\n        if qid not in qrels:\n            continue\n        judgments = qrels[qid]\n",
        )),
        {"test_evaluate_counts_unanswered_queries_as_zero"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"vectorised": VECTORISED}, WRONG
)
