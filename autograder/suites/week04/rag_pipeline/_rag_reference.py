"""Shared pieces of the rag_pipeline hidden suite: the corpus, the held-out questions, shape checks.

Only plain data crosses into the sandbox: section dicts and question strings. The held-out
judgments stay on this side, where recall and citation relevance are computed.
"""

from __future__ import annotations

from functools import lru_cache

from llmcourse.book_sections import load_sections
from llmcourse.rag_eval import load_questions
from llmcourse.testing import check

# Thresholds, set from the reference solution's held-out scores (see the module docstrings
# of test_rag_retrieve.py and test_rag_answer.py for the measured values and the margins).
RECALL_AT_5_MIN = 0.55
RELEVANT_CITATION_SHARE_MIN = 0.6

NO_CORPUS_WORD = "qzxv wkpfj ghrrt?"   # none of these tokens occurs in the book


@lru_cache(maxsize=1)
def section_dicts() -> tuple:
    """The frozen corpus as the dicts the notebook's SECTIONS holds."""
    return tuple({"id": s.id, "title": s.title, "text": s.text} for s in load_sections())


@lru_cache(maxsize=1)
def heldout():
    return tuple(load_questions("heldout"))


def section_text() -> dict:
    return {s["id"]: s["text"] for s in section_dicts()}


def build(submission, **settings):
    """The learner's pipeline over the whole book, as a handle into the sandbox."""
    return submission.RAGPipeline(list(section_dicts()), **settings)


_built: dict = {}


def pipeline(submission):
    """One pipeline with the default settings per submission, shared by the test modules (building is the slow part)."""
    if _built.get("owner") is not submission:   # the judge lives on: never reuse another submission's handle
        _built.clear()
        _built.update(owner=submission, pipe=build(submission))
    return _built["pipe"]


def triples(got, label: str) -> list[tuple[str, str, float]]:
    """retrieve's output as (section_id, text, score), or a failure naming what is malformed."""
    check(isinstance(got, (list, tuple)), f"{label} must return a list")
    out = []
    for item in got:
        check(isinstance(item, (list, tuple)) and len(item) == 3, f"{label} must return (section_id, passage_text, score) triples")
        sid, text, score = item
        check(isinstance(sid, str), f"{label}: the first item of each triple must be the section id (a string)")
        check(isinstance(text, str), f"{label}: the second item of each triple must be the passage text")
        check(isinstance(score, (int, float)) and not isinstance(score, bool), f"{label}: the third item must be a number")
        out.append((sid, text, float(score)))
    return out


def passage_pairs(got, label: str) -> list[tuple[str, str]]:
    check(isinstance(got, (list, tuple)), f"{label} must be a list of (section_id, text) pairs")
    out = []
    for item in got:
        check(isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item),
              f"{label} must be a list of (section_id, text) pairs")
        out.append((item[0], item[1]))
    return out


def check_reply(reply, passages, label: str, max_sentences: int = 3) -> list[tuple[str, int]]:
    """The structure extract_answer promises, checked against the passages it was given."""
    check(isinstance(reply, dict) and {"sentences", "answer", "citations"} <= set(reply),
          f"{label} must return a dict with 'sentences', 'answer' and 'citations'")
    check(isinstance(reply["sentences"], (list, tuple)), f"{label}: 'sentences' must be a list")
    sentences = []
    for item in reply["sentences"]:
        check(isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
              and isinstance(item[1], int) and not isinstance(item[1], bool),
              f"{label}: each sentence must be a (text, passage_number) pair")
        sentences.append((item[0], item[1]))
    check(len(sentences) <= max_sentences, f"{label} returned more than max_sentences sentences")
    check(len({s for s, _ in sentences}) == len(sentences), f"{label} returned the same sentence twice")
    for text, number in sentences:
        check(1 <= number <= len(passages), f"{label}: a passage number is outside 1..{len(passages)} (numbers start at 1)")
        check(bool(text.strip()) and text in passages[number - 1][1],
              f"{label}: a sentence is not a verbatim piece of the passage it cites (edited, joined or from another passage)")
    check(reply["answer"] == " ".join(f"{t} [{n}]" for t, n in sentences),
          f"{label}: 'answer' must be each sentence followed by ' [n]', joined by single spaces")
    expected = list(dict.fromkeys(passages[n - 1][0] for _, n in sentences))
    check(list(reply["citations"]) == expected,
          f"{label}: 'citations' must be the section ids of the cited passages, each once, in order of first citation")
    return sentences
