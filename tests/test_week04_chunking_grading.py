"""The week04/chunking exercise, graded end to end through the real engine.

A differently written correct solution (fixed windows from a closed-form
count, recursive splitting with re.finditer and a generator, semantic breaks
from a vector of neighbour cosines) must earn full marks; each realistic
mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week04/chunking")
SOLUTION = EXERCISE.source_path

ALTERNATIVE = {
    "fixed": '''
import math


def fixed_chunks(text, size, overlap=0):
    if size < 1 or overlap < 0 or overlap > size - 1:
        raise ValueError(f"bad size/overlap: {size}, {overlap}")
    n = len(text)
    if n == 0:
        return []
    stride = size - overlap
    count = 1 + max(0, math.ceil((n - size) / stride))
    return [(k * stride, min(n, k * stride + size)) for k in range(count)]
''',
    "recursive": '''
import re


def split_after(text, start, end, separator):
    # finditer's matches do not overlap, like repeated str.find calls.
    cuts = [start + m.end() for m in re.finditer(re.escape(separator), text[start:end])]
    edges = [start, *(c for c in cuts if c < end), end]
    return list(zip(edges[:-1], edges[1:]))


def hard_cut(start, end, max_size):
    edges = list(range(start, end, max_size)) + [end]
    return list(zip(edges[:-1], edges[1:]))


def _chunks(text, lo, hi, limit, seps):
    if hi - lo <= limit:
        if hi > lo:
            yield (lo, hi)
        return
    chosen = next((i for i, s in enumerate(seps) if s == "" or s in text[lo:hi]), None)
    if chosen is None or seps[chosen] == "":
        yield from hard_cut(lo, hi, limit)
        return
    group_lo = group_hi = None
    for a, b in split_after(text, lo, hi, seps[chosen]):
        if b - a > limit:
            if group_lo is not None:
                yield (group_lo, group_hi)
                group_lo = None
            yield from _chunks(text, a, b, limit, seps[chosen + 1:])
            continue
        if group_lo is None:
            group_lo, group_hi = a, b
        elif b - group_lo <= limit:
            group_hi = b
        else:
            yield (group_lo, group_hi)
            group_lo, group_hi = a, b
    if group_lo is not None:
        yield (group_lo, group_hi)


def recursive_chunks(text, max_size, separators=("\\n\\n", "\\n", ". ", " ", "")):
    if max_size < 1:
        raise ValueError("max_size must be at least 1")
    return list(_chunks(text, 0, len(text), max_size, tuple(separators)))
''',
    "semantic": '''
def cosine(u, v):
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    return float(u @ v) / float(np.sqrt(u @ u) * np.sqrt(v @ v))


def semantic_chunks(sentences, embeddings, threshold, max_size):
    if max_size < 1 or len(sentences) != len(embeddings):
        raise ValueError("max_size must be positive and there must be one row per sentence")
    if not len(sentences):
        return []
    rows = np.asarray(embeddings, dtype=float)
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    neighbour = (rows[1:] * rows[:-1]).sum(axis=1)
    starts, size = [0], 0
    for i, sentence in enumerate(sentences):
        if i and (neighbour[i - 1] < threshold or size + len(sentence) > max_size):
            starts.append(i)
            size = 0
        size += len(sentence)
    return list(zip(starts, starts[1:] + [len(sentences)]))
''',
}

WRONG = {
    # The window advances by size: the overlap is ignored.
    "fixed_stride_ignores_overlap": (
        edited(SOLUTION, "fixed", ("stride = size - overlap", "stride = size")),
        {"test_fixed_overlap_is_exact", "test_fixed_matches_specification"},
    ),
    # Only full windows: the last, shorter chunk is dropped and its characters lost.
    "fixed_drops_last_partial_chunk": (
        edited(SOLUTION, "fixed", ("    while start < len(text):\n", "    while start + size <= len(text) or start == 0:\n")),
        {"test_fixed_covers_text_without_loss", "test_fixed_matches_specification"},
    ),
    # Off by one: chunks share overlap - 1 characters.
    "fixed_overlap_off_by_one": (
        edited(SOLUTION, "fixed", ("stride = size - overlap", "stride = size - overlap + 1")),
        {"test_fixed_overlap_is_exact", "test_fixed_matches_specification"},
    ),
    # Splits on the finest separator that occurs (words) first, so paragraphs that fit are cut.
    "recursive_finest_separator_first": (
        edited(SOLUTION, "recursive", (
            "    for level, separator in enumerate(separators):\n",
            "    for level, separator in reversed(list(enumerate(s for s in separators if s))):\n",
        )),
        {"test_recursive_keeps_structure_that_fits", "test_recursive_matches_specification"},
    ),
    # No hard cut: a piece with no separator left is kept whole, however long.
    "recursive_no_hard_cut": (
        edited(SOLUTION, "recursive", (
            "    return [(a, min(a + max_size, end)) for a in range(start, end, max_size)]",
            "    return [(start, end)]",
        )),
        {"test_recursive_never_exceeds_max_size"},
    ),
    # Compares each sentence with the first sentence of its chunk instead of its neighbour.
    "semantic_compares_with_chunk_start": (
        edited(SOLUTION, "semantic", ("cosine(vectors[i - 1], vectors[i])", "cosine(vectors[first], vectors[i])")),
        {"test_semantic_breaks_where_neighbours_differ"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"closed_form_and_generators": ALTERNATIVE}, WRONG
)
