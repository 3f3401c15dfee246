"""Hidden tests for ``decode`` (grade cell ``test_bpe_decode``)."""


from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bpe_reference.py")


def _decode(submission, ids, merges):
    text = submission.decode(list(ids), list(merges))
    check(isinstance(text, str), f"decode should return a str, got {type(text).__name__}")
    return text


def _round_trip_texts():
    yield ""
    yield " "
    yield "\n\n\t  \r\n"
    yield "e\u0301te\u0301 \u0915\u093f \u00e9t\u00e9"
    yield "👩‍💻 🏳️‍🌈 👍🏽 \u0000 \ufeff"
    yield ref.MULTILINGUAL
    yield ref.corpus_slices()[1][:1_500]
    for seed in range(20, 26):
        yield ref.random_unicode(seed, 120)


@points(2)
def test_round_trip(submission):
    """decode(encode(text)) gives back any text exactly: other scripts, emoji, combining marks, whitespace, ''."""
    merge_lists = [ref.corpus_merges(), ref.reference_train(ref.MULTILINGUAL, 256 + 60), ()]
    for merges in merge_lists:
        for text in _round_trip_texts():
            ids = submission.encode(text, list(merges))
            back = _decode(submission, ids, merges)
            check(back == text, f"decode(encode(text)) did not give back a text of {len(text)} characters")


@points(1)
def test_characters_split_across_tokens(submission):
    """decode joins the bytes of all ids before decoding, so a character spread over several tokens comes back whole."""
    check(_decode(submission, [226, 130, 172], []) == "\u20ac", "the three byte tokens of one character should decode to it")
    merges = ref.corpus_merges()
    for seed in (30, 31):
        text = ref.random_unicode(seed, 150)
        ids = ref.reference_encode(text, merges)
        check(_decode(submission, ids, merges) == text, "decoding the reference ids of a Unicode text did not give the text")
    merges = ref.reference_train(ref.MULTILINGUAL, 256 + 60)
    ids = ref.reference_encode(ref.MULTILINGUAL, merges)
    check(_decode(submission, ids, merges) == ref.MULTILINGUAL, "decoding the reference ids of a multilingual text did not give the text")


@points(1)
def test_invalid_utf8_becomes_replacement_character(submission):
    """Bytes that are not valid UTF-8 decode to U+FFFD exactly as bytes.decode(errors='replace') does; nothing is dropped."""
    merges = [(255, 254), (226, 130), (104, 105)]
    cases = [
        [255],
        [72, 105, 255, 33],
        [226, 130],
        [226, 130, 32, 104, 105],
        [240, 159, 153],
        [192, 175, 65],
        [128, 128, 128],
        [256, 65],
        [257, 258, 257, 172],
    ]
    for ids in cases:
        expected = ref.reference_bytes(ids, merges).decode("utf-8", errors="replace")
        check(_decode(submission, ids, merges) == expected, f"decoding {len(ids)} ids that are not valid UTF-8 gave a different text")
