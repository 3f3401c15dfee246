"""Hidden tests for ``forward_with_cache`` (grade cell ``test_kvc_forward``).

Every expected value is the course GPT's own full recomputation, ``model(idx)``
on the whole sequence, run here in the judge on a twin of the sandbox's model
(same seeded weights). Cached logits must equal it within the tolerance policy
at every position, however the sequence is cut into prefill, chunks and steps.
"""


from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_kvc_reference.py")

OTHER_SHAPE = dict(vocab_size=11, block_size=48, n_layer=3, n_head=2, d_model=24)


def feed(submission, remote, config, seq, cuts, reference_logits, label):
    """Feed ``seq`` in pieces ending at ``cuts``; compare every piece's logits with the reference."""
    cache = submission.KVCache(config.n_layer)
    lo = 0
    for hi in cuts:
        got = submission.forward_with_cache(remote, seq[:, lo:hi], cache)
        assert_close(got, reference_logits[:, lo:hi],
                     f"the logits of positions {lo}..{hi - 1} fed after {lo} cached positions ({label})")
        check(cache.length == hi, f"after feeding {hi} positions the cache length is {cache.length} ({label})")
        lo = hi


@points(1)
def test_kvc_prefill_matches_full_recompute(submission):
    """With an empty cache, the logits of a whole prompt equal the model's own forward pass, for several batch sizes and prompt lengths (one token included)."""
    model, remote, config = ref.twin_models(submission, seed=1)
    for seed, (batch, length) in enumerate([(1, 1), (2, 7), (3, 16), (1, 40)]):
        seq = ref.tokens(100 + seed, batch, length)
        feed(submission, remote, config, seq, [length], ref.full_logits(model, seq), f"batch {batch}, prompt {length}")


@points(2)
def test_kvc_decode_matches_full_recompute(submission):
    """After a prefill, every one-token decode step gives the logits a full recomputation of the whole sequence gives."""
    cases = [(ref.SHAPE, 2, 1, 1, 24), (ref.SHAPE, 3, 3, 6, 30), (OTHER_SHAPE, 4, 2, 5, 48)]
    for shape, seed, batch, prompt, total in cases:
        model, remote, config = ref.twin_models(submission, seed=seed, **shape)
        seq = ref.tokens(200 + seed, batch, total, config.vocab_size)
        label = f"batch {batch}, prompt {prompt}, {config.n_layer} layers of {config.n_head} heads"
        feed(submission, remote, config, seq, [prompt, *range(prompt + 1, total + 1)],
             ref.full_logits(model, seq), label)


@points(2)
def test_kvc_chunked_prefill_matches_one_shot(submission):
    """A prompt fed in chunks of several tokens after cached positions gives the same logits as one shot: each new query sees every cached key and the new keys up to itself."""
    model, remote, config = ref.twin_models(submission, seed=5)
    seq = ref.tokens(300, 2, 36)
    logits = ref.full_logits(model, seq)
    for cuts in ([3, 8, 9, 13, 20, 36], [1, 3, 5, 7, 9, 11], [10, 11, 30, 36]):
        feed(submission, remote, config, seq, cuts, logits, f"chunks ending at {cuts}")
    model, remote, config = ref.twin_models(submission, seed=6, **OTHER_SHAPE)
    seq = ref.tokens(301, 3, 40, config.vocab_size)
    feed(submission, remote, config, seq, [16, 32, 40], ref.full_logits(model, seq), "3 layers, chunks of 16")


@points(1)
def test_kvc_cache_holds_model_keys_and_values(submission):
    """After prefill and decode steps, the cache holds, per layer, the keys and values the model computes for every position."""
    model, remote, config = ref.twin_models(submission, seed=7, **OTHER_SHAPE)
    seq = ref.tokens(400, 2, 12, config.vocab_size)
    cache = submission.KVCache(config.n_layer)
    submission.forward_with_cache(remote, seq[:, :9], cache)
    for t in (9, 10, 11):
        submission.forward_with_cache(remote, seq[:, t:t + 1], cache)
    keys, values = cache.keys, cache.values
    for layer, (k, v) in enumerate(ref.keys_and_values(model, seq)):
        assert_close(keys[layer], k, f"cache.keys[{layer}] after a 9-token prefill and 3 decode steps")
        assert_close(values[layer], v, f"cache.values[{layer}] after a 9-token prefill and 3 decode steps")
