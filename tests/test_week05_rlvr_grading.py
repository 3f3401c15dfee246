"""The week05/rlvr exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/rlvr")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "verifier_accepts_trailing_text": (
        # re.match anchors only at the start: "19 or 20", "19x" and "19.0" all pass
        edited(SOLUTION, "verify", ("re.fullmatch(", "re.match(")),
        {"test_rlvr_verify_rejects_malformed_answers", "test_rlvr_verify_resists_reward_hacking"},
    ),
    "verifier_trusts_int": (
        # int() strips whitespace and reads "+19", "1_9", "019" and Arabic-Indic digits
        {"verify": '''
def verify(completion, expected):
    answer, terminator, _ = completion.partition("\\n")
    if not terminator:
        return 0.0
    try:
        return 1.0 if int(answer) == expected else 0.0
    except ValueError:
        return 0.0
'''},
        {"test_rlvr_verify_rejects_malformed_answers"},
    ),
    "advantages_over_whole_batch": (
        # one mean and one std for all prompts: easy prompts then look good and hard ones bad
        edited(SOLUTION, "advantages",
               ("rewards.mean(dim=1, keepdim=True)", "rewards.mean()"),
               ("rewards.std(dim=1, correction=0, keepdim=True)", "rewards.std(correction=0)")),
        {
            "test_rlvr_advantages_match_definition",
            "test_rlvr_advantages_zero_mean_unit_spread_per_group",
            "test_rlvr_advantages_uniform_group_is_zero",
            "test_rlvr_advantages_groups_are_independent",
        },
    ),
    "std_without_eps": (
        # 0 / 0 for a group whose answers are all right or all wrong
        edited(SOLUTION, "advantages", ("/ (spread + eps)", "/ spread")),
        {"test_rlvr_advantages_uniform_group_is_zero", "test_rlvr_advantages_match_definition"},
    ),
    "max_instead_of_min": (
        # the optimistic bound: the clip then removes the brake instead of the incentive
        edited(SOLUTION, "loss", ("torch.minimum(", "torch.maximum(")),
        {
            "test_rlvr_loss_matches_definition",
            "test_rlvr_loss_gradient_matches_definition",
            "test_rlvr_loss_clip_stops_gradient_on_its_side",
        },
    ),
    "clip_ignores_sign": (
        # clamps the ratio whatever the advantage's sign: no gradient outside the range on either side
        edited(SOLUTION, "loss", (
            "torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * adv)",
            "torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * adv",
        )),
        {
            "test_rlvr_loss_matches_definition",
            "test_rlvr_loss_gradient_matches_definition",
            "test_rlvr_loss_clip_stops_gradient_on_its_side",
        },
    ),
    "kl_direction_reversed": (
        # log(pi / pi_ref) instead of log(pi_ref / pi): still >= 0 and zero at the reference
        edited(SOLUTION, "loss", ("log_ref_ratio = logp_ref - logp_new", "log_ref_ratio = logp_new - logp_ref")),
        {"test_rlvr_loss_kl_penalty", "test_rlvr_loss_matches_definition"},
    ),
    "averages_over_padding": (
        # divides every sequence's sum by the padded length T
        edited(SOLUTION, "loss", ("/ weights.sum(dim=1)", "/ weights.shape[1]")),
        {"test_rlvr_loss_mask_respected", "test_rlvr_loss_matches_definition"},
    ),
}

# Correct, written differently: a character-by-character verifier, advantages from the
# variance, and the loss in the pessimistic form with torch.where and masked_fill.
BY_HAND = {
    "verify": '''
def verify(completion, expected):
    cut = completion.find("\\n")
    if cut < 0:
        return 0.0
    text = completion[:cut]
    negative = text[:1] == "-"
    digits = text[1:] if negative else text
    if digits == "" or not all(c in "0123456789" for c in digits):
        return 0.0
    if digits.startswith("0") and (len(digits) > 1 or negative):
        return 0.0
    value = int(digits)
    return float((-value if negative else value) == expected)
''',
    "advantages": '''
def group_advantages(rewards, eps=1e-6):
    G = rewards.shape[-1]
    mu = rewards.sum(-1, keepdim=True) / G
    sigma = ((rewards - mu) ** 2).mean(-1, keepdim=True).sqrt()
    return (rewards - mu) / (sigma + eps)
''',
    "loss": '''
def grpo_loss(logp_new, logp_old, logp_ref, advantages, mask, clip_eps=0.2, beta=0.04):
    A = advantages.unsqueeze(-1).expand_as(logp_new)
    r = (logp_new - logp_old).exp()
    capped = torch.where(A >= 0, r.clamp(max=1 + clip_eps), r.clamp(min=1 - clip_eps))
    q = (logp_ref - logp_new).exp()
    objective = capped * A - beta * (q - q.log() - 1)
    objective = objective.masked_fill(~mask.bool(), 0.0)
    counts = mask.sum(-1).to(objective.dtype)
    return -(objective.sum(-1) / counts).sum() / logp_new.shape[0]
''',
}

# Correct too: str methods plus an isascii guard, torch.var, and a per-sequence loop.
LOOPED = {
    "verify": '''
def verify(completion, expected):
    if "\\n" not in completion:
        return 0.0
    head = completion.split("\\n", 1)[0]
    body = head.removeprefix("-")
    ok = body.isascii() and body.isdigit() and (body == "0" and head == "0" or not body.startswith("0"))
    return 1.0 if ok and int(head) == expected else 0.0
''',
    "advantages": '''
def group_advantages(rewards, eps=1e-6):
    var, mean = torch.var_mean(rewards, dim=1, correction=0, keepdim=True)
    return (rewards - mean) / (var.sqrt() + eps)
''',
    "loss": '''
def grpo_loss(logp_new, logp_old, logp_ref, advantages, mask, clip_eps=0.2, beta=0.04):
    per_seq = []
    for i in range(logp_new.shape[0]):
        keep = mask[i].bool()
        new, old, ref = logp_new[i][keep], logp_old[i][keep], logp_ref[i][keep]
        a = advantages[i]
        ratio = torch.exp(new - old)
        surr = torch.min(ratio * a, ratio.clamp(1 - clip_eps, 1 + clip_eps) * a)
        kl = torch.exp(ref - new) - (ref - new) - 1
        per_seq.append((surr - beta * kl).mean())
    return -torch.stack(per_seq).mean()
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"by_hand": BY_HAND, "looped": LOOPED}, WRONG
)
