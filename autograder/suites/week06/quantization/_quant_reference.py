"""Shared pieces of the week06/quantization hidden suite: references, inputs, comparisons.

The int8 references are torch's own quantizers and observers; the Q4_0 reference is
llama.cpp's Python quantizer from the ``gguf`` package; the group-wise reference is
written here from the documented recipe (GPTQ's min-max quantizer), in float64.
"""

import warnings

import numpy as np
import torch

from llmcourse.testing import check, tolerance

RTOL, ATOL = tolerance(torch.float32)


def torch_codes_per_tensor(w, scale, zero_point):
    """int8 codes from torch.quantize_per_tensor (its quantized tensors are deprecated; they still compute)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(w, float(scale), int(zero_point), torch.qint8).int_repr()


def torch_codes_per_channel(w, scales, zero_points, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_channel(
            w, scales.to(torch.float64), zero_points.to(torch.long), axis, torch.qint8
        ).int_repr()


def observer_qparams(w, axis=None):
    """torch's min-max observer for asymmetric int8: (scale, zero_point), flat."""
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if axis is None:
            obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine)
        else:
            obs = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.qint8, qscheme=torch.per_channel_affine)
        obs(w)
        return obs.calculate_qparams()


def as_tensor(x, what):
    check(isinstance(x, torch.Tensor), f"{what} should be a torch tensor, got {type(x).__name__}")
    return x


def codes_agree(got, expected, ratio, what):
    """Integer codes equal, except that a value within 1e-3 of a rounding tie may go either way by one."""
    got = as_tensor(got, what)
    check(tuple(got.shape) == tuple(expected.shape), f"{what} has shape {tuple(got.shape)}, not the weight's shape")
    diff = (got.to(torch.int64) - expected.to(torch.int64)).abs()
    frac = (ratio - torch.floor(ratio)).to(torch.float64)
    near_tie = (frac - 0.5).abs() < 1e-3
    bad = (diff > 1) | ((diff == 1) & ~near_tie)
    check(not bool(bad.any()), f"{what}: {int(bad.sum())} of {got.numel()} codes differ from the reference")


def keepdim_scale(scale, w, axis, what):
    """The scale tensor flattened to one value per channel, after checking its keepdim shape."""
    scale = as_tensor(scale, what)
    if axis is None:
        check(scale.numel() == 1, f"{what} with axis=None must hold one value, it has {scale.numel()}")
        return scale.reshape(())
    want = [1] * w.dim()
    want[axis % w.dim()] = w.shape[axis]
    check(list(scale.shape) == want, f"{what} with axis={axis} has shape {tuple(scale.shape)}, expected {tuple(want)}")
    return scale.reshape(-1)


def within_half_step(w, back, step, what):
    """Every |back - w| <= step / 2, allowing float32 rounding of the arithmetic."""
    back = as_tensor(back, what)
    check(tuple(back.shape) == tuple(w.shape), f"{what} has shape {tuple(back.shape)}, not the weight's shape")
    err = (back.to(torch.float64) - w.to(torch.float64)).abs()
    allowed = step.to(torch.float64) / 2 * (1 + RTOL) + ATOL + RTOL * w.abs().to(torch.float64)
    over = err > allowed
    check(not bool(over.any()), f"{what}: {int(over.sum())} of {w.numel()} values are more than half a step away")


def reference_groupwise(w, group_size, bits):
    """(codes, scale, zero, ratio) of GPTQ's min-max quantizer, groups along each row, in float64."""
    rows, cols = w.shape
    top = 2**bits - 1
    g = w.to(torch.float32).reshape(rows, cols // group_size, group_size)
    lo = torch.minimum(g.min(dim=-1).values, torch.zeros(()))
    hi = torch.maximum(g.max(dim=-1).values, torch.zeros(()))
    scale = (hi - lo) / top
    scale[scale == 0] = 1.0
    zero = torch.clamp(torch.round(-lo / scale), 0, top)
    ratio = g.to(torch.float64) / scale[..., None].to(torch.float64)
    codes = torch.clamp(torch.round(g / scale[..., None]) + zero[..., None], 0, top)
    return codes.reshape(rows, cols), scale, zero, ratio.reshape(rows, cols)


def reference_rtn(w, group_size, bits):
    codes, scale, zero, _ = reference_groupwise(w, group_size, bits)
    rows, cols = w.shape
    step = scale.repeat_interleave(group_size, dim=1)
    return (codes - zero.repeat_interleave(group_size, dim=1)) * step


def calibration_inputs(n, d, seed, outliers=True):
    """Inputs like a transformer layer's: correlated features with a decaying spectrum, a few outlier channels.

    The mixing and the outlier channels are fixed by ``d``; ``seed`` draws the samples, so two
    seeds give a calibration set and a held-out set from one distribution.
    """
    fixed = torch.Generator().manual_seed(1000 + d)
    basis = torch.linalg.qr(torch.randn(d, d, generator=fixed))[0]
    spectrum = torch.logspace(0, -1.5, d)
    channel_scale = torch.ones(d)
    if outliers:
        channel_scale[torch.randperm(d, generator=fixed)[: max(1, d // 16)]] = 10.0
    x = (torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) * spectrum) @ basis.T
    return x * channel_scale


def output_error(x, w, w_hat):
    return float(torch.linalg.norm(x.to(torch.float64) @ (w.to(torch.float64) - w_hat.to(torch.float64)).T))


def gguf_q4_0(values):
    """llama.cpp's Q4_0 bytes for a 1-D float32 array."""
    import gguf.quants as gq

    return gq.quantize(np.asarray(values, dtype=np.float32), gq.GGMLQuantizationType.Q4_0).tobytes()


def gguf_q4_0_values(data):
    import gguf.quants as gq

    return torch.from_numpy(gq.dequantize(np.frombuffer(data, dtype=np.uint8), gq.GGMLQuantizationType.Q4_0).copy())
