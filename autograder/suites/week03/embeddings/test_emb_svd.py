"""Hidden tests for ``svd_embeddings``, and for the whole pipeline (grade cell ``test_emb_svd``).

Singular vectors are defined up to sign, so the learner's vectors E are
compared through E E^T (against the reference's truncated U S U^T) and
E^T E (diagonal, holding the kept singular values), which signs do not
change. The pipeline tests run the learner's three functions on a generated
multi-topic corpus built here.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_emb_reference.py")


def vectors_of(submission, M, dim):
    return ref.as_array(submission.svd_embeddings(M, dim), "svd_embeddings' result")


def nonnegative(seed, size):
    """A PPMI-like matrix: non-negative, many zeros, not symmetric."""
    rng = np.random.default_rng(seed)
    return np.maximum(rng.normal(size=(size, size)), 0.0)


@points(1)
def test_emb_svd_gram_matches_reference(submission):
    """E @ E.T equals U_k diag(S_k) U_k^T of the reference SVD for several sizes and dimensions, including every dimension."""
    for seed, size, dim in [(51, 20, 5), (52, 40, 12), (53, 8, 8), (54, 30, 1)]:
        M = nonnegative(seed, size)
        E = vectors_of(submission, M, dim)
        check(E.shape == (size, dim), f"svd_embeddings(M, {dim}) of a {size} x {size} matrix gave shape {E.shape}")
        gram, _ = ref.truncated_gram(M, dim)
        assert_close(E @ E.T, gram, f"E @ E.T for dim={dim} of a {size} x {size} matrix")


@points(1)
def test_emb_svd_columns_carry_root_singular_values(submission):
    """The columns of E are orthogonal, largest first, with squared lengths equal to the kept singular values (U S^(1/2), not U or U S)."""
    M = nonnegative(61, 25)
    _, S = ref.truncated_gram(M, 6)
    E = vectors_of(submission, M, 6)
    assert_close(E.T @ E, np.diag(S), "E.T @ E (orthogonal columns whose squared lengths are the singular values)")


def topic_vectors(submission, seed):
    tokens, vocab, labels = ref.topic_corpus(seed)
    counts = ref.as_array(submission.cooccurrence(tokens, vocab, 2), "cooccurrence's result")
    weights = ref.as_array(submission.ppmi(counts), "ppmi's result")
    E = vectors_of(submission, weights, 10)
    keep = labels >= 0                                   # topic words only, not the shared ones
    X = E[keep] / np.linalg.norm(E[keep], axis=1, keepdims=True)
    return X @ X.T, labels[keep]


@points(1)
def test_emb_pipeline_topics_are_closer(submission):
    """On a generated six-topic corpus, words of one topic have a clearly higher mean cosine than words of different topics."""
    for seed in (71, 72):
        cos, topic = topic_vectors(submission, seed)
        same = (topic[:, None] == topic[None, :]) & ~np.eye(len(topic), dtype=bool)
        other = topic[:, None] != topic[None, :]
        gap = cos[same].mean() - cos[other].mean()
        check(gap > 0.3, f"same-topic words are not clearly closer than different-topic words (corpus {seed - 70})")


@points(1)
def test_emb_pipeline_nearest_neighbours(submission):
    """On a generated six-topic corpus, at least 90% of topic words have a nearest neighbour from their own topic."""
    for seed in (73, 74):
        cos, topic = topic_vectors(submission, seed)
        cos[np.diag_indices_from(cos)] = -np.inf      # a word is not its own neighbour
        purity = np.mean(topic[cos.argmax(axis=1)] == topic)
        check(purity >= 0.9, f"only {purity:.0%} of words have a nearest neighbour from their own topic (corpus {seed - 72})")
