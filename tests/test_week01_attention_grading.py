"""The week01/attention exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. The solution must earn full marks, the
released stub zero, a differently written correct solution full marks, and
each realistic mistake must lose the points of the property it breaks.
"""

import json
import subprocess
import sys

import pytest

from autograder.exercises import get_exercise
from tests.helpers import grade, grading_tests, with_cells

EXERCISE = get_exercise("week01/attention")
SOLUTION = EXERCISE.source_path
STUB = EXERCISE.release_path

CORRECT_SOFTMAX = '''
def softmax(x, dim=-1):
    shifted = x - x.amax(dim=dim, keepdim=True).detach()
    exps = torch.exp(shifted)
    return exps / exps.sum(dim=dim, keepdim=True)
'''

ATTENTION_TEMPLATE = '''
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = {scores}
    if mask is not None:
        allowed = mask.any(dim=-1, keepdim=True)
        scores = scores.masked_fill({masked}, float("-inf")).masked_fill(~allowed, 0.0)
    weights = softmax(scores, dim={dim})
    if mask is not None:
        weights = weights.masked_fill(~allowed, 0.0)
    return weights @ v, weights
'''


def attention(scores="q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])", masked="~mask", dim="-1"):
    return ATTENTION_TEMPLATE.format(scores=scores, masked=masked, dim=dim)


# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "no_sqrt_dk_scaling": (
        {"scaled_dot_product_attention": attention(scores="q @ k.transpose(-2, -1)")},
        {"test_matches_torch_without_mask", "test_weights_are_scaled_softmax", "test_gradients_match_torch"},
    ),
    "mask_after_softmax": (
        {
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(q, k, v, mask=None):
    weights = softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v, weights
'''
        },
        {"test_causal_mask_matches_torch", "test_padding_mask_broadcasts", "test_fully_masked_row_is_zero"},
    ),
    "softmax_over_queries": (
        {"scaled_dot_product_attention": attention(dim="-2")},
        {"test_matches_torch_without_mask", "test_weights_are_scaled_softmax", "test_causal_mask_matches_torch"},
    ),
    "mask_polarity_flipped": (
        {"scaled_dot_product_attention": attention(masked="mask")},
        {"test_causal_mask_matches_torch", "test_padding_mask_broadcasts", "test_future_never_changes_past"},
    ),
    "unstable_softmax": (
        {
            "softmax": '''
def softmax(x, dim=-1):
    exps = torch.exp(x)
    return exps / exps.sum(dim=dim, keepdim=True)
'''
        },
        {"test_stable_for_large_logits", "test_stable_for_large_scores"},
    ),
    "causal_mask_strictly_lower": (
        {"causal_mask": "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril(-1)\n"},
        {"test_true_on_and_below_diagonal"},
    ),
    "causal_mask_float": (
        {"causal_mask": "def causal_mask(T):\n    return torch.ones(T, T).tril()\n"},
        {"test_shape_and_dtype", "test_true_on_and_below_diagonal"},
    ),
    "softmax_ignores_dim": (
        {
            "softmax": '''
def softmax(x, dim=-1):
    exps = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return exps / exps.sum(dim=-1, keepdim=True)
'''
        },
        {"test_matches_torch_on_any_dim"},
    ),
    "calls_torch_builtins": (
        {
            "softmax": "def softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n",
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(q, k, v, mask=None):
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out, None
''',
        },
        {"test_implemented_from_scratch", "test_matches_torch_on_last_dim", "test_matches_torch_without_mask"},
    ),
}

EINSUM_SOLUTION = {
    "softmax": '''
def softmax(x, dim=-1):
    # exp(x - logsumexp(x)): stable without an explicit max.
    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))
''',
    "causal_mask": "def causal_mask(T):\n    i = torch.arange(T)\n    return i[None, :] <= i[:, None]\n",
    "scaled_dot_product_attention": '''
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * q.shape[-1] ** -0.5
    if mask is not None:
        mask = mask.expand(scores.shape)
        scores = torch.where(mask, scores, torch.full_like(scores, -1e30))
    weights = softmax(scores, dim=-1)
    if mask is not None:
        weights = torch.where(mask, weights, torch.zeros_like(weights))
        total = weights.sum(-1, keepdim=True)
        weights = torch.where(total > 0, weights / total.clamp_min(1e-30), weights)
    return torch.einsum("...qk,...kd->...qd", weights, v), weights
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"einsum": EINSUM_SOLUTION}, WRONG
)


@pytest.mark.slow
def test_recognised_without_metadata_anywhere_on_disk(tmp_path):
    """The exercise is found from grade ids when the notebook metadata was stripped."""
    path = with_cells(SOLUTION, tmp_path / "renamed" / "my work.ipynb", {}, drop_metadata=True)
    report = grade(path)
    assert report["exercise"] == "week01/attention"
    assert report["score"] == report["max_score"]


@pytest.mark.slow
def test_cli_json_schema():
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--json", str(STUB)], capture_output=True, text=True, check=True
    )
    report = json.loads(proc.stdout)
    assert set(report) == {"score", "max_score", "tests"}
    assert isinstance(report["score"], float) and isinstance(report["max_score"], float)
    for test in report["tests"]:
        assert set(test) == {"name", "points", "max_points", "passed", "message"}
        assert isinstance(test["passed"], bool) and isinstance(test["message"], str)


def test_broken_notebook_reports_clearly(tmp_path):
    bad = tmp_path / "attention.ipynb"
    bad.write_text("{ not json")
    report = grade(bad)
    assert report["score"] == 0 and "not a readable notebook" in report["error"]
    missing = grade(tmp_path / "nothing.ipynb")
    assert "no such file" in missing["error"]
