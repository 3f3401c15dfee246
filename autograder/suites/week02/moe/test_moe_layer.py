"""Hidden tests for ``MoELayer`` (grade cell ``test_moe_layer``).

The judge sets the router's weight itself (load_state_dict, strict=False) so
routing is known here, then runs each of the learner's own experts on every
token through the seam (``get_submodule("experts.i")``) and assembles the
expected output with _moe_reference.py: top-k by torch.topk, gates by
softmax, the capacity rule by a plain first-come-first-served loop.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check

from autograder.judge import suite_helper

ref = suite_helper(__file__, "_moe_reference.py")


def build(submission, seed, d_model, d_hidden, n_experts, k, capacity_factor=None, router=None):
    """The learner's layer with a router weight chosen here (seeded random unless given)."""
    submission.torch.manual_seed(seed)
    layer = submission.MoELayer(d_model, d_hidden, n_experts, k, capacity_factor)
    if router is None:
        router = torch.randn(n_experts, d_model, generator=torch.Generator().manual_seed(seed + 1))
    layer.load_state_dict({"router.weight": router}, strict=False)
    return layer, router


def expert_outputs(layer, tokens, n_experts):
    """(N, E, d): every one of the learner's experts applied to every token."""
    return torch.stack([layer.get_submodule(f"experts.{e}")(tokens).detach() for e in range(n_experts)], dim=1)


def expected(layer, router, x, n_experts, k, capacity_factor=None):
    """The output the layer should return for x, and the routing behind it."""
    tokens = x.reshape(-1, x.shape[-1])
    logits = tokens @ router.T
    gates, idx = ref.route(logits, k)
    keep = None
    if capacity_factor is not None:
        cap = ref.capacity(tokens.shape[0], n_experts, k, capacity_factor)
        keep = ref.served_mask(idx, n_experts, cap)
    out = ref.expected_output(expert_outputs(layer, tokens, n_experts), gates, idx, keep)
    return out.reshape(x.shape), logits, idx


