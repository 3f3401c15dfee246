"""The week01/multihead_attention exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week01/multihead_attention")
SOLUTION = EXERCISE.source_path
STUB = EXERCISE.release_path

MHA_TEMPLATE = '''
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        if {indivisible}:
            raise ValueError("d_model must be divisible by n_heads")
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias={bias})
        self.k_proj = nn.Linear(d_model, d_model, bias={bias})
        self.v_proj = nn.Linear(d_model, d_model, bias={bias})
        self.out_proj = nn.Linear(d_model, d_model, bias={bias})

    def forward(self, x, mask=None):
        q = split_heads(self.q_proj(x), self.n_heads)
        k = split_heads(self.k_proj(x), self.n_heads)
        v = split_heads(self.v_proj(x), self.n_heads)
        scores = q @ k.transpose(-2, -1) / math.sqrt({scale})
        if mask is not None:
            scores = scores.masked_fill({masked}, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        output = {output}
        return output, {weights}
'''


def mha(
    indivisible="d_model % n_heads != 0",
    bias="bias",
    scale="self.d_head",
    masked="~mask",
    output="self.out_proj(merge_heads(weights @ v))",
    weights="weights",
):
    return MHA_TEMPLATE.format(
        indivisible=indivisible, bias=bias, scale=scale, masked=masked, output=output, weights=weights
    )


# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "split_reshape_without_transpose": (
        {
            "split_heads": '''
def split_heads(x, n_heads):
    batch, length, width = x.shape
    if width % n_heads:
        raise ValueError("width not divisible by n_heads")
    return x.reshape(batch, n_heads, length, width // n_heads)   # mixes positions into heads
'''
        },
        {
            "test_split_shape_and_layout",
            "test_merge_layout_and_round_trip",
            "test_matches_torch_with_copied_weights",
            "test_causal_mask_matches_torch",
            "test_gradients_match_torch",
        },
    ),
    "merge_with_wrong_permute": (
        {
            "merge_heads": '''
def merge_heads(x):
    batch, n_heads, length, d_head = x.shape
    return x.permute(0, 2, 3, 1).reshape(batch, length, n_heads * d_head)   # interleaves the heads
'''
        },
        {
            "test_merge_layout_and_round_trip",
            "test_matches_torch_with_copied_weights",
            "test_heads_are_independent",
        },
    ),
    "forgets_out_proj": (
        {"multihead_attention": mha(output="merge_heads(weights @ v)")},
        {
            "test_matches_torch_with_copied_weights",
            "test_matches_torch_without_bias",
            "test_gradients_match_torch",
            "test_heads_are_independent",
        },
    ),
    "scales_by_sqrt_d_model": (
        {"multihead_attention": mha(scale="self.n_heads * self.d_head")},
        {
            "test_matches_torch_with_copied_weights",
            "test_causal_mask_matches_torch",
            "test_masks_broadcast",
            "test_gradients_match_torch",
        },
    ),
    "weights_averaged_over_heads": (
        {"multihead_attention": mha(weights="weights.mean(dim=1)")},
        {"test_output_shapes", "test_matches_torch_with_copied_weights", "test_heads_are_independent"},
    ),
    "mask_polarity_flipped": (
        {"multihead_attention": mha(masked="mask")},
        {"test_causal_mask_matches_torch", "test_masks_broadcast", "test_gradients_match_torch"},
    ),
    "bias_argument_ignored": (
        {"multihead_attention": mha(bias="True")},
        {"test_matches_torch_without_bias"},
    ),
    "no_value_error_for_indivisible_width": (
        {"multihead_attention": mha(indivisible="False")},
        {"test_rejects_indivisible_width"},
    ),
    "parameter_count_without_biases": (
        {"parameter_count": "def mha_parameter_count(d_model, n_heads, bias=True):\n    return 4 * d_model * d_model\n"},
        {"test_count_with_bias"},
    ),
    "parameter_count_per_head": (
        {
            "parameter_count": '''
def mha_parameter_count(d_model, n_heads, bias=True):
    d_head = d_model // n_heads
    return 4 * (d_model * d_head + (d_head if bias else 0))   # one head's share, not the layer's
'''
        },
        {"test_count_with_bias", "test_count_without_bias"},
    ),
    "calls_torch_multihead_attention": (
        {
            "multihead_attention": '''
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        self.inner = nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True)

    def forward(self, x, mask=None):
        blocked = None if mask is None else ~mask
        return self.inner(x, x, x, attn_mask=blocked, average_attn_weights=False)
'''
        },
        {"test_no_builtin_multihead_attention", "test_output_shapes", "test_matches_torch_with_copied_weights"},
    ),
}

# Correct, but written differently from the solution: heads by chunk/stack and
# cat/unbind, one fused input projection split into q, k and v, einsum, a
# softmax by logsumexp and a mask applied with torch.where.
FUSED_EINSUM_SOLUTION = {
    "split_heads": '''
def split_heads(x, n_heads):
    if x.shape[-1] % n_heads:
        raise ValueError(f"{x.shape[-1]} features cannot be split into {n_heads} heads")
    return torch.stack(x.chunk(n_heads, dim=-1), dim=1)
''',
    "merge_heads": "def merge_heads(x):\n    return torch.cat(x.unbind(dim=1), dim=-1)\n",
    "multihead_attention": '''
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError("n_heads must divide d_model")
        self.h = n_heads
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self, name, nn.Linear(d_model, d_model, bias=bias))

    def forward(self, x, mask=None):
        projections = (self.q_proj, self.k_proj, self.v_proj)
        w = torch.cat([p.weight for p in projections])
        b = None if self.q_proj.bias is None else torch.cat([p.bias for p in projections])
        q, k, v = (split_heads(t, self.h) for t in F.linear(x, w, b).chunk(3, dim=-1))
        scores = torch.einsum("bhqd,bhkd->bhqk", q, k) * q.shape[-1] ** -0.5
        if mask is not None:
            scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
        weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
        context = torch.einsum("bhqk,bhkd->bhqd", weights, v)
        return self.out_proj(merge_heads(context)), weights
''',
    "parameter_count": '''
def mha_parameter_count(d_model, n_heads, bias=True):
    shapes = [(d_model, d_model)] * 4 + ([(d_model,)] * 4 if bias else [])
    return sum(math.prod(s) for s in shapes)
''',
}

# Correct too: the per-head outputs come from torch's scaled_dot_product_attention
# (allowed), the weights from an explicit softmax; heads via view/permute.
SDPA_SOLUTION = {
    "split_heads": '''
def split_heads(x, n_heads):
    B, T, d = x.shape
    if d % n_heads != 0:
        raise ValueError("d must be a multiple of n_heads")
    return x.view(B, T, n_heads, d // n_heads).permute(0, 2, 1, 3)
''',
    "merge_heads": '''
def merge_heads(x):
    B, h, T, dh = x.shape
    return x.permute(0, 2, 1, 3).contiguous().view(B, T, h * dh)
''',
    "multihead_attention": '''
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError("d_model % n_heads != 0")
        self.n_heads = n_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(d_model, d_model, bias=bias) for _ in range(4)
        )

    def forward(self, x, mask=None):
        q, k, v = (split_heads(p(x), self.n_heads) for p in (self.q_proj, self.k_proj, self.v_proj))
        scores = (q / math.sqrt(q.shape[-1])) @ k.mT
        if mask is not None:
            scores = scores.masked_fill(mask.logical_not(), -math.inf)
        weights = scores.softmax(dim=-1)
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(merge_heads(context)), weights
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"fused_einsum": FUSED_EINSUM_SOLUTION, "sdpa": SDPA_SOLUTION}, WRONG
)
