"""Hidden tests for ``TinyGPT`` (grade cell ``test_gpt_model``).

Reference: ``llmcourse.gpt.GPT`` holding the same seeded weights.
"""

import torch

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close

ref = suite_helper(__file__, "_gpt_reference.py")

SHAPES = [
    dict(vocab=13, block=16, layers=2, heads=4, d_model=32),
    dict(vocab=7, block=5, layers=1, heads=2, d_model=8),
    dict(vocab=40, block=24, layers=3, heads=3, d_model=24),
]


def learner_gpt(submission, shape, state):
    model = submission.TinyGPT(shape["vocab"], shape["block"], shape["layers"], shape["heads"], shape["d_model"])
    return ref.load(model, state, "model")


@points(2)
def test_gpt_model_matches_reference(submission):
    """The logits equal the reference GPT's given the same weights, for several shapes and lengths up to block_size."""
    for k, shape in enumerate(SHAPES):
        model, state = ref.reference_gpt(30 + k, **shape)
        theirs = learner_gpt(submission, shape, state)
        gen = torch.Generator().manual_seed(40 + k)
        for length in (1, shape["block"] // 2, shape["block"]):
            idx = torch.randint(0, shape["vocab"], (2, length), generator=gen)
            with torch.no_grad():
                want = model(idx)
            assert_close(theirs(idx), want, f"the logits (shape {shape}, T={length})")


@points(1)
def test_gpt_model_is_causal_and_tied(submission):
    """Changing a token never changes the logits before it, and lm_head shares its weight with tok_emb."""
    shape = SHAPES[0]
    model, state = ref.reference_gpt(50, **shape)
    theirs = learner_gpt(submission, shape, state)
    gen = torch.Generator().manual_seed(51)
    idx = torch.randint(0, shape["vocab"], (1, shape["block"]), generator=gen)
    logits = theirs(idx)
    for pos in (0, 7, shape["block"] - 1):
        changed = idx.clone()
        changed[0, pos] = (idx[0, pos] + 1) % shape["vocab"]
        assert_close(theirs(changed)[:, :pos], logits[:, :pos], f"the logits before position {pos} after changing it")
    # Tied weights: loading a new embedding alone must change the output layer too.
    new_embedding = torch.randn(shape["vocab"], shape["d_model"], generator=gen)
    theirs.load_state_dict({"tok_emb.weight": new_embedding}, strict=False)
    with torch.no_grad():
        model.tok_emb.weight.copy_(new_embedding)  # the reference is tied: lm_head follows
        want = model(idx)
    assert_close(theirs(idx), want, "the logits after replacing tok_emb.weight alone (lm_head.weight must be the same parameter)")


@points(1)
def test_gpt_model_rejects_too_long_input(submission):
    """A sequence longer than block_size raises ValueError instead of reading past the position table."""
    shape = SHAPES[1]
    _, state = ref.reference_gpt(60, **shape)
    theirs = learner_gpt(submission, shape, state)
    if not learner_raised("ValueError", theirs, torch.zeros(1, shape["block"] + 1, dtype=torch.long)):
        raise AssertionError("no error for an input longer than block_size")
