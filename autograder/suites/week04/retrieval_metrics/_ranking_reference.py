"""Seeded random test collections and pytrec_eval's numbers for them (judge side only).

A collection has many queries over a pool of document ids; each query has
judgments graded 0..3 (some with no grade above 0, some with no judgments that
the ranking reaches) and a ranking of distinct ids. pytrec_eval sorts a run by
score, so each ranking is handed over with scores that fall strictly with the
rank: no ties, and pytrec_eval sees exactly the order the learner sees.
"""

import numpy as np
import pytrec_eval

DOCS = [f"doc-{i:03d}" for i in range(80)]


def collection(seed: int, n_queries: int = 60, max_judged: int = 14, max_ranked: int = 30):
    """(run, qrels): run {qid: [ids, best first]}, qrels {qid: {id: grade 0..3}}."""
    rng = np.random.default_rng(seed)
    run, qrels = {}, {}
    for q in range(n_queries):
        qid = f"q{seed}-{q:03d}"
        judged = rng.choice(DOCS, size=int(rng.integers(1, max_judged + 1)), replace=False)
        grades = rng.integers(0, 4, size=len(judged))
        if q % 11 == 0:
            grades[:] = 0  # judged, but nothing relevant
        qrels[qid] = {str(d): int(g) for d, g in zip(judged, grades)}
        # A ranking mixes some judged ids with random others, so hits are common but not certain.
        size = int(rng.integers(0 if q % 13 == 0 else 1, max_ranked + 1))
        some_judged = judged[: int(rng.integers(0, len(judged) + 1))]
        others = rng.choice(DOCS, size=size, replace=False)
        first = rng.permutation(list(dict.fromkeys([*some_judged, *others])))[:size]
        run[qid] = [str(d) for d in first]
    return run, qrels


def scored(run):
    """pytrec_eval's run format: scores strictly falling with the rank."""
    out = {}
    for qid, ranking in run.items():
        n = len(ranking)
        out[qid] = {doc: float(n - position) for position, doc in enumerate(ranking)}
    return out


def trec(run, qrels, measures):
    """pytrec_eval's per-query numbers; queries it leaves out (no ranking) are absent."""
    return pytrec_eval.RelevanceEvaluator(qrels, set(measures)).evaluate(scored({q: r for q, r in run.items() if r}))


def relevant_list(judgments):
    """The ids graded above 0, as a list (sets cannot cross the grading seam)."""
    return [doc for doc, grade in judgments.items() if grade > 0]


def per_query_reference(run, qrels, measure):
    """{qid: pytrec_eval's value} for every judged query, 0.0 where pytrec_eval has none."""
    got = trec(run, qrels, {measure})
    key = measure.replace(".", "_")
    return {qid: got.get(qid, {}).get(key, 0.0) for qid in qrels}


def numbers(values, what):
    """The learner's results as a float64 array, or a learner-facing failure naming what was wrong."""
    from llmcourse.testing import check

    for v in values:
        check(isinstance(v, (int, float)) and not isinstance(v, bool),
              f"{what} should be a float, got {type(v).__name__}")
    return np.asarray(values, dtype=np.float64)


def compare(got, want, what):
    """The learner's numbers equal the reference's within the float64 tolerance policy."""
    from llmcourse.testing import assert_close

    assert_close(numbers(got, what), np.asarray(want, dtype=np.float64), what)
