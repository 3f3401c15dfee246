"""The week06/quantization exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks. (tests/test_every_exercise.py grades the solution and
the released stub.)
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week06/quantization")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "absmax_scale_over_128": (
        # divides by 128 "because int8 goes to -128": the largest weight lands on 128 and is clipped to 127
        edited(SOLUTION, "int8", ('"amax") / 127', '"amax") / 128')),
        {"test_absmax_per_tensor_matches_torch", "test_absmax_per_channel_matches_torch",
         "test_absmax_round_trip_within_half_step"},
    ),
    "zero_point_not_rounded": (
        # a float zero point: the codes are truncated to int8 and 0.0 no longer has a code of its own
        edited(SOLUTION, "int8", (
            "zero_point = (-128 - torch.round(low / scale)).clamp(-128, 127).to(torch.int32)",
            "zero_point = -128 - low / scale",
        )),
        {"test_zeropoint_matches_torch_observer", "test_zero_is_exactly_representable",
         "test_zeropoint_per_channel_and_round_trip"},
    ),
    "groups_down_the_columns": (
        # groups of consecutive rows (the weight read as (in, out)): right count of scales, wrong weights in each
        {"groupwise": '''
def quantize_groupwise(w, group_size, bits=4):
    rows, cols = w.shape
    if rows % group_size != 0 or cols % group_size != 0:
        raise ValueError("shape does not split into groups")
    top = 2**bits - 1
    groups = w.T.reshape(cols, rows // group_size, group_size)
    low = groups.amin(dim=-1).clamp(max=0)
    high = groups.amax(dim=-1).clamp(min=0)
    scale = (high - low) / top
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero = torch.round(-low / scale).clamp(0, top)
    q = (torch.round(groups / scale[..., None]) + zero[..., None]).clamp(0, top)
    return q.reshape(cols, rows).T.to(torch.uint8), scale, zero


def dequantize_groupwise(q, scale, zero, group_size):
    rows, cols = q.shape
    groups = q.T.to(torch.float32).reshape(cols, rows // group_size, group_size)
    return ((groups - zero[..., None]) * scale[..., None]).reshape(cols, rows).T
'''},
        {"test_groupwise_matches_reference", "test_groups_run_along_each_row"},
    ),
    "q4_0_nibbles_interleaved": (
        # neighbours share a byte (value 2j low, 2j + 1 high): round trips, but it is not Q4_0
        {"q4_0": '''
def pack_q4_0(w):
    x = w.detach().to(torch.float32).reshape(-1)
    if x.numel() % 32 != 0:
        raise ValueError("Q4_0 needs a multiple of 32 values")
    blocks = x.reshape(-1, 32)
    d = blocks.gather(1, blocks.abs().argmax(dim=1, keepdim=True)) / -8
    inv = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    codes = torch.trunc(blocks * inv + 8.5).clamp(0, 15).to(torch.uint8)
    packed = codes[:, 0::2] | (codes[:, 1::2] << 4)
    return torch.cat([d.to(torch.float16).view(torch.uint8), packed], dim=1).reshape(-1)


def unpack_q4_0(data, n):
    raw = data.reshape(-1, 18)
    d = raw[:, :2].contiguous().view(torch.float16).to(torch.float32)
    codes = torch.stack([raw[:, 2:] & 0x0F, raw[:, 2:] >> 4], dim=2).reshape(-1, 32)
    return ((codes.to(torch.float32) - 8) * d).reshape(-1)
'''},
        {"test_q4_0_bytes_match_llama_cpp", "test_q4_0_unpack_matches_llama_cpp"},
    ),
    "q4_0_scale_from_absolute_max": (
        # d = max|x| / 8, always positive: uses codes 0..15 but not llama.cpp's sign convention
        edited(SOLUTION, "q4_0", ("d = blocks.gather(1, first_largest) / -8", "d = blocks.abs().amax(dim=1, keepdim=True) / 8")),
        {"test_q4_0_bytes_match_llama_cpp"},
    ),
    "gptq_without_error_propagation": (
        # rounds column by column but never updates the columns to come: this is round-to-nearest
        edited(SOLUTION, "gptq", ("W[:, i + 1:] -= err[:, None] * U[i, i + 1:][None, :]", "pass")),
        {"test_gptq_beats_rtn_on_held_out_outputs"},
    ),
}

# Correct, written differently: loops over groups and rows, struct-free byte building
# with numpy, and GPTQ in its original "optimal brain quantization" form that updates
# the inverse Hessian explicitly after each column instead of using its Cholesky factor.
ALTERNATIVE = {
    "int8": '''
def _slice_reduce(x, axis, how):
    if axis is None:
        return getattr(x, how)()
    axis = axis % x.dim()
    moved = x.movedim(axis, 0).reshape(x.shape[axis], -1)
    shape = [1] * x.dim()
    shape[axis] = x.shape[axis]
    return getattr(moved, how)(dim=1).reshape(shape)


def quantize_absmax_int8(w, axis=None):
    w = w.float()
    amax = _slice_reduce(w.abs(), axis, "amax")
    scale = torch.where(amax == 0, torch.tensor(1.0), amax / 127.0)
    return torch.clamp((w / scale).round(), min=-127, max=127).to(torch.int8), scale


def quantize_zeropoint_int8(w, axis=None):
    w = w.float()
    lo = torch.minimum(_slice_reduce(w, axis, "amin"), torch.tensor(0.0))
    hi = torch.maximum(_slice_reduce(w, axis, "amax"), torch.tensor(0.0))
    scale = (hi - lo) / 255.0
    scale[scale == 0] = 1.0
    zp = torch.clamp(-128 - (lo / scale).round(), -128, 127).long()
    q = torch.clamp((w / scale + zp).round(), -128, 127)
    return q.to(torch.int8), scale, zp


def dequantize_int8(q, scale, zero_point=0):
    return scale * (q.float() - zero_point)
''',
    "groupwise": '''
def quantize_groupwise(w, group_size, bits=4):
    rows, cols = w.shape
    if cols % group_size:
        raise ValueError("columns must be a multiple of group_size")
    top = (1 << bits) - 1
    q = torch.empty(rows, cols, dtype=torch.uint8)
    scale = torch.empty(rows, cols // group_size)
    zero = torch.empty(rows, cols // group_size, dtype=torch.int64)
    for g in range(cols // group_size):
        cols_g = slice(g * group_size, (g + 1) * group_size)
        block = w[:, cols_g].float()
        lo = block.min(dim=1).values.clamp(max=0)
        hi = block.max(dim=1).values.clamp(min=0)
        s = (hi - lo) / top
        s[s == 0] = 1
        z = (-lo / s).round().clamp(0, top)
        scale[:, g], zero[:, g] = s, z.long()
        q[:, cols_g] = ((block / s[:, None]).round() + z[:, None]).clamp(0, top).to(torch.uint8)
    return q, scale, zero


def dequantize_groupwise(q, scale, zero, group_size):
    s = scale.repeat_interleave(group_size, dim=1)
    z = zero.repeat_interleave(group_size, dim=1).float()
    return (q.float() - z) * s
''',
    "q4_0": '''
import numpy as np


def pack_q4_0(w):
    x = w.detach().float().flatten().numpy()
    if x.size % 32:
        raise ValueError("Q4_0 packs blocks of 32 values")
    out = []
    for block in x.reshape(-1, 32):
        m = block[np.argmax(np.abs(block))]
        d = np.float32(m / np.float32(-8))
        inv = np.float32(0) if d == 0 else np.float32(1) / d
        codes = np.minimum(np.trunc(block * inv + np.float32(8.5)), 15).astype(np.uint8)
        out.append(np.frombuffer(np.float16(d).tobytes(), dtype=np.uint8))
        out.append((codes[:16] | (codes[16:] << 4)).astype(np.uint8))
    return torch.from_numpy(np.concatenate(out))


def unpack_q4_0(data, n):
    raw = data.numpy().reshape(-1, 18)
    if n % 32 or raw.shape[0] * 32 != n:
        raise ValueError("wrong number of bytes")
    d = raw[:, :2].copy().view(np.float16).astype(np.float32)
    low, high = raw[:, 2:] & 15, raw[:, 2:] >> 4
    codes = np.concatenate([low, high], axis=1).astype(np.float32) - 8
    return torch.from_numpy((codes * d).reshape(-1))
''',
    "gptq": '''
def gptq_quantize(w, x_calib, bits=4, group_size=32, damp=0.01):
    rows, cols = w.shape
    if cols % group_size:
        raise ValueError("columns must be a multiple of group_size")
    top = 2**bits - 1
    W = w.double().clone()
    X = x_calib.double()
    H = 2 * X.T @ X
    for j in range(cols):
        if H[j, j] == 0:
            H[j, j] = 1
            W[:, j] = 0
    H = H + damp * H.diagonal().mean() * torch.eye(cols, dtype=torch.float64)
    Hinv = torch.linalg.inv(H)
    result = torch.empty_like(W)
    for i in range(cols):
        if i % group_size == 0:
            block = W[:, i:i + group_size]
            lo = block.min(dim=1).values.clamp(max=0)
            hi = block.max(dim=1).values.clamp(min=0)
            s = (hi - lo) / top
            s[s == 0] = 1
            z = (-lo / s).round().clamp(0, top)
        result[:, i] = ((W[:, i] / s).round() + z).clamp(0, top).sub(z).mul(s)
        # optimal brain quantization: move the others by the error times H^-1's row, then drop column i
        delta = (W[:, i] - result[:, i]) / Hinv[i, i]
        W -= delta[:, None] * Hinv[i][None, :]
        Hinv = Hinv - Hinv[:, i:i + 1] @ Hinv[i:i + 1, :] / Hinv[i, i]
    return result.to(w.dtype)
''',
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"loops_numpy_obq": ALTERNATIVE}, WRONG
)
