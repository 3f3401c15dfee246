"""The week05/lora exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/lora")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "both_factors_random": (
        # B initialised like A: the update B A is not zero, so training starts from a damaged model
        edited(SOLUTION, "lora_linear", (
            "self.B = nn.Parameter(torch.zeros(base.out_features, r, dtype=dtype))",
            "self.B = nn.Parameter(torch.empty(base.out_features, r, dtype=dtype))\n"
            "        nn.init.kaiming_uniform_(self.B, a=math.sqrt(5))",
        )),
        {
            "test_lora_layer_equals_base_at_init",
            "test_lora_layer_factors_start_right",
            "test_lora_apply_keeps_outputs_at_init",
        },
    ),
    "scaling_by_alpha_not_alpha_over_r": (
        # the paper's alpha / r read as alpha: the update is r times too large
        edited(SOLUTION, "lora_linear", ("self.scaling = alpha / r", "self.scaling = alpha")),
        {
            "test_lora_layer_factors_start_right",
            "test_lora_layer_output_and_gradients",
            "test_lora_merge_matches_adapted_layer",
        },
    ),
    "base_left_trainable": (
        # the base weight and bias are never frozen: an optimizer over model.parameters() would update them
        edited(SOLUTION, "lora_linear", (
            "        for param in self.base.parameters():\n"
            "            param.requires_grad_(False)  # the pretrained weights never change\n",
            "",
        )),
        {"test_lora_layer_only_factors_trainable"},
    ),
    "merge_forgets_the_scaling": (
        # W + B A: right only when alpha == r
        edited(SOLUTION, "lora_linear", (
            "merged.weight.copy_(self.base.weight + self.scaling * (self.B @ self.A))",
            "merged.weight.copy_(self.base.weight + self.B @ self.A)",
        )),
        {"test_lora_merge_matches_adapted_layer", "test_lora_unmerge_recovers_base"},
    ),
    "targets_matched_by_substring": (
        # "proj" in "q_proj": wraps every projection when only the MLP's proj was asked for
        edited(SOLUTION, "apply_lora", (
            "if name in target_names and isinstance(child, nn.Linear)",
            "if any(target in name for target in target_names) and isinstance(child, nn.Linear)",
        )),
        {"test_lora_apply_counts", "test_lora_apply_wraps_exactly_the_named_layers"},
    ),
    "rest_of_model_left_trainable": (
        # only the wrapped layers' base weights are frozen; embeddings, LayerNorms, the MLP stay trainable
        edited(SOLUTION, "apply_lora", (
            "    for param in model.parameters():\n        param.requires_grad_(False)\n",
            "",
        )),
        {
            "test_lora_apply_counts",
            "test_lora_apply_freezes_everything_else",
            "test_lora_finetune_keeps_base_bit_identical",
        },
    ),
}

# Correct, written differently: the update applied as one merged matrix inside F.linear, A drawn
# from a normal distribution, merge by deep copy, modules found by dotted path, training with
# Adam on a parameter list built from names.
MERGED_ON_THE_FLY = {
    "lora_linear": '''
import copy


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        base.weight.requires_grad = False
        if base.bias is not None:
            base.bias.requires_grad = False
        self.base = base
        self.scaling = float(alpha) / r
        d_out, d_in = base.weight.shape
        self.A = nn.Parameter(torch.randn(r, d_in, dtype=base.weight.dtype) / math.sqrt(d_in))
        self.B = nn.Parameter(base.weight.new_zeros(d_out, r))

    def delta(self):
        return self.scaling * torch.mm(self.B, self.A)

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)

    def merge(self):
        out = copy.deepcopy(self.base)
        out.weight.data += self.delta().detach()
        out.weight.requires_grad_(True)
        return out

    def unmerge(self, merged):
        out = copy.deepcopy(merged)
        out.weight.data -= self.delta().detach()
        return out
''',
    "apply_lora": '''
def apply_lora(model, target_names, r, alpha):
    model.requires_grad_(False)
    targets = set(target_names)
    paths = [p for p, m in model.named_modules() if p and p.split(".")[-1] in targets and type(m) is nn.Linear]
    for path in paths:
        owner_path, _, attr = path.rpartition(".")
        owner = model.get_submodule(owner_path) if owner_path else model
        setattr(owner, attr, LoRALinear(getattr(owner, attr), r, alpha))
    seen = {id(p): p for p in model.parameters()}.values()
    trainable = sum(p.numel() for p in seen if p.requires_grad)
    return int(trainable), int(sum(p.numel() for p in seen))
''',
    "finetune_lora": '''
def finetune_lora(model, data, steps, r=8, alpha=16.0, targets=("q_proj", "v_proj"), lr=3e-2, batch_size=16, seed=0):
    apply_lora(model, targets, r, alpha)
    named = dict(model.named_parameters())
    factors = [named[n] for n in named if n.endswith((".A", ".B"))]
    opt = torch.optim.Adam(factors, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    history = []
    for step in range(steps):
        xb, yb = get_batch(data, model.config.block_size, batch_size, gen)
        loss = model(xb, yb)[1]
        for p in factors:
            p.grad = None
        loss.backward()
        opt.step()
        history.append(float(loss))
    model.eval()
    return history
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"merged_on_the_fly": MERGED_ON_THE_FLY}, WRONG
)
