"""Hidden tests for ``verify`` (grade cell ``test_rlvr_verify``).

The format is the notebook's: the canonical integer (ASCII digits, an
optional leading minus, no leading zeros, no "-0") followed by a newline;
text after the first newline is ignored; anything else earns 0.0.
"""

import random

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_rlvr_reference.py")

# (completion, expected): well-formed and correct
CORRECT = [
    ("19\n", 19), ("0\n", 0), ("7\n", 7), ("-7\n", -7), ("100\n", 100), ("198\n", 198),
    ("-250\n", -250), ("1234567890\n", 1234567890), ("10\n", 10),
    ("19\n23+4=27\n", 19), ("5\n\n\n", 5), ("42\nthe answer is 43", 42), ("3\n 3", 3),
]

# well-formed, but not the expected number
WRONG_VALUE = [
    ("18\n", 19), ("91\n", 19), ("1\n", 19), ("9\n", 19), ("190\n", 19), ("-19\n", 19),
    ("19\n", -19), ("0\n", 10), ("10\n", 0), ("1\n", 10), ("100\n", 10),
]

# malformed: the expected number is in the text, only the format is wrong
MALFORMED = [
    ("", 19), ("\n", 19), ("19", 19), ("-\n", 0), ("-", 0),
    (" 19\n", 19), ("19 \n", 19), ("\t19\n", 19), ("19\t\n", 19), ("1 9\n", 19), ("19\r\n", 19),
    ("+19\n", 19), ("019\n", 19), ("00\n", 0), ("-0\n", 0), ("-07\n", -7), ("--7\n", -7), ("- 7\n", -7),
    ("1_9\n", 19), ("1,000\n", 1000), ("19.0\n", 19), ("19.\n", 19), ("1e1\n", 10),
    ("\u0661\u0669\n", 19), ("\uff11\uff19\n", 19), ("\u00b9\u2079\n", 19), ("x19\n", 19), ("19x\n", 19),
    ("0x13\n", 19),
]

# reward hacking: answers that hedge, repeat or decorate the number
HACKS = [
    ("19 or 20\n", 19), ("20 or 19\n", 19), ("18,19,20\n", 19), ("19 19\n", 19), ("1919\n", 19),
    ("the answer is 19\n", 19), ("19 (final)\n", 19), ("=19\n", 19), ("19=19\n", 19),
    ("19+0\n", 19), ("-19+38\n", 19), ("(19)\n", 19), ("19;\n", 19), ("19!\n", 19),
]


def rewards_of(submission, cases):
    return [submission.verify(text, expected) for text, expected in cases]


@points(1)
def test_rlvr_verify_accepts_correct_answers(submission):
    """A correct answer in the format earns exactly 1.0 (a float), whatever follows the first newline."""
    for (text, expected), got in zip(CORRECT, rewards_of(submission, CORRECT)):
        check(type(got) is float, "verify must return a Python float")
        check(got == 1.0, f"a correct, well-formed answer ({len(text)} characters) earned {got!r}, not 1.0")


@points(1)
def test_rlvr_verify_rejects_wrong_values(submission):
    """A well-formed answer with the wrong value (a prefix, an extra digit, the wrong sign) earns 0.0."""
    got = rewards_of(submission, WRONG_VALUE)
    bad = sum(value != 0.0 for value in got)
    check(bad == 0, f"{bad} of {len(WRONG_VALUE)} well-formed wrong answers earned a reward other than 0.0")


@points(2)
def test_rlvr_verify_rejects_malformed_answers(submission):
    """Malformed answers earn 0.0: missing terminator, whitespace, '+', leading zeros, '-0', separators, decimals, non-ASCII digits."""
    got = rewards_of(submission, MALFORMED)
    bad = [i for i, value in enumerate(got) if value != 0.0]
    check(not bad, f"{len(bad)} of {len(MALFORMED)} malformed answers that contain the right number earned a reward")


@points(1)
def test_rlvr_verify_resists_reward_hacking(submission):
    """Hedged, repeated or decorated answers ('19 or 20', 'the answer is 19', ...) earn 0.0, and so do random strings outside the format."""
    got = rewards_of(submission, HACKS)
    bad = sum(value != 0.0 for value in got)
    check(bad == 0, f"{bad} of {len(HACKS)} hedged or decorated answers earned a reward")
    rng = random.Random(7)
    alphabet = "0123456789" * 3 + "-- \n\n+_.x"
    cases = []
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        value = ref.canonical_answer(text)
        # half the time ask for the number the string seems to state, so that format alone decides
        numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in text).split()]
        expected = value if value is not None else (numbers[0] if numbers else 0)
        cases.append((text, expected if rng.random() < 0.5 else rng.randint(-99, 99)))
    got = rewards_of(submission, cases)
    disagree = sum(g != ref.reward(text, expected) for g, (text, expected) in zip(got, cases))
    check(disagree == 0, f"verify disagrees with the documented format on {disagree} of {len(cases)} random strings")
