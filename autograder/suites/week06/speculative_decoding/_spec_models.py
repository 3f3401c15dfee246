"""Shared by the speculative_generate hidden tests: seeded tiny GPTs on both sides of the seam.

The judge builds each model locally from ``llmcourse.gpt`` and loads the same
weights into a model built inside the learner's sandbox (the notebook imports
``GPT`` and ``GPTConfig``), so that reference outputs computed here and the
learner's outputs come from identical models. Weights are drawn larger than
GPT-2's initialisation so that next-token distributions are far from uniform
and greedy choices are never near ties.
"""

import torch

from llmcourse.gpt import GPT, GPTConfig


def seeded_gpt(seed: int, vocab: int, block: int, layers: int, heads: int, d_model: int, flatten: float = 1.0):
    """A GPT with seeded random weights (LayerNorm gains near 1), in eval mode, and its state dict.

    ``flatten`` multiplies the final LayerNorm's gain and bias, so the logits: below 1 it gives
    a less confident model that ranks tokens as the unflattened one does.
    """
    config = dict(vocab_size=vocab, block_size=block, n_layer=layers, n_head=heads, d_model=d_model)
    model = GPT(GPTConfig(**config))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("ln1.weight", "ln2.weight", "ln_f.weight")):
                param.copy_(1 + 0.2 * torch.randn(param.shape, generator=gen))
            else:
                fan_in = param.shape[-1] if param.dim() == 2 else 4
                param.copy_(torch.randn(param.shape, generator=gen) / fan_in**0.5)
        model.ln_f.weight.mul_(flatten)
        model.ln_f.bias.mul_(flatten)
    model.eval()
    return model, config, {k: v.clone() for k, v in model.state_dict().items()}


def remote_copy(submission, config: dict, state: dict):
    """The same model, built in the learner's sandbox."""
    remote = submission.GPT(submission.GPTConfig(**config))
    remote.load_state_dict(state)
    remote.eval()
    return remote
