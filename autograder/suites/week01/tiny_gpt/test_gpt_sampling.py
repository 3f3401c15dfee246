"""Hidden tests for sample_next and generate (grade cell ``test_gpt_sampling``).

Sampling is checked statistically: ``DRAWS`` samples of one row of logits
against the distribution the notebook defines, computed here by the
course's reference ``llmcourse.gpt.filter_logits``. Tokens the distribution
excludes must never appear; the counts of the others must pass a chi-square
goodness-of-fit test at significance ``ALPHA`` (a correct sampler fails it
once in a million runs; the wrong ones the grading tests try fail it by
hundreds of standard deviations).
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.gpt import filter_logits
from llmcourse.testing import check

ref = suite_helper(__file__, "_gpt_reference.py")

DRAWS = 40_000
ALPHA = 1e-6
LOGITS = torch.tensor([1.7, 0.9, 2.3, -0.4, 0.2, 1.1, -1.3, 0.55])


def expected_probs(logits, temperature=1.0, top_k=None, top_p=None):
    return torch.softmax(filter_logits(logits[None] / temperature, top_k, top_p), dim=-1)[0].double()


def chi_square_p_value(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """P-value of Pearson's chi-square statistic, over the tokens with non-zero probability."""
    support = probs > 0
    expected = probs[support] * counts.sum()
    statistic = ((counts[support] - expected) ** 2 / expected).sum()
    dof = int(support.sum()) - 1
    if dof == 0:
        return 1.0
    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64), statistic / 2))


def check_distribution(submission, label, **settings):
    draws = submission.sample_next(LOGITS.repeat(DRAWS, 1), **settings)
    check(tuple(draws.shape) == (DRAWS,) and draws.dtype == torch.long,
          f"sample_next must return one long token id per row ({label})")
    probs = expected_probs(LOGITS, **settings)
    counts = torch.bincount(draws, minlength=len(LOGITS)).double()
    check(bool((counts[probs == 0] == 0).all()), f"tokens the filter removes were sampled ({label})")
    p = chi_square_p_value(counts, probs)
    check(p > ALPHA, f"the sample frequencies do not follow the stated distribution ({label})")


@points(1)
def test_gpt_greedy_is_argmax(submission):
    """Temperature 0 returns the argmax of every row, whatever top_k and top_p say."""
    logits = torch.randn(500, 50, generator=torch.Generator().manual_seed(80))
    want = logits.argmax(-1)
    for settings in ({}, {"top_k": 5}, {"top_p": 0.3}):
        got = submission.sample_next(logits, temperature=0, **settings)
        check(bool((got == want).all()), "temperature 0 must return the argmax of every row")


@points(1)
def test_gpt_temperature_distribution(submission):
    """With temperature T, tokens are drawn with probability softmax(logits / T)."""
    for temperature in (1.0, 0.5, 2.5):
        check_distribution(submission, f"temperature {temperature}", temperature=temperature)


@points(1)
def test_gpt_top_k_distribution(submission):
    """top_k keeps exactly the k likeliest tokens and renormalises over them."""
    for k in (1, 3, 8):
        check_distribution(submission, f"top_k={k}", top_k=k)
    check_distribution(submission, "temperature 0.7, top_k=4", temperature=0.7, top_k=4)


@points(1)
def test_gpt_top_p_distribution(submission):
    """top_p keeps the smallest set of likeliest tokens whose mass reaches p, including the token that crosses p."""
    probs = torch.softmax(LOGITS, -1).sort(descending=True).values
    edge = float(probs[:3].sum())  # p just above and at three tokens' mass
    for p in (0.05, 0.5, edge - 1e-3, edge + 1e-3, 1.0):
        check_distribution(submission, f"top_p={p:.3f}", top_p=p)


@points(1)
def test_gpt_filters_compose_in_order(submission):
    """Temperature is applied first, then top-k, then top-p on the renormalised top-k distribution."""
    # Settings where the nucleus of the renormalised top-k distribution is smaller
    # than the nucleus of the full one, so the order is visible in the samples.
    check_distribution(submission, "temperature 1.0, top_k=3, top_p=0.7", temperature=1.0, top_k=3, top_p=0.7)
    check_distribution(submission, "temperature 1.2, top_k=4, top_p=0.8", temperature=1.2, top_k=4, top_p=0.8)


@points(1)
def test_gpt_generate_greedy_matches_reference(submission):
    """Greedy generate() keeps the prompt, appends the reference model's argmax tokens, and crops to block_size past the context."""
    shape = dict(vocab=13, block=8, layers=2, heads=2, d_model=16)
    model, state = ref.reference_gpt(90, **shape)
    theirs = ref.load(
        submission.TinyGPT(shape["vocab"], shape["block"], shape["layers"], shape["heads"], shape["d_model"]),
        state, "model",
    )
    prompt = torch.randint(0, shape["vocab"], (2, 3), generator=torch.Generator().manual_seed(91))
    got = submission.generate(theirs, prompt, 12, temperature=0)
    idx = prompt
    with torch.no_grad():
        for _ in range(12):
            nxt = model(idx[:, -shape["block"]:])[:, -1].argmax(-1)
            idx = torch.cat([idx, nxt[:, None]], dim=1)
    check(tuple(got.shape) == (2, 15), "generate must return (B, T + max_new_tokens)")
    check(bool((got[:, :3] == prompt).all()), "generate must keep the prompt")
    check(bool((got == idx).all()), "greedy generation differs from the reference model's argmax continuation")
