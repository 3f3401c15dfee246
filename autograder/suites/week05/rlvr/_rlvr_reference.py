"""Shared by the rlvr hidden tests: the documented definitions, written out independently.

The answer format, the advantages and the GRPO loss as the notebook states
them. The loss uses the "pessimistic" form of the clipped surrogate: for
A >= 0, min(rho A, clip(rho) A) = A min(rho, 1 + eps); for A < 0 it is
A max(rho, 1 - eps). Computations are in float64 on one thread.
"""

import torch

DIGITS = "0123456789"


def canonical_answer(completion: str) -> int | None:
    """The integer a completion states in the documented format, or None if it breaks the format."""
    if "\n" not in completion:
        return None
    line = completion[: completion.index("\n")]
    body = line[1:] if line.startswith("-") else line
    if not body or any(ch not in DIGITS for ch in body):
        return None
    if body[0] == "0" and (len(body) > 1 or line.startswith("-")):
        return None  # leading zero, or "-0"
    return int(line)


def reward(completion: str, expected: int) -> float:
    value = canonical_answer(completion)
    return 1.0 if value is not None and value == expected else 0.0


def advantages(rewards: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Row by row: (r - mean) / (population std + eps)."""
    rows = []
    for row in rewards.double():
        centred = row - row.sum() / row.numel()
        spread = torch.sqrt((centred**2).sum() / row.numel())
        rows.append(centred / (spread + eps))
    return torch.stack(rows).to(rewards.dtype)


def grpo_objective(logp_new, logp_old, logp_ref, adv, mask, clip_eps=0.2, beta=0.04):
    """The loss to minimise (a scalar), differentiable in logp_new."""
    rho = torch.exp(logp_new - logp_old)
    a = adv[:, None].expand_as(rho)
    pessimistic = torch.where(a >= 0, torch.clamp(rho, max=1 + clip_eps), torch.clamp(rho, min=1 - clip_eps))
    gap = logp_ref - logp_new
    penalty = gap.exp() - gap - 1
    objective = pessimistic * a - beta * penalty
    seq_means = [objective[i][mask[i]].mean() for i in range(objective.shape[0])]
    return -torch.stack(seq_means).mean()


def random_batch(seed: int, batch: int, length: int, spread: float = 0.5):
    """float64 log-probs (new, old, ref), advantages (B,) and a bool mask with ragged lengths.

    ``spread`` sets how far new and ref lie from old: 0.5 puts many ratios outside
    [0.8, 1.2] on both sides. Every row has at least one valid token, and
    padding holds finite values of the same size as real ones.
    """
    gen = torch.Generator().manual_seed(seed)
    old = -3 * torch.rand(batch, length, generator=gen, dtype=torch.float64)
    new = old + spread * torch.randn(batch, length, generator=gen, dtype=torch.float64)
    ref = old + spread * torch.randn(batch, length, generator=gen, dtype=torch.float64)
    adv = torch.randn(batch, generator=gen, dtype=torch.float64)
    lengths = torch.randint(1, length + 1, (batch,), generator=gen)
    lengths[0] = length  # one full row, so no column is padding everywhere
    mask = torch.arange(length)[None, :] < lengths[:, None]
    return new, old, ref, adv, mask
