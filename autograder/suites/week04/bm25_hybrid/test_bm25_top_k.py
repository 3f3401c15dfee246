"""Hidden tests for ``BM25Index.top_k`` (grade cell ``test_bm25_top_k``).

Reference: a stable sort of the learner's own scores by (-score, index),
whose values are checked against rank_bm25's.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_bm25_reference.py")


def ranked(index, query, k, what):
    got = ref.pairs(index.top_k(query, k), what)
    ids = [d for d, _ in got]
    for d in ids:
        check(isinstance(d, int) and not isinstance(d, bool), f"{what}: a document index should be an int, got {type(d).__name__}")
    return ids, np.array([s for _, s in got])


@points(1)
def test_bm25_top_k_agrees_with_sorted_scores(submission):
    """top_k returns the min(k, N) best (index, score) pairs, best first, with rank_bm25's scores."""
    corpus = ref.random_corpus(21)
    index = submission.BM25Index(corpus)
    reference = ref.bm25_reference(corpus)
    for query in ref.random_queries(121, n=6):
        want_scores = reference.get_scores(query)
        order = np.lexsort((np.arange(len(corpus)), -ref.floats(index.scores(query), "scores()")))
        for k in (1, 5, len(corpus), len(corpus) + 7):
            ids, values = ranked(index, query, k, f"top_k(query, {k})")
            check(len(ids) == min(k, len(corpus)), f"top_k(query, {k}) returned {len(ids)} pairs for {len(corpus)} documents")
            check(ids == [int(i) for i in order[:k]], f"top_k(query, {k}) does not return the highest-scoring documents, best first")
            assert_close(values, want_scores[ids], f"top_k(query, {k})'s scores")


@points(1)
def test_bm25_top_k_ties_go_to_the_lower_index(submission):
    """Equal scores are ranked by document index, lower first, also at the cut and when nothing matches."""
    base = ref.random_corpus(22, n_docs=10, empty=False)
    corpus = base + [list(doc) for doc in base[:6]]        # documents 10..15 repeat 0..5: exact ties
    index = submission.BM25Index(corpus)
    for query in (["w00"], ["w02", "w05"], ["w01", "w01"]):
        scores = ref.floats(index.scores(query), "scores()")
        order = [int(i) for i in np.lexsort((np.arange(len(corpus)), -scores))]
        for k in (3, 8, 16):
            ids, _ = ranked(index, query, k, f"top_k(query, {k})")
            check(ids == order[:k], f"top_k(query, {k}) does not break ties by the lower index")
    ids, values = ranked(index, ["nothing-matches"], 5, "top_k for a query that matches nothing")
    check(ids == [0, 1, 2, 3, 4] and bool((values == 0).all()), "a query that matches nothing returns the first k documents with score 0")
