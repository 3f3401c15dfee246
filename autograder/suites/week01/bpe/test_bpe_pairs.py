"""Hidden tests for ``merge_pair`` (grade cell ``test_bpe_pairs``).

``count_pairs`` returns a dict keyed by tuples, which cannot cross the
grading seam, so it is graded through ``train_bpe`` (test_bpe_train.py).
"""

import importlib.util
import random
import sys
from pathlib import Path

from autograder.judge import points
from llmcourse.testing import check

def _load_reference():
    """The suite's reference implementation and texts (_bpe_reference.py), loaded once per judge."""
    name = "week01_bpe_hidden_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_bpe_reference.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ref = _load_reference()


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
