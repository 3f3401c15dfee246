"""Hidden tests for ``kv_cache_bytes`` (grade cell ``test_gqa_cache_bytes``).

The expected size is measured, not computed from a formula: the test builds
the cache a decoder really allocates (per layer, one key tensor and one value
tensor of shape (batch, n_kv_heads, seq_len, d_head)) on torch's "meta"
device, which records shapes and dtypes without allocating memory, and adds up
the tensors' ``nbytes``. dtypes cross the seam as handles to the notebook's
own torch dtypes.
"""

import torch

from autograder.judge import points
from llmcourse.testing import check

# (n_layers, n_kv_heads, d_head, seq_len, batch)
LAYOUTS = [(1, 1, 1, 1, 1), (2, 3, 5, 7, 1), (4, 2, 16, 100, 3), (32, 32, 128, 4096, 1),
           (80, 8, 128, 32768, 4), (32, 1, 64, 2048, 16), (12, 12, 64, 1024, 2)]
DTYPES = ["bfloat16", "float16", "float32", "float64", "int8", "float8_e4m3fn"]


def allocated_bytes(n_layers, n_kv_heads, d_head, seq_len, batch, dtype_name):
    """Bytes of the per-layer key and value tensors of a KV cache, built on the meta device."""
    dtype = getattr(torch, dtype_name)
    cache = [
        torch.empty(batch, n_kv_heads, seq_len, d_head, dtype=dtype, device="meta")
        for _layer in range(n_layers)
        for _tensor in ("key", "value")
    ]
    return sum(t.nbytes for t in cache)


@points(1)
def test_bytes_equal_the_allocated_cache(submission):
    """kv_cache_bytes equals the bytes of the key and value tensors of every layer, for every layout, batch size and dtype."""
    for layout in LAYOUTS:
        for dtype_name in DTYPES:
            got = submission.kv_cache_bytes(*layout, dtype=getattr(submission.torch, dtype_name))
            want = allocated_bytes(*layout, dtype_name)
            n_layers, n_kv, d_head, seq_len, batch = layout
            check(
                got == want,
                f"kv_cache_bytes(n_layers={n_layers}, n_kv_heads={n_kv}, d_head={d_head}, seq_len={seq_len}, "
                f"batch={batch}, dtype=torch.{dtype_name}) = {got} is not the size of that cache",
            )


@points(1)
def test_defaults_and_int_result(submission):
    """By default the count is for one sequence in bfloat16, and it is a Python int."""
    for n_layers, n_kv, d_head, seq_len, _ in LAYOUTS:
        got = submission.kv_cache_bytes(n_layers, n_kv, d_head, seq_len)
        check(isinstance(got, int) and not isinstance(got, bool),
              f"kv_cache_bytes should return an int, got {type(got).__name__}")
        check(got == allocated_bytes(n_layers, n_kv, d_head, seq_len, 1, "bfloat16"),
              f"kv_cache_bytes({n_layers}, {n_kv}, {d_head}, {seq_len}) with the default batch and dtype "
              f"= {got} is not the size of one bfloat16 sequence's cache")
