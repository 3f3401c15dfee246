"""Shared pieces of the week02/normalization hidden suite.

Seeded inputs shaped like real activations (each row with its own offset and
spread), seeded parameters, and loading them into the learner's layers through
the seam. Every expected value in the suite comes from torch's own layers
(``torch.nn.LayerNorm``, ``torch.nn.RMSNorm``) holding the same parameters,
computed here in the judge.
"""

import torch

from llmcourse.testing import check


def activations(seed, shape, scale=1.0, dtype=torch.float32):
    """Seeded inputs whose rows differ in offset and spread, times ``scale``."""
    gen = torch.Generator().manual_seed(seed)
    lead = (*shape[:-1], 1)
    base = torch.randn(shape, generator=gen, dtype=torch.float64)
    spread = torch.exp(0.7 * torch.randn(lead, generator=gen, dtype=torch.float64))
    offset = 1.5 * torch.randn(lead, generator=gen, dtype=torch.float64)
    return (scale * (base * spread + offset)).to(dtype)


def gain_and_bias(seed, d, bias=True, dtype=torch.float32):
    """A state dict with a non-trivial gain (and bias), so that a swapped or missing one shows."""
    gen = torch.Generator().manual_seed(seed)
    state = {"weight": (1.0 + 0.5 * torch.randn(d, generator=gen, dtype=torch.float64)).to(dtype)}
    if bias:
        state["bias"] = (0.5 * torch.randn(d, generator=gen, dtype=torch.float64)).to(dtype)
    return state


def load(layer, state, what):
    """Load ``state`` into a learner's layer (a handle); say which names do not fit."""
    missing, unexpected = layer.load_state_dict(state, strict=False)
    check(not unexpected, f"{what} has no parameter named {', '.join(unexpected)}")
    check(not missing, f"{what} has parameters this exercise does not ask for: {', '.join(missing)}")
    return layer


def torch_layer_norm(state, d, eps=1e-5):
    """torch.nn.LayerNorm holding ``state``, in the dtype of its tensors."""
    ref = torch.nn.LayerNorm(d, eps=eps)
    ref.load_state_dict({k: v.float() for k, v in state.items()})
    return ref.to(state["weight"].dtype)


def torch_rms_norm(state, d, eps=1e-6):
    """torch.nn.RMSNorm holding ``state``, in the dtype of its tensors."""
    ref = torch.nn.RMSNorm(d, eps=eps)
    ref.load_state_dict({k: v.float() for k, v in state.items()})
    return ref.to(state["weight"].dtype)


def gradients_match(submission, layer, ref, x, g, what):
    """Input and parameter gradients of sum(layer(x) * g) equal the reference's (float64)."""
    from llmcourse.testing import assert_close

    x_ref = x.clone().requires_grad_(True)
    (ref(x_ref) * g).sum().backward()
    (grad_x,) = submission.vjp(layer, (x.clone().requires_grad_(True),), g)
    check(grad_x is not None, f"the output of {what} does not depend on its input")
    assert_close(grad_x, x_ref.grad, f"the gradient of {what} with respect to its input")

    # d(sum(output * g)) / d(parameters), computed in the notebook's process by torch.func.
    func = submission.torch.func
    params = {name: p.detach() for name, p in ref.named_parameters()}
    jacobians = func.jacrev(func.functional_call, argnums=1)(layer, params, (x,))
    for name, p in ref.named_parameters():
        got = torch.tensordot(g, jacobians[name], dims=g.dim())
        check(bool(got.abs().sum() > 0), f"no gradient reaches {what}'s {name}")
        assert_close(got, p.grad, f"the gradient of {what} with respect to {name}")
