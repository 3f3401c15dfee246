"""Hidden tests for ``shingles`` and ``jaccard`` (grade cell ``test_dedup_shingles``).

The reference (``_dedup_reference.py``) normalises with a regular expression
and slices the result; the learner's set comes back as a handle and is
compared through its own ``issubset`` and ``issuperset``.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_dedup_reference.py")

TEXTS = [
    "Near-duplicate Detection",
    "  Leading and trailing blanks\t\n",
    "tabs\tand\nnewlines\r\nand   runs    of spaces",
    "MiXeD CaSe WORDS with Punctuation, too!",
    "Ünïcode café naïve",
    "abcde",
    "abcdef",
    "ab",
    "  x  ",
    "\n\t ",
    "",
]


@points(2)
def test_dedup_shingles_are_normalised_character_kgrams(submission):
    """shingles gives the set of character k-grams of the text lowercased with whitespace runs collapsed, one shingle for a short text and none for a blank one."""
    for k in (1, 3, 5, 9):
        for text in TEXTS:
            got = submission.shingles(text, k)
            ref.same_set(got, ref.reference_shingles(text, k), f"shingles({text!r}, k={k})")
    long_text = "The Common Crawl  holds\nbillions of pages; MANY are copies."
    ref.same_set(submission.shingles(long_text), ref.reference_shingles(long_text, 5),
                 "shingles with the default k (5)")


@points(1)
def test_dedup_jaccard_of_sets(submission):
    """jaccard is |A & B| / |A | B| of the item sets, for sets given as lists too, with 1.0 for two empty sets and 0.0 against an empty one."""
    gen = np.random.default_rng(5)
    for trial in range(20):
        a = [f"i{int(v)}" for v in gen.integers(0, 40, size=int(gen.integers(1, 30)))]
        b = [f"i{int(v)}" for v in gen.integers(0, 40, size=int(gen.integers(1, 30)))]
        got = submission.jaccard(a, b)
        check(isinstance(got, float), f"jaccard must return a float, got a {type(got).__name__}")
        check(abs(got - ref.reference_jaccard(a, b)) < 1e-12, f"jaccard is wrong on pair {trial} (lists with repeated items)")
    check(submission.jaccard([], []) == 1.0, "jaccard of two empty sets must be 1.0")
    check(submission.jaccard([], ["x", "y"]) == 0.0 and submission.jaccard(["x"], []) == 0.0,
          "jaccard of an empty and a non-empty set must be 0.0")
    check(submission.jaccard(["q", "r"], ["r", "q", "q"]) == 1.0, "jaccard of equal sets must be 1.0")
