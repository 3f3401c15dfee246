"""Reference chunkers and seeded test texts for the chunking suite (judge side only).

The references follow the notebook's specification line by line, written
independently of the solution: fixed windows from a closed form, recursive
splitting with an explicit work list, semantic grouping from the vector of
neighbour cosines. ``spans`` turns what crossed the seam into (int, int)
tuples, or a learner-facing failure saying what was wrong with its shape.
"""

import math

import numpy as np

from llmcourse.testing import check

DEFAULT_SEPARATORS = ("\n\n", "\n", ". ", " ", "")
WORDS = ("retrieval", "chunk", "embedding", "the", "a", "of", "index", "query", "passage",
         "BM25", "cosine", "overlap", "model", "token", "section", "answer", "is", "to")


def spans(value, what):
    """The learner's chunks as a list of (int, int) tuples."""
    check(isinstance(value, (list, tuple)), f"{what} should be a list of (start, end) pairs, got {type(value).__name__}")
    out = []
    for item in value:
        check(isinstance(item, (list, tuple)) and len(item) == 2, f"{what}: every chunk should be a (start, end) pair")
        for x in item:
            check(isinstance(x, int) and not isinstance(x, bool), f"{what}: offsets should be Python ints, got {type(x).__name__}")
        out.append((item[0], item[1]))
    return out


def fixed_reference(n, size, overlap):
    """Windows per the specification, from the closed-form count of chunks."""
    if n == 0:
        return []
    stride = size - overlap
    count = 1 if n <= size else 1 + math.ceil((n - size) / stride)
    return [(i * stride, min(i * stride + size, n)) for i in range(count)]


def _find_all_cuts(text, lo, hi, sep):
    cuts, at = [], lo
    while (k := text.find(sep, at, hi)) >= 0:
        at = k + len(sep)
        if at < hi:
            cuts.append(at)
    return cuts


def recursive_reference(text, max_size, separators=DEFAULT_SEPARATORS):
    """Recursive splitting per the specification, with a work list instead of recursion."""
    out = []
    work = [(0, len(text), tuple(separators))]          # pieces still to chunk, in order (a stack, reversed)
    while work:
        lo, hi, seps = work.pop()
        if hi - lo <= max_size:
            if hi > lo:
                out.append((lo, hi))
            continue
        usable = [j for j, s in enumerate(seps) if s == "" or s in text[lo:hi]]
        if not usable or seps[usable[0]] == "":
            out.extend((a, min(a + max_size, hi)) for a in range(lo, hi, max_size))
            continue
        j = usable[0]
        bounds = [lo, *_find_all_cuts(text, lo, hi, seps[j]), hi]
        produced = []                                     # items: ("chunk", a, b) or ("piece", a, b)
        open_chunk = None
        for a, b in zip(bounds, bounds[1:]):
            if b - a > max_size:
                if open_chunk:
                    produced.append(("chunk", *open_chunk))
                    open_chunk = None
                produced.append(("piece", a, b))
            elif open_chunk and b - open_chunk[0] <= max_size:
                open_chunk = (open_chunk[0], b)
            else:
                if open_chunk:
                    produced.append(("chunk", *open_chunk))
                open_chunk = (a, b)
        if open_chunk:
            produced.append(("chunk", *open_chunk))
        # Emit in order: chunks directly, pieces through the work list with the finer separators.
        for kind, a, b in reversed(produced):
            work.append((a, b, seps[j + 1:]) if kind == "piece" else (a, b, None))
        # A (a, b, None) item is a finished chunk: it fits, so the first branch emits it.
    return out


def semantic_reference(lengths, vectors, threshold, max_size):
    """Sentence ranges per the specification, from the neighbour cosines."""
    v = np.asarray(vectors, dtype=np.float64)
    if len(lengths) == 0:
        return []
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    neighbour = np.sum(unit[1:] * unit[:-1], axis=1)
    out, first, size = [], 0, lengths[0]
    for i in range(1, len(lengths)):
        if neighbour[i - 1] < threshold or size + lengths[i] > max_size:
            out.append((first, i))
            first, size = i, lengths[i]
        else:
            size += lengths[i]
    out.append((first, len(lengths)))
    return out


def structured_text(seed, paragraphs=(2, 9), long_word_every=0):
    """Paragraphs of sentences of words, separated by blank lines, some with line breaks inside."""
    rng = np.random.default_rng(seed)
    out = []
    for p in range(int(rng.integers(*paragraphs))):
        sentences = []
        for _ in range(int(rng.integers(1, 6))):
            words = list(rng.choice(WORDS, size=int(rng.integers(2, 14))))
            if long_word_every and rng.random() < 1 / long_word_every:
                words.insert(int(rng.integers(0, len(words))), "https://x.org/" + "q" * int(rng.integers(40, 160)))
            sentences.append(" ".join(words).capitalize() + ".")
        glue = "\n" if rng.random() < 0.3 else " "
        out.append(glue.join(sentences))
    return "\n\n".join(out)


def check_cover(text, chunks, what, limit=None):
    """Chunks are non-empty, in order, contiguous, cover text[0:len], and respect the limit."""
    if not text:
        check(chunks == [], f"{what}: the empty text should have no chunks")
        return
    check(len(chunks) > 0, f"{what}: a non-empty text produced no chunks")
    check(chunks[0][0] == 0, f"{what}: the first chunk does not start at 0 (characters are lost)")
    check(chunks[-1][1] == len(text), f"{what}: the last chunk does not end at the end of the text (characters are lost)")
    for (a, b), (c, d) in zip(chunks, chunks[1:]):
        check(c == b, f"{what}: a chunk does not start where the previous one ended")
    for a, b in chunks:
        check(b > a, f"{what}: an empty chunk")
        if limit is not None:
            check(b - a <= limit, f"{what}: a chunk is longer than the limit")
