"""Hidden tests for zero-point (asymmetric) int8 (grade cell ``test_quant_zeropoint``).

References: torch's MinMaxObserver / PerChannelMinMaxObserver (qint8, affine) for
scale and zero point, torch.quantize_per_tensor / per_channel for the codes.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")


def tensors(seed):
    """Mixed-sign, all-positive (ReLU-like, with exact zeros), all-negative and shifted inputs."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(24, 40, generator=gen)
    return {
        "mixed-sign": base * 0.7 + 0.2,
        "ReLU-like": torch.relu(base) * 2,
        "all-negative": -(base.abs() + 0.5),
        "all-positive shifted": base.abs() + 3.0,
    }


def check_zero_point(zp, what):
    zp = ref.as_tensor(zp, what)
    check(not zp.dtype.is_floating_point, f"{what} must be an integer tensor, got {zp.dtype}")
    check(bool(((zp >= -128) & (zp <= 127)).all()), f"{what} must lie in [-128, 127]")
    return zp


@points(1)
def test_zeropoint_matches_torch_observer(submission):
    """Per tensor: scale and zero point equal torch's min-max observer for affine int8, and the codes equal torch.quantize_per_tensor's."""
    for i, (name, w) in enumerate(tensors(700).items()):
        q, scale, zp = submission.quantize_zeropoint_int8(w)
        check(isinstance(q, torch.Tensor) and q.dtype == torch.int8, "the codes must be a torch.int8 tensor")
        ref_scale, ref_zp = ref.observer_qparams(w)
        scale = ref.keepdim_scale(scale, w, None, f"the scale of the {name} tensor")
        zp = check_zero_point(zp, f"the zero point of the {name} tensor").reshape(())
        assert_close(scale.to(torch.float32), ref_scale.reshape(()), f"the scale of the {name} tensor")
        check(int(zp) == int(ref_zp), f"the zero point of the {name} tensor differs from the min-max observer's")
        expected = ref.torch_codes_per_tensor(w, ref_scale, ref_zp)
        ref.codes_agree(q, expected, w.double() / scale.double(), f"the codes of the {name} tensor")


@points(1)
def test_zero_is_exactly_representable(submission):
    """Zero is exactly representable: exact zeros in the input (ReLU outputs, padding) dequantize to exactly 0.0, per tensor and per channel."""
    gen = torch.Generator().manual_seed(710)
    for name, w in tensors(711).items():
        w = w.clone()
        w[torch.rand(w.shape, generator=gen) < 0.2] = 0.0
        for axis in (None, 0, 1):
            q, scale, zp = submission.quantize_zeropoint_int8(w, axis=axis)
            check_zero_point(zp, f"the zero point ({name}, axis={axis})")
            back = submission.dequantize_int8(q, scale, zp)
            check(bool((back[w == 0] == 0).all()), f"zeros of the {name} tensor (axis={axis}) must come back as exactly 0.0")


@points(1)
def test_zeropoint_per_channel_and_round_trip(submission):
    """With axis=k the scales and zero points equal torch's per-channel min-max observer, and a round trip stays within half a step."""
    for i, (name, w) in enumerate(tensors(720).items()):
        for axis in (0, 1):
            q, scale, zp = submission.quantize_zeropoint_int8(w, axis=axis)
            flat = ref.keepdim_scale(scale, w, axis, f"the scale ({name}, axis={axis})")
            zp_flat = check_zero_point(zp, f"the zero point ({name}, axis={axis})").reshape(-1)
            ref_scale, ref_zp = ref.observer_qparams(w, axis)
            assert_close(flat.to(torch.float32), ref_scale.to(torch.float32), f"the scales ({name}, axis={axis})")
            check(torch.equal(zp_flat.to(torch.int64), ref_zp.to(torch.int64)),
                  f"the zero points ({name}, axis={axis}) differ from the per-channel observer's")
            back = submission.dequantize_int8(q, scale, zp)
            ref.within_half_step(w, back, torch.broadcast_to(scale, w.shape), f"a round trip ({name}, axis={axis})")
