"""The course's retrieval evaluation set: questions about the book, with graded relevance.

Weeks 3-4 measure retrievers on the course's own chapters (the frozen corpus of
:mod:`llmcourse.book_sections`). This module loads the questions written for
that, checks every record against the corpus, and hands the judgments over in
the ``{qid: {section_id: grade}}`` form that ``pytrec_eval`` reads.

Two splits, disjoint:

* ``dev`` (``llmcourse/data/rag_eval/dev.jsonl``), shipped with the course
  library: chapters and learners tune and inspect retrievers on it;
* ``heldout`` (``autograder/suites/week04/rag_eval_heldout.jsonl``), kept
  beside the hidden suites: the week 4 RAG pipeline exercise is graded on it,
  so a learner never tunes against the questions that grade them. It is read
  from the repository checkout (:data:`HELDOUT`); a course library installed
  without the repository has only ``dev``.

One record per line::

    {"qid": "dev-001", "question": "...", "answer": "...", "type": "why",
     "qrels": {"week01/attention#the-math-derived": 2, ...},
     "evidence": {"week01/attention#the-math-derived": "an exact substring"}}

Grades: 2 means the section answers the question on its own, 1 means it is on
topic and helps without answering alone; unlisted sections are 0. Every
grade-2 section carries an evidence substring that must occur verbatim in that
section's text, so retaking the corpus snapshot after chapters change shows at
once which judgments need another look.

What it does not do: retrieve, score or compute metrics (pytrec_eval and the
week 4 exercises do), or judge whether a reference answer is right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llmcourse.book_sections import Section, load_sections
from llmcourse.gpt import REPO_ROOT

DEV = Path(__file__).resolve().parent / "data" / "rag_eval" / "dev.jsonl"
HELDOUT = REPO_ROOT / "autograder" / "suites" / "week04" / "rag_eval_heldout.jsonl"
SPLITS = {"dev": DEV, "heldout": HELDOUT}
TYPES = ("fact", "numeric", "why", "how", "compare", "multi-section")
GRADES = (1, 2)
EVIDENCE_CHARS = (15, 200)  # long enough to be specific, short enough to check by eye

Split = Literal["dev", "heldout", "all"]


@dataclass(frozen=True)
class Question:
    """One evaluation question with its graded relevant sections."""

    qid: str
    question: str
    answer: str
    type: str
    qrels: dict[str, int]      # section id -> 1 (helps) or 2 (answers)
    evidence: dict[str, str]   # section id -> verbatim supporting substring

    @property
    def relevant(self) -> list[str]:
        """The sections that answer the question on their own (grade 2)."""
        return [sid for sid, grade in self.qrels.items() if grade == 2]


def _check(record: dict, where: str, sections: dict[str, Section]) -> Question:
    """A validated :class:`Question`, or ValueError naming the qid and the problem."""
    qid = record.get("qid", "?")
    fail = lambda problem: ValueError(f"{where}: {qid}: {problem}")  # noqa: E731
    expected = {"qid", "question", "answer", "type", "qrels", "evidence"}
    if set(record) != expected:
        raise fail(f"fields {sorted(record)} differ from {sorted(expected)}")
    if not isinstance(qid, str) or not qid:
        raise fail("qid must be a non-empty string")
    if not str(record["question"]).strip() or not str(record["answer"]).strip():
        raise fail("empty question or answer")
    if record["type"] not in TYPES:
        raise fail(f"type {record['type']!r} is not one of {TYPES}")
    qrels, evidence = record["qrels"], record["evidence"]
    if not qrels:
        raise fail("no judged sections")
    for sid, grade in qrels.items():
        if sid not in sections:
            raise fail(f"unknown section id {sid!r}")
        if isinstance(grade, bool) or grade not in GRADES:
            raise fail(f"grade {grade!r} for {sid} is not one of {GRADES}")
    if 2 not in qrels.values():
        raise fail("no section with grade 2: nothing answers the question")
    for sid, grade in qrels.items():
        if grade == 2 and sid not in evidence:
            raise fail(f"grade-2 section {sid} has no evidence")
    for sid, text in evidence.items():
        if sid not in qrels:
            raise fail(f"evidence for {sid}, which is not judged relevant")
        if not isinstance(text, str) or not EVIDENCE_CHARS[0] <= len(text) <= EVIDENCE_CHARS[1]:
            raise fail(f"evidence for {sid} must be a string of {EVIDENCE_CHARS[0]}-{EVIDENCE_CHARS[1]} characters")
        if text not in sections[sid].text:
            raise fail(f"evidence for {sid} not found in the section text: {text!r}")
    return Question(qid=qid, question=record["question"], answer=record["answer"], type=record["type"],
                    qrels=dict(qrels), evidence=dict(evidence))


def read_questions(path: Path, sections: list[Section] | None = None) -> list[Question]:
    """Every record of one JSONL file, validated against the corpus (``load_sections()`` by default)."""
    by_id = {s.id: s for s in (sections if sections is not None else load_sections())}
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing (the held-out split lives in the repository, beside the hidden suites)")
    questions, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path.name}:{n}: not JSON: {error}") from error
        question = _check(record, f"{path.name}:{n}", by_id)
        if question.qid in seen:
            raise ValueError(f"{path.name}:{n}: {question.qid}: duplicate qid")
        seen.add(question.qid)
        questions.append(question)
    return questions


def load_questions(split: Split = "dev") -> list[Question]:
    """The questions of ``split`` ("dev", "heldout" or "all"), validated; qids unique across what is returned."""
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be 'dev', 'heldout' or 'all', not {split!r}")
    sections = load_sections()
    names = list(SPLITS) if split == "all" else [split]
    questions = [q for name in names for q in read_questions(SPLITS[name], sections)]
    seen = set()
    for q in questions:
        if q.qid in seen:
            raise ValueError(f"{q.qid}: duplicate qid across splits")
        seen.add(q.qid)
    return questions


def qrels_for(questions: list[Question]) -> dict[str, dict[str, int]]:
    """The judgments in pytrec_eval's format: ``{qid: {section_id: grade}}``."""
    return {q.qid: dict(q.qrels) for q in questions}
