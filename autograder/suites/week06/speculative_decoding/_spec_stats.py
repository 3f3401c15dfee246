"""Shared by the speculative-decoding hidden tests: distributions and the chi-square test.

A correct sampler fails one chi-square check with probability ``ALPHA``; the
mistakes the grading tests try (resampling from p, accepting with q/p,
counting acceptances after a rejection) move the frequencies by hundreds of
standard deviations at these sample sizes.
"""

import torch

from llmcourse.testing import check

ALPHA = 1e-6
V = 6


def dist(*values) -> torch.Tensor:
    t = torch.tensor(values, dtype=torch.float64)
    return t / t.sum()


# (name, target distributions p_0.., draft distributions q_0..), per position.
P_GENERIC = [dist(5, 1, 3, 2, 6, 3), dist(1, 4, 2, 6, 2, 5), dist(3, 3, 1, 1, 4, 8), dist(2, 2, 2, 5, 1, 8)]
Q_GENERIC = [dist(1, 5, 2, 4, 3, 5), dist(6, 1, 1, 2, 4, 6), dist(2, 1, 6, 3, 1, 7)]
# q puts zero mass on tokens p likes: those can only come from the residual.
Q_MISSING = [dist(0, 5, 3, 0, 2, 1), dist(3, 0, 0, 4, 1, 0), dist(0, 0, 4, 1, 5, 0)]
# p puts zero mass on tokens q proposes: those drafts must always be rejected.
P_ZEROS = [dist(4, 0, 3, 0, 3, 0), dist(0, 5, 0, 2, 0, 3), dist(2, 2, 0, 0, 6, 0), dist(0, 3, 3, 0, 0, 4)]
# q equals p: every draft is accepted.
P_SAME = P_GENERIC
Q_SAME = P_GENERIC[:3]
# Disjoint supports: every draft is rejected.
P_DISJOINT = [dist(3, 2, 5, 0, 0, 0), dist(0, 0, 0, 1, 4, 2), dist(1, 1, 1, 0, 0, 0), dist(0, 0, 0, 2, 2, 1)]
Q_DISJOINT = [dist(0, 0, 0, 1, 1, 1), dist(2, 5, 1, 0, 0, 0), dist(0, 0, 0, 3, 1, 1)]

CASES = {
    "generic draft": (P_GENERIC, Q_GENERIC),
    "draft missing tokens the target can emit": (P_GENERIC, Q_MISSING),
    "target ruling out tokens the draft proposes": (P_ZEROS, Q_GENERIC),
    "draft equal to the target": (P_SAME, Q_SAME),
    "disjoint supports": (P_DISJOINT, Q_DISJOINT),
}


def batch(case: str, gamma: int, n: int, seed: int):
    """(p_probs (n, gamma+1, V), q_probs (n, gamma, V), drafts (n, gamma)) with drafts drawn from q."""
    ps, qs = CASES[case]
    p = torch.stack(ps[: gamma + 1])
    q = torch.stack(qs[:gamma]) if gamma else torch.zeros(0, V, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    drafts = torch.stack([torch.multinomial(q[j], n, replacement=True, generator=gen) for j in range(gamma)], dim=1) \
        if gamma else torch.zeros(n, 0, dtype=torch.long)
    return p.expand(n, -1, -1).contiguous(), q.expand(n, -1, -1).contiguous(), drafts, p, q


def chi_square_p_value(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """P-value of Pearson's chi-square statistic; cells expecting fewer than 5 draws are pooled."""
    counts, probs = counts.double(), probs.double()
    expected = probs * counts.sum()
    small = expected < 5
    if small.any() and (~small).any():
        counts = torch.cat([counts[~small], counts[small].sum()[None]])
        expected = torch.cat([expected[~small], expected[small].sum()[None]])
    support = expected > 0
    statistic = ((counts[support] - expected[support]) ** 2 / expected[support]).sum()
    dof = int(support.sum()) - 1
    if dof <= 0:
        return 1.0
    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64), statistic / 2))


def check_follows(samples: torch.Tensor, probs: torch.Tensor, what: str) -> None:
    """``samples`` (long ids) are draws from ``probs``: no impossible id, frequencies pass chi-square."""
    check(bool(((samples >= 0) & (samples < len(probs))).all()), f"{what}: a token id is outside the vocabulary")
    counts = torch.bincount(samples, minlength=len(probs))
    check(bool((counts[probs == 0] == 0).all()), f"{what}: tokens the target gives probability zero were emitted")
    check(chi_square_p_value(counts, probs) > ALPHA, f"{what}: the frequencies do not follow the target distribution")


def step(submission, case: str, gamma: int, n: int, seed: int):
    """Run the learner's speculative_step on a batch; check the output's form; return everything."""
    p_probs, q_probs, drafts, p, q = batch(case, gamma, n, seed)
    result = submission.speculative_step(p_probs, q_probs, drafts)
    check(isinstance(result, (tuple, list)) and len(result) == 2, "speculative_step must return (tokens, n_accepted)")
    tokens, n_acc = result
    check(isinstance(tokens, torch.Tensor) and tokens.dtype == torch.long and tuple(tokens.shape) == (n, gamma + 1),
          "tokens must be a long tensor of shape (N, gamma + 1)")
    check(isinstance(n_acc, torch.Tensor) and tuple(n_acc.shape) == (n,), "n_accepted must be a tensor of shape (N,)")
    n_acc = n_acc.long()
    check(bool(((n_acc >= 0) & (n_acc <= gamma)).all()), "n_accepted must lie between 0 and gamma")
    return tokens, n_acc, drafts, p, q
