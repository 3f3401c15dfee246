"""Hidden tests for ``encode`` (grade cell ``test_bpe_encode``).

The merges are the reference trainer's (trained here in the judge), so these
tests grade ``encode`` on its own, whatever ``train_bpe`` does.
"""


from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bpe_reference.py")


def _encode(submission, text, merges):
    ids = submission.encode(text, merges)
    check(isinstance(ids, (list, tuple)), f"encode should return a list of ids, got {type(ids).__name__}")
    ids = list(ids)
    check(all(isinstance(i, int) for i in ids), "encode should return int token ids")
    return ids


def _check_same(submission, text, merges, what):
    got = _encode(submission, text, list(merges))
    expected = ref.reference_encode(text, merges)
    first = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), None)
    if first is None and len(got) != len(expected):
        first = min(len(got), len(expected))
    check(first is None, f"encoding {what} differs from the reference encoding from token {first} on")


# Hand-written merge lists whose tokens overlap, where the order of the merges decides the result.
OVERLAPPING = [
    ([(98, 99), (97, 98)], "abcabc abc bcab"),
    ([(98, 99), (97, 256), (97, 98)], "abc ab abcab aabc"),
    ([(97, 97), (256, 97), (256, 256)], "a aa aaa aaaa aaaaa aaaaaa aaaaaaa"),
    ([(116, 104), (104, 101), (256, 101), (32, 258)], "the then there the"),
]


@points(2)
def test_matches_reference_encoding(submission):
    """encode applies the merges in rank order, each left to right, exactly like the reference encoder."""
    merges = ref.corpus_merges()
    _check_same(submission, ref.corpus_slices()[1], merges, "a held-out stretch of the course's chapters")
    _check_same(submission, ref.MULTILINGUAL, merges, "a multilingual text with emoji")
    _check_same(submission, ref.random_unicode(11, 200), merges, "a random Unicode text")
    for own_merges, text in OVERLAPPING:
        _check_same(submission, text, own_merges, "a text whose merges overlap")
    multilingual_merges = ref.reference_train(ref.MULTILINGUAL, 256 + 60)
    _check_same(submission, ref.MULTILINGUAL[::-1], multilingual_merges, "a reversed multilingual text")


@points(1)
def test_ids_in_range_and_text_compresses(submission):
    """Every id is a byte (0-255) or a merge's id, and the training text encodes to fewer ids than it has bytes."""
    merges = ref.corpus_merges()
    training = ref.corpus_slices()[0]
    ids = _encode(submission, training, list(merges))
    check(all(0 <= i < 256 + len(merges) for i in ids), "encode returned an id that is neither a byte nor a merge's id")
    check(len(ids) < len(training.encode("utf-8")), "the training text should encode to fewer ids than it has bytes")


@points(1)
def test_empty_text_and_no_merges(submission):
    """encode('') is [], and with no merges (or merges that never apply) encode gives the UTF-8 bytes."""
    merges = list(ref.corpus_merges())
    check(_encode(submission, "", merges) == [], "encoding the empty string should give []")
    for text in ["plain ASCII", "naïve 数据 🙂", "\n\t "]:
        check(_encode(submission, text, []) == list(text.encode("utf-8")), "without merges, encode should give the UTF-8 bytes")
    check(_encode(submission, "xyz", [(1, 2), (256, 3)]) == [120, 121, 122], "merges that never apply should change nothing")