def inputs(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@points(1)
def test_moe_layer_structure(submission):
    """The layer has a bias-free router of shape (E, d_model), exactly n_experts experts, and returns (output shaped like x, 0-dim loss)."""
    layer = submission.MoELayer(6, 10, 5, 2)
    check(layer.router.bias is None, "the router must have no bias")
    check(tuple(layer.router.weight.shape) == (5, 6), "the router weight must have shape (n_experts, d_model)")
    names = list(layer.state_dict().keys())
    experts = {name.split(".")[1] for name in names if name.startswith("experts.")}
    check(experts == {str(i) for i in range(5)}, f"the layer holds experts {sorted(experts)}, expected experts 0..4")
    others = [name for name in names if not name.startswith(("experts.", "router."))]
    check(not others, f"the layer has parameters outside router and experts: {', '.join(others)}")
    for shape in [(7, 6), (2, 3, 6)]:
        out, aux = layer(inputs(600, *shape))
        check(tuple(out.shape) == shape, f"for an input of shape {shape} the output has shape {tuple(out.shape)}")
        check(hasattr(aux, "dim") and aux.dim() == 0, "the auxiliary loss should be a 0-dimensional tensor")


@points(2)
def test_moe_layer_matches_dense_evaluation(submission):
    """Without a capacity, the output equals sum_j gate_j * expert_{idx_j}(x) computed from every expert on every token."""
    configs = [((12, 8), 16, 4, 1), ((10, 8), 12, 8, 2), ((9, 6), 10, 5, 3), ((7, 8), 16, 4, 4), ((2, 5, 8), 12, 6, 2)]
    for i, (shape, d_hidden, n_experts, k) in enumerate(configs):
        layer, router = build(submission, 610 + 10 * i, shape[-1], d_hidden, n_experts, k)
        x = inputs(611 + 10 * i, *shape)
        out, _ = layer(x)
        want, _, _ = expected(layer, router, x, n_experts, k)
        assert_close(out, want, f"the output for input {shape}, E={n_experts}, k={k}")


@points(1)
def test_moe_layer_aux_loss(submission):
    """The returned loss is the balancing loss of the layer's own routing over all tokens, with or without a capacity."""
    for i, (shape, n_experts, k, factor) in enumerate([((12, 8), 4, 1, None), ((2, 6, 8), 6, 2, None), ((16, 8), 4, 2, 0.5)]):
        layer, router = build(submission, 660 + 10 * i, shape[-1], 12, n_experts, k, factor)
        x = inputs(661 + 10 * i, *shape)
        _, aux = layer(x)
        logits = x.reshape(-1, shape[-1]) @ router.T
        want = ref.balance_loss(logits, ref.route(logits, k)[1], n_experts)
        assert_close(aux, want, f"the auxiliary loss for input {shape}, E={n_experts}, k={k}, capacity factor {factor}")


@points(1)
def test_moe_layer_gradients_reach_router_and_experts(submission):
    """The input gradient includes both paths: through the experts and through the gates back to the router."""
    n, d, n_experts, k = 8, 6, 4, 2
    layer, router = build(submission, 700, d, 10, n_experts, k)
    x = inputs(701, n, d)
    cot = inputs(702, n, d)
    (grad,) = submission.vjp(layer, (x.clone().requires_grad_(True),), (cot, None))
    check(grad is not None, "the output does not depend on the input")

    # Path 1, through each expert: cotangent cot * gate for the tokens routed to it.
    gates, idx = ref.route(x @ router.T, k)
    want = torch.zeros(n, d)
    for e in range(n_experts):
        weight = (gates * (idx == e)).sum(dim=1, keepdim=True)
        expert = layer.get_submodule(f"experts.{e}")
        (part,) = submission.vjp(expert, (x.clone().requires_grad_(True),), cot * weight)
        want += part
    # Path 2, through the gates: d/dx of sum_t,j gate_tj(x) * <cot_t, expert_idx_tj(x_t)>.
    ys = expert_outputs(layer, x, n_experts)
    scores = (cot.unsqueeze(1) * ys[torch.arange(n).unsqueeze(1), idx]).sum(-1)      # (N, k)
    x_ref = x.clone().requires_grad_(True)
    (ref.route(x_ref @ router.T, k)[0] * scores).sum().backward()
    want += x_ref.grad
    assert_close(grad, want, "the gradient of the output with respect to the input")


@points(1)
def test_moe_layer_capacity_first_come_first_served(submission):
    """When every token wants the same expert, only the first C tokens (in token order) get its output; the rest get nothing from it."""
    n, d, n_experts = 11, 6, 4
    for i, k in enumerate((1, 2)):
        router = 0.1 * inputs(720 + i, n_experts, d)
        router[2] = 1.0                                      # positive inputs: expert 2 is everyone's first choice
        layer, _ = build(submission, 725 + i, d, 10, n_experts, k, 1.0, router=router)
        x = inputs(730 + i, n, d).abs() + 0.2
        out, _ = layer(x)
        want, _, idx = expected(layer, router, x, n_experts, k, 1.0)
        check(bool((idx[:, 0] == 2).all()), "internal: the test routing is not the intended one")
        assert_close(out, want, f"the output when all {n} tokens want expert 2 first (k={k}, capacity factor 1)")


@points(1)
def test_moe_layer_capacity_random_routing(submission):
    """With a capacity and a random routing (2-D and 3-D inputs), each expert serves only its first C tokens; a roomy capacity drops nothing."""
    cases = [((18, 8), 4, 2, 0.75), ((2, 9, 8), 4, 2, 0.5), ((3, 5, 8), 6, 3, 1.0), ((12, 8), 4, 1, 0.5), ((2, 7, 8), 4, 2, 2.0)]
    for i, (shape, n_experts, k, factor) in enumerate(cases):
        layer, router = build(submission, 740 + 10 * i, shape[-1], 12, n_experts, k, factor)
        x = inputs(741 + 10 * i, *shape)
        out, _ = layer(x)
        want, _, _ = expected(layer, router, x, n_experts, k, factor)
        assert_close(out, want, f"the output for input {shape}, E={n_experts}, k={k}, capacity factor {factor}")
