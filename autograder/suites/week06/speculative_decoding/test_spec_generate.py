"""Hidden tests for speculative_generate (grade cell ``test_spec_generate``).

Target and draft are tiny GPTs with seeded weights, built on both sides of
the seam (``_spec_models.py``). Greedy speculative generation is compared
token for token with ``llmcourse.gpt.generate`` at temperature 0 on the
target, for drafts that agree with the target always, sometimes and rarely.
Sampled generation is checked by a chi-square test of the joint distribution
of the first two new tokens against the target's, computed here exactly, with
a draft that is a less confident copy of the target.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.gpt import generate
from llmcourse.testing import check

models = suite_helper(__file__, "_spec_models.py")
stats = suite_helper(__file__, "_spec_stats.py")


def pair(submission, target_seed, draft_seed, vocab, layers=(2, 1), d_model=(32, 16), block=48):
    target, t_config, t_state = models.seeded_gpt(target_seed, vocab, block, layers[0], 2, d_model[0])
    _, d_config, d_state = models.seeded_gpt(draft_seed, vocab, block, layers[1], 1, d_model[1])
    return (target, models.remote_copy(submission, t_config, t_state),
            models.remote_copy(submission, d_config, d_state))


@points(2)
def test_spec_generate_greedy_equals_greedy_decoding(submission):
    """With greedy=True the output equals greedy decoding with the target, token for token, whatever the draft."""
    target, remote_target, remote_draft = pair(submission, 11, 12, vocab=13)
    # A draft with the target's own weights agrees with it everywhere.
    _, t_config, t_state = models.seeded_gpt(11, 13, 48, 2, 2, 32)
    twin = models.remote_copy(submission, t_config, t_state)
    gen = torch.Generator().manual_seed(13)
    for length, batch in [(1, 1), (4, 2)]:
        prompt = torch.randint(0, 13, (batch, length), generator=gen)
        want = generate(target, prompt, 15, temperature=0)
        for draft, label in [(remote_draft, "a different draft model"), (twin, "a draft equal to the target")]:
            for gamma in (1, 4):
                got = submission.speculative_generate(remote_target, draft, prompt, 15, gamma, greedy=True)
                check(isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(want.shape),
                      "speculative_generate must return a (B, T + max_new_tokens) tensor")
                check(bool((got == want).all()),
                      f"greedy speculative decoding differs from greedy decoding ({label}, gamma={gamma}, "
                      f"prompt length {length}, batch {batch})")


@points(1)
def test_spec_generate_keeps_prompt_and_length(submission):
    """Sampled generation keeps each prompt and adds exactly max_new_tokens vocabulary ids, for any gamma."""
    _, remote_target, remote_draft = pair(submission, 21, 22, vocab=9)
    prompt = torch.randint(0, 9, (3, 4), generator=torch.Generator().manual_seed(23))
    for new, gamma in [(7, 3), (1, 4), (10, 1), (5, 5)]:
        got = submission.speculative_generate(remote_target, remote_draft, prompt, new, gamma)
        check(isinstance(got, torch.Tensor) and tuple(got.shape) == (3, 4 + new),
              f"speculative_generate must return (B, T + max_new_tokens) (max_new_tokens={new}, gamma={gamma})")
        check(bool((got[:, :4] == prompt).all()), "the prompt must be kept")
        check(bool(((got >= 0) & (got < 9)).all()), "every new token must be a vocabulary id")


@points(1)
def test_spec_generate_samples_follow_target(submission):
    """Sampled speculative generation follows the target model's joint distribution of the next two tokens."""
    vocab, rows = 3, 500
    target, t_config, t_state = models.seeded_gpt(31, vocab, 16, 1, 2, 16)
    # The draft ranks tokens as the target does but less confidently (acceptance rate about 0.7),
    # so that both one-round and two-round paths occur, and so that a draft that
    # proposes its argmax instead of sampling would be accepted far too often.
    _, d_config, d_state = models.seeded_gpt(31, vocab, 16, 1, 2, 16, flatten=0.3)
    remote_target = models.remote_copy(submission, t_config, t_state)
    remote_draft = models.remote_copy(submission, d_config, d_state)
    prompt = torch.tensor([[1, 2, 0]])
    with torch.no_grad():
        first = torch.softmax(target(prompt)[0, -1].double(), -1)
        extended = torch.cat([prompt.repeat(vocab, 1), torch.arange(vocab)[:, None]], dim=1)
        second = torch.softmax(target(extended)[:, -1].double(), -1)
    joint = (first[:, None] * second).flatten()  # P(a, b) = p(a | prompt) p(b | prompt, a)
    # gamma = 1: a round yields one or two tokens, so some rows need a second round.
    got = submission.speculative_generate(remote_target, remote_draft, prompt.repeat(rows, 1), 2, 1)
    check(isinstance(got, torch.Tensor) and tuple(got.shape) == (rows, 5),
          "speculative_generate must return a (B, T + max_new_tokens) tensor")
    stats.check_follows(got[:, 3] * vocab + got[:, 4], joint, "the pair of new tokens")
