"""Hidden tests for ``cooccurrence`` (grade cell ``test_emb_counts``).

The reference counts every ordered pair of positions within the window by a
plain loop, after dropping the tokens outside the vocabulary.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_emb_reference.py")


def counts_of(submission, tokens, vocab, window):
    return ref.as_array(submission.cooccurrence(tokens, vocab, window), "cooccurrence's result")


@points(1)
def test_emb_counts_match_reference(submission):
    """Counts equal a direct count over every pair of positions, with words outside the vocabulary dropped first, for windows 1 to 6."""
    for seed, length, size, window in [(1, 300, 12, 1), (2, 500, 20, 2), (3, 400, 8, 4), (4, 250, 30, 6)]:
        tokens, vocab = ref.random_tokens(seed, length, size)
        got = counts_of(submission, tokens, vocab, window)
        check(got.shape == (size, size), f"a vocabulary of {size} words gave counts of shape {got.shape}")
        assert_close(got, ref.cooccurrence(tokens, vocab, window), f"counts with window {window} and a shuffled vocabulary")


@points(1)
def test_emb_counts_symmetric_window(submission):
    """The window looks both ways: the counts are symmetric, unchanged when the text is reversed, and never fall as the window grows."""
    tokens, vocab, _ = ref.topic_corpus(11, sentences=120)
    previous = None
    for window in (1, 2, 3, 5):
        got = counts_of(submission, tokens, vocab, window)
        check(np.array_equal(got, got.T), f"the counts with window {window} are not symmetric (is the window one-sided?)")
        backwards = counts_of(submission, tokens[::-1], vocab, window)
        check(np.array_equal(got, backwards), f"reversing the text changed the counts (window {window})")
        if previous is not None:
            check(bool((got >= previous).all()), f"a count fell when the window grew to {window}")
        previous = got


@points(1)
def test_emb_counts_edge_cases(submission):
    """Short texts: a window longer than the text, repeated words, a text with no word of the vocabulary; float64 counts."""
    tokens, vocab = ["b", "b", "c", "b"], ["a", "b", "c"]
    got = counts_of(submission, tokens, vocab, 10)
    check(got.dtype == np.float64, f"counts should be float64, got {got.dtype}")
    assert_close(got, ref.cooccurrence(tokens, vocab, 10), "counts with a window longer than the text")
    nothing = counts_of(submission, ["x", "y", "z"], vocab, 2)
    assert_close(nothing, np.zeros((3, 3)), "counts of a text with no word of the vocabulary")
    single = counts_of(submission, ["a"], vocab, 3)
    assert_close(single, np.zeros((3, 3)), "counts of a one-word text")
