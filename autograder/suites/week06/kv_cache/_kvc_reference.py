"""Shared by the kv_cache hidden tests: the course GPT with seeded random weights, on both sides.

The judge builds ``llmcourse.gpt.GPT`` here as the reference; the learner's
notebook imports the same class, so the tests build a twin in the sandbox
(``submission.GPT``) and load the same state dict into it. Weights are drawn
larger than GPT-2's initialisation so that every layer visibly changes the
logits, and position embeddings four times larger still, so that a token at
the wrong position gives other logits. The final LayerNorm's gains are
negative: the output matrix is the token embedding, so with positive gains a
random model ranks its current token first and greedy decoding repeats one
token forever, which would hide a loop that feeds back the wrong token; with
negative gains greedy paths change token at most steps, and every greedy
choice the suite makes is at least 1e-3 from a tie (checked when the suite was
written), far above float32 round-off.
Reference computations run on one thread: a model this small only loses time
to a second thread when other processes share the cores.
"""

import torch

from llmcourse.gpt import GPT, GPTConfig, generate, one_thread

SHAPE = dict(vocab_size=13, block_size=40, n_layer=2, n_head=4, d_model=32)


def randomized(model: GPT, seed: int) -> dict:
    """Give ``model`` seeded random weights (see the module docstring); return its state dict."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("ln1.weight", "ln2.weight")):
                param.copy_(1 + 0.2 * torch.randn(param.shape, generator=gen))
            elif name == "ln_f.weight":
                param.copy_(-(1 + 0.2 * torch.randn(param.shape, generator=gen)))
            else:
                fan_in = param.shape[-1] if param.dim() == 2 else 4
                scale = 4.0 if name == "pos_emb.weight" else 1.0
                param.copy_(scale * torch.randn(param.shape, generator=gen) / fan_in**0.5)
    model.eval()
    return {k: v.clone() for k, v in model.state_dict().items()}


def twin_models(submission, seed: int, **shape):
    """The reference GPT here, the same weights in a GPT inside the sandbox, and the config."""
    fields = {**SHAPE, **shape}
    config = GPTConfig(**fields)
    reference = GPT(config)
    state = randomized(reference, seed)
    remote = submission.GPT(submission.GPTConfig(**fields))
    remote.load_state_dict(state)
    remote.eval()
    return reference, remote, config


def tokens(seed: int, batch: int, length: int, vocab: int = SHAPE["vocab_size"]) -> torch.Tensor:
    return torch.randint(vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def full_logits(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The logits of every position, the whole sequence recomputed."""
    with one_thread():
        return model(idx)


def greedy(model: GPT, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
    """The course's uncached greedy decoding."""
    with one_thread():
        return generate(model, idx, max_new_tokens, temperature=0)


@torch.no_grad()
def keys_and_values(model: GPT, idx: torch.Tensor):
    """Per layer, the (B, H, T, d_head) keys and values the model computes for ``idx``."""
    found = []
    hooks = []
    for block in model.blocks:
        attn = block.attn
        record = {}
        found.append(record)
        hooks.append(attn.k_proj.register_forward_hook(
            lambda mod, inp, out, record=record, attn=attn: record.__setitem__("k", attn.split(out))))
        hooks.append(attn.v_proj.register_forward_hook(
            lambda mod, inp, out, record=record, attn=attn: record.__setitem__("v", attn.split(out))))
    try:
        with one_thread():
            model(idx)
    finally:
        for hook in hooks:
            hook.remove()
    return [(r["k"], r["v"]) for r in found]
