"""The course's tiny GPT: a decoder-only Transformer you can read in one sitting.

Defined in the chapter *The decoder block and a tiny GPT*
(``book/week01/tiny_gpt.md``), which derives every line; the decoding
functions at the end are the subject of *Decoding* (``book/week01/decoding.md``).
Later weeks reuse this model instead of copying it: LoRA and DPO in week 5
adapt it, and the KV cache, quantization and speculative decoding in week 6
speed it up. Its parts are plain attributes so that those chapters can reach
inside (``model.blocks[i].attn.k_proj`` and so on).

What it is:

* GPT-2's layout at toy size: learned token and position embeddings, ``n_layer``
  Pre-LN blocks (LayerNorm, causal multi-head self-attention, residual;
  LayerNorm, a 4x GELU MLP, residual), a final LayerNorm and an output
  projection that shares its weights with the token embedding;
* :class:`CharTokenizer`, one token per character of the training text;
* :func:`train` with AdamW, a cosine schedule after a short warm-up, gradient
  clipping, held-out loss and tokens per second;
* :func:`pretrained`, the course's reference run on a frozen snapshot of the
  course's own text (``llmcourse.corpus.snapshot_text``), trained once per
  checkout and cached under ``_build/models/``;
* :func:`sample_next` and :func:`generate`: greedy, temperature, top-k, top-p.

What it is not: fast (no fused kernels, no KV cache: week 6 adds one), robust
to characters it never saw (the tokenizer raises), or meant for more than a
few million parameters on a CPU.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from llmcourse.locking import exclusive

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = Path(os.environ.get("LLMCOURSE_MODEL_CACHE", REPO_ROOT / "_build" / "models"))


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a tiny GPT. ``block_size`` is the longest context it can read."""

    vocab_size: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    dropout: float = 0.0

    def __post_init__(self):
        if self.d_model % self.n_head:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_head={self.n_head}")


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t only."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.d_head = config.d_model // config.n_head
        self.q_proj = nn.Linear(config.d_model, config.d_model)
        self.k_proj = nn.Linear(config.d_model, config.d_model)
        self.v_proj = nn.Linear(config.d_model, config.d_model)
        self.out_proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, n_head, T, d_head)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_head, self.d_head).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.q_proj(x)), self.split(self.k_proj(x)), self.split(self.v_proj(x))
        # torch's fused kernel computes softmax(q k^T / sqrt(d_head)) v with the causal
        # mask: the week-1 exercises write it out; here we want speed.
        heads = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        batch, _, length, _ = heads.shape
        return self.out_proj(heads.transpose(1, 2).reshape(batch, length, -1))


class MLP(nn.Module):
    """Position-wise feed-forward network: d_model -> 4 d_model -> d_model."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(config.d_model, 4 * config.d_model)
        self.proj = nn.Linear(4 * config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """One Pre-LN decoder block: x + attn(ln1(x)), then + mlp(ln2(.))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Token ids (B, T) -> next-token logits (B, T, vocab_size)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.block_size, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)
        # GPT-2's scaled init: each residual branch adds to the stream, so shrink the
        # projections that write into it by 1/sqrt(2 n_layer) to keep its variance flat.
        for block in self.blocks:
            for proj in (block.attn.out_proj, block.mlp.proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        """Parameters counted once (the tied output matrix is the embedding)."""
        return sum(p.numel() for p in self.parameters())

    def embed(self, idx: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Token plus position embeddings for ids ``idx`` placed at positions start, start+1, ..."""
        length = idx.shape[-1]
        if start + length > self.config.block_size:
            raise ValueError(
                f"positions up to {start + length} exceed the context of {self.config.block_size}"
            )
        positions = torch.arange(start, start + length, device=idx.device)
        return self.drop(self.tok_emb(idx) + self.pos_emb(positions))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """Logits for every position; with ``targets``, also the mean cross-entropy."""
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss


class CharTokenizer:
    """One token per character of the text it was built from, ids in sorted order."""

    def __init__(self, chars: str):
        self.chars = "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        return cls(text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return [self.index[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def get_batch(data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator):
    """Random windows of ``data``: inputs (B, T) and the same windows shifted by one."""
    starts = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator)
    x = torch.stack([data[s : s + block_size] for s in starts.tolist()])
    y = torch.stack([data[s + 1 : s + block_size + 1] for s in starts.tolist()])
    return x, y


@dataclass
class TrainConfig:
    """Optimisation settings of :func:`train`; the defaults are the course's reference run."""

    steps: int = 400
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 50
    eval_batches: int = 8
    seed: int = 0


@dataclass
class TrainHistory:
    """What :func:`train` measured: losses at each evaluation and throughput."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``cfg.lr``, then cosine decay to a tenth of it."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def estimate_loss(model: GPT, data: torch.Tensor, cfg: TrainConfig, seed: int) -> float:
    """Mean loss over ``cfg.eval_batches`` fixed random batches of ``data``."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(cfg.eval_batches):
        x, y = get_batch(data, model.config.block_size, cfg.batch_size, generator)
        losses.append(model(x, y)[1].item())
    model.train(was_training)
    return sum(losses) / len(losses)


def train(model: GPT, train_data: torch.Tensor, val_data: torch.Tensor, cfg: TrainConfig,
          progress: bool = True) -> TrainHistory:
    """Train ``model`` in place on random windows of ``train_data``; return its history."""
    from tqdm.auto import tqdm

    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.95),
    )
    history = TrainHistory()
    model.train()
    for step in tqdm(range(cfg.steps + 1), desc="training", disable=not progress, mininterval=5):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            history.steps.append(step)
            history.train_loss.append(estimate_loss(model, train_data, cfg, seed=1))
            history.val_loss.append(estimate_loss(model, val_data, cfg, seed=2))
        if step == cfg.steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, cfg)
        x, y = get_batch(train_data, model.config.block_size, cfg.batch_size, generator)
        started = time.perf_counter()
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        history.seconds += time.perf_counter() - started
        history.tokens += x.numel()
    model.eval()
    return history


