"""The week05/nf4 exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/nf4")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "uniform_int4_grid": (
        # 16 evenly spaced levels -7/8 .. 8/8: an exact zero and 7 + 8 levels, but not normal quantiles
        edited(SOLUTION, "code_book", (
            "levels = torch.cat([lower, torch.zeros(1), upper]).sort().values",
            "levels = torch.arange(-7, 9, dtype=torch.float32)",
        )),
        {
            "test_nf4_levels_match_published_table",
            "test_nf4_levels_are_asymmetric_with_exact_zero",
            "test_nf4_codes_are_nearest_level",
        },
    ),
    "symmetric_code_book": (
        # 8 quantiles on each side, mirrored: symmetric, but no level is 0
        edited(SOLUTION, "code_book",
               ("lower = -normal.icdf(torch.linspace(1 - delta, 0.5, 8)[:-1])", "lower = -upper"),
               ("torch.cat([lower, torch.zeros(1), upper])", "torch.cat([lower, upper])")),
        {
            "test_nf4_levels_match_published_table",
            "test_nf4_levels_are_asymmetric_with_exact_zero",
            "test_nf4_codes_are_nearest_level",
            "test_nf4_zeros_come_back_exactly",
        },
    ),
    "per_tensor_absmax": (
        # one absmax for the whole tensor, repeated for every block
        edited(SOLUTION, "quantize", (
            "scales = blocks.abs().amax(dim=1)",
            "scales = blocks.abs().amax().repeat(blocks.shape[0])",
        )),
        {
            "test_nf4_scales_are_block_absmax",
            "test_nf4_codes_are_nearest_level",
            "test_nf4_round_trip_within_block_bound",
            "test_nf4_grid_values_come_back_exactly",
        },
    ),
    "all_zero_block_divides_by_zero": (
        # 0 / 0 is NaN; argmin over NaN distances picks code 0 (level -1): zero only while the scale is exactly 0
        edited(SOLUTION, "quantize", (
            "divisor = torch.where(scales > 0, scales, torch.ones_like(scales))",
            "divisor = scales",
        )),
        {"test_nf4_all_zero_blocks_give_zeros"},
    ),
    "rounds_on_a_uniform_index": (
        # nearest level found by rounding x onto 16 evenly spaced positions: wrong for a non-uniform grid
        edited(SOLUTION, "quantize", (
            "distances = (normalised[:, :, None] - nf4_code_book()).abs()  # (blocks, block_size, 16)\n"
            "    codes = distances.argmin(dim=-1)",
            "codes = torch.round((normalised + 1) / 2 * 15)",
        )),
        {
            "test_nf4_codes_are_nearest_level",
            "test_nf4_zeros_come_back_exactly",
            "test_nf4_grid_values_come_back_exactly",
        },
    ),
    "nibble_order_swapped": (
        # code 2j in the low nibble: packing and unpacking agree with each other, not with the format
        edited(SOLUTION, "packing",
               ("return (pairs[:, 0] << 4) | pairs[:, 1]", "return pairs[:, 0] | (pairs[:, 1] << 4)"),
               ("torch.stack([high, low], dim=1)", "torch.stack([low, high], dim=1)")),
        {"test_nf4_nibble_order"},
    ),
    "bytes_forget_the_scales": (
        # counts the packed codes only
        edited(SOLUTION, "memory", ("return code_bytes + 4 * blocks  # one float32 absmax per block", "return code_bytes")),
        {"test_nf4_bytes_match_real_tensors"},
    ),
}

# Correct, written differently: the levels from scipy in float64 (the lower tail read directly),
# the nearest level by bucketing on the midpoints, a guard by a tiny divisor, arithmetic packing,
# and the bytes counted in bits.
SCIPY_BUCKETS = {
    "code_book": '''
def nf4_code_book():
    import numpy as np
    from scipy.stats import norm
    d = (1 / 32 + 1 / 30) / 2
    top = norm.ppf(np.linspace(1 - d, 0.5, 9))[:8]      # decreasing, positive
    bottom = norm.ppf(np.linspace(d, 0.5, 8))[:7]       # increasing, negative
    values = np.concatenate([bottom, [0.0], top[::-1]]) / top[0]
    return torch.tensor(values, dtype=torch.float32)
''',
    "quantize": '''
def quantize_nf4(w, block_size=64):
    flat = w.reshape(-1).float()
    if flat.numel() % block_size:
        raise ValueError("the size is not a multiple of block_size")
    groups = flat.view(-1, block_size)
    amax = groups.abs().max(dim=1).values
    x = groups / amax.clamp_min(torch.finfo(torch.float32).tiny)[:, None]
    book = nf4_code_book()
    midpoints = (book[1:] + book[:-1]) / 2
    return torch.bucketize(x, midpoints).to(torch.uint8).reshape(-1), amax


def dequantize_nf4(codes, scales, shape, block_size=64):
    values = torch.index_select(nf4_code_book(), 0, codes.long()).view(-1, block_size)
    return values.mul(scales.view(-1, 1)).view(*shape)
''',
    "packing": '''
def pack_nibbles(codes):
    c = codes.to(torch.int32)
    return (c[0::2] * 16 + c[1::2]).to(torch.uint8)


def unpack_nibbles(packed):
    out = torch.empty(2 * packed.numel(), dtype=torch.uint8)
    out[0::2] = packed // 16
    out[1::2] = packed % 16
    return out
''',
    "memory": '''
def nf4_bytes(numel, block_size=64, double_quant=False):
    blocks = numel // block_size
    bits = 4 * numel
    if double_quant:
        bits += 8 * blocks + 32 * -(-blocks // 256)
    else:
        bits += 32 * blocks
    return bits // 8
''',
}

# Correct too: numpy in float64 for the search (np.searchsorted on the midpoints), the levels
# from torch in float64, dequantization in float64 cast back, and bit operations in numpy.
NUMPY_SEARCH = {
    "code_book": '''
def nf4_code_book():
    icdf = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0).icdf
    delta = 0.5 * (1 / 32 + 1 / 30)
    pos = icdf(torch.linspace(0.5, 1 - delta, 9, dtype=torch.float64)[1:])
    neg = icdf(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])
    book = torch.cat([neg, torch.zeros(1, dtype=torch.float64), pos])
    return (book / pos[-1]).float()
''',
    "quantize": '''
import numpy as np


def quantize_nf4(w, block_size=64):
    a = w.detach().numpy().astype(np.float64).ravel()
    if a.size % block_size != 0:
        raise ValueError(f"cannot cut {a.size} values into blocks of {block_size}")
    a = a.reshape(-1, block_size)
    amax = np.abs(a).max(axis=1)
    x = np.divide(a, amax[:, None], out=np.zeros_like(a), where=amax[:, None] > 0)
    levels = nf4_code_book().double().numpy()
    codes = np.searchsorted((levels[1:] + levels[:-1]) / 2, x, side="left")
    return torch.from_numpy(codes.astype(np.uint8).ravel()), torch.from_numpy(amax.astype(np.float32))


def dequantize_nf4(codes, scales, shape, block_size=64):
    levels = nf4_code_book().double().numpy()
    vals = levels[codes.numpy().astype(np.int64)].reshape(-1, block_size) * scales.double().numpy()[:, None]
    return torch.from_numpy(vals.astype(np.float32).reshape(tuple(shape)))
''',
    "packing": '''
def pack_nibbles(codes):
    a = codes.numpy().astype(np.uint8)
    return torch.from_numpy((a[0::2] << 4) | a[1::2])


def unpack_nibbles(packed):
    a = packed.numpy()
    return torch.from_numpy(np.column_stack([a >> 4, a & 15]).ravel().astype(np.uint8))
''',
    "memory": '''
def nf4_bytes(numel, block_size=64, double_quant=False):
    n_scales = numel // block_size
    scale_bytes = n_scales + 4 * math.ceil(n_scales / 256) if double_quant else 4 * n_scales
    return numel // 2 + scale_bytes
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"scipy_buckets": SCIPY_BUCKETS, "numpy_search": NUMPY_SEARCH}, WRONG
)
