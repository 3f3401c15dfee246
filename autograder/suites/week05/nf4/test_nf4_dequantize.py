"""Hidden tests for dequantize_nf4 and the round trip (grade cell ``test_nf4_dequantize``).

The bound: a value moves to its nearest level, so in block b its error is at most
s_b times the largest half-gap between neighbouring published levels.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check, tolerance

ref = suite_helper(__file__, "_nf4_reference.py")
RTOL, ATOL = tolerance(torch.float32)


@points(1)
def test_nf4_dequantize_is_level_times_scale(submission):
    """dequantize_nf4 maps code c of block b to level c times scale b, for any codes and scales, in the given shape."""
    gen = torch.Generator().manual_seed(200)
    for shape, block in (((8, 64), 64), ((4, 6, 32), 32), ((2048,), 128)):
        numel = torch.Size(shape).numel()
        codes = torch.randint(16, (numel,), generator=gen).to(torch.uint8)
        scales = torch.rand(numel // block, generator=gen) * 0.1
        back = ref.checked_dequantize(submission, codes, scales, shape, block)
        want = (ref.PUBLISHED[codes.long()].reshape(-1, block) * scales[:, None]).reshape(shape)
        assert_close(back, want, f"dequantized codes, shape {shape}, blocks of {block}")


@points(1)
def test_nf4_round_trip_within_block_bound(submission):
    """After a round trip every value is within its block's absmax times the largest half-gap between neighbouring levels, for Gaussian, heavy-tailed and mixed-scale weights."""
    for label, w, block in (
        ("Gaussian, blocks of 64", ref.gaussian((64, 64), 210, 0.02), 64),
        ("Student-t, blocks of 64", ref.student_t((64, 64), 211), 64),
        ("Student-t, blocks of 128", ref.student_t((32, 128), 212), 128),
        ("mixed scales, blocks of 32", ref.mixed_scales(200, 32, 213), 32),
    ):
        codes, scales = ref.checked_quantize(submission, w, block)
        back = ref.checked_dequantize(submission, codes, scales, w.shape, block)
        absmax = w.reshape(-1, block).abs().amax(dim=1, keepdim=True).to(torch.float64)
        bound = absmax * ref.HALF_GAP * (1 + RTOL) + ATOL * absmax
        err = (back.to(torch.float64) - w.to(torch.float64)).reshape(-1, block).abs()
        over = err > bound
        check(not bool(over.any()), f"{label}: {int(over.sum())} of {w.numel()} values moved farther than their block's bound")


@points(1)
def test_nf4_grid_values_come_back_exactly(submission):
    """Blocks made of your NF4 levels times a constant (one constant per block) come back exactly after a round trip."""
    levels = ref.as_tensor(submission.nf4_code_book(), "the code book")
    check(levels.dtype == torch.float32 and tuple(levels.shape) == (16,), "the code book must be 16 float32 values")
    gen = torch.Generator().manual_seed(220)
    for block in (64, 32, 16):
        n_blocks = 12
        per_block = levels.repeat(block // 16)
        order = torch.argsort(torch.rand(n_blocks, block, generator=gen), dim=1)
        constants = 10 ** (torch.rand(n_blocks, 1, generator=gen) * 4 - 3)
        w = per_block[order] * constants  # float32: level times constant, as dequantization computes it
        codes, scales = ref.checked_quantize(submission, w, block)
        back = ref.checked_dequantize(submission, codes, scales, w.shape, block)
        wrong = back != w
        check(not bool(wrong.any()), f"blocks of {block}: {int(wrong.sum())} of {w.numel()} grid values did not come back exactly")
