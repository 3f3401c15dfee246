"""Hidden tests for ``MinHasher`` and ``estimate_jaccard`` (grade cell ``test_dedup_minhash``).

Inputs are lists of distinct tokens with a known Jaccard similarity. The
learner's hash functions are their own, so signatures are checked by their
properties: shape, dtype, determinism (also in a second Python interpreter,
where the built-in ``hash`` of a string is salted differently), and the
statistics of the estimates, whose positions agree with probability J.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_dedup_reference.py")


@points(1)
def test_dedup_signature_shape_and_determinism(submission):
    """A signature is an int64 array of num_perm entries that depends only on the set, num_perm and seed, and is all EMPTY_SLOT for an empty set."""
    tokens = [f"tok{i}" for i in range(60)]
    for num_perm, seed in ((16, 0), (128, 3), (200, 11)):
        sig = submission.MinHasher(num_perm, seed).signature(tokens)
        check(isinstance(sig, np.ndarray), f"signature must return a numpy array, got a {type(sig).__name__}")
        check(sig.shape == (num_perm,), f"a signature with num_perm={num_perm} has shape {sig.shape}")
        check(sig.dtype == np.int64, f"signatures must have dtype int64, got {sig.dtype}")
        again = submission.MinHasher(num_perm, seed).signature(list(reversed(tokens)) + tokens[:5])
        check(np.array_equal(sig, again),
              f"a new MinHasher({num_perm}, {seed}) gives another signature for the same set (items reordered and repeated)")
        check(len(np.unique(sig)) > num_perm // 2,
              f"most entries of a signature of 60 shingles should differ (num_perm={num_perm}): each position needs its own hash function")
    other = submission.MinHasher(128, 4).signature(tokens)
    check(not np.array_equal(other, submission.MinHasher(128, 3).signature(tokens)), "another seed must give another signature")
    empty = submission.MinHasher(64, 0).signature([])
    check(isinstance(empty, np.ndarray) and empty.shape == (64,) and (empty == ref.EMPTY_SLOT).all(),
          "the signature of an empty set must be num_perm copies of EMPTY_SLOT")


@points(1)
def test_dedup_signature_same_in_another_process(submission):
    """Signatures are the same when computed in another Python process (a stable hash, not the salted built-in hash())."""
    docs = [[f"doc{d} shingle {i}" for i in range(40 + 7 * d)] for d in range(4)]
    here = submission.MinHasher(64, 9)
    mine = [here.signature(items) for items in docs]
    there = ref.signatures_in_new_process(submission, docs, 64, 9)
    for d, (a, b) in enumerate(zip(mine, there)):
        check(np.array_equal(a, np.asarray(b, dtype=np.int64)),
              f"document {d}'s signature differs between two Python processes: is a salted hash in your base hash?")


@points(1)
def test_dedup_estimate_counts_positions(submission):
    """estimate_jaccard is the fraction of positions at which the two signatures hold equal values, and 1.0 for two empty sets."""
    gen = np.random.default_rng(21)
    for trial in range(12):
        length = int(gen.integers(8, 130))
        a = gen.integers(0, 6, size=length, dtype=np.int64)  # few distinct values: positions matter, not values
        b = np.where(gen.random(length) < gen.random(), a, gen.integers(0, 6, size=length, dtype=np.int64))
        got = submission.estimate_jaccard(a, b)
        check(isinstance(got, float), f"estimate_jaccard must return a float, got a {type(got).__name__}")
        check(abs(got - float(np.mean(a == b))) < 1e-12,
              f"estimate_jaccard is not the fraction of agreeing positions (trial {trial}, {length} positions)")
    hasher = submission.MinHasher(32, 1)
    check(submission.estimate_jaccard(hasher.signature([]), hasher.signature([])) == 1.0,
          "two empty sets must have an estimated similarity of 1.0, like their exact one")
    check(submission.estimate_jaccard(hasher.signature([]), hasher.signature(["a", "b"])) == 0.0,
          "an empty set against a non-empty one must have an estimated similarity of 0.0")


@points(2)
def test_dedup_estimates_track_exact_jaccard(submission):
    """On 150 pairs of known Jaccard similarity, the estimates are unbiased and each lies within the binomial error sqrt(J(1-J)/num_perm) allows."""
    from datasketch import MinHash

    z_theirs, z_reference = [], []
    for num_perm, seed, n_pairs in ((128, 5, 100), (64, 6, 50)):
        hasher = submission.MinHasher(num_perm, seed)
        for p, (left, right, exact) in enumerate(ref.controlled_pairs(100 + seed, n_pairs)):
            estimate = submission.estimate_jaccard(hasher.signature(left), hasher.signature(right))
            agree = int(round(estimate * num_perm))
            check(ref.plausible(agree, num_perm, exact),
                  f"pair {p} (num_perm={num_perm}): the estimate is {abs(estimate - exact) / np.sqrt(exact * (1 - exact) / num_perm):.1f} "
                  f"standard deviations from the exact similarity, far outside the binomial error")
            z_theirs.append((estimate - exact) / np.sqrt(exact * (1 - exact) / num_perm))
            one, two = MinHash(num_perm, seed=seed), MinHash(num_perm, seed=seed)
            one.update_batch([t.encode() for t in left])
            two.update_batch([t.encode() for t in right])
            z_reference.append((one.jaccard(two) - exact) / np.sqrt(exact * (1 - exact) / num_perm))
    z_theirs, z_reference = np.array(z_theirs), np.array(z_reference)
    note = (f"(your errors: mean {z_theirs.mean():+.2f}, root mean square {np.sqrt(np.mean(z_theirs ** 2)):.2f} "
            f"standard deviations; datasketch's MinHash on the same pairs: mean {z_reference.mean():+.2f}, "
            f"root mean square {np.sqrt(np.mean(z_reference ** 2)):.2f})")
    check(abs(z_theirs.mean()) < 0.5, f"the estimates are biased {note}")
    check(np.sqrt(np.mean(z_theirs ** 2)) < 1.5, f"the estimates scatter more than the binomial error allows {note}")
