"""llmcourse.retrieval: BM25 against rank_bm25, fusion's properties, the encoder's cache."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from llmcourse.book_sections import load_sections
from llmcourse.retrieval import BM25, DenseEncoder, reciprocal_rank_fusion, words
from llmcourse.testing import assert_close
from llmcourse import vector_snapshot


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


def cache_vector(encoder, text, vector):
    """Put vector in encoder's disk cache under text, as an earlier encode would have."""
    path = encoder._path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vector)


def test_dense_encoder_reads_its_cache_without_loading_the_model(tmp_path):
    encoder = DenseEncoder(cache_dir=tmp_path)
    vectors = np.eye(2, DenseEncoder.dim, dtype=np.float32)
    for text, vector in zip(["first", "second"], vectors):
        cache_vector(encoder, text, vector)
    out = encoder.encode(["second", "first"])
    assert encoder._model is None
    assert np.array_equal(out, vectors[::-1])


def test_dense_encoder_rereads_the_cache_once_it_holds_the_lock(tmp_path, monkeypatch):
    """A chapter that waited for the lock must not encode again what its neighbour just wrote."""
    import contextlib

    import llmcourse.retrieval as retrieval

    encoder = DenseEncoder(cache_dir=tmp_path)
    written = np.eye(1, DenseEncoder.dim, dtype=np.float32)[0]

    @contextlib.contextmanager
    def neighbour_finishes_first(_path):
        cache_vector(encoder, "shared text", written)
        yield

    monkeypatch.setattr(retrieval, "exclusive", neighbour_finishes_first)
    out = encoder.encode(["shared text"])
    assert encoder._model is None
    assert np.array_equal(out[0], written)


def test_dense_encoder_loads_offline_and_puts_paraphrases_close(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = DenseEncoder(cache_dir=tmp_path, snapshot_path=None)
    texts = ["How much memory does the KV cache need?",
             "What is the size in bytes of the key-value cache?",
             "Mixture-of-experts routers send each token to two experts."]
    vectors = encoder.encode(texts)
    assert_close(np.linalg.norm(vectors, axis=1), np.ones(3))
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
    assert np.array_equal(DenseEncoder(cache_dir=tmp_path).encode(texts), vectors)  # from the cache


def test_vector_snapshot_round_trips_texts_and_float16_vectors(tmp_path):
    texts = ["plain", "ünïcödé and\nnew lines", ""]
    vectors = np.random.default_rng(0).normal(size=(3, DenseEncoder.dim)).astype(np.float32)
    vector_snapshot.write(tmp_path / "s.npz", texts, vectors)
    stored_texts, stored = vector_snapshot.read(tmp_path / "s.npz")
    assert stored_texts == texts and stored.dtype == np.float16
    assert_close(stored, vectors, "stored vectors")
    with pytest.raises(ValueError, match="2 texts for 3 vectors"):
        vector_snapshot.write(tmp_path / "bad.npz", texts[:2], vectors)


def test_dense_encoder_reads_the_snapshot_after_its_cache_and_before_the_model(tmp_path):
    unit = np.eye(2, DenseEncoder.dim, dtype=np.float32)
    vector_snapshot.write(tmp_path / "s.npz", ["in the snapshot", "also on disk"], unit)
    encoder = DenseEncoder(cache_dir=tmp_path / "cache", snapshot_path=tmp_path / "s.npz")
    cache_vector(encoder, "also on disk", unit[0])           # the disk cache wins over the snapshot
    out = encoder.encode(["in the snapshot", "also on disk"])
    assert encoder._model is None
    assert np.array_equal(out, unit[[0, 0]])


def test_dense_encoder_records_every_text_it_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv(vector_snapshot.RECORD_ENV, str(tmp_path / "texts.jsonl"))
    encoder = DenseEncoder(cache_dir=tmp_path, snapshot_path=None)
    for text in ("one\nline", "two"):
        cache_vector(encoder, text, np.ones(DenseEncoder.dim, dtype=np.float32))
    encoder.encode(["one\nline", "two"])
    assert (tmp_path / "texts.jsonl").read_text().splitlines() == ['"one\\nline"', '"two"']


def test_the_committed_snapshot_matches_the_live_model(tmp_path):
    """The frozen vectors the chapters read are what the model computes today (float16 policy)."""
    texts, stored = vector_snapshot.read(vector_snapshot.SNAPSHOT_PATH)
    assert len(texts) == len(set(texts)) > 1000
    rng = np.random.default_rng(2026)
    longest = int(np.argmax([len(t) for t in texts]))       # truncation at 256 word pieces included
    rows = sorted({longest, *rng.choice(len(texts), size=15, replace=False).tolist()})
    live = DenseEncoder(cache_dir=tmp_path, snapshot_path=None).encode([texts[i] for i in rows])
    assert_close(stored[rows], live, "snapshot vectors")
