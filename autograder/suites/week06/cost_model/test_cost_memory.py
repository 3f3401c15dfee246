"""Hidden tests for ``max_batch_for_memory`` (grade cell ``test_cost_memory``)."""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "cost_reference.py")

GiB = 2**30


@points(1)
def test_memory_batch_matches_reference_and_floors(submission):
    """The batch is the whole number of per-sequence caches that fit beside the weights, rounded down, exact at boundaries."""
    rng = ref.rng_for(641)
    for _ in range(200):
        gpu = rng.choice([16, 24, 40, 48, 80, 94, 141, 192]) * GiB
        model = rng.randint(10**8, 2 * 10**11)
        kv, context = rng.choice([2**12, 2**16, 3 * 2**16, 2**19, 327680]), rng.randint(1, 131072)
        ref.whole(submission.max_batch_for_memory(gpu, model, kv, context),
                  ref.batch_that_fits(gpu, model, kv, context), "max_batch_for_memory on a random case")
    # exactly k caches free: k, not k - 1; one byte short: k - 1
    for k in (1, 7, 32, 100):
        per_sequence = 2**19 * 4096
        ref.whole(submission.max_batch_for_memory(16 * GiB + k * per_sequence, 16 * GiB, 2**19, 4096), k,
                  "max_batch_for_memory with room for exactly that many caches")
        ref.whole(submission.max_batch_for_memory(16 * GiB + k * per_sequence - 1, 16 * GiB, 2**19, 4096), k - 1,
                  "max_batch_for_memory one byte short of that many caches")


@points(1)
def test_memory_batch_edge_cases_and_units(submission):
    """No room when the weights do not fit; longer contexts fit fewer sequences; the answer does not depend on the byte unit."""
    ref.whole(submission.max_batch_for_memory(80 * GiB, 140 * 10**9, 2**19, 4096), 0,
              "max_batch_for_memory when the weights alone exceed the memory")
    ref.whole(submission.max_batch_for_memory(80 * GiB, 80 * GiB, 2**19, 4096), 0,
              "max_batch_for_memory when the weights fill the memory exactly")
    sizes = [submission.max_batch_for_memory(80 * GiB, 14 * 10**9, 2**19, c) for c in (512, 2048, 8192, 32768)]
    check(all(b <= a for a, b in zip(sizes, sizes[1:])) and sizes[0] > sizes[-1],
          "longer contexts did not fit fewer sequences")
    # the same GPU and model, every size in KiB instead of bytes (exact multiples of 1024)
    in_bytes = submission.max_batch_for_memory(80 * GiB, 14 * 2**30, 2**19, 4096)
    in_kib = submission.max_batch_for_memory(80 * 2**20, 14 * 2**20, 2**9, 4096)
    ref.whole(in_kib, in_bytes, "max_batch_for_memory with every size expressed in KiB")
