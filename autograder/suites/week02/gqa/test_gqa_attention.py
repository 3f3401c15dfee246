"""Hidden tests for ``GroupedQueryAttention`` (grade cell ``test_gqa_attention``).

Weights come from a seeded generator and are loaded into the learner's layer
with ``load_state_dict``. Every expected value is computed here, in the judge,
by one of three references holding the same weights: torch's
``scaled_dot_product_attention`` with ``enable_gqa=True`` (query head h reads
key/value head h // (n_heads // n_kv_heads)), ``torch.nn.MultiheadAttention``
when there are as many key/value heads as query heads, and a multi-query
attention written with einsum when there is a single key/value head. Masks use
the exercise's convention (True = may attend).
"""

import math

import torch
import torch.nn.functional as F

from autograder.judge import learner_raised, points
from llmcourse.testing import assert_close, check

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
LAYOUTS = [(32, 8, 2), (24, 6, 3), (16, 4, 1), (16, 4, 4), (48, 12, 4), (8, 2, 2)]  # (d_model, heads, kv heads)


def random_state(seed, d_model, n_heads, n_kv_heads, bias=False):
    """A state dict for the layer: q/out d_model x d_model, k/v (n_kv_heads * d_head) x d_model."""
    gen = torch.Generator().manual_seed(seed)
    kv_width = n_kv_heads * (d_model // n_heads)
    rows = {"q_proj": d_model, "k_proj": kv_width, "v_proj": kv_width, "out_proj": d_model}
    state = {}
    for name in PROJECTIONS:
        state[f"{name}.weight"] = torch.randn(rows[name], d_model, generator=gen) / math.sqrt(d_model)
        if bias:
            state[f"{name}.bias"] = 0.5 * torch.randn(rows[name], generator=gen)
    return state


def heads(t, n):
    """(B, T, n * d) -> (B, n, T, d), head i owning features [i * d, (i + 1) * d)."""
    return t.unflatten(-1, (n, t.shape[-1] // n)).transpose(1, 2)


def projections(state, x, n_heads, n_kv_heads):
    q, k, v = (F.linear(x, state[f"{n}_proj.weight"], state.get(f"{n}_proj.bias")) for n in "qkv")
    return heads(q, n_heads), heads(k, n_kv_heads), heads(v, n_kv_heads)


def output_projection(state, context):
    return F.linear(context.transpose(1, 2).flatten(-2), state["out_proj.weight"], state.get("out_proj.bias"))


def sdpa_reference(state, x, n_heads, n_kv_heads, mask=None):
    """Grouped-query attention by torch's scaled_dot_product_attention(enable_gqa=True)."""
    q, k, v = projections(state, x, n_heads, n_kv_heads)
    context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
    return output_projection(state, context)


def mqa_reference(state, x, n_heads, mask=None):
    """Multi-query attention: one key and one value per position, broadcast to every query head."""
    q, k, v = projections(state, x, n_heads, 1)
    k, v = k[:, 0], v[:, 0]                                           # (B, T, d_head)
    scores = torch.einsum("bhqd,bkd->bhqk", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    context = torch.einsum("bhqk,bkd->bhqd", scores.softmax(dim=-1), v)
    return output_projection(state, context)


def torch_mha(state, d_model, n_heads):
    """torch.nn.MultiheadAttention holding the weights of ``state`` (one key/value head per query head)."""
    bias = "q_proj.bias" in state
    ref = torch.nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([state[f"{n}_proj.weight"] for n in "qkv"]))
        ref.out_proj.weight.copy_(state["out_proj.weight"])
        if bias:
            ref.in_proj_bias.copy_(torch.cat([state[f"{n}_proj.bias"] for n in "qkv"]))
            ref.out_proj.bias.copy_(state["out_proj.bias"])
    return ref


def learner_layer(submission, state, d_model, n_heads, n_kv_heads):
    """The learner's layer, built and loaded with ``state``."""
    layer = submission.GroupedQueryAttention(d_model, n_heads, n_kv_heads, bias="q_proj.bias" in state)
    _, unexpected = layer.load_state_dict(state, strict=False)
    check(not unexpected, f"the layer has no parameters named {', '.join(unexpected)}")
    return layer


def inputs(seed, batch, length, d_model):
    return torch.randn(batch, length, d_model, generator=torch.Generator().manual_seed(seed))


@points(1)
def test_projection_sizes_and_parameter_count(submission):
    """q_proj and out_proj map d_model -> d_model, k_proj and v_proj map d_model -> n_kv_heads * d_head, and nothing else has parameters."""
    for d_model, n_heads, n_kv in LAYOUTS:
        for bias in (False, True):
            layer = submission.GroupedQueryAttention(d_model, n_heads, n_kv, bias=bias)
            shapes = {name: tuple(t.shape) for name, t in layer.state_dict().items()}
            want = {name: tuple(t.shape) for name, t in random_state(0, d_model, n_heads, n_kv, bias).items()}
            label = f"GroupedQueryAttention({d_model}, {n_heads}, {n_kv}, bias={bias})"
            for name, shape in want.items():
                check(name in shapes, f"{label} has no parameter {name}")
                check(shapes[name] == shape, f"{label}.{name} has shape {shapes[name]}, expected {shape}")
            extra = sorted(set(shapes) - set(want))
            check(not extra, f"{label} has unexpected parameters or buffers {', '.join(extra)}")


@points(2)
def test_matches_sdpa_with_shared_kv_heads(submission):
    """With copied weights the output equals torch's scaled_dot_product_attention(enable_gqa=True), for several head layouts, with and without biases."""
    for i, (d_model, n_heads, n_kv) in enumerate(LAYOUTS):
        for bias in (False, True):
            state = random_state(500 + 10 * i + bias, d_model, n_heads, n_kv, bias)
            x = inputs(600 + 10 * i + bias, 1 + i % 3, 3 + i, d_model)
            got = learner_layer(submission, state, d_model, n_heads, n_kv)(x)
            assert_close(got, sdpa_reference(state, x, n_heads, n_kv),
                         f"the output for d_model={d_model}, n_heads={n_heads}, n_kv_heads={n_kv}, bias={bias}")


@points(1)
def test_one_kv_head_per_query_head_is_mha(submission):
    """With n_kv_heads == n_heads the layer equals torch.nn.MultiheadAttention holding the same weights."""
    for i, (d_model, n_heads, bias) in enumerate([(16, 4, False), (24, 3, True), (12, 12, False)]):
        state = random_state(700 + i, d_model, n_heads, n_heads, bias)
        x = inputs(710 + i, 2, 5, d_model)
        got = learner_layer(submission, state, d_model, n_heads, n_heads)(x)
        want = torch_mha(state, d_model, n_heads)(x, x, x, need_weights=False)[0].detach()
        assert_close(got, want, f"multi-head attention with d_model={d_model}, n_heads={n_heads}, bias={bias}")


@points(1)
def test_single_kv_head_is_mqa(submission):
    """With n_kv_heads == 1 the layer equals multi-query attention: one key and value head read by every query head."""
    for i, (d_model, n_heads) in enumerate([(16, 4), (24, 8), (8, 1)]):
        state = random_state(720 + i, d_model, n_heads, 1)
        x = inputs(730 + i, 2, 6, d_model)
        got = learner_layer(submission, state, d_model, n_heads, 1)(x)
        assert_close(got, mqa_reference(state, x, n_heads), f"multi-query attention with {n_heads} query heads")


@points(1)
def test_causal_and_padding_masks(submission):
    """Causal (T, T) and padding (B, 1, 1, T) masks match the reference, and under a causal mask later tokens never change earlier outputs."""
    d_model, n_heads, n_kv, length = 32, 8, 2, 7
    state = random_state(740, d_model, n_heads, n_kv)
    layer = learner_layer(submission, state, d_model, n_heads, n_kv)
    x = inputs(741, 3, length, d_model)
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    assert_close(layer(x, causal), sdpa_reference(state, x, n_heads, n_kv, causal), "the causally masked output")
    real = torch.arange(length)[None, :] < torch.tensor([7, 4, 1])[:, None]       # (B, T) keys that exist
    padding = real[:, None, None, :]
    assert_close(layer(x, padding), sdpa_reference(state, x, n_heads, n_kv, padding), "the output with a padding mask")

    cut = 3
    changed = x.clone()
    changed[:, cut:] = inputs(742, 3, length - cut, d_model)
    before, after = layer(x, causal), layer(changed, causal)
    assert_close(after[:, :cut], before[:, :cut], "the outputs before the edited positions under a causal mask")


@points(1)
def test_gradients_match_reference(submission):
    """Gradients reach the input and all four projections and equal the reference's, for shared key/value heads."""
    d_model, n_heads, n_kv, batch, length = 16, 4, 2, 2, 5
    state = {k: v.double() for k, v in random_state(760, d_model, n_heads, n_kv, bias=True).items()}
    layer = learner_layer(submission, state, d_model, n_heads, n_kv)
    layer.double()
    gen = torch.Generator().manual_seed(761)
    x = torch.randn(batch, length, d_model, generator=gen, dtype=torch.float64)
    g = torch.randn(batch, length, d_model, generator=gen, dtype=torch.float64)
    causal = torch.ones(length, length, dtype=torch.bool).tril()

    ref_state = {k: v.clone().requires_grad_(True) for k, v in state.items()}
    x_ref = x.clone().requires_grad_(True)
    (sdpa_reference(ref_state, x_ref, n_heads, n_kv, causal) * g).sum().backward()

    (grad_x,) = submission.vjp(layer, (x.clone().requires_grad_(True), causal), g)
    check(grad_x is not None, "the output does not depend on the input")
    assert_close(grad_x, x_ref.grad, "the gradient with respect to the input")

    # d(sum(output * g)) / d(parameters), computed in the notebook's process by torch.func.
    func = submission.torch.func
    jacobians = func.jacrev(func.functional_call, argnums=1)(layer, dict(state), (x, causal))
    for name, param in ref_state.items():
        got = torch.tensordot(g, jacobians[name], dims=g.dim())
        check(bool(got.abs().sum() > 0), f"no gradient reaches {name}")
        assert_close(got, param.grad, f"the gradient with respect to {name}")


@points(1)
def test_rejects_uneven_groups(submission):
    """The constructor raises ValueError when n_heads is not divisible by n_kv_heads, or d_model by n_heads."""
    for d_model, n_heads, n_kv in ((32, 8, 3), (48, 6, 4), (16, 4, 8), (30, 4, 2)):
        check(
            learner_raised("ValueError", submission.GroupedQueryAttention, d_model, n_heads, n_kv),
            f"GroupedQueryAttention({d_model}, {n_heads}, {n_kv}) should raise ValueError",
        )
