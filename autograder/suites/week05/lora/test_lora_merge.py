"""Hidden tests for LoRALinear.merge and .unmerge (grade cell ``test_lora_merge``).

The factors are set to seeded random values first (B no longer zero). The
merged weight is checked against W + (alpha / r) B A computed here in float64,
and every merged layer's outputs against the adapted layer's and the formula.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_lora_reference.py")


def adapted(submission, seed, d_in, d_out, bias, r, alpha):
    state = ref.linear_state(seed, d_in, d_out, bias)
    layer = submission.LoRALinear(ref.remote_linear(submission, state), r, alpha)
    A, B = ref.set_factors(layer, seed + 1000)
    return state, layer, A, B


def is_plain_linear(module, d_in, d_out, bias, what):
    kind = module._get_name()  # the class name, as nn.Module's own repr prints it
    check(kind == "Linear", f"{what} must be a plain nn.Linear, got a {kind}")
    keys = set(module.state_dict())
    want = {"weight", "bias"} if bias else {"weight"}
    check(keys == want, f"{what} holds parameters {sorted(keys)}, not {sorted(want)}")
    check((module.in_features, module.out_features) == (d_in, d_out), f"{what} has the wrong in_features or out_features")


@points(1)
def test_lora_merge_matches_adapted_layer(submission):
    """merge() returns a layer whose weight is W + (alpha / r) B A, bias kept, and whose outputs equal the adapted layer's, for square and non-square layers, several ranks and alphas."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES):
        state, layer, A, B = adapted(submission, 50 + seed, d_in, d_out, bias, r, alpha)
        label = f"in={d_in}, out={d_out}, bias={bias}, r={r}, alpha={alpha}"
        merged = layer.merge()
        want_weight = state["weight"].double() + (alpha / r) * B.double() @ A.double()
        assert_close(merged.weight, want_weight.float(), f"the merged weight ({label})")
        if bias:
            assert_close(merged.bias, state["bias"], f"the merged bias ({label})")
        x = ref.inputs(800 + seed, d_in, (4, 6))
        assert_close(merged(x), ref.lora_output(state, A, B, alpha / r, x).float(), f"the merged layer's output ({label})")
        assert_close(merged(x), layer(x), f"the merged layer's output against the adapted layer's ({label})")


@points(1)
def test_lora_merge_gives_new_plain_linear(submission):
    """merge() returns a new plain nn.Linear of the same sizes and leaves the adapted layer (base, A, B, outputs) unchanged."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES[:3]):
        state, layer, A, B = adapted(submission, 60 + seed, d_in, d_out, bias, r, alpha)
        x = ref.inputs(900 + seed, d_in)
        before = layer(x)
        merged = layer.merge()
        is_plain_linear(merged, d_in, d_out, bias, "the result of merge()")
        assert_close(layer.base.weight, state["weight"], "the adapted layer's base weight after merge() (it must not change)")
        assert_close(layer.B, B, "B after merge() (it must not change)")
        assert_close(layer(x), before, "the adapted layer's output after merge() (it must not change)")


@points(1)
def test_lora_unmerge_recovers_base(submission):
    """unmerge(merge()) returns a new plain nn.Linear equal to the base layer (weight, bias and outputs) within rounding."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES):
        state, layer, _, _ = adapted(submission, 70 + seed, d_in, d_out, bias, r, alpha)
        label = f"in={d_in}, out={d_out}, bias={bias}, r={r}, alpha={alpha}"
        restored = layer.unmerge(layer.merge())
        is_plain_linear(restored, d_in, d_out, bias, "the result of unmerge()")
        assert_close(restored.weight, state["weight"], f"the weight of unmerge(merge()) ({label})")
        if bias:
            assert_close(restored.bias, state["bias"], f"the bias of unmerge(merge()) ({label})")
        x = ref.inputs(950 + seed, d_in)
        assert_close(restored(x), ref.base_output(state, x).float(), f"the output of unmerge(merge()) ({label})")
