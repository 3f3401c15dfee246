"""Hidden tests for ``RMSNorm`` (grade cell ``test_norm_rmsnorm``).

The reference is ``torch.nn.RMSNorm`` holding the same gain, always built
with an explicit eps (its own default is the dtype's machine epsilon, not the
exercise's 1e-6), evaluated here in the judge on seeded inputs.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

helpers = suite_helper(__file__, "_norm_helpers.py")

# (input shape, seed): one to four dimensions, and rows with a clear non-zero mean.
SHAPES = [((16,), 500), ((5, 2), 501), ((3, 1), 502), ((4, 7, 48), 503), ((2, 3, 5, 8), 504), ((6, 3), 505)]


def learner_rms_norm(submission, d, state, **kwargs):
    return helpers.load(submission.RMSNorm(d, **kwargs), state, f"RMSNorm({d})")


@points(1)
def test_rmsnorm_parameters(submission):
    """RMSNorm(d) has exactly one parameter, weight, of shape (d,), starting at ones; there is no bias."""
    for d in (1, 7, 32):
        state = submission.RMSNorm(d).state_dict()
        check(sorted(state) == ["weight"], f"RMSNorm({d}) has parameters {sorted(state)}, expected only weight")
        assert_close(state["weight"], torch.ones(d), f"the initial weight of RMSNorm({d})")


@points(1)
def test_rmsnorm_matches_torch(submission):
    """With the same weight, RMSNorm equals torch.nn.RMSNorm over the last dimension, for inputs of 1 to 4 dimensions whose rows do not have zero mean."""
    for shape, seed in SHAPES:
        d = shape[-1]
        state = helpers.gain_and_bias(seed, d, bias=False)
        x = helpers.activations(seed + 50, shape, scale=2.0)
        got = learner_rms_norm(submission, d, state)(x)
        check(tuple(got.shape) == shape, f"RMSNorm of a {shape} input has shape {tuple(got.shape)}")
        assert_close(got, helpers.torch_rms_norm(state, d)(x).detach(), f"RMSNorm of a {shape} input")


@points(1)
def test_rmsnorm_eps_and_zero_rows(submission):
    """eps sits inside the square root (default 1e-6, another value honoured) and all-zero rows give zeros, not NaN."""
    d = 12
    state = helpers.gain_and_bias(510, d, bias=False)
    tiny = helpers.activations(511, (6, d), scale=1e-3)       # mean square comparable to eps
    assert_close(learner_rms_norm(submission, d, state)(tiny),
                 helpers.torch_rms_norm(state, d)(tiny).detach(),
                 "RMSNorm(d) with the default eps, on inputs whose mean square is close to eps")
    x = helpers.activations(512, (6, d))
    assert_close(learner_rms_norm(submission, d, state, eps=0.5)(x),
                 helpers.torch_rms_norm(state, d, eps=0.5)(x).detach(), "RMSNorm(d, eps=0.5)")
    x[1] = 0.0
    x[4] = 0.0
    got = learner_rms_norm(submission, d, state)(x)
    assert_finite(got, "RMSNorm of a batch with all-zero rows")
    assert_close(got, helpers.torch_rms_norm(state, d)(x).detach(), "RMSNorm of a batch with all-zero rows")


@points(1)
def test_rmsnorm_gradients(submission):
    """Gradients with respect to the input and the weight equal torch.nn.RMSNorm's (in float64)."""
    d = 10
    state = helpers.gain_and_bias(530, d, bias=False, dtype=torch.float64)
    layer = learner_rms_norm(submission, d, state)
    layer.double()
    x = helpers.activations(531, (2, 4, d), dtype=torch.float64)
    g = helpers.activations(532, (2, 4, d), dtype=torch.float64)
    helpers.gradients_match(submission, layer, helpers.torch_rms_norm(state, d), x, g, "RMSNorm")


@points(1)
def test_rmsnorm_half_precision(submission):
    """For float16 and bfloat16 inputs the output keeps the input's dtype and matches torch.nn.RMSNorm, even for entries whose squares overflow float16."""
    d = 64
    for dtype, to_dtype in ((torch.float16, "half"), (torch.bfloat16, "bfloat16")):
        state = helpers.gain_and_bias(540, d, bias=False, dtype=dtype)
        layer = learner_rms_norm(submission, d, state)
        getattr(layer, to_dtype)()
        for scale in (1.0, 300.0):
            x = helpers.activations(541, (3, 5, d), scale=scale, dtype=dtype)
            got = layer(x)
            check(got.dtype == dtype, f"RMSNorm of a {dtype} input returned {got.dtype}")
            assert_close(got, helpers.torch_rms_norm(state, d)(x).detach(),
                         f"RMSNorm in {dtype} of inputs of size about {scale:g}")
