"""Hidden tests for ``top_k_route`` (grade cell ``test_moe_top_k``).

Logits are seeded random draws (continuous, so no ties); the reference is
torch.topk followed by a softmax over the selected logits, computed here.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, assert_finite, check

from autograder.judge import suite_helper

ref = suite_helper(__file__, "_moe_reference.py")

CASES = [(7, 4, 1), (9, 4, 2), (6, 8, 2), (5, 8, 3), (4, 5, 5), (3, 1, 1)]  # (N, E, k)


def logits_for(seed, n, e, scale=2.0):
    return scale * torch.randn(n, e, generator=torch.Generator().manual_seed(seed))


@points(1)
def test_topk_shapes_and_gate_sums(submission):
    """Gates and indices have shape (N, k); indices are int64, distinct per token and in range; gates are positive and sum to one."""
    for seed, (n, e, k) in enumerate(CASES):
        gates, idx = submission.top_k_route(logits_for(400 + seed, n, e), k)
        check(tuple(gates.shape) == (n, k), f"with N={n}, E={e}, k={k} the gates have shape {tuple(gates.shape)}")
        check(tuple(idx.shape) == (n, k), f"with N={n}, E={e}, k={k} the indices have shape {tuple(idx.shape)}")
        check(idx.dtype == torch.int64, f"the expert indices have dtype {idx.dtype}, expected torch.int64")
        check(bool(((idx >= 0) & (idx < e)).all()), f"an expert index is outside 0..{e - 1}")
        distinct = all(len(set(row)) == k for row in idx.tolist())
        check(distinct, f"with k={k} a token was sent to the same expert twice")
        check(bool((gates > 0).all()), "every selected expert must get a positive gate")
        assert_close(gates.sum(-1), torch.ones(n), f"the sum of each token's gates (E={e}, k={k})")


@points(1)
def test_topk_selects_largest_in_order(submission):
    """Each token goes to its k largest logits, listed from largest to smallest, for every k from 1 to E."""
    for seed, (n, e, k) in enumerate(CASES + [(6, 6, 6), (8, 16, 4)]):
        logits = logits_for(420 + seed, n, e)
        _, idx = submission.top_k_route(logits, k)
        _, want = ref.route(logits, k)
        check(tuple(idx.shape) == (n, k), f"with N={n}, E={e}, k={k} the indices have shape {tuple(idx.shape)}")
        same_sets = all(set(a) == set(b) for a, b in zip(idx.tolist(), want.tolist()))
        check(same_sets, f"with E={e}, k={k} some token was not sent to its {k} largest logits")
        check(bool((idx == want).all()), f"with E={e}, k={k} the chosen experts are not listed largest logit first")


@points(1)
def test_topk_gates_softmax_of_selected(submission):
    """Gates are a softmax over the k selected logits (Mixtral's convention), stay finite for huge logits, and are 1 when k = 1."""
    for seed, (n, e, k) in enumerate(CASES):
        logits = logits_for(440 + seed, n, e)
        gates, _ = submission.top_k_route(logits, k)
        want, _ = ref.route(logits, k)
        assert_close(gates, want, f"the gates for E={e}, k={k}")
    huge = logits_for(460, 5, 6, scale=1000.0)
    gates, _ = submission.top_k_route(huge, 3)
    assert_finite(gates, "the gates for logits of size about 1000")
    assert_close(gates, ref.route(huge, 3)[0], "the gates for logits of size about 1000")
    gates, _ = submission.top_k_route(logits_for(461, 4, 8), 1)
    assert_close(gates, torch.ones(4, 1), "the gates with k = 1")


@points(1)
def test_topk_gradient_reaches_selected_logits(submission):
    """Gradients flow from the gates to the selected logits (equal to the reference's) and not to the others."""
    n, e, k = 6, 5, 2
    logits = logits_for(480, n, e).double()
    cot = torch.randn(n, k, generator=torch.Generator().manual_seed(481), dtype=torch.float64)
    x = logits.clone().requires_grad_(True)
    (ref.route(x, k)[0] * cot).sum().backward()
    (grad,) = submission.vjp(submission.top_k_route, (logits.clone().requires_grad_(True), k), (cot, None))
    check(grad is not None, "the gates do not depend on the logits")
    assert_close(grad, x.grad, "the gradient of the gates with respect to the logits")
