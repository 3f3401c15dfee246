"""The week01/tiny_gpt exercise, graded end to end through the real engine.

The solution must earn full marks, differently written correct solutions
full marks too, and each realistic mistake must lose the points of the
properties it breaks. Mistakes are made by editing one line of the solution
cell (``edit``), so each differs from the solution in exactly the way named.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week01/tiny_gpt")
SOLUTION = EXERCISE.source_path


def edit(grade_id: str, *changes: tuple[str, str]) -> dict[str, str]:
    return edited(SOLUTION, grade_id, *changes)


WRONG = {
    "post_ln_block": (
        edit("decoder_block", ("x = x + self.attn(self.ln1(x))\n        x = x + self.mlp(self.ln2(x))",
                               "x = self.ln1(x + self.attn(x))\n        x = self.ln2(x + self.mlp(x))")),
        {"test_gpt_block_matches_reference", "test_gpt_model_matches_reference",
         "test_gpt_generate_greedy_matches_reference"},
    ),
    "no_causal_mask": (
        edit("decoder_block", ("scores.masked_fill(future, float(\"-inf\"))", "scores")),
        {"test_gpt_block_is_causal_with_gradients", "test_gpt_model_is_causal_and_tied",
         "test_gpt_block_matches_reference"},
    ),
    "scale_by_d_model": (
        edit("decoder_block", ("/ math.sqrt(d_head)", "/ math.sqrt(width)")),
        {"test_gpt_block_matches_reference", "test_gpt_model_matches_reference"},
    ),
    "untied_output_layer": (
        edit("tiny_gpt", ("        self.lm_head.weight = self.tok_emb.weight\n", "")),
        {"test_gpt_model_is_causal_and_tied"},
    ),
    "positions_start_at_one": (
        edit("tiny_gpt", ("self.pos_emb(torch.arange(length))", "self.pos_emb(torch.arange(1, length + 1))")),
        {"test_gpt_model_matches_reference", "test_gpt_generate_greedy_matches_reference"},
    ),
    "targets_not_shifted": (
        edit("training", ("y = data[starts[:, None] + offsets + 1]", "y = data[starts[:, None] + offsets]")),
        {"test_gpt_batches_are_shifted_windows", "test_gpt_training_reaches_stated_loss"},
    ),
    "last_window_never_drawn": (
        edit("training", ("len(data) - block_size,", "len(data) - block_size - 1,")),
        {"test_gpt_batches_are_shifted_windows"},
    ),
    "summed_loss": (
        edit("training", ("F.cross_entropy(logits.flatten(0, 1), targets.flatten())",
                          "F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction=\"sum\")")),
        {"test_gpt_next_token_loss"},
    ),
    "gradients_never_cleared": (
        edit("training", ("        optimizer.zero_grad()\n", "")),
        {"test_gpt_training_reaches_stated_loss"},
    ),
    "temperature_after_softmax": (
        edit("sampling", ("scaled = logits / temperature", "scaled = torch.log(torch.softmax(logits, -1) / temperature)")),
        {"test_gpt_temperature_distribution", "test_gpt_filters_compose_in_order"},
    ),
    "top_p_drops_crossing_token": (
        edit("sampling", ("before = probs.cumsum(dim=-1) - probs", "before = probs.cumsum(dim=-1)")),
        {"test_gpt_top_p_distribution"},
    ),
    "top_p_ignores_top_k": (
        edit("sampling", ("probs, order = torch.softmax(scaled, dim=-1)", "probs, order = torch.softmax(logits / temperature, dim=-1)")),
        {"test_gpt_filters_compose_in_order"},
    ),
    "generate_without_crop": (
        edit("sampling", ("model(idx[:, -model.block_size:])", "model(idx)")),
        {"test_gpt_generate_greedy_matches_reference"},
    ),
}

# Correct, written differently: attention through torch's fused kernel with
# heads by einops-free unflatten, the output layer tied the other way round,
# batches by unfold, the loss by log_softmax and gather, Adam with its own
# warm-up and no weight decay, sampling by the Gumbel-max trick and top-p over ascending order.
ALTERNATIVE = {
    "decoder_block": '''
class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        if d_model % n_head:
            raise ValueError("n_head must divide d_model")
        self.h = n_head
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self, name, nn.Linear(d_model, d_model))

    def forward(self, x):
        q, k, v = (p(x).unflatten(-1, (self.h, -1)).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(y.transpose(1, 2).flatten(-2))


class FeedForward(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.fc, self.proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

    def forward(self, x):
        h = self.fc(x)
        return self.proj(0.5 * h * (1 + torch.erf(h / math.sqrt(2))))


class DecoderBlock(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d_model), CausalSelfAttention(d_model, n_head)
        self.ln2, self.mlp = nn.LayerNorm(d_model), FeedForward(d_model)

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.mlp(self.ln2(h))
''',
    "tiny_gpt": '''
class TinyGPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, d_model):
        super().__init__()
        self.block_size = block_size
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.tok_emb.weight = self.lm_head.weight
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        for emb in (self.tok_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx):
        if idx.size(1) > self.block_size:
            raise ValueError("too long")
        h = self.tok_emb(idx) + self.pos_emb.weight[: idx.size(1)]
        for block in self.blocks:
            h = block(h)
        return self.lm_head(self.ln_f(h))
''',
    "training": '''
def get_batch(data, block_size, batch_size, generator=None):
    windows = data.unfold(0, block_size + 1, 1)
    rows = windows[torch.randint(len(windows), (batch_size,), generator=generator)]
    return rows[:, :-1], rows[:, 1:]


def next_token_loss(logits, targets):
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(-1, targets.unsqueeze(-1)).mean()


def train(model, data, steps, batch_size=16, lr=3e-3, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.05, total_iters=20)
    history = []
    for _ in range(steps):
        x, y = get_batch(data, model.block_size, batch_size)
        loss = next_token_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history.append(float(loss))
    return history
''',
    "sampling": '''
def sample_next(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature == 0:
        return logits.argmax(-1)
    z = logits / temperature
    if top_k is not None:
        kth = z.sort(dim=-1, descending=True).values[:, top_k - 1 : top_k]
        z = torch.where(z >= kth, z, torch.full_like(z, -math.inf))
    if top_p is not None:
        p = torch.softmax(z, -1)
        asc, order = p.sort(dim=-1)
        tail_mass = asc.cumsum(-1)                      # mass of this token and all smaller ones
        keep_sorted = tail_mass > 1 - top_p            # ... exceeds 1 - top_p: it is in the nucleus
        keep_sorted[:, -1] = True
        keep = keep_sorted.scatter(1, order, keep_sorted)
        z = torch.where(keep, z, torch.full_like(z, -math.inf))
    gumbel = -torch.log(-torch.log(torch.rand_like(z).clamp_min(1e-20)))
    return (z + gumbel).argmax(-1)


def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None):
    with torch.no_grad():
        out = [idx]
        for _ in range(max_new_tokens):
            context = torch.cat(out, 1)[:, -model.block_size:]
            out.append(sample_next(model(context)[:, -1], temperature, top_k, top_p).unsqueeze(1))
        return torch.cat(out, 1)
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"alternative": ALTERNATIVE}, WRONG
)
