"""Hidden tests for LoRALinear's construction and forward pass (grade cell ``test_lora_layer``).

Every layer wraps an ``nn.Linear`` built inside the sandbox from seeded
weights; the expected outputs are ``F.linear`` and the LoRA formula computed
here in float64 from the factors read back from the learner's layer, and the
expected gradients come from torch's autograd on that formula.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_lora_reference.py")


def built(submission, seed, d_in, d_out, bias, r, alpha):
    state = ref.linear_state(seed, d_in, d_out, bias)
    base = ref.remote_linear(submission, state)
    return state, base, submission.LoRALinear(base, r, alpha)


@points(1)
def test_lora_layer_equals_base_at_init(submission):
    """A new LoRA layer gives exactly its base layer's outputs, for square and non-square layers, with and without bias, several ranks and alphas."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES):
        state, _, layer = built(submission, 10 + seed, d_in, d_out, bias, r, alpha)
        label = f"in={d_in}, out={d_out}, bias={bias}, r={r}, alpha={alpha}"
        for shape in ((3, 5), (4,), (2, 2, 3)):
            x = ref.inputs(100 + seed, d_in, shape)
            assert_close(layer(x), ref.base_output(state, x).float(), f"the output of a new LoRA layer ({label})")


@points(1)
def test_lora_layer_factors_start_right(submission):
    """A is an (r, in_features) random matrix of full rank, B an (out_features, r) matrix of zeros, and scaling is alpha / r."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES):
        _, _, layer = built(submission, 20 + seed, d_in, d_out, bias, r, alpha)
        label = f"in={d_in}, out={d_out}, r={r}"
        A, B = layer.A, layer.B
        check(tuple(A.shape) == (r, d_in), f"A has shape {tuple(A.shape)}, not (r, in_features) ({label})")
        check(tuple(B.shape) == (d_out, r), f"B has shape {tuple(B.shape)}, not (out_features, r) ({label})")
        check(bool((B == 0).all()), f"B must start as zeros, so that the layer starts as its base ({label})")
        check(int(torch.linalg.matrix_rank(A.double())) == min(r, d_in),
              f"A must start random with independent rows, so that every direction of the update can learn ({label})")
        check(0.01 < float(A.abs().max()) < 10, f"A's initial values are far from nn.Linear's initialisation ({label})")
        scaling = layer.scaling
        check(isinstance(scaling, (int, float)) and abs(scaling - alpha / r) < 1e-12,
              f"scaling is {scaling}, not alpha / r = {alpha / r} (r={r}, alpha={alpha})")


@points(1)
def test_lora_layer_only_factors_trainable(submission):
    """Only A and B require gradients; the base layer you were given is itself frozen (weight and bias) and held as self.base."""
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES[:3]):
        _, base, layer = built(submission, 30 + seed, d_in, d_out, bias, r, alpha)
        params = layer.state_dict(keep_vars=True)
        want = {"A", "B", "base.weight"} | ({"base.bias"} if bias else set())
        check(set(params) == want,
              f"the layer's parameters are named {sorted(params)}, not {sorted(want)} (self.base, self.A, self.B)")
        trainable = sorted(name for name, p in params.items() if p.requires_grad)
        check(trainable == ["A", "B"], f"the trainable parameters are {trainable}, not A and B only")
        check(not base.weight.requires_grad, "the nn.Linear passed in still has a trainable weight: freeze it itself, not a copy")
        if bias:
            check(not base.bias.requires_grad, "the nn.Linear passed in still has a trainable bias")


@points(2)
def test_lora_layer_output_and_gradients(submission):
    """With B not zero, the output is base(x) + (alpha / r) B A x, and the gradients with respect to A, B and x are those of that formula, for several shapes, ranks and alphas."""
    func = submission.torch.func
    for seed, (d_in, d_out, bias, r, alpha) in enumerate(ref.SHAPES):
        state, _, layer = built(submission, 40 + seed, d_in, d_out, bias, r, alpha)
        A, B = ref.set_factors(layer, 400 + seed)
        label = f"in={d_in}, out={d_out}, bias={bias}, r={r}, alpha={alpha}"
        for shape in ((3, 5), (7,)):
            x = ref.inputs(500 + seed, d_in, shape)
            assert_close(layer(x), ref.lora_output(state, A, B, alpha / r, x).float(), f"the output ({label})")

        x = ref.inputs(600 + seed, d_in, (2, 3))
        g = torch.randn(2, 3, d_out, generator=torch.Generator().manual_seed(700 + seed))
        leaves = {"A": A.double().requires_grad_(True), "B": B.double().requires_grad_(True)}
        x_ref = x.double().requires_grad_(True)
        (ref.lora_output(state, leaves["A"], leaves["B"], alpha / r, x_ref) * g.double()).sum().backward()
        (grad_x,) = submission.vjp(layer, (x.clone().requires_grad_(True),), g)
        check(grad_x is not None, f"the output does not depend on the input ({label})")
        assert_close(grad_x, x_ref.grad.float(), f"the gradient with respect to the input ({label})")
        # d(sum(output * g)) / d(A, B), computed in the notebook's process by torch.func.
        jacobians = func.jacrev(func.functional_call, argnums=1)(layer, {"A": A, "B": B}, (x,))
        for name in ("A", "B"):
            got = torch.tensordot(g, jacobians[name], dims=g.dim())
            assert_close(got, leaves[name].grad.float(), f"the gradient with respect to {name} ({label})")
