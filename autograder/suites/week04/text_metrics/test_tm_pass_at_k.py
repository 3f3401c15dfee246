"""Hidden tests for ``pass_at_k`` (grade cell ``test_tm_pass_at_k``).

Reference: an exhaustive count over every k-subset of n samples (small n) and
the exact fraction 1 - C(n-c, k) / C(n, k) (large n).
"""

import itertools
import math
from fractions import Fraction

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_textmetrics_reference.py")


def brute_force(n, c, k):
    """Share of the k-subsets of n samples (the first c correct) that hold a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


def exact(n, c, k):
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


@points(1)
def test_pass_at_k_matches_brute_force(submission):
    """pass@k equals the share of all k-subsets of the n samples that contain a correct one, for every c and k up to n = 9."""
    cases = [(n, c, k) for n in range(1, 10) for c in range(n + 1) for k in range(1, n + 1)]
    ref.compare([submission.pass_at_k(n, c, k) for n, c, k in cases], [brute_force(*x) for x in cases],
                "pass@k for every n <= 9, c <= n, k <= n (in that order)")


@points(1)
def test_pass_at_k_edge_cases(submission):
    """No correct sample gives 0.0, fewer than k failures gives exactly 1.0, and k = 1 gives c / n."""
    p = submission.pass_at_k
    ref.compare([p(n, 0, k) for n, k in [(1, 1), (20, 5), (200, 200)]], [0.0] * 3, "pass@k with no correct sample")
    for n, c, k in [(10, 8, 3), (5, 5, 1), (200, 150, 51), (7, 1, 7), (1, 1, 1)]:
        value = ref.numbers([p(n, c, k)], "pass@k")[0]
        check(value == 1.0, f"pass@{k} with n={n}, c={c} must be exactly 1.0: every draw of k contains a correct sample")
    ref.compare([p(n, c, 1) for n, c in [(10, 3), (200, 17), (1000, 1)]], [0.3, 17 / 200, 1 / 1000], "pass@1")


@points(1)
def test_pass_at_k_large_n(submission):
    """pass@k stays exact for n up to 1000, and never falls as k or c grows."""
    cases = [(200, 13, 100), (200, 1, 10), (200, 3, 150), (1000, 7, 500), (1000, 400, 100), (1000, 1, 999), (500, 250, 10)]
    ref.compare([submission.pass_at_k(*x) for x in cases], [exact(*x) for x in cases], "pass@k with n from 200 to 1000")
    by_k = ref.numbers([submission.pass_at_k(100, 5, k) for k in range(1, 101, 3)], "pass@k")
    check(all(a <= b for a, b in zip(by_k, by_k[1:])), "pass@k fell when k grew")
    by_c = ref.numbers([submission.pass_at_k(100, c, 10) for c in range(0, 101, 4)], "pass@k")
    check(all(a <= b for a, b in zip(by_c, by_c[1:])), "pass@k fell when c grew")
