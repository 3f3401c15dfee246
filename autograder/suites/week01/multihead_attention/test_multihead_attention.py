"""Hidden tests for ``MultiHeadAttention`` (grade cell ``test_multihead_attention``).

Weights are drawn here from a seeded generator, loaded into the learner's
module with ``load_state_dict`` and into ``torch.nn.MultiheadAttention``
(``in_proj_weight`` = W_q, W_k, W_v stacked); every expected value is the
reference module's, computed in the judge. Masks follow the exercise's
convention (True = may attend); torch's module gets the negation.
"""

import math

import torch

from autograder.judge import learner_raised, points
from llmcourse.testing import assert_close, check

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")


def random_state(seed, d_model, bias=True):
    """A state dict for the learner's layer, with weights of unit-scale outputs."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name in PROJECTIONS:
        state[f"{name}.weight"] = torch.randn(d_model, d_model, generator=gen) / math.sqrt(d_model)
        if bias:
            state[f"{name}.bias"] = 0.5 * torch.randn(d_model, generator=gen)
    return state


def reference(state, d_model, n_heads):
    """torch.nn.MultiheadAttention holding the weights of ``state``."""
    bias = "q_proj.bias" in state
    ref = torch.nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([state[f"{n}_proj.weight"] for n in "qkv"]))
        ref.out_proj.weight.copy_(state["out_proj.weight"])
        if bias:
            ref.in_proj_bias.copy_(torch.cat([state[f"{n}_proj.bias"] for n in "qkv"]))
            ref.out_proj.bias.copy_(state["out_proj.bias"])
    return ref


def learner_layer(submission, state, d_model, n_heads):
    """The learner's layer, built and loaded with ``state``."""
    layer = submission.MultiHeadAttention(d_model, n_heads, bias="q_proj.bias" in state)
    _, unexpected = layer.load_state_dict(state, strict=False)
    check(not unexpected, f"the layer has no parameters named {', '.join(unexpected)}")
    return layer


def compare(submission, seed, batch, length, d_model, n_heads, bias=True, mask=None, torch_masks=None, what=""):
    state = random_state(seed, d_model, bias)
    layer = learner_layer(submission, state, d_model, n_heads)
    x = torch.randn(batch, length, d_model, generator=torch.Generator().manual_seed(seed + 1))
    out, weights = layer(x) if mask is None else layer(x, mask)
    ref_out, ref_weights = reference(state, d_model, n_heads)(
        x, x, x, average_attn_weights=False, **(torch_masks or {})
    )
    label = f"d_model={d_model}, n_heads={n_heads}{what}"
    check(
        tuple(weights.shape) == (batch, n_heads, length, length),
        f"the weights have shape {tuple(weights.shape)}, expected (B, n_heads, T, T) ({label})",
    )
    assert_close(out, ref_out.detach(), f"the output ({label})")
    assert_close(weights, ref_weights.detach(), f"the per-head weights ({label})")


@points(1)
def test_output_shapes(submission):
    """The layer returns an output of shape (B, T, d_model) and per-head weights (B, n_heads, T, T) whose rows sum to one."""
    x = torch.randn(3, 7, 24, generator=torch.Generator().manual_seed(201))
    out, weights = submission.MultiHeadAttention(24, 6)(x)
    check(tuple(out.shape) == (3, 7, 24), f"the output has shape {tuple(out.shape)}, expected (B, T, d_model)")
    check(tuple(weights.shape) == (3, 6, 7, 7), f"the weights have shape {tuple(weights.shape)}, expected (B, n_heads, T, T)")
    assert_close(weights.sum(-1), torch.ones(3, 6, 7), "the row sums of the attention weights")


@points(2)
def test_matches_torch_with_copied_weights(submission):
    """With the same weights, output and per-head weights equal torch.nn.MultiheadAttention's, for several sizes."""
    for seed, (batch, length, d_model, n_heads) in enumerate([(2, 5, 16, 4), (1, 7, 12, 3), (3, 4, 8, 1), (2, 6, 8, 8)]):
        compare(submission, 210 + 10 * seed, batch, length, d_model, n_heads)


@points(1)
def test_matches_torch_without_bias(submission):
    """With bias=False the layer has no bias parameters and still equals torch's module built with bias=False."""
    names = set(submission.MultiHeadAttention(8, 2, bias=False).state_dict())
    biases = sorted(n for n in names if n.endswith("bias"))
    check(not biases, f"a layer built with bias=False has bias parameters {', '.join(biases)}")
    compare(submission, 250, 2, 5, 16, 4, bias=False, what=", bias=False")


@points(1)
def test_causal_mask_matches_torch(submission):
    """With a causal (T, T) mask the layer equals torch's and future keys get exactly zero weight."""
    length = 6
    allowed = torch.ones(length, length, dtype=torch.bool).tril()
    compare(submission, 260, 2, length, 16, 4, mask=allowed, torch_masks={"attn_mask": ~allowed}, what=", causal")
    layer = learner_layer(submission, random_state(261, 16), 16, 4)
    _, weights = layer(torch.randn(1, length, 16, generator=torch.Generator().manual_seed(262)), allowed)
    check(bool((weights[..., ~allowed] == 0).all()), "keys in the future of a query must get exactly zero weight")


