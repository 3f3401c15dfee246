"""Hidden tests for group-wise quantization (grade cell ``test_quant_groupwise``).

Reference: GPTQ's min-max quantizer with groups of consecutive inputs along each row,
written in _quant_reference.py.
"""

import torch

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")

CASES = [(16, 128, 32, 4), (8, 256, 64, 4), (4, 256, 128, 4), (12, 96, 32, 3), (6, 64, 16, 2), (5, 64, 32, 8)]


def weights(rows, cols, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=gen) * 0.05 + 0.01 * torch.randn(rows, 1, generator=gen)


@points(1)
def test_groupwise_matches_reference(submission):
    """Codes (uint8), scales and zero points equal the min-max recipe per group of consecutive inputs, for group sizes 16 to 128 and 2 to 8 bits; a round trip stays within half a step."""
    for i, (rows, cols, group, bits) in enumerate(CASES):
        w = weights(rows, cols, 900 + i)
        q, scale, zero = submission.quantize_groupwise(w, group, bits)
        what = f"{bits}-bit, groups of {group}"
        check(isinstance(q, torch.Tensor) and q.dtype == torch.uint8, f"{what}: the codes must be a torch.uint8 tensor")
        ref_codes, ref_scale, ref_zero, ratio = ref.reference_groupwise(w, group, bits)
        check(tuple(ref.as_tensor(scale, "scale").shape) == (rows, cols // group),
              f"{what}: the scales of a {(rows, cols)} weight must have shape {(rows, cols // group)}")
        assert_close(scale.to(torch.float32), ref_scale, f"{what}: the scales")
        check(tuple(ref.as_tensor(zero, "zero").shape) == (rows, cols // group), f"{what}: the zero points' shape")
        check(torch.equal(zero.to(torch.float64), ref_zero.to(torch.float64)), f"{what}: the zero points differ from the recipe's")
        ref.codes_agree(q, ref_codes, ratio, f"{what}: the codes")
        back = submission.dequantize_groupwise(q, scale, zero, group)
        ref.within_half_step(w, back, scale.repeat_interleave(group, dim=1), f"{what}: a round trip")


@points(1)
def test_groups_run_along_each_row(submission):
    """A group is group_size consecutive inputs of one row: an outlier changes its own group's scale and codes and nothing else, and zeros come back exactly."""
    rows, cols, group = 8, 128, 32
    w = weights(rows, cols, 910)
    w[:, 40:44] = 0.0
    q0, s0, z0 = submission.quantize_groupwise(w, group, 4)
    w_out = w.clone()
    w_out[3, 70] = 2.0
    q1, s1, z1 = submission.quantize_groupwise(w_out, group, 4)
    changed = torch.zeros(rows, cols // group, dtype=torch.bool)
    changed[3, 70 // group] = True
    check(not bool(torch.equal(s0[3, 70 // group], s1[3, 70 // group])), "the outlier's own group must get a larger scale")
    check(torch.equal(s0[~changed], s1[~changed]), "an outlier must not change the scale of any other group")
    same_codes = torch.ones(rows, cols, dtype=torch.bool)
    same_codes[3, 64:96] = False
    check(torch.equal(q0[same_codes], q1[same_codes]), "an outlier must not change the codes outside its own group")
    back = submission.dequantize_groupwise(q0, s0, z0, group)
    check(bool((back[:, 40:44] == 0).all()), "zero weights must come back as exactly 0.0")


@points(1)
def test_groupwise_rejects_uneven_groups(submission):
    """quantize_groupwise raises ValueError when the number of columns is not a multiple of group_size."""
    for cols, group in ((100, 32), (96, 64)):
        check(learner_raised("ValueError", submission.quantize_groupwise, torch.ones(4, cols), group, 4),
              f"{cols} columns in groups of {group} were accepted instead of raising ValueError")
