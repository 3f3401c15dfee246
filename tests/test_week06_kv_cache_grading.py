"""The week06/kv_cache exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week06/kv_cache")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "positions_not_advanced": (
        # every chunk gets the position embeddings of 0, 1, ...: right for the prefill only
        edited(SOLUTION, "forward_with_cache", ("model.embed(idx, start=start)", "model.embed(idx)")),
        {
            "test_kvc_decode_matches_full_recompute",
            "test_kvc_chunked_prefill_matches_one_shot",
            "test_kvc_cache_holds_model_keys_and_values",
            "test_kvc_greedy_matches_uncached",
        },
    ),
    "cache_appended_twice": (
        # append called once to store and once more to read: every new key is cached twice
        edited(SOLUTION, "forward_with_cache", (
            "        k_all, v_all = cache.append(layer, k, v)",
            "        cache.append(layer, k, v)\n        k_all, v_all = cache.append(layer, k, v)",
        )),
        {
            "test_kvc_prefill_matches_full_recompute",
            "test_kvc_decode_matches_full_recompute",
            "test_kvc_chunked_prefill_matches_one_shot",
            "test_kvc_greedy_matches_uncached",
            "test_kvc_bytes_match_your_cache",
        },
    ),
    "stale_cache_kept_on_the_model": (
        # the cache is created once and kept on the model "to save allocations": the next
        # call continues the previous sequence
        edited(SOLUTION, "generate_cached", (
            "cache = KVCache(len(model.blocks))",
            'cache = getattr(model, "kv_cache", None) or KVCache(len(model.blocks))\n    model.kv_cache = cache',
        )),
        {"test_kvc_greedy_matches_uncached", "test_kvc_fresh_cache_every_call", "test_kvc_fills_the_context"},
    ),
    "causal_mask_aligned_top_left": (
        # torch's is_causal with fewer queries than keys: query i sees keys 0..i, not 0..start+i.
        # Right with an empty cache and for one-token steps, wrong for chunked prefill only.
        edited(SOLUTION, "forward_with_cache", ("attn_mask=allowed", "is_causal=new > 1")),
        {"test_kvc_chunked_prefill_matches_one_shot"},
    ),
    "bytes_forget_the_values": (
        # counts the keys only: half the cache
        edited(SOLUTION, "cache_bytes", ("one_layer = 2 * batch", "one_layer = batch")),
        {"test_kvc_bytes_equal_allocated_tensors", "test_kvc_bytes_match_your_cache"},
    ),
    "feeds_back_the_last_prompt_token": (
        # the loop feeds idx[:, -1:] at every step instead of the token it just chose
        edited(SOLUTION, "generate_cached", (
            "logits = forward_with_cache(model, next_token, cache)",
            "logits = forward_with_cache(model, idx[:, -1:], cache)",
        )),
        {"test_kvc_greedy_matches_uncached", "test_kvc_fresh_cache_every_call", "test_kvc_fills_the_context"},
    ),
}

# Correct, written differently: the cache keeps a list of chunks per layer and joins them when
# read; attention is written out with a boolean mask from absolute positions; generation fills
# a preallocated output; the byte count weighs a meta-device tensor.
CHUNKED_MANUAL = {
    "kv_cache_class": '''
class KVCache:
    def __init__(self, n_layers):
        self._k = [[] for _ in range(n_layers)]
        self._v = [[] for _ in range(n_layers)]
        self._seen = [0] * n_layers

    @property
    def keys(self):
        return [torch.cat(parts, dim=-2) if parts else None for parts in self._k]

    @property
    def values(self):
        return [torch.cat(parts, dim=-2) if parts else None for parts in self._v]

    @property
    def length(self):
        return self._seen[0]

    def append(self, layer, k, v):
        self._k[layer].append(k)
        self._v[layer].append(v)
        self._seen[layer] += k.shape[-2]
        return torch.cat(self._k[layer], dim=-2), torch.cat(self._v[layer], dim=-2)

    def reset(self):
        for parts in self._k + self._v:
            parts.clear()
        self._seen = [0] * len(self._seen)
''',
    "forward_with_cache": '''
@torch.no_grad()
def forward_with_cache(model, idx, cache):
    past = cache.length
    B, T = idx.shape
    pos = torch.arange(past, past + T)
    x = model.tok_emb(idx) + model.pos_emb(pos)
    blocked = torch.arange(past + T)[None, :] > pos[:, None]
    for i, blk in enumerate(model.blocks):
        a = blk.attn
        h = blk.ln1(x)
        heads = lambda t: t.view(B, T, a.n_head, a.d_head).permute(0, 2, 1, 3)
        K, V = cache.append(i, heads(a.k_proj(h)), heads(a.v_proj(h)))
        s = heads(a.q_proj(h)) @ K.transpose(-1, -2) / math.sqrt(a.d_head)
        w = torch.softmax(s.masked_fill(blocked, float("-inf")), dim=-1)
        x = x + a.out_proj((w @ V).permute(0, 2, 1, 3).reshape(B, T, -1))
        x = x + blk.mlp(blk.ln2(x))
    return model.lm_head(model.ln_f(x))
''',
    "generate_cached": '''
@torch.no_grad()
def generate_greedy_cached(model, idx, max_new_tokens):
    B, T = idx.shape
    out = torch.empty(B, T + max_new_tokens, dtype=idx.dtype)
    out[:, :T] = idx
    cache = KVCache(model.config.n_layer)
    fresh = idx
    for t in range(T, T + max_new_tokens):
        out[:, t] = forward_with_cache(model, fresh, cache)[:, -1].argmax(-1)
        fresh = out[:, t:t + 1]
    return out
''',
    "cache_bytes": '''
def kv_cache_bytes(config, seq_len, batch=1, dtype=torch.float32):
    one = torch.empty(batch, config.n_head, seq_len, config.d_model // config.n_head, dtype=dtype, device="meta")
    return 2 * config.n_layer * one.nbytes
''',
}

# Correct too: an additive float mask for torch's attention, layers walked by index, and the
# byte count as a product of the tensor's dimensions.
ADDITIVE_MASK = {
    "forward_with_cache": '''
@torch.no_grad()
def forward_with_cache(model, idx, cache):
    offset = cache.length
    n = idx.size(1)
    x = model.embed(idx, offset)
    bias = torch.full((n, offset + n), float("-inf")).triu(offset + 1)
    for layer_index in range(len(model.blocks)):
        block = model.blocks[layer_index]
        att = block.attn
        normed = block.ln1(x)
        keys, values = cache.append(layer_index, att.split(att.k_proj(normed)), att.split(att.v_proj(normed)))
        y = F.scaled_dot_product_attention(att.split(att.q_proj(normed)), keys, values, attn_mask=bias)
        x = x + att.out_proj(y.transpose(1, 2).flatten(2))
        x = x + block.mlp(block.ln2(x))
    return model.lm_head(model.ln_f(x))
''',
    "cache_bytes": '''
def kv_cache_bytes(config, seq_len, batch=1, dtype=torch.float32):
    shape = [config.n_layer, 2, batch, config.n_head, seq_len, config.d_model // config.n_head]
    return math.prod(shape) * torch.empty((), dtype=dtype).element_size()
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"chunked_manual": CHUNKED_MANUAL, "additive_mask": ADDITIVE_MASK}, WRONG
)
