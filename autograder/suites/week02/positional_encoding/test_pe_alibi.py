"""Hidden tests for ``alibi_slopes`` and ``alibi_bias`` (grade cell ``test_pe_alibi``).

The reference slopes follow Press et al. (2022) and the rule published with
their code: for n heads, the largest power of two p <= n gets the geometric
sequence 2^(-8k/p), k = 1..p, and the other n - p heads get the odd terms
2^(-4(2k - 1)/p), k = 1..n - p, of the sequence for 2p heads. Biases are built
entry by entry from those slopes.
"""

import math

import torch

from autograder.judge import points
from llmcourse.testing import assert_close, check

POWERS = [1, 2, 4, 8, 16, 32]
OTHERS = [3, 5, 6, 7, 12, 20, 24, 40]


def reference_slopes(n_heads):
    p = 1 << (n_heads.bit_length() - 1)                    # largest power of two <= n_heads
    main = [2.0 ** (-8.0 * k / p) for k in range(1, p + 1)]
    extra = [2.0 ** (-4.0 * (2 * k - 1) / p) for k in range(1, n_heads - p + 1)]
    return torch.tensor(main + extra, dtype=torch.float64)


def reference_bias(n_heads, seq_len):
    slopes = reference_slopes(n_heads).tolist()
    out = torch.zeros(n_heads, seq_len, seq_len, dtype=torch.float64)
    for h, m in enumerate(slopes):
        for i in range(seq_len):
            for j in range(i + 1):
                out[h, i, j] = -m * (i - j)
    return out


def slopes_of(submission, n_heads):
    got = submission.alibi_slopes(n_heads)
    check(
        tuple(got.shape) == (n_heads,),
        f"alibi_slopes({n_heads}) has shape {tuple(got.shape)}, expected a 1-D tensor of length {n_heads}",
    )
    return got


@points(1)
def test_alibi_slopes_power_of_two(submission):
    """For a power-of-two head count n the slopes are the geometric sequence that starts at 2^(-8/n) with that ratio."""
    for n in POWERS:
        got = slopes_of(submission, n)
        start = 2.0 ** (-8.0 / n)
        assert_close(got[0], torch.tensor(start, dtype=torch.float64), f"the first slope for {n} heads")
        if n > 1:
            assert_close(got[1:] / got[:-1], torch.full((n - 1,), start, dtype=torch.float64),
                         f"the ratio of consecutive slopes for {n} heads")
        assert_close(got[-1], torch.tensor(2.0 ** -8, dtype=torch.float64), f"the last slope for {n} heads")


@points(1)
def test_alibi_slopes_other_head_counts(submission):
    """For other head counts the slopes follow the ALiBi rule: the largest power of two, then every other slope of twice that."""
    for n in OTHERS:
        got = slopes_of(submission, n)
        assert_close(got, reference_slopes(n), f"the slopes for {n} heads")
        check(len(set(got.tolist())) == n, f"the {n} slopes for {n} heads are not all different")


@points(1)
def test_alibi_bias_entries(submission):
    """alibi_bias(n_heads, T) is (n_heads, T, T) with -slope * (i - j) for keys j <= i and 0 above the diagonal."""
    for n_heads, seq_len in [(8, 6), (12, 9), (1, 1), (3, 4), (16, 5)]:
        got = submission.alibi_bias(n_heads, seq_len)
        check(
            tuple(got.shape) == (n_heads, seq_len, seq_len),
            f"alibi_bias({n_heads}, {seq_len}) has shape {tuple(got.shape)}",
        )
        check(got.dtype.is_floating_point, f"alibi_bias returned dtype {got.dtype}, expected a float tensor")
        assert_close(got, reference_bias(n_heads, seq_len), f"the biases for {n_heads} heads and {seq_len} positions")


@points(1)
def test_alibi_bias_is_a_distance_penalty(submission):
    """The bias is never positive, depends only on the distance i - j, grows linearly with it, and a longer sequence only adds rows and columns."""
    n_heads, long_len = 6, 40
    long = submission.alibi_bias(n_heads, long_len)
    check(bool((long <= 0).all()), "some ALiBi bias is positive: biases must penalise distance, not reward it")
    step = long[:, 1, 0]                                          # the bias one position back, per head
    check(bool((step < 0).all()), "one position back must already cost something in every head")
    for distance in (1, 5, 39):
        diagonal = long.diagonal(offset=-distance, dim1=1, dim2=2)    # entries with i - j == distance
        assert_close(diagonal, (distance * step)[:, None].expand_as(diagonal),
                     f"the biases at distance {distance} (distance times the bias at distance 1)")
    for short_len in (1, 7, 25):
        assert_close(submission.alibi_bias(n_heads, short_len), long[:, :short_len, :short_len],
                     f"alibi_bias for {short_len} positions compared with the top-left corner of a longer one")
    weights = torch.softmax(long.masked_fill(torch.ones(long_len, long_len, dtype=torch.bool).triu(1), -math.inf), -1)
    last = weights[:, -1]                                          # the last query, equal content scores
    assert_close(last[:, :-1] / last[:, 1:], torch.exp(step)[:, None].expand(n_heads, long_len - 1),
                 "the attention of the last query: each step back should scale its weight by exp(-slope)")
