"""Hidden tests for ``mmr`` (grade cell ``test_bm25_mmr``).

No established package implements MMR, so each pick is checked against the
objective lambda * cos(q, d) - (1 - lambda) * max over picked s of cos(d, s),
given the learner's own earlier picks; lambda = 1 is checked against a stable
sort by cosine.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bm25_reference.py")


@points(1)
def test_bm25_mmr_lambda_one_is_the_relevance_ranking(submission):
    """With lambda = 1, MMR returns the documents by cosine similarity to the query, ties to the lower index."""
    query, docs = ref.random_vectors(51)
    order = [int(i) for i in np.argsort(-(ref.unit_rows(docs) @ ref.unit_rows(query)), kind="stable")]
    for k in (1, 5, 20, len(docs), len(docs) + 3):
        got = ref.indices(submission.mmr(query, docs, 1.0, k), len(docs), f"mmr(lambda=1, k={k})")
        check(got == order[:k], f"mmr with lambda = 1 and k = {k} is not the ranking by cosine similarity")
    query, docs = ref.lattice_vectors(58)          # only five distinct cosines: many exact ties
    for k in (3, 10, len(docs)):
        got = ref.indices(submission.mmr(query, docs, 1.0, k), len(docs), f"mmr(lambda=1, k={k})")
        check(got == ref.mmr_reference(query, docs, 1.0, k), "with lambda = 1, equal cosine similarities must go to the lower index")


@points(1)
def test_bm25_mmr_each_pick_maximises_the_objective(submission):
    """Each pick maximises lambda * relevance - (1 - lambda) * (max similarity to the picked documents); the first is always the most relevant."""
    for seed, lam, k in [(52, 0.5, 10), (53, 0.2, 15), (54, 0.8, 40), (55, 0.0, 6), (56, 0.65, 50)]:
        query, docs = ref.random_vectors(seed)
        picks = ref.indices(submission.mmr(query, docs, lam, k), len(docs), f"mmr(lambda={lam}, k={k})")
        ref.check_greedy_mmr(picks, query, docs, lam, k, f"mmr(lambda={lam}, k={k})")
    for seed, lam in [(59, 0.5), (60, 0.25), (61, 0.0)]:   # exact arithmetic: the whole sequence, ties included
        query, docs = ref.lattice_vectors(seed)
        picks = ref.indices(submission.mmr(query, docs, lam, 8), len(docs), f"mmr(lambda={lam}, k=8)")
        check(picks == ref.mmr_reference(query, docs, lam, 8),
              f"mmr(lambda={lam}) differs from greedy MMR where objectives tie (equal values go to the lower index)")


@points(1)
def test_bm25_mmr_passes_over_near_duplicates(submission):
    """With a small lambda, MMR keeps one of a cluster of near-duplicates and fills the other slots with different relevant documents."""
    gen = np.random.default_rng(57)
    dim = 24
    query = gen.normal(size=dim)
    best = query + 0.3 * gen.normal(size=dim)
    cluster = [best + 0.02 * gen.normal(size=dim) for _ in range(5)]          # five near-copies of one chunk
    others = [query + 0.9 * gen.normal(size=dim) for _ in range(12)]           # relevant, each in its own way
    docs = np.array(cluster + others)
    relevance = ref.unit_rows(docs) @ ref.unit_rows(query)
    check(set(np.argsort(-relevance)[:5]) == set(range(5)), "the test's cluster should be the relevance top 5")  # guards the test itself
    for lam in (0.3, 0.5):
        picks = ref.indices(submission.mmr(query, docs, lam, 5), len(docs), f"mmr(lambda={lam}, k=5)")
        check(picks[0] == int(np.argmax(relevance)), "the first pick is not the most relevant document")
        check(sum(p < 5 for p in picks) == 1, f"with lambda = {lam}, MMR kept more than one near-duplicate in its top 5")
        ref.check_greedy_mmr(picks, query, docs, lam, 5, f"mmr(lambda={lam}, k=5)")
