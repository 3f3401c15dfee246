"""Shared by the lora hidden tests: reference layers, the LoRA formula, and a small trained base GPT.

Layers are built twice: a plain ``torch.nn.Linear`` here in the judge and one
inside the sandbox (``submission.torch.nn.Linear``), loaded with the same
seeded weights. The LoRA formula is computed here in float64 from the
factors read back from the learner's layer, so the learner's code never
supplies its own expected value.

The fine-tuning test needs a base model that knows something: a GPT of
width 32 with 2 layers is trained here for 400 steps on the first half of the
course's frozen text (a few seconds on one core, once per judge process),
and the new task is the second half with every word spelled backwards.
"""

import re

import torch
import torch.nn.functional as F

from llmcourse.corpus import snapshot_text
from llmcourse.gpt import GPT, CharTokenizer, GPTConfig, TrainConfig, one_thread, train
from llmcourse.testing import check

# (in_features, out_features, bias, r, alpha): square and not, wide and narrow, r = 1 included
SHAPES = [(8, 8, True, 2, 4.0), (12, 20, True, 4, 16.0), (24, 6, False, 3, 1.5), (16, 5, True, 1, 1.0),
          (7, 30, False, 8, 8.0)]
BASE_SHAPE = dict(block_size=32, n_layer=2, n_head=4, d_model=32)
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "out_proj", "fc", "proj")


def linear_state(seed: int, d_in: int, d_out: int, bias: bool) -> dict:
    gen = torch.Generator().manual_seed(seed)
    state = {"weight": torch.randn(d_out, d_in, generator=gen) / d_in**0.5}
    if bias:
        state["bias"] = torch.randn(d_out, generator=gen)
    return state


def remote_linear(submission, state: dict):
    """An nn.Linear inside the sandbox holding ``state``."""
    d_out, d_in = state["weight"].shape
    layer = submission.torch.nn.Linear(d_in, d_out, bias="bias" in state)
    layer.load_state_dict(state)
    return layer


def base_output(state: dict, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x.double(), state["weight"].double(), state["bias"].double() if "bias" in state else None)


def lora_output(state: dict, A: torch.Tensor, B: torch.Tensor, scaling: float, x: torch.Tensor) -> torch.Tensor:
    """base(x) + scaling * B A x in float64."""
    return base_output(state, x) + scaling * (x.double() @ A.double().T @ B.double().T)


def inputs(seed: int, d_in: int, shape=(3, 5)) -> torch.Tensor:
    return torch.randn(*shape, d_in, generator=torch.Generator().manual_seed(seed))


def set_factors(layer, seed: int, scale: float = 1.0):
    """Give the learner's layer random A and B (B no longer zero); return them."""
    A, B = layer.A, layer.B
    gen = torch.Generator().manual_seed(seed)
    A = scale * torch.randn(A.shape, generator=gen) / A.shape[1] ** 0.5
    B = scale * torch.randn(B.shape, generator=gen) / B.shape[1] ** 0.5
    _, unexpected = layer.load_state_dict({"A": A, "B": B}, strict=False)
    check(not unexpected, "A and B must be nn.Parameters of the layer named A and B")
    return A, B


def small_gpt_state(seed: int, vocab: int = 20, **shape) -> tuple[GPTConfig, dict]:
    fields = dict(vocab_size=vocab, block_size=16, n_layer=2, n_head=4, d_model=16)
    fields.update(shape)
    config = GPTConfig(**fields)
    torch.manual_seed(seed)
    model = GPT(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # larger than GPT-2's init, so that every layer changes the logits
        for name, param in model.named_parameters():
            if param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=gen) / param.shape[-1] ** 0.5)
    return config, {k: v.clone() for k, v in model.state_dict().items()}


def remote_gpt(submission, config: GPTConfig, state: dict):
    from dataclasses import asdict

    model = submission.GPT(submission.GPTConfig(**asdict(config)))
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def reverse_words(text: str) -> str:
    return re.sub("[A-Za-z]+", lambda match: match[0][::-1], text)


_BASE = {}


def trained_base():
    """(config, state, new-task training data, new-task held-out data), trained once per process."""
    if not _BASE:
        text = snapshot_text()
        tokenizer = CharTokenizer.from_text(text)
        half = len(text) // 2
        first = torch.tensor(tokenizer.encode(text[:half]))
        task = torch.tensor(tokenizer.encode(reverse_words(text[half:])))
        cut = int(0.9 * len(task))
        config = GPTConfig(vocab_size=tokenizer.vocab_size, **BASE_SHAPE)
        torch.manual_seed(5)
        model = GPT(config)
        with one_thread():
            train(model, first, first[-5000:],
                  TrainConfig(steps=400, batch_size=16, lr=1e-2, warmup=20, eval_every=400, eval_batches=1, seed=5),
                  progress=False)
        _BASE.update(config=config, state={k: v.clone() for k, v in model.state_dict().items()},
                     train=task[:cut], val=task[cut:])
    return _BASE["config"], _BASE["state"], _BASE["train"], _BASE["val"]


def merged_state(state: dict, scaling: float) -> dict:
    """A plain GPT state dict from an adapted one: W + scaling * B A for every wrapped layer."""
    plain = {}
    for key, value in state.items():
        if key.endswith(".A") or key.endswith(".B"):
            continue
        if ".base." in key:
            prefix, leaf = key.split(".base.")
            if leaf == "weight":
                value = value + scaling * state[prefix + ".B"] @ state[prefix + ".A"]
            key = f"{prefix}.{leaf}"
        plain[key] = value
    return plain


@torch.no_grad()
def held_out_loss(config: GPTConfig, state: dict, data: torch.Tensor, windows: int = 128, seed: int = 97) -> float:
    model = GPT(config)
    model.load_state_dict(state, strict=True)
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    first = torch.randint(0, len(data) - config.block_size - 1, (windows,), generator=gen)
    index = first[:, None] + torch.arange(config.block_size)[None, :]
    with one_thread():
        logits = model(data[index])
    return F.cross_entropy(logits.flatten(0, 1), data[index + 1].flatten()).item()
