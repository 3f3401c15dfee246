"""Hidden tests for ``merge_pair`` (grade cell ``test_bpe_pairs``).

``count_pairs`` returns a dict keyed by tuples, which cannot cross the
grading seam, so it is graded through ``train_bpe`` (test_bpe_train.py).
"""

import random

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bpe_reference.py")


def _merged(submission, ids, pair, new_id):
    got = submission.merge_pair(ids, pair, new_id)
    check(isinstance(got, list), f"merge_pair should return a list, got {type(got).__name__}")
    return got


@points(1)
def test_merge_pair_replaces_every_occurrence(submission):
    """merge_pair replaces every occurrence of the pair, wherever it is, and keeps all other ids in order."""
    rng = random.Random(101)
    for length in (7, 30, 90, 400):
        ids = [rng.choice([0, 1, 2, 255, 300]) for _ in range(length)]
        for pair in [(1, 2), (2, 1), (255, 300), (300, 0)]:
            got = _merged(submission, ids, pair, 777)
            check(got == ref._replace_all(ids, pair, 777), f"merge_pair is wrong on a random list of {length} ids")


@points(1)
def test_merge_pair_runs_and_edges(submission):
    """In runs like [7, 7, 7] occurrences are taken left to right without overlap; short lists and absent pairs work."""
    cases = [
        ([3, 3, 3], (3, 3)),
        ([3, 3, 3, 3, 3], (3, 3)),
        ([5, 3, 3, 3, 3, 5], (3, 3)),
        ([1, 2, 1, 2, 1], (1, 2)),
        ([2, 1, 2, 1, 2, 1], (1, 2)),
        ([], (1, 2)),
        ([1], (1, 2)),
        ([1, 2], (1, 2)),
        ([9, 9, 1, 2], (1, 2)),
        ([4, 5, 6], (6, 4)),
    ]
    for ids, pair in cases:
        got = _merged(submission, ids, pair, 512)
        check(got == ref._replace_all(ids, pair, 512), f"merge_pair is wrong on a list of {len(ids)} ids")
