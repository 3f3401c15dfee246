"""The week02/normalization exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week02/normalization")
SOLUTION = EXERCISE.source_path

LAYER_NORM_TEMPLATE = '''
class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        h = {upcast}
        mu = h.mean(dim={dim}, keepdim=True)
        var = {variance}
        y = {normalized} * self.weight + self.bias
        return {result}
'''


def layer_norm(
    upcast="x.to(torch.promote_types(x.dtype, torch.float32))",
    dim="-1",
    variance="((h - mu) ** 2).mean(dim={dim}, keepdim=True)",
    normalized="(h - mu) / torch.sqrt(var + self.eps)",
    result="y.to(x.dtype)",
):
    return LAYER_NORM_TEMPLATE.format(
        upcast=upcast, dim=dim, variance=variance.format(dim=dim), normalized=normalized, result=result
    )


RMS_NORM_TEMPLATE = '''
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        h = {upcast}
        h = {centred}
        y = h / {rms} * self.weight
        return {result}
'''


def rms_norm(
    upcast="x.to(torch.promote_types(x.dtype, torch.float32))",
    centred="h",
    rms="torch.sqrt(h.pow(2).mean(dim={dim}, keepdim=True) + self.eps)",
    dim="-1",
    result="y.to(x.dtype)",
):
    return RMS_NORM_TEMPLATE.format(upcast=upcast, centred=centred, rms=rms.format(dim=dim), result=result)


BLOCKS_TEMPLATE = '''
class PreLNBlock(nn.Module):
    def __init__(self, d, sublayer):
        super().__init__()
        self.norm = LayerNorm(d)
        self.sublayer = sublayer

    def forward(self, x):
        return {pre}


class PostLNBlock(nn.Module):
    def __init__(self, d, sublayer):
        super().__init__()
        self.norm = LayerNorm(d)
        self.sublayer = sublayer

    def forward(self, x):
        return {post}
'''

PRE = "x + self.sublayer(self.norm(x))"
POST = "self.norm(x + self.sublayer(x))"


def blocks(pre=PRE, post=POST):
    """Both block classes in the pre-LN cell; the post-LN cell is emptied (see ``BLOCKS``)."""
    return {"pre_ln_block": BLOCKS_TEMPLATE.format(pre=pre, post=post), "post_ln_block": "pass\n"}


LAYER_NORM_TESTS = {
    "test_layernorm_matches_torch",
    "test_layernorm_eps_inside_the_square_root",
    "test_layernorm_gradients",
}
BLOCK_TESTS = {"test_pre_ln_block", "test_post_ln_block", "test_blocks_around_a_silent_sublayer"}

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "unbiased_variance": (
        {"layernorm": layer_norm(variance="torch.var(h, dim={dim}, keepdim=True)")},  # divides by d - 1
        LAYER_NORM_TESTS | {"test_pre_ln_block", "test_post_ln_block"},
    ),
    "eps_outside_the_square_root": (
        {"layernorm": layer_norm(normalized="(h - mu) / (torch.sqrt(var) + self.eps)")},
        {"test_layernorm_eps_inside_the_square_root"},
    ),
    "layernorm_without_eps": (
        {"layernorm": layer_norm(normalized="(h - mu) / torch.sqrt(var)")},     # 0 / 0 on constant rows
        {"test_layernorm_eps_inside_the_square_root", "test_layernorm_constant_rows"},
    ),
    "normalizes_over_dim_1": (
        {"layernorm": layer_norm(dim="1"), "rmsnorm": rms_norm(dim="1")},    # right only for 2-D inputs
        {"test_layernorm_matches_torch", "test_layernorm_gradients", "test_layernorm_half_precision",
         "test_rmsnorm_matches_torch", "test_rmsnorm_gradients", "test_rmsnorm_half_precision", "test_pre_ln_block"},
    ),
    "rmsnorm_subtracts_the_mean": (
        {"rmsnorm": rms_norm(centred="h - h.mean(dim=-1, keepdim=True)")},     # that is LayerNorm without bias
        {"test_rmsnorm_matches_torch", "test_rmsnorm_eps_and_zero_rows", "test_rmsnorm_gradients"},
    ),
    "rmsnorm_without_eps": (
        {"rmsnorm": rms_norm(rms="torch.sqrt(h.pow(2).mean(dim={dim}, keepdim=True))")},
        {"test_rmsnorm_eps_and_zero_rows"},
    ),
    "statistics_in_half_precision": (
        {"layernorm": layer_norm(upcast="x"), "rmsnorm": rms_norm(upcast="x")},   # squares overflow float16
        {"test_layernorm_half_precision", "test_rmsnorm_half_precision"},
    ),
    "returns_float32_for_half_inputs": (
        {"layernorm": layer_norm(result="y"), "rmsnorm": rms_norm(result="y")},
        {"test_layernorm_half_precision", "test_rmsnorm_half_precision"},
    ),
    "pre_and_post_swapped": (
        blocks(pre=POST, post=PRE),
        BLOCK_TESTS,
    ),
    "pre_ln_without_the_residual": (
        blocks(pre="self.sublayer(self.norm(x))"),
        {"test_pre_ln_block", "test_blocks_around_a_silent_sublayer"},
    ),
    "layernorm_without_bias": (
        {"layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(((x - mu) ** 2).mean(-1, keepdim=True) + self.eps) * self.weight
'''},
        {"test_layernorm_parameters", "test_layernorm_matches_torch", "test_pre_ln_block", "test_post_ln_block"},
    ),
    "calls_torch_layer_norm": (
        {"layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
'''},
        {"test_no_builtin_normalization", "test_layernorm_matches_torch", "test_pre_ln_block"},
    ),
}

# Correct, but written differently from the solution: torch.var_mean and rsqrt,
# statistics always in float64, RMS from the vector norm, and both blocks from
# one base class with a placement flag.
VAR_MEAN_SOLUTION = {
    "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = float(eps)

    def forward(self, x):
        wide = x.double()
        var, mean = torch.var_mean(wide, dim=-1, keepdim=True, correction=0)
        out = torch.addcmul(self.bias.double(), (wide - mean) * torch.rsqrt(var + self.eps), self.weight.double())
        return out.to(x.dtype)
''',
    "rmsnorm": '''
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps
        self.d = d

    def forward(self, x):
        wide = x.double()
        mean_square = torch.linalg.vector_norm(wide, dim=-1, keepdim=True) ** 2 / self.d
        return (self.weight.double() * wide / torch.sqrt(mean_square + self.eps)).to(x.dtype)
''',
    "pre_ln_block": '''
class _Residual(nn.Module):
    norm_first = True

    def __init__(self, d, sublayer):
        super().__init__()
        self.sublayer = sublayer
        self.norm = LayerNorm(d)

    def forward(self, x):
        if self.norm_first:
            return x + self.sublayer(self.norm(x))
        return self.norm(x + self.sublayer(x))


class PreLNBlock(_Residual):
    norm_first = True
''',
    "post_ln_block": '''
class PostLNBlock(_Residual):
    norm_first = False
''',
}

# Correct too: half-precision inputs handled by calling forward again on a
# float32 copy, the standard deviation from torch.std (correction=0), the RMS
# from the vector norm, and blocks written with torch.add.
STD_SOLUTION = {
    "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.d, self.eps = d, eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        if x.dtype in (torch.float16, torch.bfloat16):
            return self.forward(x.float()).type(x.dtype)
        spread = torch.std(x, dim=-1, keepdim=True, correction=0)
        z = (x - x.mean(-1, keepdim=True)) / (spread.square() + self.eps).sqrt()
        return self.bias + self.weight * z
''',
    "rmsnorm": '''
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.d, self.eps = d, eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        if x.dtype in (torch.float16, torch.bfloat16):
            return self.forward(x.float()).type(x.dtype)
        mean_square = x.norm(dim=-1, keepdim=True).square() / self.d
        return self.weight * x * (mean_square + self.eps).rsqrt()
''',
    "pre_ln_block": '''
class PreLNBlock(nn.Module):
    def __init__(self, d, sublayer):
        super().__init__()
        self.norm, self.sublayer = LayerNorm(d), sublayer

    def forward(self, x):
        update = self.sublayer(self.norm(x))
        return torch.add(x, update)
''',
    "post_ln_block": '''
class PostLNBlock(nn.Module):
    def __init__(self, d, sublayer):
        super().__init__()
        self.norm, self.sublayer = LayerNorm(d), sublayer

    def forward(self, x):
        return self.norm(torch.add(x, self.sublayer(x)))
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"var_mean": VAR_MEAN_SOLUTION, "std": STD_SOLUTION}, WRONG
)
