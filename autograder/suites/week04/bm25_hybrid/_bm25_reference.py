"""The judge's data and references for the hidden tests of week04/bm25_hybrid.

Data comes from fixed seeds here, never from the notebook. BM25's reference
is the rank_bm25 package itself (``BM25Okapi.get_scores``); the fusions and
MMR have no established package, so their references are their definitions
written out directly (per document, over positions), and the MMR tests check
each pick against the objective rather than one particular implementation.
"""

import numpy as np
import torch
from rank_bm25 import BM25Okapi

from llmcourse.testing import assert_close, check, tolerance

RTOL, ATOL = tolerance(torch.float64)  # the course's float64 policy, also for "equal" fused scores


def near(a, b):
    """a and b are equal within the float64 policy (summation order moves the last bits)."""
    return abs(a - b) <= ATOL + RTOL * abs(b)


# ----------------------------------------------------------------------------- BM25 data

def vocabulary(size):
    return [f"w{i:02d}" for i in range(size)]


def random_corpus(seed, n_docs=40, vocab=30, max_len=80, empty=True):
    """Documents drawn from a Zipf-like vocabulary, lengths from 0 (or 1) to max_len, one very long.

    The few most frequent terms end up in more than half the documents, so
    their raw idf is negative and the floor is exercised.
    """
    gen = np.random.default_rng(seed)
    words = vocabulary(vocab)
    p = 1.0 / np.arange(1, vocab + 1) ** 1.1
    p /= p.sum()
    lengths = gen.integers(0 if empty else 1, max_len + 1, size=n_docs)
    lengths[gen.integers(n_docs)] = max_len * 6          # one document far longer than the rest
    if empty:
        lengths[gen.integers(n_docs)] = 0                # an empty document still counts in N and avgdl
    corpus = [[str(w) for w in gen.choice(words, size=int(n), p=p)] for n in lengths]
    return corpus


def random_queries(seed, vocab=30, n=12):
    """Queries of 1 to 6 tokens: common and rare terms, repeats, and tokens no document has."""
    gen = np.random.default_rng(seed)
    words = vocabulary(vocab) + ["unseen", "zzz"]
    out = []
    for _ in range(n):
        q = [str(w) for w in gen.choice(words, size=int(gen.integers(1, 7)))]
        out.append(q)
    out += [["w00", "w00", "w05"], ["w01"], ["unseen"], [], ["w03", "w07", "w03", "w03"]]
    return out


def bm25_reference(corpus, **params):
    return BM25Okapi(corpus, **params)