@points(1)
def test_masks_broadcast(submission):
    """Padding masks (B, 1, 1, T), padding-and-causal masks (B, 1, T, T) and per-head masks (B, n_heads, T, T) match torch."""
    batch, length, d_model, n_heads = 3, 6, 12, 3
    real = torch.arange(length)[None, :] < torch.tensor([6, 4, 1])[:, None]            # (B, T) keys that exist
    compare(submission, 270, batch, length, d_model, n_heads, mask=real[:, None, None, :],
            torch_masks={"key_padding_mask": ~real}, what=", padding mask")
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    compare(submission, 275, batch, length, d_model, n_heads, mask=causal & real[:, None, None, :],
            torch_masks={"attn_mask": ~causal, "key_padding_mask": ~real}, what=", padding and causal mask")
    per_head = torch.rand(batch, n_heads, length, length, generator=torch.Generator().manual_seed(279)) < 0.6
    per_head |= torch.eye(length, dtype=torch.bool)                                   # no query left without keys
    compare(submission, 280, batch, length, d_model, n_heads, mask=per_head,
            torch_masks={"attn_mask": ~per_head.flatten(0, 1)}, what=", per-head mask")


@points(1)
def test_gradients_match_torch(submission):
    """Gradients reach the input and all four projections (weights and biases) and equal torch's."""
    batch, length, d_model, n_heads = 2, 4, 8, 2
    state = {k: v.double() for k, v in random_state(290, d_model).items()}
    layer = learner_layer(submission, state, d_model, n_heads)
    layer.double()
    gen = torch.Generator().manual_seed(291)
    x = torch.randn(batch, length, d_model, generator=gen, dtype=torch.float64)
    g = torch.randn(batch, length, d_model, generator=gen, dtype=torch.float64)
    allowed = torch.ones(length, length, dtype=torch.bool).tril()

    ref = reference(state, d_model, n_heads).double()
    x_ref = x.clone().requires_grad_(True)
    (ref(x_ref, x_ref, x_ref, attn_mask=~allowed)[0] * g).sum().backward()

    (grad_x,) = submission.vjp(layer, (x.clone().requires_grad_(True), allowed), (g, None))
    check(grad_x is not None, "the output does not depend on the input")
    assert_close(grad_x, x_ref.grad, "the gradient with respect to the input")

    # d(sum(output * g)) / d(parameters), computed in the notebook's process by torch.func.
    func = submission.torch.func
    params = dict(state)
    jacobians, _ = func.jacrev(func.functional_call, argnums=1)(layer, params, (x, allowed))
    expected = {
        **dict(zip([f"{n}_proj.weight" for n in "qkv"], ref.in_proj_weight.grad.chunk(3))),
        **dict(zip([f"{n}_proj.bias" for n in "qkv"], ref.in_proj_bias.grad.chunk(3))),
        "out_proj.weight": ref.out_proj.weight.grad,
        "out_proj.bias": ref.out_proj.bias.grad,
    }
    for name, want in expected.items():
        got = torch.tensordot(g, jacobians[name], dims=g.dim())
        check(bool(got.abs().sum() > 0), f"no gradient reaches {name}")
        assert_close(got, want, f"the gradient with respect to {name}")


@points(1)
def test_heads_are_independent(submission):
    """Heads only meet in out_proj: permuting whole heads permutes the weights, and silencing a head via W_V or via W_O agrees."""
    d_model, n_heads, d_head = 16, 4, 4
    state = random_state(300, d_model)
    x = torch.randn(2, 5, d_model, generator=torch.Generator().manual_seed(301))
    out, weights = learner_layer(submission, state, d_model, n_heads)(x)

    perm = [2, 0, 3, 1]
    rows = torch.cat([torch.arange(h * d_head, (h + 1) * d_head) for h in perm])
    permuted = {k: v[rows] for k, v in state.items() if not k.startswith("out_proj")}
    permuted["out_proj.weight"] = state["out_proj.weight"][:, rows]   # W_O's columns are per head
    permuted["out_proj.bias"] = state["out_proj.bias"]
    out_p, weights_p = learner_layer(submission, permuted, d_model, n_heads)(x)
    assert_close(out_p, out, "the output after reordering the heads")
    assert_close(weights_p, weights[:, perm], "the per-head weights after reordering the heads")

    silent = slice(1 * d_head, 2 * d_head)                       # head 1
    no_value = {k: v.clone() for k, v in state.items()}
    no_value["v_proj.weight"][silent] = 0.0
    no_value["v_proj.bias"][silent] = 0.0
    no_output = {k: v.clone() for k, v in state.items()}
    no_output["out_proj.weight"][:, silent] = 0.0
    out_v, _ = learner_layer(submission, no_value, d_model, n_heads)(x)
    out_o, _ = learner_layer(submission, no_output, d_model, n_heads)(x)
    assert_close(out_v, out_o, "the output with one head silenced in W_V compared with silenced in W_O")
    check(not torch.allclose(out_v, out), "silencing a head should change the output")


@points(1)
def test_rejects_indivisible_width(submission):
    """MultiHeadAttention(d_model, n_heads) raises ValueError when d_model is not divisible by n_heads."""
    for d_model, n_heads in ((10, 3), (16, 6)):
        check(
            learner_raised("ValueError", submission.MultiHeadAttention, d_model, n_heads),
            f"MultiHeadAttention({d_model}, {n_heads}) should raise ValueError",
        )


@points(1)
def test_no_builtin_multihead_attention(submission):
    """The layer is built from nn.Linear and tensor operations, not from torch's own multi-head attention."""
    layer = submission.MultiHeadAttention(8, 2)
    layer(torch.randn(1, 3, 8), torch.ones(3, 3, dtype=torch.bool).tril())
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
