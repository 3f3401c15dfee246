"""Shared by the dpo hidden tests: reference computations and small models, in the judge.

The references are the definitions written the plainest way: log-probabilities
gathered from ``log_softmax`` in float64, and the DPO loss with
``F.logsigmoid``. The models are the course's ``llmcourse.gpt.GPT``; the
tests build a twin of each inside the sandbox (``submission.GPT``) and load
the same state dict into it, so the judge can measure for itself what the
learner's trainer did. Weights are drawn with standard deviation
1/sqrt(fan_in), larger than GPT-2's initialisation, so that two models with
different seeds give clearly different log-probabilities and the margins the
tests compare are far from zero.
"""

import torch
import torch.nn.functional as F

from llmcourse.gpt import GPT, GPTConfig

SHAPE = dict(vocab_size=11, block_size=20, n_layer=2, n_head=2, d_model=32)


def logprobs(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per row, the sum over counted positions of log softmax(logits) at the label, in float64."""
    picked = torch.log_softmax(logits.double(), dim=-1).gather(-1, labels[..., None]).squeeze(-1)
    return torch.where(mask.bool(), picked, 0.0).sum(-1)


def dpo(pc, pr, rc, rr, beta):
    """The DPO loss (batch mean) and the implicit rewards, from the definition."""
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    return -F.logsigmoid(chosen - rejected).mean(), chosen, rejected


def random_gpt(seed: int, **shape) -> tuple[GPT, dict]:
    """A GPT with seeded weights of standard deviation 1/sqrt(fan_in); the model and its state dict."""
    model = GPT(GPTConfig(**{**SHAPE, **shape}))
    weights_rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("ln1.weight") or name.endswith("ln2.weight") or name == "ln_f.weight":
                param.copy_(1 + 0.2 * torch.randn(param.shape, generator=weights_rng))
            else:
                fan_in = param.shape[-1] if param.dim() == 2 else 4
                param.copy_(torch.randn(param.shape, generator=weights_rng) / fan_in**0.5)
    model.eval()
    return model, {k: v.clone() for k, v in model.state_dict().items()}


def remote_gpt(submission, state: dict, **shape):
    """A GPT inside the sandbox holding ``state``."""
    model = submission.GPT(submission.GPTConfig(**{**SHAPE, **shape}))
    model.load_state_dict(state, strict=True)
    return model


def random_pairs(seed: int, n_pairs: int, prompt_len: int, completion_len: int, vocab: int) -> dict:
    """Preference pairs: chosen completions from the lower half of the vocabulary, rejected from the upper.

    Rows carry 0 to 2 padding tokens at the end (padding id: the last token
    of the vocabulary, so that padded labels are valid ids that would change
    the result if they were counted); chosen and rejected have different
    amounts of padding.
    """
    draw = torch.Generator().manual_seed(seed)
    width = prompt_len + completion_len
    half = vocab // 2
    pairs = {}
    for side in ("chosen", "rejected"):
        pairs[side] = torch.full((n_pairs, width), vocab - 1, dtype=torch.long)
        pairs[side + "_mask"] = torch.zeros(n_pairs, width, dtype=torch.long)
    for row in range(n_pairs):
        shared = torch.randint(vocab, (prompt_len,), generator=draw)
        for side, lowest, shift in (("chosen", 0, 0), ("rejected", half, 1)):
            stop = width - (row + shift) % 3
            pairs[side][row, :prompt_len] = shared
            pairs[side][row, prompt_len:stop] = torch.randint(lowest, lowest + half, (stop - prompt_len,), generator=draw)
            pairs[side + "_mask"][row, prompt_len:stop] = 1
    return pairs


@torch.no_grad()
def completion_logprobs(model: GPT, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Summed log-probability of the completion tokens of every row (float64)."""
    return logprobs(model(ids[:, :-1]), ids[:, 1:], mask[:, 1:])


def margin(policy: GPT, reference: GPT, pairs: dict, beta: float) -> float:
    """Mean over pairs of the chosen minus the rejected implicit reward."""
    chosen = completion_logprobs(policy, pairs["chosen"], pairs["chosen_mask"]) - completion_logprobs(
        reference, pairs["chosen"], pairs["chosen_mask"])
    rejected = completion_logprobs(policy, pairs["rejected"], pairs["rejected_mask"]) - completion_logprobs(
        reference, pairs["rejected"], pairs["rejected_mask"])
    return float(beta * (chosen - rejected).mean())
