"""Hidden tests for ``perplexity`` (grade cell ``test_tm_perplexity``).

Reference: exp of torch's cross-entropy (mean over the counted positions,
``ignore_index`` for masked ones) of seeded random logits and targets, the
token log-probabilities being the log-softmax entries of the targets.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_textmetrics_reference.py")


def model_outputs(shape, vocab, seed, dtype=torch.float64, scale=2.0):
    """(token log-probabilities of shape ``shape``, logits, targets) for random logits."""
    gen = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(*shape, vocab, generator=gen, dtype=dtype)
    targets = torch.randint(0, vocab, shape, generator=gen)
    logprobs = torch.gather(logits.log_softmax(dim=-1), -1, targets.unsqueeze(-1)).squeeze(-1)
    return logprobs, logits, targets


def reference_ppl(logits, targets, keep=None):
    if keep is not None:
        targets = targets.masked_fill(~keep, -100)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    return math.exp(loss.item())


def _value(x, what):
    return float(ref.numbers([x], what)[0])


@points(1)
def test_perplexity_matches_cross_entropy(submission):
    """perplexity equals exp(cross-entropy) for torch tensors and numpy arrays of several shapes."""
    for shape, vocab, seed in [((4, 9), 13, 1), ((1, 1), 5, 2), ((30,), 100, 3), ((2, 3, 5), 7, 4)]:
        logprobs, logits, targets = model_outputs(shape, vocab, seed)
        want = reference_ppl(logits, targets)
        ref.compare([submission.perplexity(logprobs), submission.perplexity(logprobs.numpy())], [want, want],
                    f"perplexity of {tuple(shape)} log-probabilities (a torch tensor, then a numpy array)")
    # float32 log-probabilities are compared under the float32 tolerance.
    logprobs, logits, targets = model_outputs((6, 20), 50, 5, dtype=torch.float32)
    got = _value(submission.perplexity(logprobs), "perplexity")
    assert_close(torch.tensor(got, dtype=torch.float32), torch.tensor(reference_ppl(logits, targets), dtype=torch.float32),
                 "perplexity of float32 log-probabilities")


@points(1)
def test_perplexity_respects_mask(submission):
    """Only positions where the mask is true count (bool or 0/1 masks, torch or numpy), whatever the hidden positions hold."""
    for (shape, vocab, seed), filler in zip([((5, 12), 17, 11), ((3, 40), 9, 12), ((64,), 30, 13)],
                                           [float("-inf"), float("nan"), -1e9]):
        logprobs, logits, targets = model_outputs(shape, vocab, seed)
        keep = torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < 0.55
        keep.view(-1)[0] = True
        want = reference_ppl(logits, targets, keep)
        padded = logprobs.masked_fill(~keep, filler)
        got = [
            submission.perplexity(padded, keep),
            submission.perplexity(padded.numpy(), keep.numpy()),
            submission.perplexity(padded, keep.to(torch.int64)),
            submission.perplexity(padded.numpy(), keep.numpy().astype(np.int64)),
        ]
        ref.compare(got, [want] * 4, f"perplexity of {tuple(shape)} log-probabilities with a mask (hidden positions hold {filler})")
        everything = torch.ones(shape, dtype=torch.bool)
        ref.compare([submission.perplexity(logprobs, everything)], [reference_ppl(logits, targets)],
                    "perplexity with a mask that keeps every position")


def _raises_value_error(call, what):
    if not learner_raised("ValueError", call):
        raise AssertionError(f"no ValueError for {what}")


@points(1)
def test_perplexity_properties(submission):
    """Uniform over V tokens gives V, certainty gives 1, repeating a text changes nothing, and no counted token raises ValueError."""
    p = submission.perplexity
    for vocab in (2, 17, 50257):
        ref.compare([p(torch.full((3, 8), -math.log(vocab), dtype=torch.float64))], [float(vocab)],
                    f"perplexity of a model uniform over {vocab} tokens")
    ref.compare([p(np.zeros(10))], [1.0], "perplexity of a model certain of every token")
    logprobs, logits, targets = model_outputs((40,), 25, 21)
    once = _value(p(logprobs), "perplexity")
    twice = _value(p(torch.cat([logprobs, logprobs])), "perplexity")
    check(once >= 1.0, "perplexity below 1 (it is exp of a non-negative mean)")
    ref.compare([twice], [once], "perplexity of a text repeated twice (it must equal the text's own perplexity)")
    _raises_value_error(lambda: p(torch.zeros(0, dtype=torch.float64)), "an empty input")
    _raises_value_error(lambda: p(logprobs, torch.zeros(40, dtype=torch.bool)), "a mask that keeps nothing")
