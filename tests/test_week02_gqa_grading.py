"""The week02/gqa exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week02/gqa")
SOLUTION = EXERCISE.source_path

GQA_TEMPLATE = '''
class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, bias=False):
        super().__init__()
        if {uneven}:
            raise ValueError("heads do not divide evenly")
        self.h, self.h_kv = n_heads, n_kv_heads
        self.d_head = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, {kv_width}, bias=bias)
        self.v_proj = nn.Linear(d_model, {kv_width}, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None):
        B, T, D = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.d_head).transpose(1, 2)
        k = self.k_proj(x).view(B, T, {kv_heads}, self.d_head).transpose(1, 2)
        v = self.v_proj(x).view(B, T, {kv_heads}, self.d_head).transpose(1, 2)
        k = repeat_kv(k, self.h // {kv_heads})
        v = repeat_kv(v, self.h // {kv_heads})
        scores = q @ k.transpose(-2, -1) / math.sqrt({scale})
        if mask is not None:
            scores = scores.masked_fill({masked}, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(B, T, D))
'''


def gqa(
    uneven="d_model % n_heads or n_heads % n_kv_heads",
    kv_width="n_kv_heads * (d_model // n_heads)",
    kv_heads="self.h_kv",
    scale="self.d_head",
    masked="~mask",
):
    return GQA_TEMPLATE.format(uneven=uneven, kv_width=kv_width, kv_heads=kv_heads, scale=scale, masked=masked)


def cache_bytes(body):
    return f"def kv_cache_bytes(n_layers, n_kv_heads, d_head, seq_len, batch=1, dtype=torch.bfloat16):\n    {body}\n"


def from_config(kv_heads, d_head):
    return f'''
def kv_cache_bytes_from_config(config, seq_len, batch=1, dtype=torch.bfloat16):
    n_kv = {kv_heads}
    d_head = {d_head}
    return kv_cache_bytes(config["num_hidden_layers"], n_kv, d_head, seq_len, batch, dtype)
'''


# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "repeat_tiles_instead_of_interleaving": (
        # query head h reads kv head h % n_kv_heads: right shapes, wrong pairing
        {"repeat_kv": "def repeat_kv(x, n_rep):\n    return x.repeat(1, n_rep, 1, 1)\n"},
        {
            "test_query_head_reads_kv_head_h_div_n_rep",
            "test_matches_sdpa_head_sharing",
            "test_gradient_sums_over_each_group",
            "test_matches_sdpa_with_shared_kv_heads",
            "test_causal_and_padding_masks",
            "test_gradients_match_reference",
        },
    ),
    "k_and_v_projections_sized_like_mha": (
        # k_proj and v_proj keep d_model outputs: every query head gets its own kv head
        {"gqa_layer": gqa(kv_width="d_model", kv_heads="self.h")},
        {
            "test_projection_sizes_and_parameter_count",
            "test_matches_sdpa_with_shared_kv_heads",
            "test_single_kv_head_is_mqa",
            "test_causal_and_padding_masks",
            "test_gradients_match_reference",
        },
    ),
    "scales_by_sqrt_d_model": (
        {"gqa_layer": gqa(scale="self.h * self.d_head")},
        {
            "test_matches_sdpa_with_shared_kv_heads",
            "test_one_kv_head_per_query_head_is_mha",
            "test_single_kv_head_is_mqa",
            "test_causal_and_padding_masks",
            "test_gradients_match_reference",
        },
    ),
    "mask_polarity_flipped": (
        {"gqa_layer": gqa(masked="mask")},
        {"test_causal_and_padding_masks", "test_gradients_match_reference"},
    ),
    "no_value_error_for_uneven_groups": (
        # n_heads % n_kv_heads is never checked: 8 heads over 3 kv heads builds a layer
        {"gqa_layer": gqa(uneven="d_model % n_heads")},
        {"test_rejects_uneven_groups"},
    ),
    "cache_bytes_forgets_values": (
        # counts the keys only: half the cache
        {"cache_bytes": cache_bytes("return n_layers * n_kv_heads * d_head * seq_len * batch * dtype.itemsize")},
        {
            "test_bytes_equal_the_allocated_cache",
            "test_defaults_and_int_result",
            "test_counts_key_value_heads",
            "test_missing_kv_heads_and_explicit_head_dim",
        },
    ),
    "cache_bytes_assumes_two_bytes": (
        # right for bf16 and fp16, wrong for every other dtype
        {"cache_bytes": cache_bytes("return 2 * n_layers * n_kv_heads * d_head * seq_len * batch * 2")},
        {"test_bytes_equal_the_allocated_cache", "test_counts_key_value_heads",
         "test_missing_kv_heads_and_explicit_head_dim"},
    ),
    "cache_bytes_from_finfo_bits": (
        # bits / 8 is a float, and torch.finfo refuses integer dtypes
        {"cache_bytes": cache_bytes(
            "return 2 * n_layers * n_kv_heads * d_head * seq_len * batch * torch.finfo(dtype).bits / 8")},
        {"test_bytes_equal_the_allocated_cache", "test_defaults_and_int_result", "test_counts_key_value_heads"},
    ),
    "config_counts_query_heads": (
        {"cache_from_config": from_config(
            'config["num_attention_heads"]', 'config["hidden_size"] // config["num_attention_heads"]')},
        {"test_counts_key_value_heads"},
    ),
    "config_ignores_head_dim": (
        {"cache_from_config": from_config(
            'config.get("num_key_value_heads") or config["num_attention_heads"]',
            'config["hidden_size"] // config["num_attention_heads"]')},
        {"test_missing_kv_heads_and_explicit_head_dim"},
    ),
    "config_requires_kv_heads_key": (
        # a Llama-1 era config has no num_key_value_heads: KeyError
        {"cache_from_config": from_config(
            'config["num_key_value_heads"]',
            'config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]')},
        {"test_missing_kv_heads_and_explicit_head_dim"},
    ),
}

# Correct, written differently: no repeated copies at all. Queries are grouped
# as (B, n_kv, group, T, d) and broadcast against their shared key/value head
# with einsum; the softmax by logsumexp; the mask with torch.where.
GROUPED_EINSUM_SOLUTION = {
    "repeat_kv": '''
def repeat_kv(x, n_rep):
    return torch.stack([x] * n_rep, dim=2).flatten(1, 2)
''',
    "gqa_layer": '''
class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, bias=False):
        super().__init__()
        if d_model % n_heads:
            raise ValueError("n_heads must divide d_model")
        if n_heads % n_kv_heads:
            raise ValueError("n_kv_heads must divide n_heads")
        self.shape = (n_heads, n_kv_heads, d_model // n_heads)
        width = n_kv_heads * (d_model // n_heads)
        self.q_proj, self.out_proj = nn.Linear(d_model, d_model, bias), nn.Linear(d_model, d_model, bias)
        self.k_proj, self.v_proj = nn.Linear(d_model, width, bias), nn.Linear(d_model, width, bias)

    def forward(self, x, mask=None):
        h, g_kv, dh = self.shape
        B, T, _ = x.shape
        q = self.q_proj(x).reshape(B, T, g_kv, h // g_kv, dh)
        k = self.k_proj(x).reshape(B, T, g_kv, dh)
        v = self.v_proj(x).reshape(B, T, g_kv, dh)
        s = torch.einsum("bqgrd,bkgd->bgrqk", q, k) * dh ** -0.5
        if mask is not None:
            m = torch.broadcast_to(mask, (B, h, T, T)).reshape(B, g_kv, h // g_kv, T, T)
            s = torch.where(m, s, torch.tensor(float("-inf"), dtype=s.dtype))
        p = torch.exp(s - torch.logsumexp(s, dim=-1, keepdim=True))
        ctx = torch.einsum("bgrqk,bkgd->bqgrd", p, v)
        return self.out_proj(ctx.reshape(B, T, h * dh))
''',
    "cache_bytes": '''
def kv_cache_bytes(n_layers, n_kv_heads, d_head, seq_len, batch=1, dtype=torch.bfloat16):
    one_tensor = math.prod([batch, n_kv_heads, seq_len, d_head]) * torch.empty((), dtype=dtype).element_size()
    return n_layers * (one_tensor + one_tensor)
''',
    "cache_from_config": '''
def kv_cache_bytes_from_config(config, seq_len, batch=1, dtype=torch.bfloat16):
    heads = config["num_attention_heads"]
    kv = config["num_key_value_heads"] if config.get("num_key_value_heads") is not None else heads
    size = config["head_dim"] if config.get("head_dim") is not None else config["hidden_size"] // heads
    return kv_cache_bytes(n_layers=config["num_hidden_layers"], n_kv_heads=kv, d_head=size,
                          seq_len=seq_len, batch=batch, dtype=dtype)
''',
}

# Correct too: torch's fused attention shares the heads itself (enable_gqa) and
# repeat_kv is repeat_interleave.
SDPA_SOLUTION = {
    "repeat_kv": "def repeat_kv(x, n_rep):\n    return torch.repeat_interleave(x, n_rep, dim=1)\n",
    "gqa_layer": '''
class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, bias=False):
        super().__init__()
        if d_model % n_heads != 0 or n_heads % n_kv_heads != 0:
            raise ValueError(f"cannot group {n_heads} heads of {d_model} into {n_kv_heads} kv heads")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        d_head = d_model // n_heads
        self.q_proj = nn.Linear(d_model, n_heads * d_head, bias=bias)
        self.k_proj = nn.Linear(d_model, n_kv_heads * d_head, bias=bias)
        self.v_proj = nn.Linear(d_model, n_kv_heads * d_head, bias=bias)
        self.out_proj = nn.Linear(n_heads * d_head, d_model, bias=bias)

    def forward(self, x, mask=None):
        split = lambda t, n: t.unflatten(-1, (n, -1)).permute(0, 2, 1, 3)
        q = split(self.q_proj(x), self.n_heads)
        k = split(self.k_proj(x), self.n_kv_heads)
        v = split(self.v_proj(x), self.n_kv_heads)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
        return self.out_proj(out.permute(0, 2, 1, 3).flatten(2))
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"grouped_einsum": GROUPED_EINSUM_SOLUTION, "sdpa": SDPA_SOLUTION}, WRONG
)
