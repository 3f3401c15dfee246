"""Hidden tests for absmax (symmetric) int8 (grade cell ``test_quant_absmax``).

References: scale = max|w| / 127 and torch.quantize_per_tensor / quantize_per_channel
with zero point 0 for the codes, on seeded random weights of several shapes.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")

SHAPES = [(7,), (16, 32), (3, 5, 8), (64, 96)]


def weights(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen) * torch.rand((), generator=gen) * 3


@points(1)
def test_absmax_per_tensor_matches_torch(submission):
    """Per tensor: the scale is max|w| / 127 and the int8 codes are torch.quantize_per_tensor's with zero point 0."""
    for i, shape in enumerate(SHAPES):
        w = weights(shape, 600 + i)
        q, scale = submission.quantize_absmax_int8(w)
        check(isinstance(q, torch.Tensor) and q.dtype == torch.int8, "the codes must be a torch.int8 tensor")
        scale = ref.keepdim_scale(scale, w, None, "the per-tensor scale")
        assert_close(scale.to(torch.float32), w.abs().max() / 127, f"the scale of a {shape} weight")
        expected = ref.torch_codes_per_tensor(w, scale, 0)
        ref.codes_agree(q, expected, w.double() / scale.double(), f"the codes of a {shape} weight")


@points(1)
def test_absmax_per_channel_matches_torch(submission):
    """With axis=k there is one scale per index along k (size-1 dims elsewhere), and the codes are torch.quantize_per_channel's."""
    for i, (shape, axis) in enumerate([((16, 32), 0), ((16, 32), 1), ((16, 32), -1), ((3, 5, 8), 1), ((64, 96), 0)]):
        w = weights(shape, 610 + i)
        q, scale = submission.quantize_absmax_int8(w, axis=axis)
        flat = ref.keepdim_scale(scale, w, axis, f"the scale of a {shape} weight")
        others = [d for d in range(w.dim()) if d != axis % w.dim()]
        assert_close(flat.to(torch.float32), w.abs().amax(dim=others) / 127, f"the scales of a {shape} weight, axis={axis}")
        expected = ref.torch_codes_per_channel(w, flat, torch.zeros(flat.numel()), axis % w.dim())
        ref.codes_agree(q, expected, w.double() / scale.double(), f"the codes of a {shape} weight, axis={axis}")


@points(1)
def test_absmax_round_trip_within_half_step(submission):
    """Dequantized weights are within half a step (scale / 2) of the originals, the extremes come back at +-127 steps, and an all-zero tensor stays zero."""
    for i, (shape, axis) in enumerate([((16, 32), None), ((64, 96), 0), ((3, 5, 8), 2)]):
        w = weights(shape, 620 + i)
        q, scale = submission.quantize_absmax_int8(w, axis=axis)
        back = submission.dequantize_int8(q, scale)
        ref.within_half_step(w, back, torch.broadcast_to(torch.as_tensor(scale), w.shape), f"a round trip of a {shape} weight")
        check(int(q.to(torch.int64).abs().max()) == 127, "the weight of largest magnitude must map to code +-127")
    zeros = torch.zeros(4, 8)
    for axis in (None, 0):
        q, scale = submission.quantize_absmax_int8(zeros, axis=axis)
        check(bool(torch.isfinite(torch.as_tensor(scale)).all()), "an all-zero tensor must get a finite scale")
        assert_close(submission.dequantize_int8(q, scale), zeros, "an all-zero tensor after a round trip")
