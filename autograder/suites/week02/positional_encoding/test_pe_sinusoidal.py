"""Hidden tests for ``sinusoidal_encoding`` (grade cell ``test_pe_sinusoidal``).

The expected table is built here in float64 with numpy, one frequency pair
at a time, straight from the formula of Vaswani et al. (2017). Tables stay
short (at most 32 positions) so that a learner who computes the angles in
float32 is still inside the float32 tolerance.
"""

import numpy as np
import torch

from autograder.judge import learner_raised, points
from llmcourse.testing import assert_close, check

SIZES = [(1, 2), (5, 6), (32, 64), (17, 512), (32, 10)]  # (n_positions, d_model)


def vaswani_table(n_positions, d_model):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), in float64."""
    pos = np.arange(n_positions, dtype=np.float64)
    out = np.zeros((n_positions, d_model))
    for pair in range(d_model // 2):
        wavelength_over_2pi = 10000.0 ** (2.0 * pair / d_model)
        out[:, 2 * pair] = np.sin(pos / wavelength_over_2pi)
        out[:, 2 * pair + 1] = np.cos(pos / wavelength_over_2pi)
    return torch.from_numpy(out)


@points(1)
def test_sin_shape_dtype_and_first_row(submission):
    """The table is float32 of shape (n_positions, d_model), and position 0 is (sin 0, cos 0) = (0, 1) in every pair."""
    for n_positions, d_model in SIZES:
        table = submission.sinusoidal_encoding(n_positions, d_model)
        check(
            tuple(table.shape) == (n_positions, d_model),
            f"sinusoidal_encoding({n_positions}, {d_model}) has shape {tuple(table.shape)}",
        )
        check(table.dtype == torch.float32, f"the table has dtype {table.dtype}, expected torch.float32")
        first = torch.zeros(d_model)
        first[1::2] = 1.0
        assert_close(table[0], first, f"row 0 of a table of width {d_model}")


@points(2)
def test_sin_matches_vaswani_formula(submission):
    """Every entry follows the Vaswani formula: sines in even columns, cosines in odd ones, 10000^(2i/d_model)."""
    for n_positions, d_model in SIZES:
        table = submission.sinusoidal_encoding(n_positions, d_model)
        assert_close(table, vaswani_table(n_positions, d_model), f"the table for {n_positions} positions, width {d_model}")


@points(1)
def test_sin_rejects_odd_width(submission):
    """sinusoidal_encoding raises ValueError when d_model is odd."""
    for d_model in (1, 9):
        check(learner_raised("ValueError", submission.sinusoidal_encoding, 4, d_model),
              f"sinusoidal_encoding accepted the odd width {d_model} instead of raising ValueError")
