"""The week05/dpo exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/dpo")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "log_of_sigmoid": (
        # the textbook formula typed literally: -inf once sigmoid underflows, nan gradients
        edited(SOLUTION, "dpo_loss", (
            "-F.logsigmoid(chosen_rewards - rejected_rewards)",
            "-torch.log(torch.sigmoid(chosen_rewards - rejected_rewards))",
        )),
        {"test_dpo_loss_stable_at_large_margins"},
    ),
    "margin_sign_flipped": (
        # rejected minus chosen: the loss rewards the rejected completions
        edited(SOLUTION, "dpo_loss", (
            "-F.logsigmoid(chosen_rewards - rejected_rewards)",
            "-F.logsigmoid(rejected_rewards - chosen_rewards)",
        )),
        {
            "test_dpo_loss_matches_reference",
            "test_dpo_loss_falls_as_chosen_preferred",
            "test_dpo_loss_gradients",
            "test_dpo_train_raises_margin",
        },
    ),
    "beta_outside_the_sigmoid": (
        # beta scales the loss instead of the margin inside the sigmoid: the rewards are right,
        # the loss is beta * -logsigmoid((pc - rc) - (pr - rr))
        edited(SOLUTION, "dpo_loss", (
            "loss = -F.logsigmoid(chosen_rewards - rejected_rewards).mean()",
            "loss = -beta * F.logsigmoid((chosen_rewards - rejected_rewards) / beta).mean()",
        )),
        {
            "test_dpo_loss_matches_reference",
            "test_dpo_loss_is_log2_when_policy_equals_reference",
            "test_dpo_loss_gradients",
        },
    ),
    "reference_ignored_in_the_loss": (
        # the policy's own log-ratio of chosen to rejected, as if the reference were uniform
        edited(SOLUTION, "dpo_loss", (
            "loss = -F.logsigmoid(chosen_rewards - rejected_rewards).mean()",
            "loss = -F.logsigmoid(beta * (policy_chosen - policy_rejected)).mean()",
        )),
        {
            "test_dpo_loss_matches_reference",
            "test_dpo_loss_is_log2_when_policy_equals_reference",
            "test_dpo_loss_gradients",
        },
    ),
    "mean_over_tokens": (
        # length-normalised log-probabilities: a real design choice elsewhere, not DPO's definition
        edited(SOLUTION, "sequence_logprobs", (
            "torch.where(mask.bool(), picked, torch.zeros_like(picked)).sum(dim=-1)",
            "torch.where(mask.bool(), picked, torch.zeros_like(picked)).sum(dim=-1) / mask.sum(dim=-1).clamp(min=1)",
        )),
        {
            "test_dpo_logprobs_match_reference",
            "test_dpo_logprobs_confident_logits",
            "test_dpo_logprobs_gradient",
            "test_dpo_train_first_margin_is_starting_policy",
        },
    ),
    "padding_counted": (
        # the mask is ignored: prompt and padding tokens count too
        edited(SOLUTION, "sequence_logprobs", (
            "torch.where(mask.bool(), picked, torch.zeros_like(picked)).sum(dim=-1)",
            "picked.sum(dim=-1)",
        )),
        {
            "test_dpo_logprobs_match_reference",
            "test_dpo_logprobs_confident_logits",
            "test_dpo_logprobs_gradient",
            "test_dpo_train_first_margin_is_starting_policy",
        },
    ),
    "mask_not_shifted": (
        # the mask of the inputs ids[:, :-1] instead of the labels ids[:, 1:]: off by one token
        edited(SOLUTION, "train_dpo", (
            "return sequence_logprobs(model(ids[:, :-1]), ids[:, 1:], mask[:, 1:])",
            "return sequence_logprobs(model(ids[:, :-1]), ids[:, 1:], mask[:, :-1])",
        )),
        {"test_dpo_train_first_margin_is_starting_policy"},
    ),
    "reference_trained_too": (
        # the reference's log-probs keep their graph and its parameters go into the optimiser:
        # the reference drifts with the policy
        edited(
            SOLUTION, "train_dpo",
            ("    with torch.no_grad():  # the reference never changes: its log-probs are computed once\n"
             "        ref_chosen = completion_logprobs(reference, pairs[\"chosen\"], pairs[\"chosen_mask\"])\n"
             "        ref_rejected = completion_logprobs(reference, pairs[\"rejected\"], pairs[\"rejected_mask\"])\n",
             ""),
            ("optimizer = torch.optim.Adam(policy.parameters(), lr=lr)",
             "optimizer = torch.optim.Adam(list(policy.parameters()) + list(reference.parameters()), lr=lr)"),
            ("        policy_chosen = completion_logprobs(",
             "        ref_chosen = completion_logprobs(reference, pairs[\"chosen\"], pairs[\"chosen_mask\"])\n"
             "        ref_rejected = completion_logprobs(reference, pairs[\"rejected\"], pairs[\"rejected_mask\"])\n"
             "        policy_chosen = completion_logprobs("),
        ),
        {"test_dpo_train_reference_frozen"},
    ),
}

# Correct, written differently: cross-entropy with reduction="none" for the token
# log-probabilities and a float mask; softplus(-z) for -log sigmoid(z); rewards not detached;
# an SGD-free loop with AdamW that recomputes the reference every step under inference_mode.
CROSS_ENTROPY_SOFTPLUS = {
    "sequence_logprobs": '''
def sequence_logprobs(logits, labels, mask):
    B, T, V = logits.shape
    nll = F.cross_entropy(logits.reshape(B * T, V), labels.reshape(B * T), reduction="none").view(B, T)
    return -(nll * mask.to(nll.dtype)).sum(1)
''',
    "dpo_loss": '''
def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    logratio_w = policy_chosen - ref_chosen
    logratio_l = policy_rejected - ref_rejected
    z = beta * (logratio_w - logratio_l)
    return F.softplus(-z).sum() / z.numel(), beta * logratio_w, beta * logratio_l
''',
    "train_dpo": '''
def train_dpo(policy, reference, pairs, steps, beta, lr):
    opt = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    ids = torch.cat([pairs["chosen"], pairs["rejected"]])
    mask = torch.cat([pairs["chosen_mask"], pairs["rejected_mask"]])
    n = pairs["chosen"].shape[0]
    history = []
    for _ in range(steps):
        with torch.inference_mode():
            ref_lp = sequence_logprobs(reference(ids[:, :-1]), ids[:, 1:], mask[:, 1:])
        ref_lp = ref_lp.clone()
        pol_lp = sequence_logprobs(policy(ids[:, :-1]), ids[:, 1:], mask[:, 1:])
        loss, r_w, r_l = dpo_loss(pol_lp[:n], pol_lp[n:], ref_lp[:n], ref_lp[n:], beta)
        history.append(float((r_w - r_l).detach().mean()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return history
''',
}

# Correct too: log-softmax picked by one-hot products, the loss with a stable hand-written
# log-sigmoid (min(z, 0) - log1p(exp(-|z|))), plain SGD with momentum.
ONE_HOT_MANUAL = {
    "sequence_logprobs": '''
def sequence_logprobs(logits, labels, mask):
    lp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    chosen = (lp * F.one_hot(labels, logits.shape[-1]).to(lp.dtype)).sum(-1)
    return (chosen * (mask != 0)).sum(-1)
''',
    "dpo_loss": '''
def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    r_chosen = beta * (policy_chosen - ref_chosen)
    r_rejected = beta * (policy_rejected - ref_rejected)
    z = r_chosen - r_rejected
    log_sig = torch.clamp(z, max=0) - torch.log1p(torch.exp(-z.abs()))
    return -log_sig.mean(), r_chosen, r_rejected
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"cross_entropy_softplus": CROSS_ENTROPY_SOFTPLUS, "one_hot_manual": ONE_HOT_MANUAL}, WRONG
)
