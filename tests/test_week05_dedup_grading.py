"""The week05/dedup exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub). The last test checks the hidden suite's statistical bounds
against the datasketch library, so that the established implementation would
pass them too.
"""

import importlib.util

import numpy as np

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/dedup")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "python_builtin_hash": (
        # hash() of a str is salted per interpreter: fine inside one notebook, different elsewhere
        edited(SOLUTION, "minhash", (
            'int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") % self.prime',
            "hash(s) % self.prime",
        )),
        {"test_dedup_signature_same_in_another_process"},
    ),
    "one_hash_function_for_every_position": (
        # one (a, b) drawn and repeated: every position of a signature holds the same minimum
        edited(SOLUTION, "minhash", (
            "self.a = coefficient_stream.integers(1, self.prime, size=(num_perm, 1), dtype=np.int64)",
            "self.a = np.full((num_perm, 1), coefficient_stream.integers(1, self.prime), dtype=np.int64)",
        ), (
            "self.b = coefficient_stream.integers(0, self.prime, size=(num_perm, 1), dtype=np.int64)",
            "self.b = np.full((num_perm, 1), coefficient_stream.integers(0, self.prime), dtype=np.int64)",
        )),
        {"test_dedup_signature_shape_and_determinism", "test_dedup_estimates_track_exact_jaccard"},
    ),
    "estimate_over_sets_of_values": (
        # Jaccard of the signatures' value sets instead of the fraction of agreeing positions
        edited(SOLUTION, "minhash", (
            "return float(np.mean(np.asarray(sig_a) == np.asarray(sig_b)))",
            "return jaccard(np.asarray(sig_a).tolist(), np.asarray(sig_b).tolist())",
        )),
        {"test_dedup_estimate_counts_positions", "test_dedup_estimates_track_exact_jaccard"},
    ),
    "bands_compare_the_whole_signature": (
        # every band's bucket key is the whole signature: only identical signatures collide
        edited(SOLUTION, "lsh", (
            "buckets[sig[band * rows:(band + 1) * rows].tobytes()]",
            "buckets[sig.tobytes()]",
        )),
        {
            "test_dedup_lsh_pairs_are_ordered_and_unique",
            "test_dedup_lsh_follows_the_s_curve",
            "test_dedup_near_duplicates_recall_and_precision",
        },
    ),
    "word_shingles_without_normalisation": (
        # word k-grams of the raw text, where the spec asks for characters of the normalised text
        edited(SOLUTION, "shingling", (
            '''    clean = " ".join(text.lower().split())  # split() with no argument splits on any whitespace run
    if len(clean) < k:
        return {clean} if clean else set()
    return {clean[start:start + k] for start in range(len(clean) - k + 1)}''',
            '''    words = text.split(" ")
    return {" ".join(words[start:start + k]) for start in range(max(len(words) - k + 1, 1))}''',
        )),
        {"test_dedup_shingles_are_normalised_character_kgrams"},
    ),
    "pairs_in_both_orders": (
        # permutations instead of combinations: (i, j) and (j, i) for every colliding pair
        edited(SOLUTION, "lsh", ("itertools.combinations(members, 2)", "itertools.permutations(members, 2)")),
        {
            "test_dedup_lsh_pairs_are_ordered_and_unique",
            "test_dedup_near_duplicates_recall_and_precision",
            "test_dedup_near_duplicates_edge_cases",
        },
    ),
}