def floats(values, what):
    """The learner's scores as a 1-D float64 array, or a learner-facing failure."""
    arr = np.asarray(values)
    check(arr.ndim == 1, f"{what} should be a flat list or 1-D array of floats, got shape {arr.shape}")
    check(arr.dtype.kind in "fiu", f"{what} should hold numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def compare_bm25(index, reference, queries, what):
    """index.scores equals rank_bm25's get_scores for every query (float64 tolerance policy)."""
    for n, query in enumerate(queries):
        got = floats(index.scores(query), f"scores() {what}")
        want = reference.get_scores(query)
        check(got.shape == want.shape, f"scores() {what} returned {got.shape[0]} scores for {want.shape[0]} documents")
        assert_close(got, want, f"BM25 scores {what} (query {n + 1} of {len(queries)})")


# ----------------------------------------------------------------------------- result lists

def pairs(result, what):
    """[(id, score), ...] from the learner's list of pairs, or a learner-facing failure."""
    check(isinstance(result, (list, tuple)), f"{what} should return a list of (id, score) pairs, got {type(result).__name__}")
    out = []
    for item in result:
        check(isinstance(item, (list, tuple)) and len(item) == 2, f"{what} should return (id, score) pairs")
        doc, score = item
        check(isinstance(score, (int, float)) and not isinstance(score, bool), f"{what}: a score should be a float, got {type(score).__name__}")
        out.append((doc, float(score)))
    return out


def random_result_lists(seed, n_lists=3, pool=40, max_len=25, with_empty=False):
    """Result lists over one id pool: different lengths, overlapping ids, scores on different scales."""
    gen = np.random.default_rng(seed)
    ids = [f"doc-{i:02d}" for i in range(pool)]
    lists = []
    for j in range(n_lists):
        size = int(gen.integers(1, max_len + 1))
        chosen = gen.choice(ids, size=size, replace=False)
        scale = [20.0, 1.0, 0.01, 300.0][j % 4]
        shift = [0.0, -0.5, 3.0, -100.0][j % 4]
        scores = np.sort(gen.random(size))[::-1] * scale + shift
        lists.append([(str(d), float(s)) for d, s in zip(chosen, scores)])
    if with_empty:
        lists.insert(1, [])
    return lists


def first_appearance(lists):
    """Each id's position in the order ids first appear, reading the lists one after another."""
    order = {}
    for lst in lists:
        for doc, _ in lst:
            order.setdefault(doc, len(order))
    return order


def rrf_definition(lists, k):
    """{id: sum over the lists holding it of 1 / (k + 1-based position)}."""
    out = {}
    for doc in first_appearance(lists):
        out[doc] = sum(1.0 / (k + [d for d, _ in lst].index(doc) + 1) for lst in lists if doc in {d for d, _ in lst})
    return out


def minmax_definition(lists, weights):
    """{id: sum over the lists holding it of weight * (s - min) / (max - min), 1.0 for a constant list}."""
    out = {doc: 0.0 for doc in first_appearance(lists)}
    for lst, w in zip(lists, weights):
        if not lst:
            continue
        values = np.array([s for _, s in lst])
        span = values.max() - values.min()
        for doc, s in lst:
            out[doc] += w * ((s - values.min()) / span if span > 0 else 1.0)
    return out


def check_fusion(got, expected, lists, what):
    """The learner's fused pairs hold every id once, with the expected scores, in the defined order."""
    got = pairs(got, what)
    ids = [d for d, _ in got]
    check(len(ids) == len(set(ids)), f"{what} lists an id more than once")
    check(set(ids) == set(expected), f"{what} should hold every id of every list, and nothing else "
          f"({len(set(expected) - set(ids))} missing, {len(set(ids) - set(expected))} extra)")
    assert_close(np.array([s for _, s in got]), np.array([expected[d] for d in ids]), f"{what}'s fused scores")
    first = first_appearance(lists)
    for (a, _), (b, _) in zip(got, got[1:]):
        if near(expected[a], expected[b]):
            check(first[a] < first[b], f"{what}: equal fused scores must keep the order of first appearance")
        else:
            check(expected[a] > expected[b], f"{what} is not ordered from the highest fused score down")


# ----------------------------------------------------------------------------- MMR

def unit_rows(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def random_vectors(seed, n=40, dim=16):
    """A query and n documents of varied lengths (cosine must not depend on them)."""
    gen = np.random.default_rng(seed)
    query = gen.normal(size=dim)
    docs = gen.normal(size=(n, dim)) + 0.6 * query               # most documents lean towards the query
    docs *= np.exp(gen.normal(scale=0.8, size=(n, 1)))
    return query * 3.0, docs


def indices(result, n, what):
    """The learner's picks as a list of ints in range, or a learner-facing failure."""
    check(isinstance(result, (list, tuple, np.ndarray)), f"{what} should return a list of indices")
    out = []
    for i in list(result):
        check(isinstance(i, (int, np.integer)) and not isinstance(i, bool), f"{what} should return integer indices, got {type(i).__name__}")
        check(0 <= int(i) < n, f"{what} returned an index outside the documents")
        out.append(int(i))
    return out


def check_greedy_mmr(picks, query, docs, lam, k, what):
    """Each pick is new and maximises lambda * sim(q, d) - (1 - lambda) * max_s sim(d, s) given the earlier picks."""
    d = unit_rows(docs)
    relevance = d @ unit_rows(query)
    sim = d @ d.T
    check(len(picks) == min(k, len(docs)), f"{what} returned {len(picks)} indices, not min(k, n)")
    check(len(set(picks)) == len(picks), f"{what} picked a document twice")
    check(near(relevance[picks[0]], relevance.max()), f"{what}: the first pick is not the most relevant document")
    for step in range(1, len(picks)):
        chosen = picks[:step]
        objective = lam * relevance - (1 - lam) * sim[:, chosen].max(axis=1)
        objective[chosen] = -np.inf
        check(objective[picks[step]] >= objective.max() or near(objective[picks[step]], objective.max()),
              f"{what}: pick {step + 1} does not maximise lambda * relevance - (1 - lambda) * (max similarity to the picked documents)")


def lattice_vectors(seed, n=24):
    """A query and documents with entries +-1 in 4 dimensions, some rows scaled by 2 or 4.

    Every norm is a power of two, so every cosine (and every MMR objective
    with lambda in {0, 0.25, 0.5, 0.75, 1}) is exact whatever the order of the
    arithmetic: ties are real ties in any correct implementation.
    """
    gen = np.random.default_rng(seed)
    docs = gen.choice([-1.0, 1.0], size=(n, 4)) * gen.choice([1.0, 2.0, 4.0], size=(n, 1))
    query = np.array([1.0, 1.0, -1.0, 1.0]) * 2.0
    return query, docs


def mmr_reference(query, docs, lam, k):
    """Greedy MMR written out per candidate; a strictly larger objective is needed to replace the lower index."""
    d = unit_rows(docs)
    relevance = d @ unit_rows(query)
    picks = []
    while len(picks) < min(k, len(d)):
        best, best_value = None, None
        for i in range(len(d)):
            if i in picks:
                continue
            value = relevance[i] if not picks else lam * relevance[i] - (1 - lam) * max(float(d[i] @ d[j]) for j in picks)
            if best is None or value > best_value:
                best, best_value = i, value
        picks.append(best)
    return picks
