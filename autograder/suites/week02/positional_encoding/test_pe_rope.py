"""Hidden tests for ``apply_rope`` (grade cell ``test_pe_rope``).

The reference rotates each half-split pair (x[j], x[j + d/2]) by treating it
as the complex number x[j] + i x[j + d/2] and multiplying it by
exp(i * position * base^(-2j/d)), all in float64 (torch.polar), which is a
different computation from the cos/sin formula a learner writes. float32
comparisons keep positions small (at most 11) so that a learner who computes
the angles in float32 stays inside the float32 tolerance; long positions are
tested in float64, where the exercise asks for float64 angles.
"""

import torch

from autograder.judge import learner_raised, points
from llmcourse.testing import assert_close, check


def reference_rope(x, positions=None, base=10000.0):
    """Half-split RoPE of ``x`` (..., T, d) via complex multiplication, returned in float64."""
    x = x.to(torch.float64)
    d = x.shape[-1]
    if positions is None:
        positions = torch.arange(x.shape[-2])
    freqs = base ** (-2.0 * torch.arange(d // 2, dtype=torch.float64) / d)
    turn = torch.polar(torch.ones(1, dtype=torch.float64), positions.to(torch.float64)[..., None] * freqs)
    pairs = torch.complex(x[..., : d // 2], x[..., d // 2 :]) * turn
    return torch.cat([pairs.real, pairs.imag], dim=-1)


def sample(seed, shape, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@points(1)
def test_rope_keeps_shape_and_position_zero(submission):
    """apply_rope keeps the shape and dtype of its input and leaves vectors at position 0 unchanged."""
    for seed, (shape, dtype) in enumerate([((5, 8), torch.float32), ((2, 7, 4), torch.float64),
                                           ((2, 3, 6, 16), torch.float32), ((1, 1, 2), torch.float64)]):
        x = sample(400 + seed, shape, dtype)
        out = submission.apply_rope(x)
        check(tuple(out.shape) == shape, f"apply_rope of a {shape} tensor returned shape {tuple(out.shape)}")
        check(out.dtype == dtype, f"apply_rope of a {dtype} tensor returned {out.dtype}")
        assert_close(out[..., 0, :], x[..., 0, :], f"the vectors at position 0 of a {shape} tensor")
        zeros = torch.zeros(shape[-2], dtype=torch.long)
        assert_close(submission.apply_rope(x, zeros), x, f"a {shape} tensor with every position set to 0")


@points(1)
def test_rope_rejects_odd_width(submission):
    """apply_rope raises ValueError when the feature size d is odd."""
    for shape in ((3, 5), (2, 4, 7)):
        check(learner_raised("ValueError", submission.apply_rope, torch.zeros(shape)),
              f"apply_rope accepted a tensor of shape {shape}, whose feature size is odd")


@points(1)
def test_rope_preserves_norms(submission):
    """Rotations keep lengths: every rotated vector has the norm of the original, even at large positions."""
    x = sample(410, (2, 4, 9, 32), torch.float64) * 3.0
    positions = torch.tensor([0, 1, 2, 17, 100, 511, 1000, 1999, 2000])
    for base in (10000.0, 500.0):
        out = submission.apply_rope(x, positions, base)
        assert_close(out.norm(dim=-1), x.norm(dim=-1), f"the norms of the rotated vectors (base {base:g})")


@points(1)
def test_rope_scores_depend_on_offset_only(submission):
    """The score between the query rotated to position m and the key rotated to n depends only on m - n."""
    d, n_pos = 32, 48
    for seed, base in ((420, 10000.0), (421, 100.0)):
        q, k = sample(seed, (2, d), torch.float64)
        positions = torch.arange(n_pos) + 7
        q_rot = submission.apply_rope(q.expand(n_pos, d).clone(), positions, base)
        k_rot = submission.apply_rope(k.expand(n_pos, d).clone(), positions, base)
        scores = q_rot @ k_rot.T                                  # scores[m, n], query at m, key at n
        for offset in (-30, -3, 0, 1, 2, 20, 47):
            same_offset = scores.diagonal(offset=-offset)          # entries with m - n == offset
            assert_close(same_offset, same_offset[0].expand_as(same_offset),
                         f"the scores with m - n = {offset} at different absolute positions (base {base:g})")
        along = scores.diagonal(offset=-1)[0], scores.diagonal(offset=-9)[0], scores.diagonal(offset=0)[0]
        check(len({round(float(s), 6) for s in along}) == 3,
              "the score does not change with the offset between query and key: positions have no effect")


@points(2)
def test_rope_matches_half_split_reference(submission):
    """The rotation is RoPE in the half-split convention: pair (x[j], x[j + d/2]) turns by position * base^(-2j/d)."""
    cases = [((6, 2), 10000.0), ((3, 10, 8), 10000.0), ((2, 4, 12, 64), 10000.0),
             ((2, 5, 16), 500.0), ((1, 2, 7, 24), 1e6)]
    for seed, (shape, base) in enumerate(cases):
        x = sample(430 + seed, shape)
        out = submission.apply_rope(x) if base == 10000.0 else submission.apply_rope(x, base=base)
        assert_close(out, reference_rope(x, base=base), f"RoPE of a {shape} float32 tensor with base {base:g}")
    x = sample(439, (2, 3, 40, 16), torch.float64)
    positions = torch.arange(40) * 50
    assert_close(submission.apply_rope(x, positions), reference_rope(x, positions),
                 "RoPE of a float64 tensor at positions up to 1950")


@points(1)
def test_rope_explicit_positions(submission):
    """Explicit positions work as with a KV cache: rotating the last tokens at their true positions equals slicing the full result."""
    x = sample(440, (2, 3, 12, 8))
    full = submission.apply_rope(x)
    for start in (1, 5, 11):
        tail = submission.apply_rope(x[..., start:, :], torch.arange(start, 12))
        assert_close(tail, full[..., start:, :], f"the tokens from position {start} on, rotated with explicit positions")
    per_sequence = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2]])
    both = submission.apply_rope(x, per_sequence[:, None, :])     # (B, 1, T) broadcast over the heads
    for b in range(2):
        assert_close(both[b], reference_rope(x[b], per_sequence[b]), f"sequence {b} with its own (B, 1, T) positions")


@points(1)
def test_rope_gradients(submission):
    """The gradient with respect to x is the upstream gradient rotated back (the transpose of a rotation)."""
    x = sample(450, (2, 3, 9, 16), torch.float64).requires_grad_(True)
    g = sample(451, (2, 3, 9, 16), torch.float64)
    positions = torch.arange(9) * 3 + 4
    (grad_x,) = submission.vjp(submission.apply_rope, (x, positions), g)
    check(grad_x is not None, "the output of apply_rope does not depend on x")
    assert_close(grad_x, reference_rope(g, -positions), "the gradient of apply_rope with respect to x")
