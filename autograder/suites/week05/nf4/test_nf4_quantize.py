"""Hidden tests for quantize_nf4 (grade cell ``test_nf4_quantize``).

References: the per-block absmax computed here, and a brute-force nearest-level search
over the published levels in float64 (_nf4_reference.nearest_gap).
"""

import torch

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_nf4_reference.py")


def cases():
    """(label, weights, block size): Gaussian, heavy-tailed and mixed-scale, several shapes and blocks."""
    return [
        ("Gaussian (32, 64), blocks of 64", ref.gaussian((32, 64), 100, 0.02), 64),
        ("Gaussian (8, 16, 12), blocks of 32", ref.gaussian((8, 16, 12), 101), 32),
        ("Student-t (64, 48), blocks of 64", ref.student_t((64, 48), 102), 64),
        ("Student-t (4096,), blocks of 256", ref.student_t((4096,), 103), 256),
        ("mixed scales (2048,), blocks of 16", ref.mixed_scales(128, 16, 104), 16),
        ("mixed scales (6400,), blocks of 64", ref.mixed_scales(100, 64, 105), 64),
    ]


@points(1)
def test_nf4_scales_are_block_absmax(submission):
    """quantize_nf4 returns uint8 codes, one per value in flattened order, and one float32 scale per block equal to that block's largest magnitude."""
    for label, w, block in cases():
        codes, scales = ref.checked_quantize(submission, w, block)
        assert_close(scales, w.reshape(-1, block).abs().amax(dim=1), f"{label}: the scales")


@points(1)
def test_nf4_codes_are_nearest_level(submission):
    """Every value gets the index of the NF4 level nearest to value / block absmax (checked against a brute-force search)."""
    for label, w, block in cases():
        codes, scales = ref.checked_quantize(submission, w, block)
        farther = ref.nearest_gap(w, w.reshape(-1, block).abs().amax(dim=1), codes, block)
        bad = farther > ref.NEAR_TIE
        check(not bool(bad.any()), f"{label}: {int(bad.sum())} of {w.numel()} values did not get their nearest level")


@points(1)
def test_nf4_zeros_come_back_exactly(submission):
    """Zeros inside a block come back as exactly 0.0 after a round trip, wherever they sit in the tensor."""
    w = ref.gaussian((16, 64), 110, 0.05)
    gen = torch.Generator().manual_seed(111)
    w[torch.rand(16, 64, generator=gen) < 0.2] = 0.0
    w[5, :] = 0.0  # a whole row of zeros: one all-zero block of 64
    for block in (64, 32):
        codes, scales = ref.checked_quantize(submission, w, block)
        back = ref.checked_dequantize(submission, codes, scales, w.shape, block)
        zeros = w == 0
        check(bool((back[zeros] == 0).all()), f"blocks of {block}: {int((back[zeros] != 0).sum())} zeros did not come back as exactly 0.0")


@points(1)
def test_nf4_all_zero_blocks_give_zeros(submission):
    """An all-zero block gets scale 0 and the code of the level 0.0 for every value (so it stays zero even if its scale is later stored inexactly), comes back as zeros with no NaN, and leaves the other blocks unchanged; an all-zero tensor too."""
    w = ref.gaussian((6, 64), 120, 0.02)
    w[2] = 0.0
    w[4] = 0.0
    codes, scales = ref.checked_quantize(submission, w, 64)
    check(bool(torch.isfinite(scales).all()), "the scales of all-zero blocks must be finite")
    check(scales[2].item() == 0.0 and scales[4].item() == 0.0, "an all-zero block must get scale 0")
    back = ref.checked_dequantize(submission, codes, scales, w.shape, 64)
    check(bool(torch.isfinite(back).all()), "dequantized all-zero blocks contain NaN or inf")
    check(bool((back[[2, 4]] == 0).all()), "all-zero blocks must come back as exactly 0.0")
    zero_code = int((ref.PUBLISHED < 0).sum())  # the index of the level 0.0 in the sorted code book
    check(bool((codes.reshape(6, 64)[[2, 4]] == zero_code).all()),
          f"every value of an all-zero block must get the code of the level 0.0 ({zero_code})")
    alone, alone_scales = ref.checked_quantize(submission, w[[0, 1, 3, 5]].clone(), 64)
    check(torch.equal(codes.reshape(6, 64)[[0, 1, 3, 5]], alone.reshape(4, 64)),
          "all-zero blocks must not change the codes of the other blocks")
    empty = torch.zeros(4, 32)
    codes, scales = ref.checked_quantize(submission, empty, 32)
    back = ref.checked_dequantize(submission, codes, scales, empty.shape, 32)
    check(bool(torch.isfinite(back).all()) and bool((back == 0).all()), "an all-zero tensor must come back as zeros")


@points(1)
def test_nf4_rejects_uneven_blocks(submission):
    """quantize_nf4 raises ValueError when the number of values is not a multiple of block_size."""
    for shape, block in (((100,), 64), ((3, 50), 64), ((96,), 64)):
        check(learner_raised("ValueError", submission.quantize_nf4, torch.ones(*shape), block_size=block),
              f"a tensor of {torch.Size(shape).numel()} values in blocks of {block} was accepted instead of raising ValueError")
