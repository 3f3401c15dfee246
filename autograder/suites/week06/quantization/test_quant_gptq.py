"""Hidden tests for GPTQ (grade cell ``test_quant_gptq``).

Inputs are drawn like a transformer layer's: correlated features with a decaying
spectrum and a few outlier channels (_quant_reference.calibration_inputs); the
calibration and held-out sets are two draws from that one distribution.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")


def layer(rows, cols, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=gen) * 0.05


@points(1)
def test_gptq_beats_rtn_on_held_out_outputs(submission):
    """On held-out inputs from the calibration distribution, GPTQ's output error ||X W^T - X Ŵ^T|| is well below round-to-nearest's (at most 0.8 of it) at 4 and 3 bits."""
    for i, (rows, cols, bits, group) in enumerate([(64, 128, 4, 32), (48, 128, 3, 64), (32, 256, 4, 128)]):
        w = layer(rows, cols, 1100 + i)
        x_calib = ref.calibration_inputs(512, cols, 1110 + i)
        x_test = ref.calibration_inputs(512, cols, 1120 + i)
        w_hat = ref.as_tensor(submission.gptq_quantize(w, x_calib, bits, group), "GPTQ's weights")
        check(tuple(w_hat.shape) == tuple(w.shape) and w_hat.dtype == w.dtype,
              "gptq_quantize must return weights of the input's shape and dtype")
        ratio = ref.output_error(x_test, w, w_hat) / ref.output_error(x_test, w, ref.reference_rtn(w, group, bits))
        check(ratio <= 0.8, f"{bits}-bit, groups of {group}: GPTQ's held-out output error is {ratio:.2f} of round-to-nearest's")


@points(1)
def test_gptq_weights_lie_on_a_group_grid(submission):
    """Every group of every row of GPTQ's weights holds at most 2**bits distinct values (it is quantized), and GPTQ does not return the weights unchanged."""
    for i, (rows, cols, bits, group) in enumerate([(16, 64, 4, 32), (16, 128, 3, 64), (8, 64, 2, 16)]):
        w = layer(rows, cols, 1200 + i)
        w_hat = submission.gptq_quantize(w, ref.calibration_inputs(256, cols, 1210 + i), bits, group)
        groups = ref.as_tensor(w_hat, "GPTQ's weights").to(torch.float64).reshape(rows, cols // group, group)
        for r in range(rows):
            for g in range(cols // group):
                levels = torch.unique(groups[r, g]).numel()
                check(levels <= 2**bits, f"{bits}-bit: row {r}, group {g} holds {levels} distinct values, more than 2**{bits}")
        check(not torch.allclose(w_hat.to(torch.float64), w.to(torch.float64)), "GPTQ returned the weights unchanged")


@points(1)
def test_gptq_on_uncorrelated_inputs_is_rtn(submission):
    """When the calibration inputs are uncorrelated (X^T X is diagonal) no error is propagated, so GPTQ gives round-to-nearest's weights."""
    for i, (rows, cols, bits, group) in enumerate([(16, 64, 4, 32), (8, 128, 3, 64)]):
        w = layer(rows, cols, 1300 + i)
        gen = torch.Generator().manual_seed(1310 + i)
        x = torch.diag(torch.rand(cols, generator=gen) + 0.5) * 3  # one sample per input, H diagonal
        w_hat = ref.as_tensor(submission.gptq_quantize(w, x, bits, group), "GPTQ's weights")
        codes, scale, zero, ratio = ref.reference_groupwise(w, group, bits)
        step = scale.repeat_interleave(group, dim=1)
        got_codes = torch.round(w_hat.to(torch.float64) / step + zero.repeat_interleave(group, dim=1))
        ref.codes_agree(got_codes, codes, ratio, f"{bits}-bit, groups of {group}: the grid points chosen")
        on_grid = (got_codes - zero.repeat_interleave(group, dim=1)) * step
        assert_close(w_hat.to(torch.float32), on_grid.to(torch.float32),
                     f"{bits}-bit, groups of {group}: GPTQ's weights, which must lie on round-to-nearest's grid")
