"""Hidden tests for ``fixed_chunks`` (grade cell ``test_chunk_fixed``).

Reference: the specification's closed form (chunk i = [i*stride, min(i*stride
+ size, n)), as few chunks as cover the text); properties: coverage without
loss, exact overlap, size bounds, short and empty texts, invalid sizes.
"""

import numpy as np

from autograder.judge import points, suite_helper
from autograder.seam.submission import StudentError
from llmcourse.testing import check

ref = suite_helper(__file__, "_chunk_reference.py")


def _cases(seed, count):
    """(text, size, overlap) triples with lengths around and well past the chunk size."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        text = ref.structured_text(seed * 100 + i)[: int(rng.integers(1, 900))]
        size = int(rng.integers(1, 120))
        overlap = int(rng.integers(0, size)) if i % 4 else 0
        yield text, size, overlap


@points(1)
def test_fixed_covers_text_without_loss(submission):
    """Every character is in some chunk, the chunks are in order and non-empty, and the last, shorter chunk is kept."""
    for text, size, overlap in _cases(1, 40):
        chunks = ref.spans(submission.fixed_chunks(text, size, overlap), "fixed_chunks")
        check(len(chunks) > 0 and chunks[0][0] == 0, "the first chunk must start at 0")
        check(chunks[-1][1] == len(text), "the chunks stop before the end of the text: the last partial chunk is missing")
        for (a, b), (c, d) in zip(chunks, chunks[1:]):
            check(a < c and b < d, "the chunks are not in order")
            check(c <= b, "there is a gap between two consecutive chunks")
        check(all(0 < b - a <= size for a, b in chunks), "a chunk is empty or longer than size")
    # A length that is not a multiple of the stride leaves a short tail.
    chunks = ref.spans(submission.fixed_chunks("x" * 23, 10, 0), "fixed_chunks")
    check(chunks[-1][1] == 23, "the last 3 characters of a 23-character text with size 10 are not in any chunk")


@points(1)
def test_fixed_overlap_is_exact(submission):
    """Consecutive chunks share exactly `overlap` characters, and every chunk but the last has exactly `size`."""
    for text, size, overlap in _cases(2, 40):
        chunks = ref.spans(submission.fixed_chunks(text, size, overlap), "fixed_chunks")
        for (a, b), (c, d) in zip(chunks, chunks[1:]):
            check(b - c == overlap, "two consecutive chunks do not share exactly `overlap` characters")
        check(all(b - a == size for a, b in chunks[:-1]), "a chunk other than the last is shorter than size")


@points(1)
def test_fixed_matches_specification(submission):
    """The spans equal the specification's: chunk i starts at i*(size - overlap), and the chunking stops with the first chunk that reaches the end."""
    for text, size, overlap in _cases(3, 60):
        got = ref.spans(submission.fixed_chunks(text, size, overlap), "fixed_chunks")
        want = ref.fixed_reference(len(text), size, overlap)
        check(len(got) <= len(want), "there are chunks after the one that reaches the end of the text")
        check(got == want, "the chunks differ from the specified windows")


@points(1)
def test_fixed_short_and_empty_texts(submission):
    """A text of at most `size` characters is one chunk (0, n), and the empty text has none."""
    for n, size, overlap in [(1, 1, 0), (5, 5, 0), (7, 100, 99), (37, 38, 5), (12, 12, 11)]:
        got = ref.spans(submission.fixed_chunks("y" * n, size, overlap), "fixed_chunks")
        check(got == [(0, n)], "a text that fits in one chunk must be exactly one chunk")
    for size, overlap in [(1, 0), (10, 3)]:
        check(ref.spans(submission.fixed_chunks("", size, overlap), "fixed_chunks") == [], "the empty text must give no chunks")


@points(1)
def test_fixed_rejects_bad_sizes(submission):
    """size <= 0, overlap < 0 and overlap >= size raise ValueError."""
    for size, overlap in [(0, 0), (-5, 0), (10, 10), (10, 11), (10, -1)]:
        try:
            submission.fixed_chunks("some text to chunk " * 3, size, overlap)
        except StudentError as exc:
            if exc.type_name != "ValueError":
                raise  # reported as the learner's own exception ("not implemented yet" for the stub)
            continue
        raise AssertionError("no ValueError for an invalid size or overlap")
