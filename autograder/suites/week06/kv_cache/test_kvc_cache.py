"""Hidden tests for ``KVCache`` (grade cell ``test_kvc_cache``).

Keys and values are seeded random tensors made here; what the cache returns
must be exactly what was appended, concatenated along the time axis.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check


def kv(seed, batch, heads, length, d_head):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, heads, length, d_head, generator=gen), torch.randn(batch, heads, length, d_head, generator=gen)


@points(1)
def test_kvc_append_returns_all_positions(submission):
    """append returns the keys and values of every position appended to that layer so far, in order along the time axis."""
    cache = submission.KVCache(2)
    sent_k, sent_v = [], []
    for step, new in enumerate((3, 1, 4, 1)):
        k, v = kv(10 + step, 2, 3, new, 5)
        sent_k.append(k)
        sent_v.append(v)
        keys, values = cache.append(0, k, v)
        label = f"after appending chunks of {[t.shape[2] for t in sent_k]} positions"
        assert_close(keys, torch.cat(sent_k, dim=2), f"the keys returned by append ({label})")
        assert_close(values, torch.cat(sent_v, dim=2), f"the values returned by append ({label})")
    assert_close(cache.keys[0], torch.cat(sent_k, dim=2), "cache.keys[0] after four appends")
    assert_close(cache.values[0], torch.cat(sent_v, dim=2), "cache.values[0] after four appends")


@points(1)
def test_kvc_length_and_independent_layers(submission):
    """length counts the positions held (0 when new), and appending to one layer never changes another."""
    cache = submission.KVCache(3)
    check(cache.length == 0, "a freshly made cache must hold 0 positions")
    stored = {}
    for layer in range(3):
        stored[layer] = kv(20 + layer, 1, 2, 5, 4)
        cache.append(layer, *stored[layer])
    check(cache.length == 5, f"after 5 positions in every layer the length is {cache.length}, not 5")
    for layer in range(3):
        k_new, v_new = kv(30 + layer, 1, 2, 1, 4)
        cache.append(layer, k_new, v_new)
        stored[layer] = (torch.cat([stored[layer][0], k_new], 2), torch.cat([stored[layer][1], v_new], 2))
        for other in range(3):
            if other != layer:
                assert_close(cache.keys[other], stored[other][0], f"layer {other}'s keys after an append to layer {layer}")
    check(cache.length == 6, f"after one more position in every layer the length is {cache.length}, not 6")
    for layer in range(3):
        assert_close(cache.values[layer], stored[layer][1], f"layer {layer}'s values")


@points(1)
def test_kvc_reset_starts_over(submission):
    """reset() empties the cache: the next append returns only the new positions, even for another batch size."""
    cache = submission.KVCache(2)
    for layer in range(2):
        cache.append(layer, *kv(40 + layer, 2, 2, 6, 3))
    cache.reset()
    check(cache.length == 0, f"after reset() the length is {cache.length}, not 0")
    k, v = kv(50, 1, 2, 2, 3)  # a new sequence of batch 1: nothing of the old one may remain
    keys, values = cache.append(0, k, v)
    assert_close(keys, k, "the keys returned by the first append after reset()")
    assert_close(values, v, "the values returned by the first append after reset()")
    cache.append(1, k, v)
    check(cache.length == 2, f"after reset() and a 2-position append the length is {cache.length}, not 2")
