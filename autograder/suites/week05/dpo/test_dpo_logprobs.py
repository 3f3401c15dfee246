"""Hidden tests for ``sequence_logprobs`` (grade cell ``test_dpo_logprobs``).

Reference: ``log_softmax`` gathered at the labels and summed where the mask is
set, in float64 (``_dpo_reference.logprobs``). Masks include prompt positions
at the start, padding at the end, an empty row and a full row, as bool,
integer and float tensors; the labels at masked-out positions are valid ids
that change the result if they are counted.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, assert_finite, check

ref = suite_helper(__file__, "_dpo_reference.py")


def batch(seed: int, rows: int, length: int, vocab: int, scale: float = 1.0, dtype=torch.float32):
    """Logits, labels and a 0/1 mask with a prompt, padding, an empty row and a full row."""
    case_gen = torch.Generator().manual_seed(seed)
    logits = (scale * torch.randn(rows, length, vocab, generator=case_gen, dtype=torch.float64)).to(dtype)
    labels = torch.randint(vocab, (rows, length), generator=case_gen)
    mask = torch.zeros(rows, length, dtype=torch.long)
    for r in range(rows):
        start = int(torch.randint(0, max(1, length // 2), (), generator=case_gen))
        stop = int(torch.randint(start + 1, length + 1, (), generator=case_gen))
        mask[r, start:stop] = 1
    mask[0] = 0                 # nothing to count
    mask[-1] = 1                # everything counts
    return logits, labels, mask


@points(2)
def test_dpo_logprobs_match_reference(submission):
    """The summed log-probabilities equal a gather-based reference over padded batches, with bool, integer and float masks, in float32 and float64."""
    cases = [(0, 5, 9, 13, torch.float32), (1, 3, 17, 40, torch.float32), (2, 4, 6, 7, torch.float64),
             (3, 1, 1, 5, torch.float32)]
    for seed, rows, length, vocab, dtype in cases:
        logits, labels, mask = batch(seed, rows, length, vocab, dtype=dtype)
        want = ref.logprobs(logits, labels, mask).to(dtype)
        for kind, m in (("bool", mask.bool()), ("integer", mask), ("float", mask.float())):
            got = submission.sequence_logprobs(logits, labels, m)
            check(isinstance(got, torch.Tensor) and tuple(got.shape) == (rows,),
                  f"sequence_logprobs must return a tensor of shape (B,) = ({rows},)")
            assert_close(got, want, f"the summed log-probabilities ({kind} mask, B={rows}, T={length}, V={vocab}, {dtype})")


@points(1)
def test_dpo_logprobs_confident_logits(submission):
    """With very confident logits (hundreds apart) the log-probabilities stay finite and exact: log-softmax, not the log of a rounded softmax."""
    for seed, scale in ((10, 100.0), (11, 300.0)):
        logits, labels, mask = batch(seed, 4, 8, 9, scale=scale)
        got = submission.sequence_logprobs(logits, labels, mask)
        assert_finite(got, f"the log-probabilities with logits of scale {scale:g}")
        assert_close(got, ref.logprobs(logits, labels, mask).float(),
                     f"the log-probabilities with logits of scale {scale:g}")


@points(1)
def test_dpo_logprobs_gradient(submission):
    """Gradients flow back to the logits and equal autograd's gradient of the reference, zero at positions the mask leaves out."""
    logits, labels, mask = batch(20, 4, 7, 6, dtype=torch.float64)
    cotangent = torch.randn(4, generator=torch.Generator().manual_seed(21), dtype=torch.float64)
    leaf = logits.clone().requires_grad_(True)
    (ref.logprobs(leaf, labels, mask) * cotangent).sum().backward()
    (grad,) = submission.vjp(submission.sequence_logprobs, (logits.clone().requires_grad_(True), labels, mask), cotangent)
    check(grad is not None, "the result does not depend on the logits")
    assert_close(grad, leaf.grad, "the gradient with respect to the logits")
