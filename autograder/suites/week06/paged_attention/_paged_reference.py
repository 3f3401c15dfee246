"""The judge's own model of a paged KV cache, for the hidden tests of week06/paged_attention.

``Twin`` drives the learner's ``PagedKVCache`` (through the seam) and a
reference model side by side with the same operations. The model keeps each
sequence's tokens as plain tensors and its blocks as Python objects compared
by identity, so it knows which blocks must be shared and how full each one is
without depending on which physical ids the learner's allocator hands out.
"""

import torch

from autograder.seam.submission import StudentError
from llmcourse.testing import assert_close, check


class Block:
    """One physical block of the model: only how many of its slots hold a token."""

    def __init__(self, filled=0):
        self.filled = filled


def raises(kind, fn, *args):
    """True if ``fn(*args)`` raises the learner-side exception named ``kind``; other errors propagate."""
    try:
        fn(*args)
    except StudentError as exc:
        if exc.type_name == kind:
            return True
        raise
    return False


def contiguous_attention(q, keys, values):
    """torch's attention of one query per head over (T, H, d) keys and values."""
    out = torch.nn.functional.scaled_dot_product_attention(
        q[:, None, :], keys.transpose(0, 1), values.transpose(0, 1)
    )
    return out[:, 0]


class Twin:
    """The learner's cache and the reference model, kept in step."""

    def __init__(self, submission, num_blocks, block_size, n_heads, d_head, seed):
        self.cache = submission.PagedKVCache(num_blocks, block_size, n_heads, d_head)
        self.allocator = self.cache.allocator
        self.num_blocks, self.size = num_blocks, block_size
        self.shape = (n_heads, d_head)
        self.gen = torch.Generator().manual_seed(seed)
        self.blocks = {}   # seq -> list of Block, logical order
        self.keys, self.values = {}, {}

    def add(self, seq):
        self.cache.add_sequence(seq)
        self.blocks[seq] = []
        self.keys[seq] = torch.zeros(0, *self.shape)
        self.values[seq] = torch.zeros(0, *self.shape)

    def _references(self, block):
        return sum(any(b is block for b in table) for table in self.blocks.values())

    def append(self, seq, n, scale=1.0):
        k = scale * torch.randn(n, *self.shape, generator=self.gen)
        v = scale * torch.randn(n, *self.shape, generator=self.gen)
        self.cache.append(seq, k, v)
        table = self.blocks[seq]
        for _ in range(n):
            if not table or table[-1].filled == self.size:
                table.append(Block())
            elif self._references(table[-1]) > 1:
                table[-1] = Block(table[-1].filled)   # copy-on-write
            table[-1].filled += 1
        self.keys[seq] = torch.cat([self.keys[seq], k])
        self.values[seq] = torch.cat([self.values[seq], v])

    def fork(self, parent, child):
        self.cache.fork(parent, child)
        self.blocks[child] = list(self.blocks[parent])
        self.keys[child], self.values[child] = self.keys[parent], self.values[parent]

    def free(self, seq):
        self.cache.free(seq)
        for store in (self.blocks, self.keys, self.values):
            del store[seq]

    def in_use(self):
        """The model's distinct blocks."""
        return list({id(b): b for table in self.blocks.values() for b in table}.values())

    def expected_stats(self):
        blocks = self.in_use()
        allocated = len(blocks) * self.size
        used = sum(b.filled for b in blocks)
        return {
            "blocks_in_use": len(blocks),
            "allocated_slots": allocated,
            "used_slots": used,
            "tokens": sum(len(k) for k in self.keys.values()),
            "waste_fraction": (allocated - used) / allocated if allocated else 0.0,
        }

    def check_data(self, seq, what):
        """The learner's gather of ``seq`` holds exactly the tokens appended to it, in order."""
        keys, values = self.cache.gather(seq)
        assert_close(keys, self.keys[seq], f"the gathered keys of {what}")
        assert_close(values, self.values[seq], f"the gathered values of {what}")

    def check_tables(self, what):
        """Every table has the model's number of blocks, shares exactly the model's blocks, and counts agree."""
        tables = {seq: self.cache.block_table(seq) for seq in self.blocks}
        for seq, table in tables.items():
            check(
                len(table) == len(self.blocks[seq]),
                f"{what}: a sequence of {len(self.keys[seq])} tokens in blocks of {self.size} "
                f"holds {len(table)} blocks instead of {len(self.blocks[seq])}",
            )
        # Two table entries name the same physical block exactly when the model's blocks are one object.
        physical_of = {}
        for seq, table in tables.items():
            for block, ref in zip(table, self.blocks[seq]):
                check(0 <= block < self.num_blocks, f"{what}: block id {block} is outside 0..{self.num_blocks - 1}")
                known = physical_of.setdefault(id(ref), block)
                check(known == block, f"{what}: a block that should be shared is not")
        check(
            len(set(physical_of.values())) == len(physical_of),
            f"{what}: two sequences point at the same block although neither was forked from the other "
            f"(or a copy-on-write did not happen)",
        )
        for ref in self.in_use():
            block = physical_of[id(ref)]
            check(
                self.allocator.ref_count(block) == self._references(ref),
                f"{what}: block {block} is in {self._references(ref)} tables but its reference count is "
                f"{self.allocator.ref_count(block)}",
            )
        check(
            self.allocator.num_free() == self.num_blocks - len(physical_of),
            f"{what}: num_free() is {self.allocator.num_free()}, but {len(physical_of)} of "
            f"{self.num_blocks} blocks are in use",
        )
