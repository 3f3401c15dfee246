"""Hidden tests for ``paged_attention`` (grade cell ``test_paged_attention``).

The reference is torch's ``scaled_dot_product_attention`` over the judge's own
copy of each sequence's keys and values, so a cache whose gather is wrong
cannot make its own expected value.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_paged_reference.py")


def check_attention(submission, twin, seq, gen, what):
    n_heads, d_head = twin.shape
    q = torch.randn(n_heads, d_head, generator=gen)
    out = submission.paged_attention(q, twin.cache, seq)
    check(tuple(out.shape) == (n_heads, d_head), f"paged_attention should return shape (n_heads, d_head), got {tuple(out.shape)}")
    expected = ref.contiguous_attention(q, twin.keys[seq], twin.values[seq])
    assert_close(out, expected, f"paged attention over {what}")


@points(1)
def test_matches_contiguous_attention_across_block_boundaries(submission):
    """paged_attention equals attention over the contiguous keys and values, for lengths that end inside a block and exactly on one."""
    gen = torch.Generator().manual_seed(80)
    for block_size, n_heads, d_head in ((1, 1, 4), (4, 2, 8), (5, 4, 2), (16, 2, 16)):
        for length in sorted({1, max(block_size - 1, 1), block_size, block_size + 1, 2 * block_size, 3 * block_size + 1}):
            twin = ref.Twin(submission, 8, block_size, n_heads, d_head, seed=81)
            twin.add(0)
            twin.append(0, length)
            check_attention(submission, twin, 0, gen, f"{length} tokens in blocks of {block_size}")


@points(1)
def test_leftovers_in_unfilled_slots_get_no_weight(submission):
    """Slots past a sequence's last token hold another sequence's old keys and values; they get no weight."""
    gen = torch.Generator().manual_seed(90)
    twin = ref.Twin(submission, 3, 8, 2, 4, seed=91)
    twin.add("old")
    twin.append("old", 24, scale=4.0)      # large keys: leftovers would dominate any softmax they enter
    twin.free("old")
    twin.add("new")
    for _ in range(3):
        twin.append("new", 3)
        check_attention(submission, twin, "new", gen, "a sequence in blocks that held another sequence")


@points(1)
def test_attention_after_forks_and_reuse(submission):
    """paged_attention reads each sequence's own blocks in table order after forks, copy-on-write and reused blocks."""
    gen = torch.Generator().manual_seed(100)
    twin = ref.Twin(submission, 9, 4, 2, 8, seed=101)
    twin.add(0)
    twin.append(0, 10)
    twin.add(1)
    twin.append(1, 6)
    twin.fork(0, 2)
    twin.append(2, 3)
    twin.append(0, 1)
    twin.free(1)
    twin.append(2, 7)               # grows into the freed blocks
    for seq in (0, 2):
        check_attention(submission, twin, seq, gen, f"sequence {seq} after forks and reused blocks")
