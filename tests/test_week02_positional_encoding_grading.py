"""The week02/positional_encoding exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week02/positional_encoding")
SOLUTION = EXERCISE.source_path

SIN_TEMPLATE = '''
def sinusoidal_encoding(n_positions, d_model):
    if d_model % 2:
        raise ValueError("odd d_model")
    pos = torch.arange(n_positions, dtype=torch.float32)[:, None]
    div = 10000.0 ** ({exponent})
    table = torch.zeros(n_positions, d_model)
    {fill}
    return table
'''


def sinusoidal(exponent="torch.arange(0, d_model, 2) / d_model",
               fill="table[:, 0::2] = torch.sin(pos / div)\n    table[:, 1::2] = torch.cos(pos / div)"):
    return SIN_TEMPLATE.format(exponent=exponent, fill=fill)


ROPE_TEMPLATE = '''
def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


def apply_rope(x, positions=None, base=10000.0):
    d = x.shape[-1]
    if d % 2:
        raise ValueError("odd feature size")
    if {ignore_positions} or positions is None:
        positions = torch.arange(x.shape[-2])
    dtype = {angle_dtype}
    inv_freq = 1.0 / base ** ({exponent})
    angles = positions.to(dtype)[..., None] * inv_freq
    {layout}
    return {combine}
'''

HALF_SPLIT_LAYOUT = "angles = torch.cat([angles, angles], dim=-1)"
INTERLEAVED_LAYOUT = "angles = angles.repeat_interleave(2, dim=-1)"
HALF_SPLIT_COMBINE = "x * torch.cos(angles).to(x.dtype) + rotate_half(x) * torch.sin(angles).to(x.dtype)"
# Interleaved pairs (2j, 2j + 1), as in RoFormer and Meta's Llama code.
INTERLEAVED_COMBINE = (
    "(x * torch.cos(angles).to(x.dtype) + torch.stack([-x[..., 1::2], x[..., 0::2]], dim=-1).flatten(-2)"
    " * torch.sin(angles).to(x.dtype))"
)


def rope(ignore_positions="False", angle_dtype="torch.float64 if x.dtype == torch.float64 else torch.float32",
         exponent="torch.arange(0, d, 2, dtype=dtype) / d", layout=HALF_SPLIT_LAYOUT, combine=HALF_SPLIT_COMBINE):
    return ROPE_TEMPLATE.format(ignore_positions=ignore_positions, angle_dtype=angle_dtype, exponent=exponent,
                                layout=layout, combine=combine)


ALIBI_TEMPLATE = '''
def alibi_slopes(n_heads):
    {slopes}


def alibi_bias(n_heads, seq_len):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    distance = {distance}
    return {sign} alibi_slopes(n_heads)[:, None, None] * distance
'''

PAPER_SLOPES = '''p = 2 ** int(math.log2(n_heads))
    slopes = [2 ** (-8 * h / p) for h in range(1, p + 1)]
    twice = [2 ** (-8 * h / (2 * p)) for h in range(1, 2 * p + 1)]
    slopes += twice{pick}[: n_heads - p]
    return torch.tensor(slopes)'''


def alibi(slopes=PAPER_SLOPES.format(pick="[0::2]"), distance="(i - j) * (j <= i)", sign="-"):
    return ALIBI_TEMPLATE.format(slopes=slopes, distance=distance, sign=sign)


# Each wrong submission: the cells it replaces and the hidden tests it must fail.
WRONG = {
    "sinusoidal_sin_and_cos_swapped": (
        {"sinusoidal": sinusoidal(fill="table[:, 0::2] = torch.cos(pos / div)\n    table[:, 1::2] = torch.sin(pos / div)")},
        {"test_sin_shape_dtype_and_first_row", "test_sin_matches_vaswani_formula"},
    ),
    "sinusoidal_exponent_i_over_d": (
        {"sinusoidal": sinusoidal(exponent="torch.arange(d_model // 2) / d_model")},   # 10000^(i/d), not ^(2i/d)
        {"test_sin_matches_vaswani_formula"},
    ),
    "sinusoidal_sines_then_cosines": (
        {"sinusoidal": sinusoidal(fill="table[:] = torch.cat([torch.sin(pos / div), torch.cos(pos / div)], dim=-1)")},
        {"test_sin_shape_dtype_and_first_row", "test_sin_matches_vaswani_formula"},
    ),
    "rope_frequency_exponent_j_over_d": (
        {"rope": rope(exponent="torch.arange(0, d // 2, dtype=dtype) / d")},         # base^(-j/d), not ^(-2j/d)
        {"test_rope_matches_half_split_reference", "test_rope_explicit_positions", "test_rope_gradients"},
    ),
    "rope_mixes_the_two_conventions": (
        {"rope": rope(layout=INTERLEAVED_LAYOUT)},    # interleaved angles, half-split partner coordinates
        {
            "test_rope_preserves_norms",
            "test_rope_scores_depend_on_offset_only",
            "test_rope_matches_half_split_reference",
            "test_rope_explicit_positions",
            "test_rope_gradients",
        },
    ),
    "rope_interleaved_convention": (
        {"rope": rope(layout=INTERLEAVED_LAYOUT, combine=INTERLEAVED_COMBINE)},   # right RoPE, other pairing
        {"test_rope_matches_half_split_reference", "test_rope_explicit_positions", "test_rope_gradients"},
    ),
    "rope_ignores_positions": (
        {"rope": rope(ignore_positions="True")},
        {
            "test_rope_keeps_shape_and_position_zero",
            "test_rope_matches_half_split_reference",
            "test_rope_explicit_positions",
            "test_rope_gradients",
        },
    ),
    "rope_angles_in_float32_for_float64_inputs": (
        {"rope": rope(angle_dtype="torch.float32")},
        {
            "test_rope_preserves_norms",
            "test_rope_scores_depend_on_offset_only",
            "test_rope_matches_half_split_reference",
            "test_rope_gradients",
        },
    ),
    "alibi_slopes_2_to_the_minus_8h_over_n_for_every_n": (
        {"alibi": alibi(slopes="return torch.tensor([2 ** (-8 * h / n_heads) for h in range(1, n_heads + 1)])")},
        {"test_alibi_slopes_other_head_counts", "test_alibi_bias_entries"},
    ),
    "alibi_slopes_extra_heads_from_the_wrong_half": (
        {"alibi": alibi(slopes=PAPER_SLOPES.format(pick="[1::2]"))},   # repeats slopes that are already there
        {"test_alibi_slopes_other_head_counts", "test_alibi_bias_entries"},
    ),
    "alibi_bias_sign_flipped": (
        {"alibi": alibi(sign="")},
        {"test_alibi_bias_entries", "test_alibi_bias_is_a_distance_penalty"},
    ),
    "alibi_bias_symmetric_above_the_diagonal": (
        {"alibi": alibi(distance="(i - j).abs()")},
        {"test_alibi_bias_entries"},
    ),
}

# Correct, but written differently from the solution: the table by stacking
# (sin, cos) and flattening, RoPE with Hugging Face's rotate_half layout, slopes
# from the closed form, biases with tril.
ROTATE_HALF_SOLUTION = {
    "sinusoidal": '''
def sinusoidal_encoding(n_positions, d_model):
    if d_model % 2 == 1:
        raise ValueError("d_model must be even")
    freq = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    angle = torch.outer(torch.arange(n_positions, dtype=torch.float32), freq)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(n_positions, d_model)
''',
    "rope": rope(),
    "alibi": '''
def alibi_slopes(n_heads):
    p = 1
    while 2 * p <= n_heads:
        p *= 2
    main = 2.0 ** (-8.0 / p * torch.arange(1, p + 1, dtype=torch.float64))
    if p == n_heads:
        return main
    extra = 2.0 ** (-4.0 / p * torch.arange(1, 2 * (n_heads - p), 2, dtype=torch.float64))
    return torch.cat([main, extra])


def alibi_bias(n_heads, seq_len):
    offsets = torch.arange(seq_len)[None, :] - torch.arange(seq_len)[:, None]      # j - i
    return torch.tril(alibi_slopes(n_heads)[:, None, None] * offsets)
''',
}

# Correct too: RoPE with complex numbers built from the two halves, the table
# filled column pair by column pair in float64.
COMPLEX_SOLUTION = {
    "sinusoidal": '''
def sinusoidal_encoding(n_positions, d_model):
    if d_model % 2 != 0:
        raise ValueError(f"need an even d_model, got {d_model}")
    out = torch.zeros(n_positions, d_model, dtype=torch.float64)
    p = torch.arange(n_positions, dtype=torch.float64)
    for i in range(d_model // 2):
        out[:, 2 * i] = torch.sin(p / 10000 ** (2 * i / d_model))
        out[:, 2 * i + 1] = torch.cos(p / 10000 ** (2 * i / d_model))
    return out.float()
''',
    "rope": '''
def apply_rope(x, positions=None, base=10000.0):
    d = x.shape[-1]
    if d % 2 != 0:
        raise ValueError("apply_rope needs an even last dimension")
    if positions is None:
        positions = torch.arange(x.shape[-2])
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    theta = torch.tensor([base ** (-2 * j / d) for j in range(d // 2)], dtype=work)
    phase = torch.polar(torch.ones((), dtype=work), positions.to(work).unsqueeze(-1) * theta)
    z = torch.complex(x[..., : d // 2].to(work), x[..., d // 2 :].to(work)) * phase
    return torch.cat([z.real, z.imag], dim=-1).to(x.dtype)
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"rotate_half": ROTATE_HALF_SOLUTION, "complex": COMPLEX_SOLUTION}, WRONG
)
