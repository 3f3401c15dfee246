"""One exclusive file lock for the course's on-disk caches.

Chapters execute in parallel kernels (nbval workers, the book build), and
several of them ask for the same expensive artefact: the reference tiny GPT
(``llmcourse.gpt.pretrained``), a built HNSW graph (``llmcourse.hnsw``),
sentence vectors (``llmcourse.retrieval``). Whoever takes the lock first
builds it; the others wait and then read the finished file.

It uses ``fcntl.flock``, so it works between processes on one machine (Linux,
macOS), not across machines or on Windows.
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_path: Path):
    """Hold an exclusive lock on ``lock_path`` (created if absent) for the ``with`` block."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
