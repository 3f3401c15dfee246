"""Reference byte-level BPE for the week01/bpe hidden suite (judge side only).

Written independently of the solution notebook, from the exercise's stated
rules: ids 0-255 are bytes, merge i creates id 256 + i, pairs are counted at
every position (overlaps included), the most frequent pair wins and ties go
to the smallest (left, right), training stops once no pair occurs twice, and
encoding applies the merges in rank order, each left to right without
overlaps. It also holds the texts the tests share.

Each test module loads this file under a name of its own, because
the judge imports hidden suites without putting their folder on sys.path.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache

from llmcourse.corpus import course_text


def _replace_all(seq: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out: list[int] = []
    skip = False
    for here, after in zip(seq, seq[1:] + [None]):
        if skip:
            skip = False
        elif (here, after) == pair:
            out.append(new_id)
            skip = True
        else:
            out.append(here)
    return out


def reference_train(text: str, vocab_size: int) -> list[tuple[int, int]]:
    seq = list(text.encode("utf-8"))
    merges: list[tuple[int, int]] = []
    for new_id in range(256, vocab_size):
        stats = Counter(zip(seq, seq[1:]))
        top = max(stats.values(), default=0)
        if top < 2:
            break
        chosen = min(p for p, c in stats.items() if c == top)
        seq = _replace_all(seq, chosen, new_id)
        merges.append(chosen)
    return merges


def reference_encode(text: str, merges) -> list[int]:
    seq = list(text.encode("utf-8"))
    for offset, pair in enumerate(merges):
        seq = _replace_all(seq, tuple(pair), 256 + offset)
    return seq


def reference_bytes(ids, merges) -> bytes:
    table = {b: bytes([b]) for b in range(256)}
    for offset, (a, b) in enumerate(merges):
        table[256 + offset] = table[a] + table[b]
    return b"".join(table[i] for i in ids)


def as_pairs(merges) -> list[tuple]:
    """A learner's merges as a list of tuples (a list of lists is accepted too)."""
    return [tuple(m) if isinstance(m, (list, tuple)) else m for m in merges]


# -- shared texts ------------------------------------------------------------

CORPUS_CHARS = 12_000
CORPUS_VOCAB = 256 + 160


@lru_cache(maxsize=None)
def corpus_slices() -> tuple[str, str]:
    """Two disjoint stretches of the course's chapters: one to train on, one held out."""
    text = course_text()
    return text[:CORPUS_CHARS], text[CORPUS_CHARS : CORPUS_CHARS + 4_000]


@lru_cache(maxsize=None)
def corpus_merges() -> tuple[tuple[int, int], ...]:
    return tuple(reference_train(corpus_slices()[0], CORPUS_VOCAB))


MULTILINGUAL = (
    "Byte pair encoding works on bytes. Le modèle lit le texte. Das Modell liest den Text. "
    "Модель читает текст. Модель читает текст снова. 模型读取文本。模型读取文本。"
    "数据和模型。 Emoji: 🙂🙂👍🏽👍🏽 and 👩‍💻👩‍💻. Café, naïve, résumé, café."
) * 3

_RANGES = [
    (0x20, 0x7E),      # printable ASCII
    (0xA0, 0xFF),      # Latin-1 letters and signs
    (0x0300, 0x036F),  # combining marks
    (0x0400, 0x04FF),  # Cyrillic
    (0x0900, 0x097F),  # Devanagari
    (0x4E00, 0x9FFF),  # CJK ideographs
    (0x1F300, 0x1F64F),  # emoji
    (0x10000, 0x1034F),  # other 4-byte characters
]
_SPECIAL = ["\n", "\t", "\r\n", "  ", "\u00a0", "\u3000", "\u200d", "\ufeff", "\u0000", "e\u0301", "🏳️‍🌈"]


def random_unicode(seed: int, length: int) -> str:
    """A seeded random string mixing scripts, emoji, combining marks and whitespace (no surrogates)."""
    rng = random.Random(seed)
    parts = []
    for _ in range(length):
        if rng.random() < 0.15:
            parts.append(rng.choice(_SPECIAL))
        else:
            lo, hi = rng.choice(_RANGES)
            parts.append(chr(rng.randint(lo, hi)))
    return "".join(parts)


def small_alphabet(seed: int, length: int, alphabet: str) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))
