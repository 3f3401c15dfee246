"""Hidden tests for ``LayerNorm`` (grade cell ``test_norm_layernorm``).

The reference is ``torch.nn.LayerNorm`` holding the same gain and bias,
evaluated here in the judge on seeded inputs (see ``_norm_helpers.py``).
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

helpers = suite_helper(__file__, "_norm_helpers.py")

# (input shape, seed): one to four dimensions; widths from 1 to 48, small ones
# included because that is where the biased and unbiased variances differ most.
SHAPES = [((16,), 400), ((5, 2), 401), ((3, 1), 402), ((4, 7, 48), 403), ((2, 3, 5, 8), 404), ((6, 3), 405)]


def learner_layer_norm(submission, d, state, **kwargs):
    return helpers.load(submission.LayerNorm(d, **kwargs), state, f"LayerNorm({d})")


@points(1)
def test_layernorm_parameters(submission):
    """LayerNorm(d) has exactly two parameters, weight and bias, of shape (d,), starting at ones and zeros."""
    for d in (1, 7, 32):
        state = submission.LayerNorm(d).state_dict()
        check(sorted(state) == ["bias", "weight"],
              f"LayerNorm({d}) has parameters {sorted(state)}, expected exactly weight and bias")
        assert_close(state["weight"], torch.ones(d), f"the initial weight of LayerNorm({d})")
        assert_close(state["bias"], torch.zeros(d), f"the initial bias of LayerNorm({d})")


@points(1)
def test_layernorm_matches_torch(submission):
    """With the same weight and bias, LayerNorm equals torch.nn.LayerNorm over the last dimension, for inputs of 1 to 4 dimensions and widths from 1 to 48."""
    for shape, seed in SHAPES:
        d = shape[-1]
        state = helpers.gain_and_bias(seed, d)
        x = helpers.activations(seed + 50, shape, scale=2.0)
        got = learner_layer_norm(submission, d, state)(x)
        check(tuple(got.shape) == shape, f"LayerNorm of a {shape} input has shape {tuple(got.shape)}")
        assert_close(got, helpers.torch_layer_norm(state, d)(x).detach(), f"LayerNorm of a {shape} input")


@points(1)
def test_layernorm_eps_inside_the_square_root(submission):
    """eps is added to the variance inside the square root, LayerNorm(d) defaults to eps=1e-5, and another eps is honoured."""
    d = 12
    state = helpers.gain_and_bias(410, d)
    tiny = helpers.activations(411, (6, d), scale=1e-3)       # variance comparable to eps
    assert_close(learner_layer_norm(submission, d, state)(tiny),
                 helpers.torch_layer_norm(state, d)(tiny).detach(),
                 "LayerNorm(d) with the default eps, on inputs whose variance is close to eps")
    x = helpers.activations(412, (6, d))
    for eps in (0.1, 1.0):
        assert_close(learner_layer_norm(submission, d, state, eps=eps)(x),
                     helpers.torch_layer_norm(state, d, eps=eps)(x).detach(),
                     f"LayerNorm(d, eps={eps})")


@points(1)
def test_layernorm_constant_rows(submission):
    """A row whose features are all equal has zero variance: the output is finite and equals the bias, never NaN."""
    d = 16
    state = helpers.gain_and_bias(420, d)
    x = helpers.activations(421, (6, d))
    for row, value in enumerate((0.0, 3.0, -1.5, 1000.0)):
        x[row] = value                                            # rows 4 and 5 stay ordinary
    got = learner_layer_norm(submission, d, state)(x)
    assert_finite(got, "LayerNorm of rows whose features are all equal")
    assert_close(got, helpers.torch_layer_norm(state, d)(x).detach(), "LayerNorm of rows whose features are all equal")


@points(1)
def test_layernorm_gradients(submission):
    """Gradients with respect to the input, weight and bias equal torch.nn.LayerNorm's (in float64)."""
    d = 10
    state = helpers.gain_and_bias(430, d, dtype=torch.float64)
    layer = learner_layer_norm(submission, d, state)
    layer.double()
    x = helpers.activations(431, (2, 4, d), dtype=torch.float64)
    g = helpers.activations(432, (2, 4, d), dtype=torch.float64)
    helpers.gradients_match(submission, layer, helpers.torch_layer_norm(state, d), x, g, "LayerNorm")


@points(1)
def test_layernorm_half_precision(submission):
    """For float16 and bfloat16 inputs the output keeps the input's dtype and matches torch.nn.LayerNorm, even for entries whose squares overflow float16."""
    d = 64
    for dtype, to_dtype in ((torch.float16, "half"), (torch.bfloat16, "bfloat16")):
        state = helpers.gain_and_bias(440, d, dtype=dtype)
        layer = learner_layer_norm(submission, d, state)
        getattr(layer, to_dtype)()
        for scale in (1.0, 300.0):
            x = helpers.activations(441, (3, 5, d), scale=scale, dtype=dtype)
            got = layer(x)
            check(got.dtype == dtype, f"LayerNorm of a {dtype} input returned {got.dtype}")
            assert_close(got, helpers.torch_layer_norm(state, d)(x).detach(),
                         f"LayerNorm in {dtype} of inputs of size about {scale:g}")
