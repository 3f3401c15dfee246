"""The judge's data and reference computations for the hidden tests of week03/embeddings.

Data is generated here from fixed seeds, never taken from the notebook. The
references follow the definitions directly: co-occurrence counts from a
loop over every pair of positions, PMI from its formula, the truncated SVD
from numpy's, and InfoNCE from torch's own cross-entropy on normalised,
temperature-divided logits.
"""

import numpy as np
import torch
import torch.nn.functional as F

from llmcourse.testing import assert_close, check


def topic_corpus(seed, topics=6, words_per_topic=10, sentences=500, stray=0.1):
    """A multi-topic corpus: (tokens, vocab, topic of each vocabulary word, -1 for shared words).

    Each sentence draws its words from one topic's vocabulary, with shared
    function words (25%) and, with probability ``stray``, a word of another
    topic, so that topics overlap a little as real ones do.
    """
    rng = np.random.default_rng(seed)
    shared = ["le", "la", "de", "et", "un", "est"]
    topic_words = [[f"s{seed}_{t}_{w}" for w in range(words_per_topic)] for t in range(topics)]
    vocab = [w for words in topic_words for w in words] + shared
    labels = np.array([t for t in range(topics) for _ in range(words_per_topic)] + [-1] * len(shared))
    order = rng.permutation(len(vocab))                      # vocabulary not sorted by topic
    vocab, labels = [vocab[i] for i in order], labels[order]
    stream = []
    for sentence in range(sentences):
        subject = rng.integers(topics)
        for position in range(rng.integers(5, 12)):
            roll = rng.random()
            if roll < 0.25:
                stream.append(shared[rng.integers(len(shared))])
            elif roll < 0.25 + stray:
                stream.append(topic_words[rng.integers(topics)][rng.integers(words_per_topic)])
            else:
                stream.append(topic_words[subject][rng.integers(words_per_topic)])
    return stream, vocab, labels


def random_tokens(seed, length, vocab_size, oov_rate=0.2):
    """Random tokens from a small vocabulary, with some tokens outside it: (tokens, vocab in shuffled order)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(vocab_size)]
    tokens = [f"oov{rng.integers(5)}" if rng.random() < oov_rate else vocab[rng.integers(vocab_size)]
              for _ in range(length)]
    return tokens, [vocab[i] for i in rng.permutation(vocab_size)]


def cooccurrence(tokens, vocab, window):
    """Counts by a loop over every ordered pair of positions within the window (after dropping OOV tokens)."""
    index = {w: i for i, w in enumerate(vocab)}
    kept = [index[t] for t in tokens if t in index]
    counts = np.zeros((len(vocab), len(vocab)))
    for p, i in enumerate(kept):
        for q in range(max(0, p - window), min(len(kept), p + window + 1)):
            if q != p:
                counts[i, kept[q]] += 1
    return counts


def ppmi(counts):
    """max(log(C N / (row sum * column sum)), 0) cell by cell, 0 where the count is 0."""
    counts = np.asarray(counts, dtype=np.float64)
    total, rows, cols = counts.sum(), counts.sum(axis=1), counts.sum(axis=0)
    out = np.zeros_like(counts)
    for i, j in zip(*np.nonzero(counts)):
        out[i, j] = max(np.log(counts[i, j]) + np.log(total) - np.log(rows[i]) - np.log(cols[j]), 0.0)
    return out


def truncated_gram(M, dim):
    """U_k diag(S_k) U_k^T and S_k for the dim largest singular values of M."""
    U, S, _ = np.linalg.svd(np.asarray(M, dtype=np.float64))
    return (U[:, :dim] * S[:dim]) @ U[:, :dim].T, S[:dim]


def info_nce(a, b, temperature):
    """torch's cross-entropy of the cosine logits over temperature, row i against column i."""
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(a)))


def clip(images, texts, temperature):
    """The mean of the image-to-text and text-to-image cross-entropies of one logit matrix."""
    logits = F.normalize(images, dim=-1) @ F.normalize(texts, dim=-1).T / temperature
    targets = torch.arange(len(images))
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def pairs(seed, batch, dim, dtype=torch.float32, spread=True):
    """Two batches of embeddings whose row i are related (a noisy copy), with varied row lengths."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(batch, dim, generator=gen, dtype=torch.float64)
    b = a + 1.5 * torch.randn(batch, dim, generator=gen, dtype=torch.float64)
    if spread:
        a = a * torch.exp(torch.randn(batch, 1, generator=gen, dtype=torch.float64))
        b = b * torch.exp(torch.randn(batch, 1, generator=gen, dtype=torch.float64))
    return a.to(dtype), b.to(dtype)


def as_array(value, what):
    """A learner's result as a float numpy array, or a failure that says what it should have been."""
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    check(isinstance(value, np.ndarray), f"{what} should be a numpy array, got {type(value).__name__}")
    check(np.issubdtype(value.dtype, np.floating), f"{what} should be a floating-point array, got {value.dtype}")
    return value


def scalar(value, what):
    """A learner's loss, checked to be a 0-dimensional tensor."""
    check(isinstance(value, torch.Tensor) and value.dim() == 0, f"{what} should be a 0-dimensional tensor")
    return value


def check_gradients(submission, learner_fn, reference_fn, x, y, tau, names, what, label):
    """The learner's gradients with respect to both batches equal autograd's on the reference definition."""
    leaves = [x.clone().requires_grad_(True), y.clone().requires_grad_(True)]
    reference_fn(*leaves, tau).backward()
    grads = submission.vjp(learner_fn, (x.clone().requires_grad_(True), y.clone().requires_grad_(True), tau),
                           torch.tensor(1.0, dtype=torch.float64))
    for name, grad, leaf in zip(names, grads, leaves):
        check(grad is not None, f"{what} does not depend on {name} ({label})")
        assert_close(grad, leaf.grad, f"the gradient with respect to {name} ({label})")