# Correct, written differently: shingles by regular expression, Jaccard by inclusion-exclusion,
# hash functions that XOR a per-position key into a 64-bit base hash and mix it with the
# splitmix64 finaliser (wrapping uint64 arithmetic, no prime at all), positions counted with
# count_nonzero, bands keyed by (band, tuple of values) in one table, and a pipeline that
# verifies candidates with its own set arithmetic.
XOR_MIXER = {
    "shingling": '''
def shingles(text, k=5):
    flat = re.sub(r"\\s+", " ", text).strip().lower()
    if not flat:
        return set()
    return set(flat[i:i + k] for i in range(max(1, len(flat) - k + 1)))


def jaccard(a, b):
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    common = sum(1 for item in a if item in b)
    return common / (len(a) + len(b) - common)
''',
    "minhash": '''
class MinHasher:
    def __init__(self, num_perm=128, seed=0):
        self.num_perm = num_perm
        keys = np.random.default_rng([seed, 12345]).integers(0, 2**63, size=num_perm, dtype=np.int64)
        self.keys = keys.astype(np.uint64)[:, None]

    @staticmethod
    def _mix(z):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    def signature(self, shingle_set):
        items = sorted(set(shingle_set))
        if not items:
            return np.full(self.num_perm, EMPTY_SLOT, dtype=np.int64)
        base = np.array([int(hashlib.md5(s.encode()).hexdigest()[:16], 16) for s in items], dtype=np.uint64)
        mixed = self._mix(base[None, :] ^ self.keys) >> np.uint64(1)  # 63 bits: below EMPTY_SLOT
        return mixed.min(axis=1).astype(np.int64)


def estimate_jaccard(sig_a, sig_b):
    sig_a, sig_b = np.asarray(sig_a), np.asarray(sig_b)
    return np.count_nonzero(sig_a == sig_b) / sig_a.size
''',
    "lsh": '''
def lsh_candidates(signatures, bands, rows):
    table = defaultdict(set)
    for doc, sig in enumerate(signatures):
        values = np.asarray(sig).tolist()
        if len(values) != bands * rows:
            raise ValueError("signature length must be bands * rows")
        for band in range(bands):
            table[band, tuple(values[band * rows:band * rows + rows])].add(doc)
    pairs = set()
    for docs in table.values():
        ordered = sorted(docs)
        for x in range(len(ordered)):
            for y in range(x + 1, len(ordered)):
                pairs.add((ordered[x], ordered[y]))
    return sorted(pairs)
''',
    "near_dup": '''
def near_duplicates(texts, threshold=0.8, k=5, num_perm=128, bands=32, seed=0):
    rows, rest = divmod(num_perm, bands)
    if rest:
        raise ValueError("bands must divide num_perm")
    docs = {i: shingles(t, k) for i, t in enumerate(texts)}
    docs = {i: s for i, s in docs.items() if s}
    ids = sorted(docs)
    hasher = MinHasher(num_perm, seed)
    found = lsh_candidates(np.stack([hasher.signature(docs[i]) for i in ids]), bands, rows) if ids else []
    result = []
    for x, y in found:
        a, b = docs[ids[x]], docs[ids[y]]
        if len(a & b) >= threshold * len(a | b):
            result.append((ids[x], ids[y]))
    return result
''',
}

# Correct too: a 61-bit Mersenne prime with Python integers (exact modular arithmetic, no
# overflow to think about) and crc32 as the base hash, one list of minima built per shingle.
PYTHON_INTEGERS = {
    "minhash": '''
class MinHasher:
    PRIME = (1 << 61) - 1

    def __init__(self, num_perm=128, seed=0):
        import random
        draw = random.Random(seed)
        self.params = [(draw.randrange(1, self.PRIME), draw.randrange(self.PRIME)) for _ in range(num_perm)]

    def signature(self, shingle_set):
        lows = [int(EMPTY_SLOT)] * len(self.params)
        for s in set(shingle_set):
            x = zlib.crc32(s.encode("utf-8"))
            lows = [min(low, (a * x + b) % self.PRIME) for low, (a, b) in zip(lows, self.params)]
        return np.array(lows, dtype=np.int64)


def estimate_jaccard(sig_a, sig_b):
    same = [int(x) == int(y) for x, y in zip(sig_a, sig_b)]
    return sum(same) / len(same)
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"xor_mixer": XOR_MIXER, "python_integers": PYTHON_INTEGERS}, WRONG
)


def _reference_helper():
    path = EXERCISE.suite_dir / "_dedup_reference.py"
    spec = importlib.util.spec_from_file_location("dedup_reference_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_datasketch_meets_the_hidden_suites_error_bounds():
    """The bounds of test_dedup_estimates_track_exact_jaccard hold for datasketch's MinHash on the same pairs."""
    from datasketch import MinHash

    ref = _reference_helper()
    z = []
    for num_perm, seed, n_pairs in ((128, 5, 100), (64, 6, 50)):
        for left, right, exact in ref.controlled_pairs(100 + seed, n_pairs):
            one, two = MinHash(num_perm, seed=seed), MinHash(num_perm, seed=seed)
            one.update_batch([t.encode() for t in left])
            two.update_batch([t.encode() for t in right])
            estimate = one.jaccard(two)
            assert ref.plausible(int(round(estimate * num_perm)), num_perm, exact)
            z.append((estimate - exact) / np.sqrt(exact * (1 - exact) / num_perm))
    z = np.array(z)
    assert abs(z.mean()) < 0.5 and np.sqrt(np.mean(z**2)) < 1.5
