"""The retrieval evaluation set (llmcourse/rag_eval.py): its data and its validator.

The questions and judgments are hand-written data that the week 4 chapters
and the rag_pipeline exercise rely on; these tests keep them honest: both
splits load and validate against the frozen corpus, they are disjoint, they
cover the whole book, the validator rejects every kind of broken record, and
BM25 finds some but not all of the relevant sections (so the set is neither
trivially lexical nor hopeless).
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from llmcourse import rag_eval
from llmcourse.book_sections import load_sections
from llmcourse.rag_eval import load_questions, qrels_for, read_questions
from llmcourse.retrieval import BM25, words

MAX_PER_CHAPTER = 8  # no chapter should dominate the set


@pytest.fixture(scope="module")
def sections():
    return load_sections()


@pytest.fixture(scope="module")
def dev():
    return load_questions("dev")


@pytest.fixture(scope="module")
def heldout():
    return load_questions("heldout")


def test_both_splits_load_and_validate(dev, heldout):
    assert len(dev) >= 48
    assert len(heldout) >= 24
    everything = load_questions("all")
    assert len(everything) == len(dev) + len(heldout) >= 72
    assert all(q.qid.startswith("dev-") for q in dev)
    assert all(q.qid.startswith("heldout-") for q in heldout)


def test_qids_unique_and_splits_disjoint(dev, heldout):
    qids = [q.qid for q in dev + heldout]
    assert len(qids) == len(set(qids))
    normalise = lambda text: " ".join(words(text))  # noqa: E731
    dev_texts = {normalise(q.question) for q in dev}
    held_texts = {normalise(q.question) for q in heldout}
    assert len(dev_texts) == len(dev) and len(held_texts) == len(heldout), "a question is repeated within a split"
    assert not dev_texts & held_texts, "a question appears in both splits"


def test_every_chapter_is_covered_and_none_dominates(sections, dev, heldout):
    per_chapter = Counter(chapter for q in dev + heldout for chapter in {sid.split("#")[0] for sid in q.relevant})
    chapters = {s.chapter for s in sections}
    assert chapters <= set(per_chapter), f"chapters without a question: {sorted(chapters - set(per_chapter))}"
    assert max(per_chapter.values()) <= MAX_PER_CHAPTER, per_chapter.most_common(3)


def test_each_question_has_an_answering_section_with_evidence(dev, heldout, sections):
    text = {s.id: s.text for s in sections}
    for q in dev + heldout:
        assert q.relevant, q.qid
        for sid in q.relevant:
            assert q.evidence[sid] in text[sid], (q.qid, sid)


def test_both_splits_mix_question_types(dev, heldout):
    for split in (dev, heldout):
        types = Counter(q.type for q in split)
        assert {"fact", "why", "how", "compare"} <= set(types), types
        assert max(types.values()) <= 0.5 * len(split), types


def test_qrels_are_in_pytrec_eval_format(dev):
    qrels = qrels_for(dev)
    assert set(qrels) == {q.qid for q in dev}
    assert all(isinstance(g, int) and g in (1, 2) for judged in qrels.values() for g in judged.values())


# --- the validator -----------------------------------------------------------------------------

def _good_record(sections) -> dict:
    section = sections[0]
    return {"qid": "dev-001", "question": "What will I be able to do?", "answer": "Several things.", "type": "fact",
            "qrels": {section.id: 2}, "evidence": {section.id: section.text[:40]}}


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_validator_accepts_a_good_record(tmp_path, sections):
    questions = read_questions(_write(tmp_path / "good.jsonl", [_good_record(sections)]), sections)
    assert [q.qid for q in questions] == ["dev-001"]


def _unknown_section(r, s):
    r["qrels"]["week99/nowhere#nothing"] = 1


def _grade_three(r, s):
    r["qrels"][s[0].id] = 3


def _grade_zero(r, s):
    r["qrels"][s[1].id] = 0


def _no_evidence(r, s):
    r["evidence"] = {}


def _evidence_elsewhere(r, s):
    r["evidence"][s[0].id] = s[1].text[-60:]


def _only_grade_one(r, s):
    r["qrels"] = {s[0].id: 1}
    r["evidence"] = {}


def _unknown_type(r, s):
    r["type"] = "trivia"


def _missing_field(r, s):
    del r["answer"]


@pytest.mark.parametrize("breaks, message", [
    (_unknown_section, "unknown section id"),
    (_grade_three, "grade 3"),
    (_grade_zero, "grade 0"),
    (_no_evidence, "has no evidence"),
    (_evidence_elsewhere, "not found in the section text"),
    (_only_grade_one, "no section with grade 2"),
    (_unknown_type, "type 'trivia'"),
    (_missing_field, "fields"),
])
def test_validator_rejects_a_broken_record(tmp_path, sections, breaks, message):
    record = _good_record(sections)
    breaks(record, sections)
    with pytest.raises(ValueError, match=message) as error:
        read_questions(_write(tmp_path / "broken.jsonl", [record]), sections)
    assert "dev-001" in str(error.value), "the error must name the qid"


def test_validator_rejects_duplicate_qids(tmp_path, sections):
    record = _good_record(sections)
    with pytest.raises(ValueError, match="dev-001: duplicate qid"):
        read_questions(_write(tmp_path / "dup.jsonl", [record, dict(record, question="Another question?")]), sections)


def test_load_rejects_a_qid_repeated_across_splits(tmp_path, sections, monkeypatch, dev):
    record = dict(_good_record(sections), qid=dev[0].qid)
    monkeypatch.setitem(rag_eval.SPLITS, "heldout", _write(tmp_path / "heldout.jsonl", [record]))
    with pytest.raises(ValueError, match=f"{dev[0].qid}: duplicate qid across splits"):
        load_questions("all")


def test_load_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="split must be"):
        load_questions("test")


# --- the judgments are not trivial --------------------------------------------------------------

def test_bm25_recall_at_10_is_neither_hopeless_nor_perfect(sections, dev):
    """If BM25 finds everything, the questions copy the chapters' words; if it finds little, they are obscure."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    bm25 = BM25([words(s.text) for s in sections])
    run = {}
    for q in dev:
        ranked = bm25.search(words(q.question), 100)
        run[q.qid] = {sections[i].id: float(len(ranked) - rank) for rank, (i, _) in enumerate(ranked)}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels_for(dev), {"recall.10", "ndcg_cut.10"})
    results = evaluator.evaluate(run)
    recall = float(np.mean([r["recall_10"] for r in results.values()]))
    ndcg = float(np.mean([r["ndcg_cut_10"] for r in results.values()]))
    assert 0.3 <= recall <= 0.98, recall
    assert 0.0 < ndcg < 1.0, ndcg
