"""Hidden tests for outliers, per tensor vs per channel (grade cell ``test_quant_outliers``)."""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")


def with_outlier(seed, rows=32, cols=64, size=100.0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=gen) * 0.02
    w_out = w.clone()
    r, c = int(torch.randint(rows, (), generator=gen)), int(torch.randint(cols, (), generator=gen))
    w_out[r, c] = size * w.abs().max()
    return w, w_out, r


def quantizers(submission):
    return {
        "absmax": lambda w, axis: submission.dequantize_int8(*submission.quantize_absmax_int8(w, axis=axis)),
        "zero-point": lambda w, axis: submission.dequantize_int8(*submission.quantize_zeropoint_int8(w, axis=axis)),
    }


@points(1)
def test_outlier_stays_in_its_channel(submission):
    """One outlier weight changes nothing in the other rows under per-row scales, but degrades every row under one scale per tensor."""
    for seed in (800, 801):
        w, w_out, r = with_outlier(seed)
        keep = torch.arange(w.shape[0]) != r
        for name, round_trip in quantizers(submission).items():
            assert_close(round_trip(w_out, 0)[keep], round_trip(w, 0)[keep],
                         f"{name}, axis=0: the rows without the outlier")
            err_tensor = (round_trip(w_out, None) - w_out)[keep].abs().mean()
            err_rows = (round_trip(w_out, 0) - w_out)[keep].abs().mean()
            check(bool(err_rows * 20 < err_tensor),
                  f"{name}: per-row scales must cut the other rows' error far below one scale per tensor")


@points(1)
def test_each_channel_is_quantized_on_its_own(submission):
    """Per-channel codes of each row (axis=0) or column (axis=1) are the codes of that slice quantized alone, even when slices differ by orders of magnitude."""
    gen = torch.Generator().manual_seed(810)
    w = torch.randn(6, 40, generator=gen) * torch.logspace(-3, 2, 6)[:, None]
    for axis in (0, 1):
        for name, fn in (("absmax", submission.quantize_absmax_int8), ("zero-point", submission.quantize_zeropoint_int8)):
            codes = fn(w, axis=axis)[0]
            for i in range(w.shape[axis]):
                piece = w.select(axis, i)
                alone = fn(piece.contiguous())[0]
                check(torch.equal(codes.select(axis, i).to(torch.int64), alone.to(torch.int64)),
                      f"{name}, axis={axis}: slice {i} must be quantized as if it were alone")
