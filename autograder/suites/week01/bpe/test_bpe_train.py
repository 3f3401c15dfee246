"""Hidden tests for ``train_bpe`` (grade cell ``test_bpe_train``).

Expected merges come from the reference trainer in _bpe_reference.py, run
here in the judge on the same texts.
"""


from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_bpe_reference.py")


def _train(submission, text, vocab_size):
    merges = submission.train_bpe(text, vocab_size)
    check(isinstance(merges, (list, tuple)), f"train_bpe should return a list, got {type(merges).__name__}")
    merges = ref.as_pairs(merges)
    for m in merges:
        check(
            isinstance(m, tuple) and len(m) == 2 and all(isinstance(x, int) for x in m),
            "every merge should be a pair of int token ids",
        )
    return merges


def _same_as_reference(submission, text, vocab_size, what):
    got = _train(submission, text, vocab_size)
    expected = ref.reference_train(text, vocab_size)
    check(len(got) == len(expected), f"train_bpe learned {len(got)} merges on {what}, not the expected number")
    first = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), None)
    check(first is None, f"on {what}, merge number {first} differs from the reference trainer's")


@points(1)
def test_merge_count_matches_vocab_size(submission):
    """train_bpe returns vocab_size - 256 merges while pairs repeat, each built from existing ids; below 256 raises ValueError."""
    english = ref.corpus_slices()[0][:3_000]
    for text, vocab_size in [(english, 256), (english, 257), (english, 256 + 40), ("abcd" * 20, 256 + 3)]:
        merges = _train(submission, text, vocab_size)
        check(len(merges) == vocab_size - 256, f"train_bpe(text, {vocab_size}) returned {len(merges)} merges")
        for rank, (left, right) in enumerate(merges):
            check(
                0 <= left < 256 + rank and 0 <= right < 256 + rank,
                f"merge {rank} uses an id that is neither a byte nor an earlier merge's (new ids are 256, 257, ...)",
            )
    check(learner_raised("ValueError", submission.train_bpe, english, 255),
          "train_bpe(text, 255) should raise ValueError: the 256 byte values are always in the vocabulary")


@points(2)
def test_matches_reference_on_english(submission):
    """The merges, in order, equal the reference trainer's on English text from the course's chapters."""
    training, held_out = ref.corpus_slices()
    _same_as_reference(submission, training[:5_000], 256 + 100, "a stretch of the course's chapters")
    _same_as_reference(submission, held_out, 256 + 60, "another stretch of the course's chapters")


@points(1)
def test_matches_reference_on_other_scripts(submission):
    """The merges equal the reference's on other scripts and emoji, where one character is several bytes."""
    _same_as_reference(submission, ref.MULTILINGUAL, 256 + 80, "a multilingual text with emoji")
    for seed in (7, 8):
        text = ref.random_unicode(seed, 150) * 2
        _same_as_reference(submission, text, 256 + 40, "a random Unicode text")


@points(1)
def test_ties_go_to_smallest_pair(submission):
    """Among equally frequent pairs the smallest (left, right) is merged first, at every step."""
    texts = [
        ("xyab" * 8, 256 + 3),
        ("abba" * 6, 256 + 4),
        ("zy yz " * 5, 256 + 6),
        (ref.small_alphabet(3, 300, "ab "), 256 + 20),
        (ref.small_alphabet(4, 300, "zyx"), 256 + 20),
        (ref.small_alphabet(6, 400, "abcd"), 256 + 24),
    ]
    for text, vocab_size in texts:
        _same_as_reference(submission, text, vocab_size, "a text with equally frequent pairs")


@points(1)
def test_stops_when_no_pair_repeats(submission):
    """Training stops early once no pair occurs twice; overlapping occurrences count ('aaa' holds ('a', 'a') twice)."""
    for text in ["", "a", "abcdef", "aaa", "abab", "aaaa", "aaaaaaa", "xyxyxy", "🙂"]:
        _same_as_reference(submission, text, 1_000, "a short text")
