"""The week06/speculative_decoding exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. tests/test_every_exercise.py checks
that the solution earns full marks and the released stub zero; this module
checks that a correct solution written differently earns full marks and that
each realistic mistake loses the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week06/speculative_decoding")
SOLUTION = EXERCISE.source_path

# Correct, written differently: a loop over the draft positions with an
# explicit "still accepting" mask, acceptance as u < min(1, p/q), the residual
# by relu, the formula as a geometric sum, and greedy generation that compares
# argmaxes directly instead of going through the sampling rule.
LOOPED_SOLUTION = {
    "acceptance_rate": '''
def acceptance_rate(p, q):
    return 0.5 * (p + q - (p - q).abs()).sum(-1)
''',
    "residual_distribution": '''
def residual_distribution(p, q):
    r = F.relu(p - q)
    total = r.sum(-1, keepdim=True)
    safe = torch.where(total == 0, torch.ones_like(total), total)
    return torch.where(total == 0, p, r / safe)
''',
    "expected_tokens": '''
def expected_accepted_tokens(alpha, gamma):
    return float(sum(alpha ** k for k in range(gamma + 1)))
''',
    "speculative_step": '''
def speculative_step(p_probs, q_probs, draft_tokens):
    n, gamma = draft_tokens.shape
    out = torch.full((n, gamma + 1), -1, dtype=torch.long)
    alive = torch.ones(n, dtype=torch.bool)       # rows that accepted everything so far
    count = torch.zeros(n, dtype=torch.long)
    for j in range(gamma):
        x = draft_tokens[:, j]
        ratio = p_probs[:, j, :].gather(1, x[:, None])[:, 0] / q_probs[:, j, :].gather(1, x[:, None])[:, 0]
        ok = torch.rand(n) < torch.clamp(ratio, max=1.0)
        take = alive & ok
        out[take, j] = x[take]
        count += take.long()
        stop = alive & ~ok
        if stop.any():
            fix = torch.multinomial(residual_distribution(p_probs[stop, j], q_probs[stop, j]), 1)[:, 0]
            out[stop, j] = fix
        alive = take
    if alive.any():
        out[alive, gamma] = torch.multinomial(p_probs[alive, gamma], 1)[:, 0]
    return out, count
''',
    "speculative_generate": '''
def next_token_probs(logits, greedy):
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def speculative_generate(target, draft, idx, max_new_tokens, gamma, greedy=False):
    rows = []
    for r in range(idx.shape[0]):
        s = idx[r : r + 1]
        want = idx.shape[1] + max_new_tokens
        while s.shape[1] < want:
            start = s.shape[1]
            q_list = []
            for _ in range(gamma):
                logits = draft(s)[:, -1]
                if greedy:
                    nxt = logits.argmax(-1, keepdim=True)
                else:
                    q_list.append(torch.softmax(logits, -1))
                    nxt = torch.multinomial(q_list[-1], 1)
                s = torch.cat([s, nxt], 1)
            verify = target(s)[0, start - 1 :]
            drafts = s[:, start:]
            s = s[:, :start]
            if greedy:
                best = verify.argmax(-1)
                agree = int((best[:gamma] == drafts[0]).long().cumprod(0).sum())
                s = torch.cat([s, best[None, : agree + 1]], 1)
            else:
                qs = torch.stack(q_list, 1) if gamma else torch.zeros(1, 0, verify.shape[-1])
                toks, k = speculative_step(torch.softmax(verify, -1)[None], qs, drafts)
                s = torch.cat([s, toks[:, : k.item() + 1]], 1)
        rows.append(s[:, :want])
    return torch.cat(rows)
''',
}

ALL_STEP = {
    "test_spec_step_first_token_follows_target",
    "test_spec_step_accepted_count_law",
}

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "accepts_with_q_over_p": (
        # the ratio upside down: likely drafts the target dislikes get accepted
        edited(SOLUTION, "speculative_step", ("* q_of_draft < p_of_draft", "* p_of_draft < q_of_draft")),
        ALL_STEP | {"test_spec_generate_samples_follow_target"},
    ),
    "resamples_from_p_after_rejection": (
        # on rejection draw from p instead of norm(max(0, p - q)): tokens q favours are over-sampled
        edited(SOLUTION, "speculative_step", (
            "last = residual_distribution(p_probs[rows, n_accepted], q_padded[rows, n_accepted])",
            "last = p_probs[rows, n_accepted]")),
        {"test_spec_step_first_token_follows_target", "test_spec_step_second_token_follows_target"},
    ),
    "forgets_the_bonus_token": (
        # only a rejected row gets a token from the target; all-accepted rows end at gamma tokens
        edited(SOLUTION, "speculative_step", (
            "tokens[rows, n_accepted] = extra",
            "tokens[rows, n_accepted] = torch.where(n_accepted < gamma, extra, tokens[rows, n_accepted])")),
        {"test_spec_step_output_layout", "test_spec_step_bonus_token",
         "test_spec_generate_greedy_equals_greedy_decoding"},
    ),
    "keeps_accepting_after_a_rejection": (
        # counts every accepted draft instead of the run before the first rejection
        edited(SOLUTION, "speculative_step", (
            "n_accepted = accepted.long().cumprod(dim=-1).sum(dim=-1)",
            "n_accepted = accepted.long().sum(dim=-1)")),
        ALL_STEP | {"test_spec_step_second_token_follows_target"},
    ),
    "expected_tokens_exponent_off_by_one": (
        edited(SOLUTION, "expected_tokens", ("alpha ** (gamma + 1)", "alpha ** gamma")),
        {"test_spec_expected_tokens_matches_expectation", "test_spec_expected_tokens_limits"},
    ),
    "drafts_greedily_but_reports_softmax": (
        # the draft proposes its argmax yet claims its tokens were drawn from softmax(q):
        # the rule is exact only for drafts really sampled from the q it is given
        edited(SOLUTION, "speculative_generate", (
            "guess = q.argmax(-1, keepdim=True) if greedy else torch.multinomial(q, 1)",
            "guess = q.argmax(-1, keepdim=True)")),
        {"test_spec_generate_samples_follow_target"},
    ),
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"looped": LOOPED_SOLUTION}, WRONG
)
