"""Hidden tests for ``load_balancing_loss`` (grade cell ``test_moe_balance_loss``).

The convention is the notebook's: f_i counts all N*k routing choices,
P_i is the mean of a softmax over all E logits, L = E * sum_i f_i P_i.
The reference in _moe_reference.py counts choices with a plain loop.
"""

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check

from autograder.judge import suite_helper

ref = suite_helper(__file__, "_moe_reference.py")


def random_routing(seed, n, e, k):
    logits = 1.5 * torch.randn(n, e, generator=torch.Generator().manual_seed(seed))
    return logits, ref.route(logits, k)[1]


@points(1)
def test_balance_loss_matches_formula(submission):
    """The loss equals E * sum_i f_i * P_i, with f_i counted over all N*k choices, for k = 1, 2 and 3."""
    for seed, (n, e, k) in enumerate([(12, 4, 1), (10, 4, 2), (16, 8, 2), (9, 6, 3)]):
        logits, idx = random_routing(500 + seed, n, e, k)
        got = submission.load_balancing_loss(logits, idx, e)
        check(hasattr(got, "dim") and got.dim() == 0, "the loss should be a 0-dimensional tensor")
        assert_close(got, ref.balance_loss(logits, idx, e), f"the loss for N={n}, E={e}, k={k}")
    # choices that are not the top-k of the logits: f must come from the indices given
    logits = torch.randn(8, 4, generator=torch.Generator().manual_seed(510))
    idx = torch.tensor([[0, 1], [0, 2], [0, 3], [0, 1], [1, 2], [0, 3], [0, 2], [0, 1]])
    assert_close(submission.load_balancing_loss(logits, idx, 4), ref.balance_loss(logits, idx, 4),
                 "the loss for routing choices given explicitly")


@points(1)
def test_balance_loss_uniform_is_one_collapse_is_large(submission):
    """A uniform routing (equal shares, equal mean probabilities) scores exactly 1; a collapsed one scores close to E."""
    for n, e, k in [(8, 4, 1), (12, 4, 2), (24, 8, 3), (10, 5, 5)]:
        flat = torch.zeros(n, e)
        even = (torch.arange(n * k) % e).reshape(n, k)      # each expert gets n*k/e choices
        got = submission.load_balancing_loss(flat, even, e)
        assert_close(got, torch.tensor(1.0), f"the loss of a uniform routing with E={e}, k={k}")
    e = 8
    confident = torch.full((20, e), -20.0)
    confident[:, 3] = 20.0
    all_to_three = torch.full((20, 1), 3)
    got = submission.load_balancing_loss(confident, all_to_three, e)
    assert_close(got, ref.balance_loss(confident, all_to_three, e), "the loss when every token goes to one expert")
    check(float(got) > e - 0.01, f"sending every token to one expert with probability ~1 should cost about E={e}")


@points(1)
def test_balance_loss_counts_unused_experts(submission):
    """Experts that receive no token count with f_i = 0, including the last ones (n_experts > largest index + 1)."""
    logits = torch.randn(6, 7, generator=torch.Generator().manual_seed(530))
    idx = torch.tensor([[0], [1], [1], [2], [0], [1]])          # experts 3..6 get nothing
    got = submission.load_balancing_loss(logits, idx, 7)
    assert_close(got, ref.balance_loss(logits, idx, 7), "the loss when some experts get no token")
    idx2 = torch.tensor([[4, 1], [4, 1], [1, 4]])
    logits2 = torch.randn(3, 6, generator=torch.Generator().manual_seed(531))
    assert_close(submission.load_balancing_loss(logits2, idx2, 6), ref.balance_loss(logits2, idx2, 6),
                 "the loss when only two of six experts are used")


@points(1)
def test_balance_loss_gradient_through_mean_probabilities(submission):
    """The loss trains the router through P_i: its gradient with respect to the logits equals the reference's."""
    n, e, k = 10, 4, 2
    logits, idx = random_routing(540, n, e, k)
    logits = logits.double()
    x = logits.clone().requires_grad_(True)
    ref.balance_loss(x, idx, e).backward()
    (grad,) = submission.vjp(
        submission.load_balancing_loss, (logits.clone().requires_grad_(True), idx, e), torch.tensor(1.0, dtype=torch.float64)
    )
    check(grad is not None, "the loss does not depend on the router logits")
    assert_close(grad, x.grad, "the gradient of the loss with respect to the logits")