def split_corpus(text: str, tokenizer: CharTokenizer, val_fraction: float = 0.1):
    """Token tensors for the first 90% of ``text`` (training) and the last 10% (held out)."""
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    cut = int(len(data) * (1 - val_fraction))
    return data[:cut], data[cut:]


@dataclass
class Pretrained:
    """The reference run: model, tokenizer, its data split and training history."""

    model: GPT
    tokenizer: CharTokenizer
    train_data: torch.Tensor
    val_data: torch.Tensor
    history: TrainHistory


REFERENCE_MODEL = dict(block_size=64, n_layer=4, n_head=4, d_model=128)
REFERENCE_TRAINING = TrainConfig()


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread inside the block.

    A model this small gains little from a second thread, and loses a lot when
    another process wants the same cores: measured on the course machine under
    load, one training step of a 64-wide model took 68 ms on one thread and
    320 ms on two, the threads spinning while they wait for each other.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def pretrained(text: str | None = None, progress: bool = True) -> Pretrained:
    """The course's reference tiny GPT, trained on ``text`` (default: the frozen course text).

    Training takes two to three minutes on one CPU core; the result is cached
    in ``_build/models/`` under a key made of the text, the model and training
    settings and the torch version, so that every chapter that asks for it
    after the first gets the same weights in a second. The default text is
    :func:`llmcourse.corpus.snapshot_text`, not the live chapters, so editing
    a chapter does not retrain the model.
    """
    from llmcourse.corpus import snapshot_text

    text = snapshot_text() if text is None else text
    tokenizer = CharTokenizer.from_text(text)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, **REFERENCE_MODEL)
    train_data, val_data = split_corpus(text, tokenizer)
    key_source = json.dumps(
        [asdict(config), asdict(REFERENCE_TRAINING), torch.__version__,
         hashlib.sha256(text.encode()).hexdigest()], sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    path = MODEL_CACHE / f"tiny-gpt-{key}.pt"
    # fork_rng: the caller's random state is the same after a cache hit as after
    # a training run, so a chapter's later samples do not depend on the cache.
    with exclusive(MODEL_CACHE / f"tiny-gpt-{key}.lock"), torch.random.fork_rng():
        torch.manual_seed(REFERENCE_TRAINING.seed)
        model = GPT(config)
        if path.exists():
            saved = torch.load(path, weights_only=True)
            model.load_state_dict(saved["model"])
            history = TrainHistory(**saved["history"])
        else:
            with one_thread():
                history = train(model, train_data, val_data, REFERENCE_TRAINING, progress=progress)
            tmp = path.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "history": asdict(history)}, tmp)
            os.replace(tmp, path)  # readers never see a half-written file
    model.eval()
    return Pretrained(model, tokenizer, train_data, val_data, history)


# Decoding (book/week01/decoding.md) --------------------------------------------------


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Set to -inf every logit outside the top ``top_k`` and outside the nucleus of mass ``top_p``.

    The nucleus is the smallest set of most likely tokens whose probabilities
    add up to at least ``top_p``; the most likely token always stays.
    """
    logits = logits.clone()
    if top_k is not None:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits[logits < kth] = float("-inf")
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError("top_p must be in (0, 1]")
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(ordered, dim=-1)
        mass_before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = mass_before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits[drop] = float("-inf")
    return logits


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token id per row of ``logits`` (..., vocab); temperature 0 means greedy."""
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])


@torch.no_grad()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend ``idx`` (B, T) by ``max_new_tokens``, recomputing the whole window every step."""
    for _ in range(max_new_tokens):
        window = idx[:, -model.config.block_size :]
        logits = model(window)[:, -1, :]
        idx = torch.cat([idx, sample_next(logits, temperature, top_k, top_p, generator)[:, None]], dim=1)
    return idx
