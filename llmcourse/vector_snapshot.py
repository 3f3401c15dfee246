"""A frozen store of all-MiniLM-L6-v2 vectors for the texts the book's retrieval chapters encode.

Why it exists: the encoder reads about 110k word pieces per pass over the
book, which costs about 100 s of CPU on two cores, and the chunking chapter
compares seven ways of cutting the book (seven passes). The corpus is frozen
(:mod:`llmcourse.book_sections`), so its chunkings are too; this file keeps
their vectors, as float16 beside the texts they encode, so that a fresh clone
builds the week 3-4 chapters in seconds instead of a quarter of an hour.

How it is used: :class:`llmcourse.retrieval.DenseEncoder` looks a text up in
its disk cache, then here, and only then runs the model. Any text that is not
stored (a changed chunker, a new question) is encoded live, so the snapshot
can make a build faster but never changes what a chapter computes beyond
float16 rounding (a cosine moves by about 1e-4). The test suite re-encodes a
sample of the stored texts with the live model on every run and checks the
stored vectors against them under the float16 entry of the course's
tolerance policy.

How it is rebuilt (after the corpus or a chapter's chunking changes)::

    LLMCOURSE_RECORD_TEXTS=/tmp/texts.jsonl make test    # or run the chapters
    python -m llmcourse.vector_snapshot /tmp/texts.jsonl

Not handled: any other model; pruning texts that no chapter asks for any more
(rebuild instead); concurrent writers (one person rebuilds it, by hand).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from llmcourse.book_sections import DATA_DIR

SNAPSHOT_PATH = DATA_DIR / "minilm_vectors.npz"
RECORD_ENV = "LLMCOURSE_RECORD_TEXTS"  # a path: every text the encoder is asked for is appended there


def write(path: Path, texts: list[str], vectors: np.ndarray) -> None:
    """Store texts (UTF-8, concatenated with offsets) and their vectors as float16, compressed."""
    if len(texts) != len(vectors):
        raise ValueError(f"{len(texts)} texts for {len(vectors)} vectors")
    blobs = [t.encode("utf-8") for t in texts]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    np.savez_compressed(
        path,
        text_bytes=np.frombuffer(b"".join(blobs), dtype=np.uint8),
        offsets=offsets,
        vectors=np.asarray(vectors, dtype=np.float16),
    )


def read(path: Path) -> tuple[list[str], np.ndarray]:
    """The stored texts and their float16 vectors, in stored order."""
    with np.load(path) as data:
        raw, offsets, vectors = data["text_bytes"].tobytes(), data["offsets"], data["vectors"]
    texts = [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
    return texts, vectors


class Snapshot:
    """Read-only lookup text -> float32 unit vector; loads the file on first use."""

    def __init__(self, path: Path = SNAPSHOT_PATH):
        self.path = Path(path)
        self._rows: dict[str, int] | None = None
        self._vectors: np.ndarray | None = None

    def get(self, text: str) -> np.ndarray | None:
        if self._rows is None:
            texts, self._vectors = read(self.path) if self.path.exists() else ([], np.zeros((0, 0)))
            self._rows = {t: i for i, t in enumerate(texts)}
        row = self._rows.get(text)
        if row is None:
            return None
        vector = self._vectors[row].astype(np.float32)
        return vector / np.linalg.norm(vector)  # float16 rounding leaves the length off by ~1e-4


def record(texts: list[str]) -> None:
    """Append texts to the file named by $LLMCOURSE_RECORD_TEXTS, if it is set (one JSON string per line)."""
    target = os.environ.get(RECORD_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write("".join(json.dumps(t) + "\n" for t in texts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the MiniLM vector snapshot from recorded texts.")
    parser.add_argument("recorded", type=Path, help=f"the file ${RECORD_ENV} pointed at during a build")
    parser.add_argument("--out", type=Path, default=SNAPSHOT_PATH)
    args = parser.parse_args(argv)
    from llmcourse.retrieval import DenseEncoder

    lines = args.recorded.read_text(encoding="utf-8").splitlines()
    texts = list(dict.fromkeys(json.loads(line) for line in lines))
    vectors = DenseEncoder(snapshot_path=None).encode(texts)  # from the disk cache, or the model
    write(args.out, texts, vectors)
    print(f"{len(texts):,} texts, {args.out.stat().st_size / 1e6:.1f} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
