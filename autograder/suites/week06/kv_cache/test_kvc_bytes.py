"""Hidden tests for ``kv_cache_bytes`` (grade cell ``test_kvc_bytes``).

The expected size is measured, not computed from a formula: per layer one key
and one value tensor of shape (batch, n_head, seq_len, d_head) are built on
torch's "meta" device (shapes and dtypes, no memory) and their ``nbytes``
added up; and the learner's own cache, after a prefill, is weighed the same
way. Configs and dtypes cross the seam as handles to the notebook's own
``GPTConfig`` and torch dtypes.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_kvc_reference.py")

CONFIGS = {
    "the course's reference GPT": dict(vocab_size=80, block_size=64, n_layer=4, n_head=4, d_model=128),
    "GPT-2 small's shape": dict(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, d_model=768),
    "GPT-2 XL's shape": dict(vocab_size=50257, block_size=1024, n_layer=48, n_head=25, d_model=1600),
    "one layer of one head": dict(vocab_size=5, block_size=8, n_layer=1, n_head=1, d_model=2),
    "a model with one layer of many narrow heads": dict(vocab_size=5, block_size=8, n_layer=1, n_head=8, d_model=16),
}
CASES = [(1, 1, "float32"), (1024, 1, "float16"), (300, 4, "bfloat16"), (77, 3, "float64"), (4096, 32, "int8")]


def allocated_bytes(fields, seq_len, batch, dtype_name):
    d_head = fields["d_model"] // fields["n_head"]
    tensors = [torch.empty(batch, fields["n_head"], seq_len, d_head, dtype=getattr(torch, dtype_name), device="meta")
               for _layer in range(fields["n_layer"]) for _kind in ("key", "value")]
    return sum(t.nbytes for t in tensors)


@points(1)
def test_kvc_bytes_equal_allocated_tensors(submission):
    """kv_cache_bytes equals the bytes of a key and a value tensor per layer, for several model shapes, lengths, batch sizes and dtypes, and defaults to one float32 sequence."""
    for label, fields in CONFIGS.items():
        config = submission.GPTConfig(**fields)
        for seq_len, batch, dtype_name in CASES:
            got = submission.kv_cache_bytes(config, seq_len, batch=batch, dtype=getattr(submission.torch, dtype_name))
            check(isinstance(got, int) and not isinstance(got, bool),
                  f"kv_cache_bytes should return an int, got {type(got).__name__}")
            check(got == allocated_bytes(fields, seq_len, batch, dtype_name),
                  f"the cache of {label} for {batch} x {seq_len} positions in {dtype_name} is not {got} bytes")
        got = submission.kv_cache_bytes(config, 100)
        check(got == allocated_bytes(fields, 100, 1, "float32"),
              f"with the default batch and dtype, the cache of {label} for 100 positions is not {got} bytes")


@points(1)
def test_kvc_bytes_match_your_cache(submission):
    """kv_cache_bytes equals the bytes your own KVCache holds after a prefill."""
    for seed, (shape, batch, length) in enumerate([({}, 2, 9), (dict(n_layer=3, n_head=2, d_model=24), 3, 17)]):
        _, remote, config = ref.twin_models(submission, seed=20 + seed, **shape)
        cache = submission.KVCache(config.n_layer)
        submission.forward_with_cache(remote, ref.tokens(800 + seed, batch, length), cache)
        held = sum(t.nbytes for t in [*cache.keys, *cache.values])
        fields = {**ref.SHAPE, **shape}
        got = submission.kv_cache_bytes(submission.GPTConfig(**fields), length, batch=batch)
        check(got == held, f"kv_cache_bytes gives {got} bytes for the cache of {batch} x {length} positions "
                           f"of a {config.n_layer}-layer model, but your cache holds {held}")
