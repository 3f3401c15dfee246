"""Hidden tests for ``fragmentation`` (grade cell ``test_paged_fragmentation``).

The expected statistics come from the judge's reference model, which counts
each distinct block once and knows how many of its slots hold tokens.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_paged_reference.py")

COUNTS = ("blocks_in_use", "allocated_slots", "used_slots", "tokens")


def check_stats(submission, twin, what):
    got = submission.fragmentation(twin.cache)
    expected = twin.expected_stats()
    check(isinstance(got, dict), f"fragmentation should return a dict, got {type(got).__name__}")
    for key in COUNTS:
        check(key in got, f"fragmentation's dict has no entry {key!r}")
        check(got[key] == expected[key], f"{key} is {got[key]} for {what}, which is not the exact count")
    check(isinstance(got.get("waste_fraction"), float), "waste_fraction should be a float")
    assert_close(
        torch.tensor(got["waste_fraction"], dtype=torch.float64),
        torch.tensor(expected["waste_fraction"], dtype=torch.float64),
        f"waste_fraction for {what}",
    )


@points(1)
def test_stats_without_sharing(submission):
    """The statistics are exact for an empty cache, for lengths that fill blocks exactly or partly, and after frees."""
    for block_size in (1, 4, 7):
        twin = ref.Twin(submission, 30, block_size, 1, 2, seed=110 + block_size)
        check_stats(submission, twin, "an empty cache")
        for seq, length in enumerate((block_size, 2 * block_size + 1, 3, 1)):
            twin.add(seq)
            twin.append(seq, length)
            check_stats(submission, twin, f"{seq + 1} sequences in blocks of {block_size}")
        twin.free(1)
        check_stats(submission, twin, f"sequences in blocks of {block_size} after one was freed")


@points(1)
def test_stats_count_shared_blocks_once(submission):
    """With forks, shared blocks count once in allocated and used slots, while tokens count every sequence."""
    twin = ref.Twin(submission, 30, 4, 1, 2, seed=120)
    twin.add(0)
    twin.append(0, 10)
    twin.fork(0, 1)
    check_stats(submission, twin, "a sequence and its fork")
    twin.fork(0, 2)
    twin.append(1, 1)
    twin.append(2, 3)
    check_stats(submission, twin, "a sequence and two forks after copy-on-write")
    twin.free(0)
    check_stats(submission, twin, "two forks whose parent was freed")
