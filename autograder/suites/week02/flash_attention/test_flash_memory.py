"""Hidden tests for the memory of ``flash_attention`` (grade cell ``test_flash_memory``).

For T = 4096 (B = H = 1) one float32 score matrix takes 64 MiB, whatever the
head size. The judge measures the peak resident memory the notebook's process
newly needs for one call, from outside that process
(``Submission.peak_memory_of``: the kernel's own VmHWM figure, reset just
before the call). A tiled computation needs a few tiles beyond its inputs and
output; the budget is a quarter of the matrix.

Why these sizes: the figure includes the seam's own copies of the inputs and
the output (decoding and encoding them), so the head size is kept small (16)
to keep those copies small next to the budget; the score matrix does not
depend on it. A first, unmeasured call with the same shapes pays the one-time
costs (lazy imports, the allocator growing its heap). The matrix is 64 MiB, above
glibc's largest mmap threshold (32 MiB), so a whole matrix is always fresh
memory and always counted, however much the heap already holds.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

inputs = suite_helper(__file__, "_flash_inputs.py")
LENGTH, WIDTH = 4096, 16
MATRIX_BYTES = LENGTH * LENGTH * 4
BUDGET = MATRIX_BYTES // 4


def measured_call(submission, seed, block_size, causal):
    q, k, v = inputs.random_qkv(seed, 1, 1, LENGTH, LENGTH, WIDTH)
    submission.flash_attention(q, k, v, block_size=block_size, causal=causal)  # warm-up, not measured
    out, peak = submission.peak_memory_of(submission.flash_attention, q, k, v, block_size=block_size, causal=causal)
    assert_close(out, inputs.reference(q, k, v, causal=causal), f"the output for T={LENGTH}, block_size={block_size}")
    check(
        peak < BUDGET,
        f"one call for T={LENGTH} needed {peak / 2**20:.0f} MiB at its peak; the whole score matrix takes "
        f"{MATRIX_BYTES / 2**20:.0f} MiB and a tiled computation must stay under {BUDGET / 2**20:.0f} MiB",
    )


@points(2)
def test_flash_peak_memory_far_below_score_matrix(submission):
    """For T = 4096 one call never needs memory near the size of the T x T score matrix (measured from outside your process)."""
    measured_call(submission, 700, block_size=256, causal=False)


@points(1)
def test_flash_causal_peak_memory_far_below_score_matrix(submission):
    """With causal=True and a block size that does not divide T = 4096, one call still stays far below the score matrix's size."""
    measured_call(submission, 701, block_size=200, causal=True)
