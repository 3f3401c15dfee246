"""Hidden tests for ``PagedKVCache`` (grade cell ``test_paged_cache``).

Each test drives the learner's cache and the judge's reference model
(``_paged_reference.Twin``) with the same seeded operations. Token data is
checked with ``gather``; the block structure is checked by counts and by which
table entries name the same physical block, never by particular ids.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_paged_reference.py")


@points(1)
def test_gather_returns_appended_tokens(submission):
    """gather returns every appended token in order, for chunks of any size that cross and end on block boundaries."""
    for block_size, chunks in (
        (1, [1, 1, 3]),
        (4, [3, 1, 4, 1, 2]),
        (4, [8, 5]),
        (5, [1, 4, 10, 6]),
        (16, [15, 1, 17]),
    ):
        twin = ref.Twin(submission, 12, block_size, 2, 3, seed=10 + block_size)
        twin.add(7)
        for n in chunks:
            twin.append(7, n)
            twin.check_data(7, f"a sequence of {len(twin.keys[7])} tokens in blocks of {block_size}")


@points(1)
def test_block_counts_and_layout(submission):
    """A sequence of n tokens holds exactly ceil(n / B) blocks, and token j sits at key_blocks[table[j // B], j % B]."""
    n_heads, d_head = 3, 2
    for block_size in (1, 4, 6):
        twin = ref.Twin(submission, 10, block_size, n_heads, d_head, seed=20 + block_size)
        cache = twin.cache
        shape = tuple(cache.key_blocks.shape)
        check(shape == (10, block_size, n_heads, d_head), f"key_blocks has shape {shape}, not (num_blocks, block_size, n_heads, d_head)")
        check(tuple(cache.value_blocks.shape) == shape, "value_blocks should have the same shape as key_blocks")
        twin.add(0)
        for n in (block_size, 1, block_size - 1 or 1, 2 * block_size):
            twin.append(0, n)
            length = len(twin.keys[0])
            check(cache.length(0) == length, f"length() is {cache.length(0)} after {length} tokens were appended")
            check(
                len(cache.block_table(0)) == math.ceil(length / block_size),
                f"{length} tokens in blocks of {block_size} should hold {math.ceil(length / block_size)} blocks, "
                f"not {len(cache.block_table(0))}",
            )
            twin.check_tables(f"{length} tokens in blocks of {block_size}")
        final_table = cache.block_table(0)
        slots = torch.arange(len(twin.keys[0]))
        physical = torch.tensor(final_table)[slots // block_size]
        assert_close(cache.key_blocks[physical, slots % block_size], twin.keys[0], "the keys read at key_blocks[table[j // B], j % B]")
        assert_close(cache.value_blocks[physical, slots % block_size], twin.values[0], "the values read at value_blocks[table[j // B], j % B]")


@points(1)
def test_interleaved_sequences_keep_their_own_blocks(submission):
    """Sequences appended in turns never share a block, and each gathers only its own tokens."""
    twin = ref.Twin(submission, 40, 4, 2, 4, seed=30)
    gen = torch.Generator().manual_seed(31)
    for seq in range(5):
        twin.add(seq)
    for _ in range(6):
        for seq in range(5):
            twin.append(seq, int(torch.randint(1, 6, (1,), generator=gen)))
        twin.check_tables("five sequences appended in turns")
    for seq in range(5):
        twin.check_data(seq, f"sequence {seq} of five appended in turns")


@points(1)
def test_freed_blocks_are_reused_in_table_order(submission):
    """free(seq) returns its blocks; a later sequence reuses them and still reads its tokens in logical order."""
    twin = ref.Twin(submission, 5, 3, 2, 2, seed=40)
    twin.add("a")
    twin.append("a", 9)            # three blocks
    twin.add("b")
    twin.append("b", 4)            # two blocks: the cache is full
    twin.check_tables("a full cache")
    twin.free("a")
    twin.check_tables("after freeing a sequence of three blocks")
    twin.append("b", 11)           # takes the three freed blocks, after its own two
    twin.check_tables("a sequence grown into freed blocks")
    twin.check_data("b", "a sequence grown into freed blocks")
    twin.add("c")
    check(ref.raises("OutOfBlocks", twin.cache.append, "c", torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)),
          "appending to a full cache should raise OutOfBlocks")
    twin.free("b")
    check(twin.allocator.num_free() == 5, "once every sequence is freed, every block should be free")
    twin.append("c", 15)
    twin.check_data("c", "a sequence that fills a cache emptied by free")


@points(1)
def test_fork_shares_every_block(submission):
    """fork(parent, child) copies no data: the child's table names the parent's blocks, each with one more reference."""
    for length in (4, 6):             # a full last block, and a partly filled one
        twin = ref.Twin(submission, 10, 4, 2, 3, seed=50 + length)
        twin.add(1)
        twin.append(1, length)
        free_before = twin.allocator.num_free()
        twin.fork(1, 2)
        check(twin.cache.block_table(2) == twin.cache.block_table(1), "after a fork the child's table should equal the parent's")
        check(twin.allocator.num_free() == free_before, "a fork should allocate no block")
        twin.check_tables(f"a fork of {length} tokens")
        twin.check_data(2, "a freshly forked child")
        twin.append(2, 5)
        twin.check_tables(f"a fork of {length} tokens after the child appended")


@points(1)
def test_copy_on_write_keeps_both_sides(submission):
    """After a fork, appends on either side never change the other's tokens; only a partly filled shared block is copied."""
    for length, first in ((6, "child"), (6, "parent"), (8, "child"), (1, "parent")):
        twin = ref.Twin(submission, 16, 4, 2, 3, seed=60 + length)
        twin.add("p")
        twin.append("p", length)
        twin.fork("p", "c")
        order = ("c", "p") if first == "child" else ("p", "c")
        for seq in order:
            twin.append(seq, 1)
        for seq in order:
            twin.append(seq, 5)
        twin.fork("c", "g")            # a grandchild shares with the child
        twin.append("g", 2)
        twin.append("c", 2)
        what = f"a fork of {length} tokens, the {first} appending first"
        twin.check_tables(what)
        for seq in ("p", "c", "g"):
            twin.check_data(seq, f"every sequence of {what}")


@points(1)
def test_free_keeps_blocks_another_sequence_uses(submission):
    """Freeing a parent keeps the blocks its fork still uses; new sequences never overwrite them."""
    twin = ref.Twin(submission, 8, 4, 2, 2, seed=70)
    twin.add(0)
    twin.append(0, 10)
    twin.fork(0, 1)
    twin.append(1, 3)
    twin.free(0)
    twin.check_tables("a child whose parent was freed")
    twin.add(2)
    twin.append(2, 4 * twin.allocator.num_free())   # every block that is free now
    twin.check_tables("a new sequence filling the rest of the cache")
    twin.check_data(1, "a child whose parent was freed, after a new sequence filled the cache")
    twin.free(1)
    twin.free(2)
    check(twin.allocator.num_free() == 8, "once every sequence is freed, every block should be free")
    twin.add(3)
    check(ref.raises("ValueError", twin.cache.add_sequence, 3), "add_sequence with an id already in use should raise ValueError")
