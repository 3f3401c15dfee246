"""Hidden tests for ``BM25Index.scores`` (grade cell ``test_bm25_scores``).

Reference: rank_bm25's ``BM25Okapi.get_scores`` with the same k1, b and
epsilon, on seeded random corpora and on the course's own sections.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bm25_reference.py")


@points(1)
def test_bm25_matches_rank_bm25_on_random_corpora(submission):
    """BM25 scores equal rank_bm25's BM25Okapi (k1=1.5, b=0.75, epsilon=0.25) on random corpora with documents from empty to very long."""
    for seed in (1, 2, 3):
        corpus = ref.random_corpus(seed)
        index = submission.BM25Index(corpus)
        ref.compare_bm25(index, ref.bm25_reference(corpus), ref.random_queries(seed + 100), f"on random corpus {seed}")


@points(1)
def test_bm25_matches_rank_bm25_for_other_parameters(submission):
    """BM25 scores equal rank_bm25's for other k1, b and epsilon, including b = 0 (no length normalisation) and b = 1."""
    # No empty document here: with b = 1 its length factor is 0 and rank_bm25 divides 0 by 0.
    corpus = ref.random_corpus(4, n_docs=30, empty=False)
    queries = ref.random_queries(104, n=6)
    for k1, b, epsilon in [(1.2, 0.0, 0.25), (0.5, 1.0, 0.1), (2.0, 0.3, 1.0), (0.9, 0.75, 0.0)]:
        index = submission.BM25Index(corpus, k1=k1, b=b, epsilon=epsilon)
        reference = ref.bm25_reference(corpus, k1=k1, b=b, epsilon=epsilon)
        ref.compare_bm25(index, reference, queries, f"with k1={k1}, b={b}, epsilon={epsilon}")


@points(1)
def test_bm25_floors_negative_idf(submission):
    """A term in more than half the documents gets epsilon times the mean raw idf of all terms, not its negative idf; a term in exactly half keeps idf 0."""
    # Six documents: "common" is in 5 (raw idf < 0), "half" in exactly 3 (raw idf 0), the rest are rare.
    corpus = [
        ["common", "half", "alpha"], ["common", "half", "beta", "beta"], ["common", "half", "gamma"],
        ["common", "delta"], ["common", "epsilon", "zeta"], ["eta", "theta", "iota", "kappa"],
    ]
    index = submission.BM25Index(corpus)
    reference = ref.bm25_reference(corpus)
    ref.compare_bm25(index, reference, [["common"], ["half"], ["common", "beta"], ["half", "common", "eta"]], "with a floored idf")
    got = ref.floats(index.scores(["common"]), "scores()")
    check(bool((got[:5] > 0).all()), "a term in 5 of 6 documents must score above 0 there (its negative idf is floored)")
    check(bool((ref.floats(index.scores(["half"]), "scores()") == 0).all()), "a term in exactly half the documents has idf 0")
    # A corpus where most terms are common: the mean raw idf, negative ones included, sets the floor.
    crowded = ref.random_corpus(5, n_docs=12, vocab=8, max_len=40, empty=False)
    for epsilon in (0.25, 0.5):
        ref.compare_bm25(submission.BM25Index(crowded, epsilon=epsilon), ref.bm25_reference(crowded, epsilon=epsilon),
                         [["w00"], ["w01", "w02"], ["w07", "w00"]], f"on a corpus of mostly common terms (epsilon={epsilon})")


@points(1)
def test_bm25_counts_repeated_query_terms(submission):
    """A query term counts once per occurrence; a term no document has, and an empty query, add nothing."""
    corpus = ref.random_corpus(6)
    index = submission.BM25Index(corpus)
    reference = ref.bm25_reference(corpus)
    once = ref.floats(index.scores(["w04"]), "scores()")
    ref.compare_bm25(index, reference, [["w04", "w04"], ["w04", "w09", "w04"], ["w02"] * 5], "for repeated query terms")
    ref.compare_bm25(index, reference, [["w04", "never-seen"], ["never-seen"], []], "with unknown terms or an empty query")
    twice = ref.floats(index.scores(["w04", "w04"]), "scores()")
    check(np.allclose(twice, 2 * once, rtol=ref.RTOL, atol=ref.ATOL), "repeating a query term must double its contribution")


@points(1)
def test_bm25_matches_rank_bm25_on_course_text(submission):
    """BM25 over the course's 199 sections equals rank_bm25's for the development questions."""
    from llmcourse.book_sections import load_sections
    from llmcourse.rag_eval import load_questions
    from llmcourse.retrieval import words

    corpus = [words(s.text) for s in load_sections()]
    queries = [words(q.question) for q in load_questions("dev")]
    index = submission.BM25Index(corpus)
    ref.compare_bm25(index, ref.bm25_reference(corpus), queries, "on the course's sections")


@points(1)
def test_bm25_is_written_by_hand(submission):
    """BM25 and the fusions are your own code, not rank_bm25's or the course library's."""
    index = submission.BM25Index([["a", "b"], ["b", "c"]])
    index.scores(["b", "c"])
    index.top_k(["c"], 1)
    submission.reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]])
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
