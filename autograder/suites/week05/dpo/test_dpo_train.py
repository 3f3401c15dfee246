"""Hidden tests for ``train_dpo`` (grade cell ``test_dpo_train``).

The learner's trainer runs inside the sandbox on twins of small GPTs built
here (``_dpo_reference.py``: seeded weights, the same state dict on both
sides). Nothing the trainer reports is taken on trust: after it returns, the
judge reads the trained policy's and the reference's weights back and
measures the margin itself with the reference computations.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_dpo_reference.py")

BETA = 0.5
STEPS = 10


def judge_twin(state: dict, **shape):
    """A GPT here holding ``state`` (read back from the sandbox)."""
    model, _ = ref.random_gpt(0, **shape)
    model.load_state_dict(state, strict=True)
    return model.eval()


def checked_margins(margins, steps: int, label: str) -> list:
    check(isinstance(margins, (list, tuple)) and len(margins) == steps,
          f"train_dpo must return a list with one margin per step ({label})")
    check(all(isinstance(m, (int, float)) and math.isfinite(m) for m in margins),
          f"every margin must be a finite Python number ({label})")
    return list(margins)


@points(2)
def test_dpo_train_raises_margin(submission):
    """Starting from a copy of the reference, the reported margins start at 0 and rise, and the grader's own measurement of the trained policy shows a positive margin."""
    cases = [(1, dict(), ref.random_pairs(100, 8, 4, 8, ref.SHAPE["vocab_size"])),
             (2, dict(vocab_size=7, n_layer=1, n_head=4, d_model=16), ref.random_pairs(101, 5, 2, 10, 7))]
    for seed, shape, pairs in cases:
        label = f"model {shape or 'default'}"
        _, state = ref.random_gpt(seed, **shape)
        policy, reference = ref.remote_gpt(submission, state, **shape), ref.remote_gpt(submission, state, **shape)
        margins = checked_margins(submission.train_dpo(policy, reference, pairs, STEPS, BETA, 3e-3), STEPS, label)
        check(abs(margins[0]) < 1e-4, f"the first margin must be 0 when the policy starts as a copy of the reference ({label})")
        check(margins[-1] > margins[0] + 0.5, f"the reported margin must rise during training ({label})")
        trained = judge_twin(policy.state_dict(), **shape)
        measured = ref.margin(trained, judge_twin(state, **shape), pairs, BETA)
        check(measured > 0.5, f"the trained policy's margin, measured by the grader, must be clearly positive ({label})")


@points(1)
def test_dpo_train_reference_frozen(submission):
    """The reference model's weights are exactly what they were before training."""
    _, policy_state = ref.random_gpt(3)
    _, reference_state = ref.random_gpt(4)
    policy, reference = ref.remote_gpt(submission, policy_state), ref.remote_gpt(submission, reference_state)
    pairs = ref.random_pairs(102, 6, 3, 9, ref.SHAPE["vocab_size"])
    checked_margins(submission.train_dpo(policy, reference, pairs, STEPS, BETA, 3e-3), STEPS, "frozen reference")
    after = reference.state_dict()
    for name, value in reference_state.items():
        check(name in after and torch.equal(after[name], value), f"the reference's {name} changed during training")
    trained = policy.state_dict()
    check(any(not torch.equal(trained[name], value) for name, value in policy_state.items()),
          "the policy's weights did not change during training")


@points(1)
def test_dpo_train_first_margin_is_starting_policy(submission):
    """When policy and reference start different, the first reported margin is the starting policy's margin against the given reference, counted over completion tokens only."""
    for policy_seed, reference_seed, beta in ((5, 6, 0.3), (7, 8, 1.0)):
        _, policy_state = ref.random_gpt(policy_seed)
        _, reference_state = ref.random_gpt(reference_seed)
        pairs = ref.random_pairs(103 + policy_seed, 7, 5, 7, ref.SHAPE["vocab_size"])
        want = ref.margin(judge_twin(policy_state), judge_twin(reference_state), pairs, beta)
        policy, reference = ref.remote_gpt(submission, policy_state), ref.remote_gpt(submission, reference_state)
        margins = checked_margins(submission.train_dpo(policy, reference, pairs, 2, beta, 1e-3), 2, f"beta={beta}")
        assert_close(torch.tensor(margins[0], dtype=torch.float32), torch.tensor(want, dtype=torch.float32),
                     f"the first margin against the grader's measurement of the starting policy (beta={beta})")
