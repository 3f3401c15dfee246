"""Hidden tests for ``reciprocal_rank_fusion`` (grade cell ``test_bm25_rrf``).

Reference: the definition, sum over the lists holding an id of
1 / (k + 1-based position), with ties in order of first appearance.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bm25_reference.py")


@points(1)
def test_bm25_rrf_matches_its_definition(submission):
    """Each fused score is the sum of 1 / (k + rank), rank from 1, over the lists holding the id, for k = 60 and other k."""
    for seed in (31, 32, 33):
        lists = ref.random_result_lists(seed, n_lists=2 + seed % 3, with_empty=seed == 32)
        ref.check_fusion(submission.reciprocal_rank_fusion(lists), ref.rrf_definition(lists, 60), lists,
                         "reciprocal_rank_fusion(lists)")
        for k in (1, 10, 100):
            ref.check_fusion(submission.reciprocal_rank_fusion(lists, k=k), ref.rrf_definition(lists, k), lists,
                             f"reciprocal_rank_fusion(lists, k={k})")
    one = [[("a", 5.0), ("b", 4.0), ("c", 1.0)]]
    ref.check_fusion(submission.reciprocal_rank_fusion(one), ref.rrf_definition(one, 60), one, "the fusion of a single list")


@points(1)
def test_bm25_rrf_ties_and_single_list_documents(submission):
    """Ties keep the order of first appearance, and a document found by only one list is still ranked."""
    # z and b are both first of one list, y and a both second: two exact ties, read order z, y, b, a.
    lists = [[("z", 9.0), ("y", 8.0)], [("b", 0.9), ("a", 0.8)]]
    got = ref.pairs(submission.reciprocal_rank_fusion(lists), "reciprocal_rank_fusion")
    check([d for d, _ in got] == ["z", "b", "y", "a"], "equal fused scores must keep the order in which ids first appear")
    # m (ranks 1 and 3) and n (ranks 3 and 1) tie exactly; m is read first.
    lists = [[("m", 3.0), ("x", 2.0), ("n", 1.0)], [("n", 3.0), ("w", 2.0), ("m", 1.0)]]
    got = ref.pairs(submission.reciprocal_rank_fusion(lists, k=5), "reciprocal_rank_fusion")
    check([d for d, _ in got] == ["m", "n", "x", "w"], "a document at ranks (1, 3) ties one at ranks (3, 1); the first seen comes first")
    # Documents only one retriever found keep their place.
    lists = ref.random_result_lists(34, n_lists=2, pool=200, max_len=15)
    ids = [d for d, _ in ref.pairs(submission.reciprocal_rank_fusion(lists), "reciprocal_rank_fusion")]
    check(set(ids) == {d for lst in lists for d, _ in lst}, "every document of every list must be in the fused list")
    ref.check_fusion(submission.reciprocal_rank_fusion(lists), ref.rrf_definition(lists, 60), lists, "reciprocal_rank_fusion")


@points(1)
def test_bm25_rrf_uses_only_ranks(submission):
    """The fused result does not change when a list's scores are rescaled, shifted, or replaced by any other numbers in the same positions."""
    lists = ref.random_result_lists(35, n_lists=3)
    base = ref.pairs(submission.reciprocal_rank_fusion(lists), "reciprocal_rank_fusion")
    gen = np.random.default_rng(36)
    variants = [
        [[(d, 1000.0 * s + 7.0) for d, s in lst] for lst in lists],
        [[(d, s * 1e-6 - 3.0) for d, s in lst] for lst in lists],
        [[(d, float(r)) for r, (d, _) in enumerate(lst)] for lst in lists],       # distances: grow down the list
        [[(d, float(gen.normal())) for d, _ in lst] for lst in lists],
    ]
    for variant in variants:
        got = ref.pairs(submission.reciprocal_rank_fusion(variant), "reciprocal_rank_fusion")
        check([d for d, _ in got] == [d for d, _ in base], "the fused order changed when only the scores changed")
        check(np.allclose([s for _, s in got], [s for _, s in base], rtol=ref.RTOL, atol=ref.ATOL),
              "the fused scores changed when only the scores changed")
