"""llmcourse.retrieval: BM25 against rank_bm25, fusion's properties, the encoder's cache."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from llmcourse.book_sections import load_sections
from llmcourse.retrieval import BM25, DenseEncoder, reciprocal_rank_fusion, words
from llmcourse.testing import assert_close


def test_words_are_lower_case_letter_and_digit_runs():
    assert words("The KV-cache holds K and V; GPT-2 has 12 layers.") == [
        "the", "kv", "cache", "holds", "k", "and", "v", "gpt", "2", "has", "12", "layers"]


@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (0.9, 0.4), (2.0, 1.0)])
def test_bm25_equals_rank_bm25_on_the_course_corpus(k1, b):
    documents = [words(s.text) for s in load_sections()[:120]]
    ours, theirs = BM25(documents, k1=k1, b=b), BM25Okapi(documents, k1=k1, b=b)
    rng = np.random.default_rng(0)
    vocabulary = sorted({w for doc in documents for w in doc})
    queries = [words("how does the kv cache grow with context length"), ["the", "the", "attention"], ["unseenword"]]
    queries += [list(rng.choice(vocabulary, size=5)) for _ in range(20)]
    for query in queries:
        assert_close(ours.scores(query), theirs.get_scores(query))


def test_bm25_search_is_sorted_and_breaks_ties_by_index():
    index = BM25([["x"], ["a", "b"], ["c"], ["a", "b"], ["d"], ["a", "e"]])
    hits = index.search(["b", "e"], k=3)
    assert [i for i, _ in hits] == [5, 1, 3]
    assert hits[0][1] > hits[1][1] == hits[2][1]
    with pytest.raises(ValueError):
        BM25([])


def test_reciprocal_rank_fusion_rewards_agreement_and_uses_ranks_only():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60))
    assert fused["a"] == fused["b"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63) and fused["c"] == fused["d"]
    order = [d for d, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]])]
    assert order == ["a", "b", "c", "d"]  # ties keep first appearance
    assert [d for d, _ in reciprocal_rank_fusion([["x", "y"], ["y"]])] == ["y", "x"]


def test_dense_encoder_reads_its_cache_without_loading_the_model(tmp_path):
    encoder = DenseEncoder(cache_dir=tmp_path)
    vectors = np.eye(2, DenseEncoder.dim, dtype=np.float32)
    for text, vector in zip(["first", "second"], vectors):
        path = encoder._path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vector)
    out = encoder.encode(["second", "first"])
    assert encoder._model is None
    assert np.array_equal(out, vectors[::-1])


def test_dense_encoder_loads_offline_and_puts_paraphrases_close(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = DenseEncoder(cache_dir=tmp_path)
    texts = ["How much memory does the KV cache need?",
             "What is the size in bytes of the key-value cache?",
             "Mixture-of-experts routers send each token to two experts."]
    vectors = encoder.encode(texts)
    assert_close(np.linalg.norm(vectors, axis=1), np.ones(3))
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
    assert np.array_equal(DenseEncoder(cache_dir=tmp_path).encode(texts), vectors)  # from the cache
