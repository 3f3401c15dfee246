"""Hidden tests for ``generate_greedy_cached`` (grade cell ``test_kvc_generate``).

The expected tokens come from the course's uncached ``llmcourse.gpt.generate``
at temperature 0, run here on a twin of the sandbox's model. The seeded
weights (``_kvc_reference.py``) keep every greedy choice far from a tie and
make greedy paths change token at most steps, so cached and uncached decoding
must agree exactly, and a loop that feeds back the wrong token shows.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_kvc_reference.py")


def same_tokens(submission, model, remote, prompt, new, label):
    got = submission.generate_greedy_cached(remote, prompt, new)
    want = ref.greedy(model, prompt, new)
    check(tuple(got.shape) == tuple(want.shape),
          f"the result has shape {tuple(got.shape)}, not (B, T + max_new_tokens) ({label})")
    check(torch.equal(got[:, :prompt.shape[1]], prompt), f"the result must start with the prompts ({label})")
    wrong = (got != want).nonzero()
    check(len(wrong) == 0,
          f"cached greedy decoding differs from uncached greedy decoding, first at batch row "
          f"{int(wrong[0][0]) if len(wrong) else 0}, position {int(wrong[0][1]) if len(wrong) else 0} ({label})")


@points(2)
def test_kvc_greedy_matches_uncached(submission):
    """Cached greedy decoding returns exactly the tokens of uncached greedy decoding, for one-token and longer prompts, one sequence and a batch."""
    model, remote, _ = ref.twin_models(submission, seed=11)
    for seed, (batch, length, new) in enumerate([(1, 1, 20), (1, 5, 16), (3, 4, 24), (2, 9, 12)]):
        prompt = ref.tokens(500 + seed, batch, length)
        same_tokens(submission, model, remote, prompt, new, f"batch {batch}, prompt {length}, {new} new tokens")
    model, remote, config = ref.twin_models(submission, seed=12, vocab_size=11, n_layer=3, n_head=2, d_model=24)
    same_tokens(submission, model, remote, ref.tokens(510, 2, 3, config.vocab_size), 20, "3 layers of 2 heads")


@points(1)
def test_kvc_fresh_cache_every_call(submission):
    """Each call starts from an empty cache: the same prompt gives the same tokens before and after other calls."""
    model, remote, _ = ref.twin_models(submission, seed=13)
    first, other = ref.tokens(600, 2, 6), ref.tokens(601, 1, 3)
    for label, prompt, new in (("a first call", first, 10), ("a call after it with another prompt", other, 14),
                               ("the first prompt again", first, 10)):
        same_tokens(submission, model, remote, prompt, new, label)


@points(1)
def test_kvc_fills_the_context(submission):
    """Generation works right up to the context length: prompt plus new tokens may fill block_size exactly."""
    model, remote, config = ref.twin_models(submission, seed=14)
    for batch, length in ((1, 1), (2, 17)):
        prompt = ref.tokens(700 + length, batch, length)
        same_tokens(submission, model, remote, prompt, config.block_size - length,
                    f"a prompt of {length} and {config.block_size - length} new tokens, block_size {config.block_size}")
