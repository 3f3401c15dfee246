"""Hidden tests for ``dpo_loss`` (grade cell ``test_dpo_loss``).

Reference: the definition, -logsigmoid(beta((pc - rc) - (pr - rr))) averaged
over the batch, with rewards beta(policy - reference), in the judge
(``_dpo_reference.dpo``). Gradients are compared with autograd's gradient of
that definition; the large-margin cases reach beta * margin = +-100, +-200
and +-1000, where log(sigmoid(z)) is -inf (torch.sigmoid returns 0 below
about z = -88.7 in float32 and z = -709.8 in float64, where exp(-z)
overflows) and its gradient is nan.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

ref = suite_helper(__file__, "_dpo_reference.py")


def logps(seed: int, size: int, dtype=torch.float32):
    """Four plausible batches of sequence log-probabilities: policy chosen, policy rejected, reference chosen, reference rejected."""
    case_gen = torch.Generator().manual_seed(seed)
    return [(-30 + 10 * torch.randn(size, generator=case_gen, dtype=torch.float64)).to(dtype) for _ in range(4)]


def unpack(result, size: int, label: str):
    check(isinstance(result, (tuple, list)) and len(result) == 3,
          f"dpo_loss must return (loss, chosen_rewards, rejected_rewards) ({label})")
    loss, chosen, rejected = result
    check(isinstance(loss, torch.Tensor) and loss.dim() == 0,
          f"the loss must be a 0-dimensional tensor, the mean over the batch ({label})")
    for name, value in (("chosen", chosen), ("rejected", rejected)):
        check(isinstance(value, torch.Tensor) and tuple(value.shape) == (size,),
              f"the {name} rewards must be a tensor of shape (B,) ({label})")
    return loss, chosen, rejected


@points(2)
def test_dpo_loss_matches_reference(submission):
    """The loss and both implicit rewards equal the definition for several batch sizes and values of beta."""
    for seed, size, beta in ((0, 16, 0.1), (1, 16, 0.5), (2, 5, 2.0), (3, 1, 0.05), (4, 64, 1.0)):
        args = logps(seed, size)
        label = f"B={size}, beta={beta}"
        loss, chosen, rejected = unpack(submission.dpo_loss(*args, beta), size, label)
        want_loss, want_chosen, want_rejected = ref.dpo(*[a.double() for a in args], beta)
        assert_close(loss, want_loss.float(), f"the loss ({label})")
        assert_close(chosen, want_chosen.float(), f"the chosen rewards ({label})")
        assert_close(rejected, want_rejected.float(), f"the rejected rewards ({label})")


@points(1)
def test_dpo_loss_is_log2_when_policy_equals_reference(submission):
    """When the policy's log-probabilities equal the reference's (or move both completions by the same amount) the loss is log 2 and both rewards are equal."""
    for seed, size, beta in ((10, 8, 0.1), (11, 3, 1.0), (12, 1, 5.0)):
        pc, pr, _, _ = logps(seed, size)
        for shift in (0.0, 3.0, -7.5):
            label = f"B={size}, beta={beta}, policy shifted by {shift:g} on both completions"
            loss, chosen, rejected = unpack(submission.dpo_loss(pc + shift, pr + shift, pc, pr, beta), size, label)
            assert_close(loss, torch.tensor(math.log(2)), f"the loss ({label})")
            assert_close(chosen, rejected, f"the chosen rewards against the rejected rewards ({label})")


@points(1)
def test_dpo_loss_falls_as_chosen_preferred(submission):
    """The loss falls strictly as the policy gives the chosen completion more log-probability or the rejected one less, and stays positive."""
    pc, pr, rc, rr = logps(20, 4)
    shifts = [-40.0 + 4.0 * k for k in range(21)]
    for beta in (0.1, 0.5):
        up = [submission.dpo_loss(pc + s, pr, rc, rr, beta)[0].item() for s in shifts]
        down = [submission.dpo_loss(pc, pr - s, rc, rr, beta)[0].item() for s in shifts]
        for name, values in (("raising the chosen log-probability", up), ("lowering the rejected log-probability", down)):
            check(all(a > b for a, b in zip(values, values[1:])), f"the loss must fall when {name} (beta={beta})")
            check(all(v > 0 for v in values), f"the loss must stay positive (beta={beta})")


@points(1)
def test_dpo_loss_gradients(submission):
    """The gradients of the loss with respect to all four log-probabilities equal autograd's gradients of the definition."""
    for seed, size, beta in ((30, 6, 0.1), (31, 2, 2.0)):
        args = logps(seed, size, torch.float64)
        leaves = [a.clone().requires_grad_(True) for a in args]
        ref.dpo(*leaves, beta)[0].backward()
        grads = submission.vjp(submission.dpo_loss, tuple(a.clone().requires_grad_(True) for a in args) + (beta,),
                               (torch.tensor(1.0, dtype=torch.float64), None, None))
        for name, grad, leaf in zip(("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected"), grads, leaves):
            check(grad is not None, f"the loss does not depend on {name} (B={size}, beta={beta})")
            assert_close(grad, leaf.grad, f"the gradient with respect to {name} (B={size}, beta={beta})")


@points(2)
def test_dpo_loss_stable_at_large_margins(submission):
    """At margins where beta times the margin is +-100, +-200 and +-1000 the loss and its gradients are finite and exact (log-sigmoid, not the log of a rounded sigmoid)."""
    beta = 0.5
    for dtype in (torch.float32, torch.float64):
        for z in (100.0, -100.0, 200.0, -200.0, 1000.0, -1000.0):
            # policy and reference agree on the rejected completion; the chosen one carries the margin z / beta
            args = [torch.tensor([z / beta - 20.0], dtype=dtype), torch.tensor([-15.0], dtype=dtype),
                    torch.tensor([-20.0], dtype=dtype), torch.tensor([-15.0], dtype=dtype)]
            label = f"beta * margin = {z:g}, {dtype}"
            loss, _, _ = unpack(submission.dpo_loss(*args, beta), 1, label)
            assert_finite(loss, f"the loss ({label})")
            leaves = [a.clone().requires_grad_(True) for a in args]
            want = ref.dpo(*leaves, beta)[0]
            want.backward()
            assert_close(loss, want.detach(), f"the loss ({label})")
            grads = submission.vjp(submission.dpo_loss, tuple(a.clone().requires_grad_(True) for a in args) + (beta,),
                                   (torch.tensor(1.0, dtype=dtype), None, None))
            check(grads[0] is not None, f"the loss does not depend on policy_chosen ({label})")
            assert_finite(grads[0], f"the gradient with respect to policy_chosen ({label})")
            assert_close(grads[0], leaves[0].grad, f"the gradient with respect to policy_chosen ({label})")
