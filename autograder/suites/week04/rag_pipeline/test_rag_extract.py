"""Hidden tests for ``extract_answer`` (grade cell ``test_rag_extract``).

The answer's structure is checked against the passages it was given (verbatim sentences,
numbers from 1, the answer string and the citation list as specified); selection is checked on
made-up passages where one sentence holds every rare word of the question and the others share
only common words with it, and on real passages of the book.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_rag_reference.py")

HARBOUR = [
    ("port#overview", "The harbour has three piers. Ships wait in deep water at the outer mole.\nThe pilot boards there."),
    ("port#tides", "Tides are strong in spring. The lock gate closes two hours before low water! Why? Silt."),
    ("port#crane", "The old crane lifts forty tonnes. It was painted green in 1962.\n\nCranes need oil."),
]
QUESTION = "When does the lock gate close before low water?"


def is_empty(reply):
    """The empty answer: no sentences, no text, no citations."""
    return (isinstance(reply, dict) and list(reply.get("sentences", [None])) == [] and reply.get("answer") == ""
            and list(reply.get("citations", [None])) == [])


def book_passages(ids):
    text = ref.section_text()
    return [(sid, text[sid][200:1400]) for sid in ids]


@points(1)
def test_rag_extract_sentences_are_verbatim_and_cited(submission):
    """Every sentence is a verbatim piece of the passage it cites; the answer string and the citation list are built from the sentences as specified."""
    cases = [
        (QUESTION, HARBOUR),
        ("crane tonnes painted piers", HARBOUR),
        ("Why is the attention score divided by the square root of the key dimension?",
         book_passages(["week01/attention#the-math-derived", "week01/multihead_attention#the-math", "week06/kv_cache#the-math"])),
        ("What does a KV cache store, and how much memory does it take per token?",
         book_passages(["week06/kv_cache#the-math", "week06/kv_cache#the-production-view", "week01/attention#masks-deciding-who-may-look-at-whom"])),
    ]
    for question, passages in cases:
        for limit in (1, 3, 5):
            reply = submission.extract_answer(question, passages, limit)
            sentences = ref.check_reply(reply, passages, "extract_answer", limit)
            check(len(sentences) >= 1, "a question that shares words with the passages must get at least one sentence")


@points(1)
def test_rag_extract_picks_the_best_sentence(submission):
    """The sentence that matches the question best comes first, and max_sentences is honoured."""
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        passages = [HARBOUR[i] for i in order]
        reply = submission.extract_answer(QUESTION, passages, 2)
        sentences = ref.check_reply(reply, passages, "extract_answer", 2)
        check(len(sentences) == 2, "with max_sentences=2 and several matching sentences, two are returned")
        text, number = sentences[0]
        check("lock gate" in text and passages[number - 1][0] == "port#tides",
              "the sentence holding the question's rare words must come first, cited to its own passage")
    one = submission.extract_answer("old crane forty tonnes", HARBOUR, 1)
    sentences = ref.check_reply(one, HARBOUR, "extract_answer", 1)
    check(len(sentences) == 1 and "forty tonnes" in sentences[0][0], "with max_sentences=1 the single best sentence is returned")


@points(1)
def test_rag_extract_says_nothing_without_support(submission):
    """No passages, an empty question or a question sharing no word with the passages gives an empty answer with no citations; the same call gives the same answer."""
    check(is_empty(submission.extract_answer(QUESTION, [], 3)), "no passages must give an empty answer and no citations")
    check(is_empty(submission.extract_answer("", HARBOUR, 3)), "an empty question must give an empty answer and no citations")
    check(is_empty(submission.extract_answer(ref.NO_CORPUS_WORD, HARBOUR, 3)),
          "a question sharing no word with the passages must give an empty answer and no citations")
    first = submission.extract_answer(QUESTION, HARBOUR, 3)
    check(submission.extract_answer(QUESTION, HARBOUR, 3) == first, "the same call must return the same answer")
