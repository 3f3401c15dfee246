"""The week02/moe exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week02/moe")
SOLUTION = EXERCISE.source_path

LAYER_TEMPLATE = '''
class MoELayer(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts, k, capacity_factor=None):
        super().__init__()
        self.n_experts, self.k, self.capacity_factor = n_experts, k, capacity_factor
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList(
            [nn.Sequential(nn.Linear(d_model, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_model))
             for _ in range(n_experts)]
        )

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1])
        logits = self.router(flat)
        gates, chosen = top_k_route(logits, self.k)
        gates = {gates}
        aux = load_balancing_loss(logits, chosen, self.n_experts)
        cap = None
        if self.capacity_factor is not None:
            cap = expert_capacity(flat.shape[0], self.n_experts, self.k, self.capacity_factor)
        result = torch.zeros_like(flat)
        for e in range(self.n_experts):
            rows, cols = torch.nonzero(chosen == e, as_tuple=True)
            if cap is not None:
                rows, cols = {keep}
            if len(rows) == 0:
                continue
            result = result.index_add(0, rows, {weight} * self.experts[e](flat[rows]))
        return result.reshape(x.shape), aux
'''


def layer(gates="gates", keep="rows[:cap], cols[:cap]", weight="gates[rows, cols, None]"):
    return LAYER_TEMPLATE.format(gates=gates, keep=keep, weight=weight)


LOSS_TEMPLATE = '''
def load_balancing_loss(router_logits, expert_indices, n_experts):
    probs = torch.softmax(router_logits, dim=-1)
    mean_prob = {mean_prob}
    counts = {counts}
    share = counts.float() / {denominator}
    return {scale} * (share * mean_prob).sum()
'''


def loss(
    mean_prob="probs.mean(dim=0)",
    counts="torch.bincount(expert_indices.flatten(), minlength=n_experts)",
    denominator="expert_indices.numel()",
    scale="n_experts",
):
    return LOSS_TEMPLATE.format(mean_prob=mean_prob, counts=counts, denominator=denominator, scale=scale)


CAPACITY_TESTS = {"test_moe_layer_capacity_first_come_first_served", "test_moe_layer_capacity_random_routing"}

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "gates_softmax_over_all_experts_not_renormalised": (
        {
            "top_k_route": '''
def top_k_route(router_logits, k):
    probs = torch.softmax(router_logits, dim=-1)       # over all E experts...
    gates, idx = torch.topk(probs, k, dim=-1)          # ...and never renormalised over the k kept
    return gates, idx
'''
        },
        {
            "test_topk_shapes_and_gate_sums",
            "test_topk_gates_softmax_of_selected",
            "test_topk_gradient_reaches_selected_logits",
            "test_moe_layer_matches_dense_evaluation",
        },
    ),
    "loss_without_the_n_experts_factor": (
        {"load_balancing_loss": loss(scale="1.0")},
        {"test_balance_loss_matches_formula", "test_balance_loss_uniform_is_one_collapse_is_large"},
    ),
    "loss_counts_only_the_argmax_expert": (
        {"load_balancing_loss": loss(counts="torch.bincount(router_logits.argmax(dim=-1), minlength=n_experts)",
                                     denominator="router_logits.shape[0]")},
        {"test_balance_loss_matches_formula"},
    ),
    "loss_mean_probability_from_the_top_k_gates": (
        {
            "load_balancing_loss": loss(
                mean_prob="torch.zeros_like(probs).scatter(1, expert_indices, "
                "top_k_route(router_logits, expert_indices.shape[1])[0]).mean(dim=0)"
            )
        },
        {"test_balance_loss_matches_formula", "test_balance_loss_gradient_through_mean_probabilities"},
    ),
    "loss_fraction_per_token_not_per_choice": (
        {"load_balancing_loss": loss(denominator="expert_indices.shape[0]")},
        {"test_balance_loss_matches_formula", "test_balance_loss_uniform_is_one_collapse_is_large"},
    ),
    "loss_bincount_without_minlength": (
        {"load_balancing_loss": loss(counts="torch.bincount(expert_indices.flatten())")},
        {"test_balance_loss_counts_unused_experts"},
    ),
    "capacity_rounded_down": (
        {
            "expert_capacity": '''
def expert_capacity(n_tokens, n_experts, k, capacity_factor):
    return int(capacity_factor * n_tokens * k // n_experts)
'''
        },
        {"test_capacity_rounds_up"} | CAPACITY_TESTS,
    ),
    "capacity_keeps_the_last_tokens": (
        {"moe_layer": layer(keep="rows[-cap:], cols[-cap:]")},
        CAPACITY_TESTS,
    ),
    "capacity_off_by_one": (
        {"moe_layer": layer(keep="rows[:cap + 1], cols[:cap + 1]")},
        CAPACITY_TESTS,
    ),
    "capacity_by_global_token_position": (
        # keeps tokens whose position in the whole batch is below C, not their place in the expert's queue
        {"moe_layer": layer(keep="rows[rows < cap], cols[rows < cap]")},
        CAPACITY_TESTS,
    ),
    "gates_not_applied_plain_average": (
        {"moe_layer": layer(weight="(1.0 / self.k)")},
        {"test_moe_layer_matches_dense_evaluation", "test_moe_layer_gradients_reach_router_and_experts",
         "test_moe_layer_capacity_random_routing"},
    ),
    "gates_detached_router_gets_no_gradient": (
        {"moe_layer": layer(gates="gates.detach()")},
        {"test_moe_layer_gradients_reach_router_and_experts"},
    ),
}

# Correct, but written differently from the solution: softmax over all E then
# renormalise the top k (the same gates), one-hot counts, exact rational
# capacity, and a layer that evaluates every expert on every token and masks
# the weights, with capacity by a running count down the token axis.
DENSE_MASKED_SOLUTION = {
    "top_k_route": '''
def top_k_route(router_logits, k):
    probs = router_logits.softmax(dim=-1)
    order = probs.argsort(dim=-1, descending=True)[:, :k]
    kept = probs.gather(-1, order)
    return kept / kept.sum(dim=-1, keepdim=True), order
''',
    "load_balancing_loss": '''
def load_balancing_loss(router_logits, expert_indices, n_experts):
    hits = F.one_hot(expert_indices, n_experts).to(router_logits.dtype)   # (N, k, E)
    f = hits.sum(dim=(0, 1)) / hits.sum()
    P = router_logits.softmax(dim=-1).mean(dim=0)
    return (f * P).sum() * n_experts
''',
    "expert_capacity": '''
from fractions import Fraction

def expert_capacity(n_tokens, n_experts, k, capacity_factor):
    return math.ceil(Fraction(capacity_factor) * n_tokens * k / n_experts)
''',
    "moe_layer": '''
class MoELayer(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts, k, capacity_factor=None):
        super().__init__()
        self.E, self.k, self.cf = n_experts, k, capacity_factor
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList()
        for _ in range(n_experts):
            self.experts.append(nn.Sequential(nn.Linear(d_model, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_model)))

    def forward(self, x):
        flat = x.flatten(0, -2)
        logits = self.router(flat)
        gates, idx = top_k_route(logits, self.k)
        aux = load_balancing_loss(logits, idx, self.E)
        weights = torch.zeros_like(logits).scatter(1, idx, gates)              # (N, E)
        if self.cf is not None:
            cap = expert_capacity(flat.shape[0], self.E, self.k, self.cf)
            picked = torch.zeros(logits.shape, dtype=torch.bool).scatter(1, idx, True)
            queue_place = picked.long().cumsum(dim=0)                           # 1-based place in each queue
            weights = weights * (picked & (queue_place <= cap))
        everyone = torch.stack([expert(flat) for expert in self.experts], dim=1)   # (N, E, d)
        return torch.einsum("ne,ned->nd", weights, everyone).reshape(x.shape), aux
''',
}

# Correct too: per-expert dispatch with a boolean mask and masked_scatter-free
# accumulation, scatter_add counts, and capacity by sorting each expert's tokens.
SORTED_DISPATCH_SOLUTION = {
    "top_k_route": '''
def top_k_route(router_logits, k):
    values, indices = router_logits.sort(dim=-1, descending=True)
    top = values[..., :k]
    gates = torch.exp(top - torch.logsumexp(top, dim=-1, keepdim=True))
    return gates, indices[..., :k]
''',
    "load_balancing_loss": '''
def load_balancing_loss(router_logits, expert_indices, n_experts):
    flat = expert_indices.reshape(-1)
    counts = torch.zeros(n_experts, dtype=router_logits.dtype).scatter_add(
        0, flat, torch.ones(flat.shape, dtype=router_logits.dtype))
    mean_p = torch.softmax(router_logits, dim=1).sum(dim=0) / router_logits.shape[0]
    return n_experts * torch.dot(counts / flat.numel(), mean_p)
''',
    "expert_capacity": '''
def expert_capacity(n_tokens, n_experts, k, capacity_factor):
    share = capacity_factor * n_tokens * k / n_experts
    whole = int(share)
    return whole if whole == share else whole + 1
''',
    "moe_layer": '''
class MoELayer(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts, k, capacity_factor=None):
        super().__init__()
        self.n_experts, self.k, self.capacity_factor = n_experts, k, capacity_factor
        self.experts = nn.ModuleList(
            [nn.Sequential(nn.Linear(d_model, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_model)) for _ in range(n_experts)]
        )
        self.router = nn.Linear(d_model, n_experts, bias=False)

    def forward(self, x):
        d = x.shape[-1]
        tokens = x.view(-1, d)
        logits = self.router(tokens)
        gates, chosen = top_k_route(logits, self.k)
        gate_of = (gates.unsqueeze(-1) * F.one_hot(chosen, self.n_experts)).sum(dim=1)   # (N, E)
        limit = None if self.capacity_factor is None else expert_capacity(
            tokens.shape[0], self.n_experts, self.k, self.capacity_factor)
        parts = []
        for e, expert in enumerate(self.experts):
            who = (chosen == e).any(dim=1).nonzero().squeeze(1).sort().values
            if limit is not None:
                who = who[:limit]
            contribution = torch.zeros_like(tokens)
            if who.numel():
                contribution[who] = gate_of[who, e].unsqueeze(1) * expert(tokens[who])
            parts.append(contribution)
        return torch.stack(parts).sum(dim=0).view(x.shape), load_balancing_loss(logits, chosen, self.n_experts)
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"dense_masked": DENSE_MASKED_SOLUTION, "sorted_dispatch": SORTED_DISPATCH_SOLUTION}, WRONG
)
