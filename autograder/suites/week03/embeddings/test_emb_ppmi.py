"""Hidden tests for ``ppmi`` (grade cell ``test_emb_ppmi``).

The reference computes max(PMI, 0) cell by cell from its definition, with
the word's probability from its row sum and the context's from its column
sum, and 0 where the count is 0.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_emb_reference.py")


def ppmi_of(submission, counts):
    return ref.as_array(submission.ppmi(counts), "ppmi's result")


def sparse_table(seed, rows, cols, density=0.4):
    """A non-symmetric table of small integer counts, mostly zeros, as real count tables are."""
    rng = np.random.default_rng(seed)
    table = rng.poisson(3.0, size=(rows, cols)) * (rng.random((rows, cols)) < density)
    return table.astype(np.float64)


@points(1)
def test_emb_ppmi_matches_reference(submission):
    """PPMI equals max(log(C N / (row sum * column sum)), 0) on corpus counts and on tables that are not symmetric."""
    tokens, vocab, _ = ref.topic_corpus(21, sentences=200)
    counts = ref.cooccurrence(tokens, vocab, 2)
    assert_close(ppmi_of(submission, counts), ref.ppmi(counts), "PPMI of corpus co-occurrence counts")
    for seed, shape in [(22, (15, 15)), (23, (9, 25)), (24, (30, 6))]:
        table = sparse_table(seed, *shape)
        assert_close(ppmi_of(submission, table), ref.ppmi(table), f"PPMI of a non-symmetric {shape} table")


@points(1)
def test_emb_ppmi_never_negative_or_infinite(submission):
    """PPMI is never negative, NaN or infinite, and is 0 wherever the count is 0, including empty rows and columns."""
    table = sparse_table(31, 20, 20, density=0.3)
    table[4] = 0.0          # a word never seen with any context
    table[:, 7] = 0.0       # a context never seen
    got = ppmi_of(submission, table)
    check(bool(np.isfinite(got).all()), "PPMI has NaN or infinite entries (zero counts must give 0)")
    check(bool((got >= 0).all()), "PPMI has negative entries (keep only the positive part of PMI)")
    check(bool((got[table == 0] == 0).all()), "PPMI must be exactly 0 where the count is 0")
    assert_close(got, ref.ppmi(table), "PPMI of a table with an empty row and an empty column")


@points(1)
def test_emb_ppmi_scale_and_independence(submission):
    """PPMI depends on proportions only (scaling every count changes nothing) and is 0 for a table of independent words and contexts."""
    table = sparse_table(41, 12, 12)
    assert_close(ppmi_of(submission, 7.0 * table), ppmi_of(submission, table), "PPMI of a table with every count multiplied by 7")
    rng = np.random.default_rng(42)
    independent = np.outer(rng.integers(1, 9, size=10), rng.integers(1, 9, size=14)).astype(np.float64)
    assert_close(ppmi_of(submission, independent), np.zeros((10, 14)), "PPMI of a table whose words and contexts are independent")
