"""The week06/paged_attention exercise, graded end to end through the real engine.

A differently written correct solution (a FIFO free list, token-by-token
appends, a kernel-style online softmax over blocks, statistics from per-block
fill counts) must earn full marks; each realistic mistake must lose the points
of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week06/paged_attention")
SOLUTION = EXERCISE.source_path

FIFO_ONLINE_SOFTMAX = {
    "block_allocator": '''
from collections import deque


class BlockAllocator:
    def __init__(self, num_blocks):
        self.queue = deque(range(num_blocks))   # first freed, first reused
        self.count = {}

    def allocate(self):
        if len(self.queue) == 0:
            raise OutOfBlocks("no free block")
        b = self.queue.popleft()
        self.count[b] = 1
        return b

    def share(self, block):
        if block not in self.count:
            raise ValueError("cannot share a free block")
        self.count[block] += 1

    def free(self, block):
        if block not in self.count:
            raise ValueError("double free")
        self.count[block] -= 1
        if not self.count[block]:
            del self.count[block]
            self.queue.append(block)

    def ref_count(self, block):
        return self.count.get(block, 0)

    def num_free(self):
        return len(self.queue)
''',
    "paged_kv_cache": '''
class PagedKVCache:
    def __init__(self, num_blocks, block_size, n_heads, d_head, dtype=torch.float32):
        self.block_size = block_size
        self.allocator = BlockAllocator(num_blocks)
        self.key_blocks = torch.zeros(num_blocks, block_size, n_heads, d_head, dtype=dtype)
        self.value_blocks = torch.zeros_like(self.key_blocks)
        self.fill = [0] * num_blocks          # tokens written into each physical block
        self.seqs = {}                        # seq_id -> [table, length]

    def add_sequence(self, seq_id):
        if seq_id in self.seqs:
            raise ValueError("duplicate sequence id")
        self.seqs[seq_id] = [[], 0]

    def append(self, seq_id, k, v):
        table, n = self.seqs[seq_id]
        for i in range(k.shape[0]):
            offset = n % self.block_size
            if offset == 0:
                table.append(self.allocator.allocate())
                self.fill[table[-1]] = 0
            elif self.allocator.ref_count(table[-1]) > 1:
                fresh = self.allocator.allocate()
                self.key_blocks[fresh].copy_(self.key_blocks[table[-1]])
                self.value_blocks[fresh].copy_(self.value_blocks[table[-1]])
                self.fill[fresh] = offset
                self.allocator.free(table[-1])
                table[-1] = fresh
            self.key_blocks[table[-1], offset] = k[i]
            self.value_blocks[table[-1], offset] = v[i]
            self.fill[table[-1]] = offset + 1
            n += 1
            self.seqs[seq_id][1] = n

    def fork(self, parent, child):
        table, n = self.seqs[parent]
        for b in table:
            self.allocator.share(b)
        self.seqs[child] = [table.copy(), n]

    def free(self, seq_id):
        table, _ = self.seqs.pop(seq_id)
        for b in reversed(table):
            self.allocator.free(b)

    def block_table(self, seq_id):
        return [int(b) for b in self.seqs[seq_id][0]]

    def length(self, seq_id):
        return self.seqs[seq_id][1]

    def gather(self, seq_id):
        table, n = self.seqs[seq_id]
        if not table:
            empty = self.key_blocks.new_zeros(0, *self.key_blocks.shape[2:])
            return empty, empty.clone()
        ks = torch.cat([self.key_blocks[b] for b in table])[:n]
        vs = torch.cat([self.value_blocks[b] for b in table])[:n]
        return ks, vs
''',
    "paged_attention": '''
def paged_attention(q, cache, seq_id):
    """Block by block with a running max and sum, as a paged GPU kernel does."""
    n = cache.length(seq_id)
    size = cache.block_size
    running_max = torch.full((q.shape[0],), float("-inf"))
    running_sum = torch.zeros(q.shape[0])
    acc = torch.zeros_like(q)
    for logical, block in enumerate(cache.block_table(seq_id)):
        valid = min(size, n - logical * size)
        keys = cache.key_blocks[block, :valid]          # (valid, H, d)
        values = cache.value_blocks[block, :valid]
        s = (keys * q).sum(-1).T / q.shape[-1] ** 0.5   # (H, valid)
        new_max = torch.maximum(running_max, s.max(-1).values)
        rescale = torch.exp(running_max - new_max)
        p = torch.exp(s - new_max[:, None])
        running_sum = running_sum * rescale + p.sum(-1)
        acc = acc * rescale[:, None] + torch.einsum("hv,vhd->hd", p, values)
        running_max = new_max
    return acc / running_sum[:, None]
''',
    "fragmentation": '''
def fragmentation(cache):
    a = cache.allocator
    in_use = [b for b in range(len(cache.fill)) if a.ref_count(b) > 0]
    allocated = len(in_use) * cache.block_size
    used = sum(cache.fill[b] for b in in_use)
    waste = 0.0 if allocated == 0 else 1.0 - used / allocated
    return dict(blocks_in_use=len(in_use), allocated_slots=allocated, used_slots=used,
                tokens=sum(n for _, n in cache.seqs.values()), waste_fraction=float(waste))
''',
}

FRAGMENTATION_PER_SEQUENCE = '''
def fragmentation(cache):
    size = cache.block_size
    allocated = sum(len(t) for t in cache.tables.values()) * size   # a shared block once per table
    tokens = sum(cache.lengths.values())
    return {
        "blocks_in_use": allocated // size,
        "allocated_slots": allocated,
        "used_slots": tokens,
        "tokens": tokens,
        "waste_fraction": (allocated - tokens) / allocated if allocated else 0.0,
    }
'''

WRONG = {
    # The child's append writes straight into the block it shares with its parent.
    "no_copy_on_write": (
        edited(SOLUTION, "paged_kv_cache", ("and self.allocator.ref_count(table[-1]) > 1", "and False")),
        {
            "test_copy_on_write_keeps_both_sides",
            "test_attention_after_forks_and_reuse",
            "test_stats_count_shared_blocks_once",
        },
    ),
    # floor(n / B) + 1 blocks: one block too many whenever the last block fills exactly.
    "off_by_one_on_a_full_block": (
        edited(SOLUTION, "paged_kv_cache", ("blocks_needed = -(-end // size)", "blocks_needed = end // size + 1")),
        {
            "test_block_counts_and_layout",
            "test_fork_shares_every_block",
            "test_copy_on_write_keeps_both_sides",
            "test_stats_without_sharing",
        },
    ),
    # free() ignores the reference count and returns a shared block to the free list.
    "frees_shared_blocks": (
        edited(
            SOLUTION,
            "block_allocator",
            ("        self.refs[block] -= 1\n        if self.refs[block] == 0:\n            self.free_list.append(block)",
             "        self.refs[block] = 0\n        self.free_list.append(block)"),
        ),
        {
            "test_reference_counts_keep_shared_blocks",
            "test_free_keeps_blocks_another_sequence_uses",
            "test_stats_count_shared_blocks_once",
        },
    ),
    # Blocks read in the order of their ids rather than the table's order.
    "gather_in_allocation_order": (
        edited(SOLUTION, "paged_kv_cache", ("torch.tensor(self.tables[seq_id], dtype=torch.long)",
                                            "torch.tensor(sorted(self.tables[seq_id]), dtype=torch.long)")),
        {"test_freed_blocks_are_reused_in_table_order"},
    ),
    # Every slot of the last block takes part in the softmax, filled or not.
    "attention_reads_unfilled_slots": (
        edited(SOLUTION, "paged_attention", ("    scores = scores.masked_fill(~filled, float(\"-inf\"))\n", "")),
        {
            "test_matches_contiguous_attention_across_block_boundaries",
            "test_leftovers_in_unfilled_slots_get_no_weight",
            "test_attention_after_forks_and_reuse",
        },
    ),
    # Shared blocks counted once per sequence that points at them.
    "stats_count_shared_blocks_per_sequence": (
        {"fragmentation": FRAGMENTATION_PER_SEQUENCE},
        {"test_stats_count_shared_blocks_once"},
    ),
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"fifo_online_softmax": FIFO_ONLINE_SOFTMAX}, WRONG
)
