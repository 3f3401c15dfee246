"""Hidden tests for ``near_duplicates`` (grade cell ``test_dedup_near_duplicates``).

The corpus (``_dedup_reference.planted_corpus``) holds generated originals
and copies edited at rates from 0 to 30% of the words, with random capitals
and whitespace; the ground truth is the exact Jaccard similarity of every
pair, computed here with the reference shingles.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_dedup_reference.py")

MARGIN = 1e-9  # pairs this close to the threshold count neither way


@points(2)
def test_dedup_near_duplicates_recall_and_precision(submission):
    """On a corpus with planted edited copies, every reported pair reaches the threshold, identical documents are always found, and recall is at least 0.9."""
    settings = [
        (11, dict(threshold=0.6)),
        (12, dict(threshold=0.8, k=4, num_perm=64, bands=16, seed=3)),
        (13, dict(threshold=0.5, k=6, num_perm=96, bands=48, seed=8)),
    ]
    for corpus_seed, kwargs in settings:
        texts = ref.planted_corpus(corpus_seed)
        truth = ref.similar_pairs(texts, kwargs.get("k", 5))
        threshold = kwargs["threshold"]
        what = f"near_duplicates({', '.join(f'{key}={value}' for key, value in kwargs.items())})"
        got = submission.near_duplicates(texts, **kwargs)
        ref.check_pair_list(got, what)
        found = {tuple(p) for p in got}
        below = [p for p in found if truth.get(p, 0.0) < threshold - MARGIN]
        check(not below, f"{what} reports {len(below)} pairs whose exact Jaccard similarity is below the threshold")
        same = {p for p, j in truth.items() if j == 1.0}
        check(same <= found, f"{what} misses {len(same - found)} pairs of documents with identical shingles")
        true_pairs = {p for p, j in truth.items() if j >= threshold + MARGIN}
        recall = len(true_pairs & found) / len(true_pairs)
        check(recall >= 0.9, f"{what} found {recall:.0%} of the {len(true_pairs)} pairs at or above the threshold")


@points(1)
def test_dedup_near_duplicates_edge_cases(submission):
    """Empty and blank documents are never reported, identical documents are found at threshold 1.0, and bands that do not divide num_perm raise ValueError."""
    texts = ["", "Exactly the same words.", "  ", "exactly   the SAME words.", "\n", "", "Something else entirely."]
    got = submission.near_duplicates(texts, threshold=1.0)
    ref.check_pair_list(got, "near_duplicates on a corpus with empty documents")
    check([tuple(p) for p in got] == [(1, 3)],
          "with empty and blank documents, only the two identical texts may pair (empty documents never do)")
    check(submission.near_duplicates(["", " ", "\t"], threshold=0.5) == [], "a corpus of blank documents has no near-duplicates")
    for num_perm, bands in ((128, 48), (100, 30)):
        ref.expect_value_error(lambda: submission.near_duplicates(texts, num_perm=num_perm, bands=bands),
                               f"bands={bands} with num_perm={num_perm}")
