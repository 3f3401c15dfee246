"""The week02/flash_attention exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite, including the peak-memory measurement
taken from outside the sandbox. The solution must earn full marks, the
released stub zero, differently written correct solutions full marks, and
each realistic mistake must lose the points of the properties it breaks;
in particular an implementation that is numerically right but holds the
whole score matrix must lose the memory points.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week02/flash_attention")
SOLUTION = EXERCISE.source_path

FLASH_TEMPLATE = '''
def flash_attention(q, k, v, block_size=64, causal=False):
    t_q, t_k = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1])
    pieces = []
    for q_lo in {query_starts}:
        q_hi = min(q_lo + block_size, t_q)
        q_tile = q[..., q_lo:q_hi, :] * scale
        k_end = q_hi if causal else t_k
        state = None
        for k_lo in {key_starts}:
            k_hi = min(k_lo + block_size, t_k)
            tile = q_tile @ k[..., k_lo:k_hi, :].transpose(-2, -1)
            if causal:
                rows = torch.arange({row_positions}).unsqueeze(-1)
                cols = torch.arange({col_positions})
                tile = tile.masked_fill(cols > rows, -math.inf)
            update = block_state(tile, v[..., k_lo:k_hi, :])
            {fold}
        _, total, weighted = state
        pieces.append({finish})
    return torch.cat(pieces, dim=-2)
'''


def flash(
    query_starts="range(0, t_q, block_size)",
    key_starts="range(0, k_end, block_size)",
    row_positions="q_lo, q_hi",
    col_positions="k_lo, k_hi",
    fold="state = update if state is None else merge_states(state, update)",
    finish="weighted / total.unsqueeze(-1)",
):
    return FLASH_TEMPLATE.format(
        query_starts=query_starts, key_starts=key_starts, row_positions=row_positions,
        col_positions=col_positions, fold=fold, finish=finish,
    )


ALL_CORRECTNESS = {
    "test_flash_matches_attention_every_block_size",
    "test_flash_queries_and_keys_of_different_lengths",
    "test_causal_matches_attention_every_block_size",
}

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    # Right numbers, wrong memory: the whole score matrix, then an online softmax over its column blocks.
    "materialises_full_score_matrix": (
        {
            "flash_attention": '''
def flash_attention(q, k, v, block_size=64, causal=False):
    t_q, t_k = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])     # the T x T matrix, all at once
    if causal:
        scores = scores.masked_fill(torch.ones(t_q, t_k, dtype=torch.bool).triu(1), -math.inf)
    state = None
    for lo in range(0, t_k, block_size):
        update = block_state(scores[..., lo:lo + block_size], v[..., lo:lo + block_size, :])
        state = update if state is None else merge_states(state, update)
    _, total, weighted = state
    return weighted / total.unsqueeze(-1)
'''
        },
        {"test_flash_peak_memory_far_below_score_matrix", "test_flash_causal_peak_memory_far_below_score_matrix"},
    ),
    "accumulator_not_rescaled": (
        {
            "merge_states": '''
def merge_states(a, b):
    m_a, l_a, acc_a = a
    m_b, l_b, acc_b = b
    m_new = torch.maximum(m_a, m_b)
    finite = torch.where(m_new == -math.inf, torch.zeros_like(m_new), m_new)
    scale_a, scale_b = torch.exp(m_a - finite), torch.exp(m_b - finite)
    return m_new, scale_a * l_a + scale_b * l_b, acc_a + acc_b   # acc keeps its old reference max
'''
        },
        {"test_merging_equals_one_block", "test_flash_stable_for_large_scores_and_float64"} | ALL_CORRECTNESS,
    ),
    "causal_mask_with_tile_local_positions": (
        {"flash_attention": flash(row_positions="q_hi - q_lo", col_positions="k_hi - k_lo")},
        {"test_causal_matches_attention_every_block_size", "test_flash_gradients_match_torch"},
    ),
    # Each key block's softmax is finished on its own and the finished pieces are added up.
    "normalises_each_key_block_separately": (
        {
            "flash_attention": flash(
                fold="share = update[2] / update[1].unsqueeze(-1)\n"
                     "            state = (None, torch.ones_like(update[1]), share if state is None else state[2] + share)",
            )
        },
        ALL_CORRECTNESS,
    ),
    "drops_the_last_partial_block": (
        {
            "flash_attention": flash(
                query_starts="range(0, t_q - block_size + 1, block_size)",
                key_starts="range(0, k_end - block_size + 1, block_size)",
            )
        },
        ALL_CORRECTNESS,
    ),
    "nan_for_fully_masked_rows": (
        {
            "block_state": '''
def block_state(scores, values):
    row_max = scores.amax(dim=-1)
    weights = torch.exp(scores - row_max.unsqueeze(-1))     # -inf - (-inf) is NaN
    return row_max, weights.sum(dim=-1), weights @ values
'''
        },
        {"test_masked_and_extreme_blocks"},
    ),
    "calls_torch_attention": (
        {
            "flash_attention": '''
def flash_attention(q, k, v, block_size=64, causal=False):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
'''
        },
        {"test_flash_built_from_tensor_operations"} | ALL_CORRECTNESS,
    ),
}

# Correct, but written differently: the state by logsumexp, the running state
# updated in place inside one function with einsum, keys tiled by split(), and
# the causal tile masked with a lower-triangular bool built by tril.
INLINE_EINSUM_SOLUTION = {
    "block_state": '''
def block_state(scores, values):
    lse = torch.logsumexp(scores, dim=-1)
    top = scores.max(dim=-1).values
    ok = torch.isfinite(top)
    ref = torch.where(ok, top, torch.zeros_like(top))
    l = torch.where(ok, torch.exp(lse - ref), torch.zeros_like(lse))
    acc = torch.einsum("...qk,...kd->...qd", torch.exp(scores - ref[..., None]), values)
    return top, l, acc
''',
    "merge_states": '''
def merge_states(a, b):
    (ma, la, xa), (mb, lb, xb) = a, b
    m = torch.max(ma, mb)
    m_safe = m.nan_to_num(neginf=0.0)
    wa, wb = (ma - m_safe).exp(), (mb - m_safe).exp()
    return m, wa * la + wb * lb, wa[..., None] * xa + wb[..., None] * xb
''',
    "flash_attention": '''
def flash_attention(q, k, v, block_size=64, causal=False):
    d = q.shape[-1]
    out = []
    for i, qb in enumerate(q.split(block_size, dim=-2)):
        start = i * block_size
        m = torch.full(qb.shape[:-1], -math.inf, dtype=q.dtype)
        l = torch.zeros(qb.shape[:-1], dtype=q.dtype)
        acc = torch.zeros(*qb.shape[:-1], v.shape[-1], dtype=q.dtype)
        for j, (kb, vb) in enumerate(zip(k.split(block_size, dim=-2), v.split(block_size, dim=-2))):
            kstart = j * block_size
            if causal and kstart > start + qb.shape[-2] - 1:
                break
            s = torch.einsum("...qd,...kd->...qk", qb, kb) / math.sqrt(d)
            if causal:
                qpos = torch.arange(start, start + qb.shape[-2])[:, None]
                kpos = torch.arange(kstart, kstart + kb.shape[-2])[None, :]
                s = torch.where(qpos >= kpos, s, torch.tensor(-math.inf, dtype=s.dtype))
            m_new = torch.maximum(m, s.amax(-1))
            p = torch.exp(s - m_new[..., None])
            corr = torch.exp(m - m_new)
            l = corr * l + p.sum(-1)
            acc = corr[..., None] * acc + torch.einsum("...qk,...kd->...qd", p, vb)
            m = m_new
        out.append(acc / l[..., None])
    return torch.cat(out, dim=-2)
''',
}

# Correct too: FlashAttention-1's loop order, keys and values outside, queries
# inside, with every query block's running state kept in a list between passes.
KEYS_OUTER_SOLUTION = {
    "flash_attention": '''
def flash_attention(q, k, v, block_size=64, causal=False):
    T_q, T_k = q.size(-2), k.size(-2)
    q_scaled = q / q.size(-1) ** 0.5
    starts = list(range(0, T_q, block_size))
    states = [None] * len(starts)
    for k0 in range(0, T_k, block_size):
        k1 = min(T_k, k0 + block_size)
        k_blk, v_blk = k[..., k0:k1, :], v[..., k0:k1, :]
        for n, q0 in enumerate(starts):
            q1 = min(T_q, q0 + block_size)
            if causal and k0 >= q1:
                continue            # this key block is entirely in these queries' future
            s = q_scaled[..., q0:q1, :] @ k_blk.mT
            if causal:
                future = torch.arange(k0, k1)[None, :] > torch.arange(q0, q1)[:, None]
                s = s.masked_fill(future, float("-inf"))
            new = block_state(s, v_blk)
            states[n] = new if states[n] is None else merge_states(states[n], new)
    return torch.cat([acc / l[..., None] for _, l, acc in states], dim=-2)
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"inline_einsum": INLINE_EINSUM_SOLUTION, "keys_outer": KEYS_OUTER_SOLUTION}, WRONG
)
