"""Hidden tests for ``lsh_candidates`` (grade cell ``test_dedup_lsh``).

Small cases are compared with a brute-force band comparison of every pair.
The S-curve test builds pairs of signatures whose positions agree
independently with probability s, for which a pair becomes a candidate with
probability exactly 1 - (1 - s**r)**b.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_dedup_reference.py")


def clustered_signatures(seed: int, length: int) -> np.ndarray:
    """Copies, signatures sharing one or two slices with another, and unrelated ones."""
    gen = np.random.default_rng(seed)
    sigs = list(gen.integers(0, 1 << 40, size=(6, length), dtype=np.int64))
    sigs += [sigs[0].copy(), sigs[2].copy(), sigs[0].copy()]  # identical documents
    for source in (1, 3, 3):
        twin = gen.integers(0, 1 << 40, size=length, dtype=np.int64)
        start = int(gen.integers(0, length - 3))
        twin[start:start + 3] = sigs[source][start:start + 3]
        sigs.append(twin)
    order = gen.permutation(len(sigs))
    return np.stack([sigs[int(i)] for i in order])


@points(1)
def test_dedup_lsh_pairs_are_ordered_and_unique(submission):
    """Candidate pairs come back as a sorted list of (i, j) with i < j, each once, and identical signatures always collide, for every choice of bands and rows."""
    for seed, (bands, rows) in enumerate(((4, 6), (8, 3), (24, 1), (1, 24), (2, 12), (3, 8))):
        sigs = clustered_signatures(seed, 24)
        given = sigs if seed % 2 else list(sigs)
        got = submission.lsh_candidates(given, bands, rows)
        what = f"lsh_candidates with {bands} bands of {rows} rows"
        ref.check_pair_list(got, what)
        want = ref.reference_banding(sigs, bands, rows)
        identical = {(i, j) for i, j in want if np.array_equal(sigs[i], sigs[j])}
        check(identical <= {tuple(p) for p in got}, f"{what} misses a pair of identical signatures")
        check([tuple(p) for p in got] == want, f"{what} does not return exactly the pairs that share a band")


@points(1)
def test_dedup_lsh_rejects_wrong_band_shape(submission):
    """lsh_candidates raises ValueError when bands * rows differs from the signature length."""
    sigs = list(clustered_signatures(7, 24))
    for bands, rows in ((5, 4), (4, 5), (2, 11), (6, 5)):
        ref.expect_value_error(lambda: submission.lsh_candidates(sigs, bands, rows),
                               f"signatures of length 24 with {bands} bands of {rows} rows")


@points(2)
def test_dedup_lsh_follows_the_s_curve(submission):
    """The fraction of pairs that become candidates matches the S-curve 1 - (1 - s^r)^b for several agreement rates s and band shapes."""
    n_pairs = 150
    for bands, rows in ((16, 8), (32, 4)):
        for k, agree in enumerate((0.3, 0.5, 0.7, 0.85)):
            sigs = ref.agreeing_signatures(1000 * bands + k, n_pairs, bands * rows, agree)
            got = submission.lsh_candidates(list(sigs), bands, rows)
            pairs = {tuple(p) for p in got}
            unrelated = [p for p in pairs if not (p[0] % 2 == 0 and p[1] == p[0] + 1)]
            check(not unrelated, f"{len(unrelated)} candidate pairs share no band ({bands} bands of {rows} rows)")
            hits = sum((2 * p, 2 * p + 1) in pairs for p in range(n_pairs))
            expected = 1 - (1 - agree**rows) ** bands
            check(ref.plausible(hits, n_pairs, expected),
                  f"with {bands} bands of {rows} rows and per-position agreement {agree}, {hits / n_pairs:.2f} of the "
                  f"pairs became candidates, far from the S-curve's {expected:.2f}")
