"""Hidden tests for ``semantic_chunks`` (grade cell ``test_chunk_semantic``).

Reference: the specification computed from the vector of neighbour cosines
(judge side); properties: breaks exactly where a neighbour is dissimilar,
neighbours rather than the chunk's first sentence, cosine rather than dot
product, the size limit, coverage, edge cases.
"""

import numpy as np

from autograder.judge import points, suite_helper
from autograder.seam.submission import StudentError
from llmcourse.testing import check

ref = suite_helper(__file__, "_chunk_reference.py")


def _topics(seed, n, dim=8):
    """Sentences drawn from a few topics: similar within a topic, dissimilar across (vectors not unit length)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, dim))
    topic = np.repeat(rng.integers(0, 4, size=n // 3 + 1), 3)[:n]
    vectors = centres[topic] + 0.25 * rng.normal(size=(n, dim))
    vectors *= rng.uniform(0.2, 5.0, size=(n, 1))
    sentences = [("word " * int(rng.integers(1, 12))).strip() + ". " for _ in range(n)]
    return sentences, vectors


def _threshold_away_from_ties(vectors, wanted):
    """A threshold near `wanted` that no neighbour cosine is within 1e-6 of."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = np.sum(unit[1:] * unit[:-1], axis=1)
    t = wanted
    while np.any(np.abs(cosines - t) < 1e-6):
        t += 1e-3
    return t


def _breaks(chunks):
    return [first for first, _ in chunks[1:]]


@points(2)
def test_semantic_breaks_where_neighbours_differ(submission):
    """Without a binding size limit, a new chunk starts exactly where the cosine of two neighbouring sentences is below the threshold."""
    for seed in range(12):
        sentences, vectors = _topics(700 + seed, 40)
        threshold = _threshold_away_from_ties(vectors, 0.6)
        got = ref.spans(submission.semantic_chunks(sentences, vectors, threshold, 10**6), "semantic_chunks")
        want = ref.semantic_reference([len(s) for s in sentences], vectors, threshold, 10**6)
        check(_breaks(got) == _breaks(want) and got == want, "the chunks do not break exactly where neighbouring sentences are dissimilar")
    # A slow drift: every neighbour is similar, the ends are not.
    angles = np.radians(np.arange(30) * 12.0)
    drift = np.stack([np.cos(angles), np.sin(angles), np.zeros(30)], axis=1)
    got = ref.spans(submission.semantic_chunks(["a b. "] * 30, drift, 0.95, 10**6), "semantic_chunks")
    check(got == [(0, 30)], "a text that drifts slowly has similar neighbours everywhere: it must stay one chunk")


@points(1)
def test_semantic_respects_max_size(submission):
    """A chunk never grows past max_size characters (a single longer sentence stays alone), and the chunks cover every sentence in order."""
    for seed in range(12):
        sentences, vectors = _topics(800 + seed, 50)
        threshold = _threshold_away_from_ties(vectors, 0.3)
        sentences[seed] = "long " * 40 + ". "                   # longer than the limit on its own
        lengths = [len(s) for s in sentences]
        got = ref.spans(submission.semantic_chunks(sentences, vectors, threshold, 120), "semantic_chunks")
        check(got and got[0][0] == 0 and got[-1][1] == len(sentences), "the chunks do not cover every sentence")
        check(all(b == c for (_, b), (c, _) in zip(got, got[1:])), "a chunk does not start where the previous one ended")
        check(all(b > a for a, b in got), "an empty chunk")
        check(all(sum(lengths[a:b]) <= 120 or b - a == 1 for a, b in got), "a chunk of several sentences is longer than max_size")
        check(got == ref.semantic_reference(lengths, vectors, threshold, 120), "the chunks differ from the specification's greedy rule")


@points(1)
def test_semantic_edge_cases(submission):
    """No sentences give no chunks, one sentence one chunk, a mismatch of sentences and rows or max_size <= 0 raises ValueError."""
    check(ref.spans(submission.semantic_chunks([], np.zeros((0, 4)), 0.5, 100), "semantic_chunks") == [],
          "no sentences must give no chunks")
    check(ref.spans(submission.semantic_chunks(["Only one. "], np.ones((1, 4)), 0.5, 3), "semantic_chunks") == [(0, 1)],
          "a single sentence must be one chunk, even when it is longer than max_size")
    sentences, vectors = _topics(900, 6)
    for args in [(sentences, vectors[:5], 0.5, 100), (sentences, vectors, 0.5, 0)]:
        try:
            submission.semantic_chunks(*args)
        except StudentError as exc:
            if exc.type_name != "ValueError":
                raise  # reported as the learner's own exception ("not implemented yet" for the stub)
            continue
        raise AssertionError("no ValueError for mismatched embeddings or max_size <= 0")
