"""Hidden tests for speculative_step (grade cell ``test_spec_step``).

Each case sends ``N`` independent rows in one call, all with the same target
distributions p_0..p_gamma and draft distributions q_0..q_{gamma-1}, and
drafts drawn here from q. The rule is exact when every emitted token follows
the target: the first token must follow p_0; among rows that accepted the
first draft, the second token must follow p_1; the number of accepted drafts
must follow the law P(n >= k) = alpha_0 ... alpha_{k-1}, with
alpha_j = sum min(p_j, q_j); rows that accepted every draft must end with a
bonus token that follows p_gamma. Frequencies are checked with chi-square
tests (see ``_spec_stats.py``).
"""

import zlib

import pytest
import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

stats = suite_helper(__file__, "_spec_stats.py")

N = 40_000
GAMMA = 2


@pytest.fixture(scope="module")
def run(submission):
    """The learner's step on (case, gamma), computed once per grading run."""
    done = {}

    def get(case, gamma=GAMMA, n=N):
        key = (case, gamma, n)
        if key not in done:
            done[key] = stats.step(submission, case, gamma, n, seed=zlib.crc32(repr(key).encode()) % 10_000)
        return done[key]

    return get


@points(1)
def test_spec_step_output_layout(run):
    """Each row holds its accepted drafts, then one target token, then -1 padding; n_accepted counts the drafts kept."""
    for gamma in (1, 3):
        tokens, n_acc, drafts, _, _ = run("generic draft", gamma, 3000)
        positions = torch.arange(gamma + 1)[None, :]
        kept = positions < n_acc[:, None]
        check(bool((tokens[:, :gamma][kept[:, :gamma]] == drafts[kept[:, :gamma]]).all()),
              "the first n_accepted tokens of a row must be its first n_accepted drafts")
        added = tokens.gather(1, n_acc[:, None]).squeeze(1)
        check(bool(((added >= 0) & (added < stats.V)).all()), "position n_accepted must hold the target's token")
        check(bool((tokens[positions > n_acc[:, None]] == -1).all()), "every place after the target's token must be -1")
        check(bool((n_acc > 0).any()) and bool((n_acc < gamma).any()),
              "with a draft close to the target some rows accept drafts and some reject")


@points(2)
def test_spec_step_first_token_follows_target(run):
    """The first emitted token follows the target distribution p exactly, whatever the draft distribution q."""
    for case in stats.CASES:
        tokens, _, _, p, _ = run(case)
        stats.check_follows(tokens[:, 0], p[0], f"first token, {case}")
    for gamma in (1, 3):
        tokens, _, _, p, _ = run("generic draft", gamma)
        stats.check_follows(tokens[:, 0], p[0], f"first token, generic draft, gamma={gamma}")


@points(1)
def test_spec_step_second_token_follows_target(run):
    """Given that the first draft was accepted, the second emitted token follows the target's next distribution."""
    for case in ("generic draft", "draft missing tokens the target can emit",
                 "target ruling out tokens the draft proposes", "draft equal to the target"):
        tokens, n_acc, _, p, _ = run(case)
        rows = n_acc >= 1
        check(int(rows.sum()) > N // 10, f"too few rows accepted their first draft ({case})")
        stats.check_follows(tokens[rows, 1], p[1], f"second token, {case}")


@points(1)
def test_spec_step_accepted_count_law(run):
    """The number of accepted drafts stops at the first rejection: P(n >= k) is the product of the first k acceptance rates."""
    for case in stats.CASES:
        for gamma in (GAMMA, 3):
            _, n_acc, _, p, q = run(case, gamma)
            alphas = torch.minimum(p[:gamma], q).sum(-1)
            reach = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(alphas, 0)])  # P(n >= k)
            law = reach - torch.cat([reach[1:], torch.zeros(1, dtype=torch.float64)])
            law = law.clamp(min=0)
            law[law < 1e-12] = 0
            stats.check_follows(n_acc, law, f"number of accepted drafts, {case}, gamma={gamma}")


@points(1)
def test_spec_step_bonus_token(run):
    """When all gamma drafts are accepted, one more (bonus) token is drawn from the target's last distribution."""
    for gamma in (1, 2, 3):
        tokens, n_acc, _, p, _ = run("draft equal to the target", gamma)
        check(bool((n_acc == gamma).all()), "when q equals p every draft must be accepted")
        stats.check_follows(tokens[:, gamma], p[gamma], f"bonus token, gamma={gamma}")
    tokens, n_acc, _, p, _ = run("generic draft")
    rows = n_acc == GAMMA
    stats.check_follows(tokens[rows, GAMMA], p[GAMMA], "bonus token after accepting every draft, generic draft")
