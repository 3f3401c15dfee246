"""Shared by the tiny_gpt hidden tests: the course's reference GPT and seeded weights.

The learner's modules use the reference's parameter names (tok_emb, pos_emb,
blocks.i.{ln1,attn.{q,k,v,out}_proj,ln2,mlp.{fc,proj}}, ln_f, lm_head), so a
state dict moves between the two by name. Weights are drawn larger than
GPT-2's initialisation so that every sublayer visibly changes the output.
"""

import torch

from llmcourse.gpt import GPT, Block, GPTConfig
from llmcourse.testing import check


def config(vocab=13, block=16, layers=2, heads=4, d_model=32):
    return GPTConfig(vocab_size=vocab, block_size=block, n_layer=layers, n_head=heads, d_model=d_model)


def randomized(module: torch.nn.Module, seed: int) -> dict:
    """Give ``module`` seeded random weights (LayerNorm gains near 1) and return its state dict."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith(("ln1.weight", "ln2.weight", "ln_f.weight")):
                param.copy_(1 + 0.2 * torch.randn(param.shape, generator=gen))
            else:
                fan_in = param.shape[-1] if param.dim() == 2 else 4
                param.copy_(torch.randn(param.shape, generator=gen) / fan_in**0.5)
    module.eval()
    return {k: v.clone() for k, v in module.state_dict().items()}


def reference_block(d_model: int, n_head: int, seed: int):
    block = Block(config(d_model=d_model, heads=n_head))
    return block, randomized(block, seed)


def reference_gpt(seed: int, **shape):
    model = GPT(config(**shape))
    return model, randomized(model, seed)


def load(remote, state: dict, what: str):
    """Load ``state`` into the learner's module; every name must match."""
    missing, unexpected = remote.load_state_dict(state, strict=False)
    check(not unexpected and not missing,
          f"the {what}'s parameter names differ from those the exercise states "
          f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(unexpected) or 'none'})")
    remote.eval()
    return remote
