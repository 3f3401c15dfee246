"""Hidden tests for ``BlockAllocator`` (grade cell ``test_paged_allocator``).

Every expectation follows from the counts alone: which ids exist, how many
references each allocated block holds, and how many blocks are free. No test
depends on the order in which the learner's free list hands blocks out.
"""

from autograder.judge import points
from llmcourse.testing import check

from autograder.judge import suite_helper

ref = suite_helper(__file__, "_paged_reference.py")


@points(1)
def test_allocate_until_exhausted(submission):
    """allocate() hands out every block id exactly once, then raises OutOfBlocks and changes nothing."""
    for num_blocks in (1, 5, 64):
        alloc = submission.BlockAllocator(num_blocks)
        check(alloc.num_free() == num_blocks, f"a new allocator of {num_blocks} blocks should have them all free")
        got = []
        for i in range(num_blocks):
            block = alloc.allocate()
            check(isinstance(block, int), f"allocate() should return an int, got {type(block).__name__}")
            got.append(block)
            check(alloc.ref_count(block) == 1, "a freshly allocated block should have reference count 1")
            check(alloc.num_free() == num_blocks - i - 1, "num_free() should fall by one per allocation")
        check(sorted(got) == list(range(num_blocks)), f"{num_blocks} allocations should return the ids 0..{num_blocks - 1}, each once")
        check(ref.raises("OutOfBlocks", alloc.allocate), "allocate() with every block in use should raise OutOfBlocks")
        check(alloc.num_free() == 0, "a failed allocate() should leave the allocator unchanged")
        alloc.free(got[-1])
        check(alloc.allocate() == got[-1], "after a block is freed in a full allocator, allocate() should return it")


@points(1)
def test_reference_counts_keep_shared_blocks(submission):
    """A shared block stays allocated, and is never handed out again, until its last reference is freed."""
    alloc = submission.BlockAllocator(4)
    shared = alloc.allocate()
    alloc.share(shared)
    alloc.share(shared)
    check(alloc.ref_count(shared) == 3, "allocate() then share() twice should give a reference count of 3")
    alloc.free(shared)
    alloc.free(shared)
    check(alloc.ref_count(shared) == 1 and alloc.num_free() == 3, "two frees of a block with 3 references should leave it allocated with 1")
    others = [alloc.allocate() for _ in range(3)]
    check(shared not in others, "a block that still has a reference was handed out again")
    alloc.free(shared)
    check(alloc.ref_count(shared) == 0 and alloc.num_free() == 1, "the last free should return the block to the free list")
    check(alloc.allocate() == shared, "the only free block should be the one whose last reference was freed")


@points(1)
def test_misuse_raises_value_error(submission):
    """Freeing a free block (a double free) and sharing a free block raise ValueError."""
    alloc = submission.BlockAllocator(3)
    block = alloc.allocate()
    alloc.free(block)
    check(ref.raises("ValueError", alloc.free, block), "freeing a block that is already free should raise ValueError")
    check(alloc.num_free() == 3, "a refused double free should leave the free list as it was")
    check(ref.raises("ValueError", alloc.share, block), "sharing a free block should raise ValueError")
    check(alloc.ref_count(block) == 0, "a refused share should leave the count at 0")
