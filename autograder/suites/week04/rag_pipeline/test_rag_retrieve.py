"""Hidden tests for ``RAGPipeline`` construction and ``retrieve`` (grade cell ``test_rag_retrieve``).

The pipeline is built in the sandbox over the book's sections; only the held-out questions'
text crosses the seam, and recall@5 is computed here with pytrec_eval against the held-out
judgments (grades 1 and 2 count as relevant).

Threshold: the reference solution (BM25 over whole sections to rank, BM25 over 800-character
chunks with 200 of overlap to pick each section's passage) scores recall@5 = 0.737 on the 28
held-out questions; plain chunk-level BM25 with one passage per section scores 0.69 to 0.75
depending on the chunk size, and retrieval by section title alone 0.15. Per-question recall has
a standard deviation of 0.33, so the mean over 28 questions has a standard error of about
0.063: RECALL_AT_5_MIN = 0.55 sits almost three standard errors below the reference, low enough
that no reasonable keyword pipeline fails by bad luck and high enough that a retriever missing
most of the text does.
"""

import numpy as np
import pytrec_eval

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.rag_eval import qrels_for
from llmcourse.testing import check

ref = suite_helper(__file__, "_rag_reference.py")


def results(submission, k=5):
    pipe = ref.pipeline(submission)
    return {q.qid: ref.triples(pipe.retrieve(q.question, k), f"retrieve(question, k={k})") for q in ref.heldout()}


@points(1)
def test_rag_retrieve_returns_verbatim_passages(submission):
    """retrieve returns at most k (section_id, passage, score) triples, best first: each passage a verbatim slice of the named section, at most chunk_size characters."""
    text = ref.section_text()
    pipe = ref.pipeline(submission)
    for n, q in enumerate(ref.heldout()):
        for k in ((1, 5, 10) if n < 6 else (5,)):
            got = ref.triples(pipe.retrieve(q.question, k), f"retrieve(question, k={k})")
            check(1 <= len(got) <= k, f"retrieve(question, k={k}) must return between 1 and k results for a question about the book")
            for sid, passage, _ in got:
                check(sid in text, "retrieve returned a section id that is not in the corpus (an index or a chunk number?)")
                check(bool(passage.strip()) and passage in text[sid], "a returned passage is not a verbatim slice of the section it names")
                check(len(passage) <= 800, "a returned passage is longer than chunk_size (800 by default)")
            scores = [s for _, _, s in got]
            check(all(a >= b for a, b in zip(scores, scores[1:])), "scores must never increase down the list")


@points(1)
def test_rag_retrieve_one_passage_per_section(submission):
    """Each section appears at most once in the results, however many of its chunks match."""
    pipe = ref.pipeline(submission)
    for k in (5, 10):
        for q in ref.heldout():
            ids = [sid for sid, _, _ in ref.triples(pipe.retrieve(q.question, k), f"retrieve(question, k={k})")]
            check(len(ids) == len(set(ids)), f"retrieve(question, k={k}) returned the same section more than once")


@points(1)
def test_rag_retrieve_honours_chunk_size(submission):
    """Other chunk sizes are honoured (no passage longer than chunk_size), and overlap >= chunk_size raises ValueError."""
    text = ref.section_text()
    small = ref.build(submission, chunk_size=300, overlap=60)
    for q in ref.heldout()[:10]:
        for sid, passage, _ in ref.triples(small.retrieve(q.question, 5), "retrieve with chunk_size=300"):
            check(sid in text and passage in text[sid], "a returned passage is not a verbatim slice of the section it names")
            check(len(passage) <= 300, "with chunk_size=300 a returned passage is longer than 300 characters")
    sections = list(ref.section_dicts()[:3])
    check(learner_raised("ValueError", submission.RAGPipeline, sections, chunk_size=200, overlap=200),
          "overlap equal to chunk_size must raise ValueError")
    check(learner_raised("ValueError", submission.RAGPipeline, sections, chunk_size=200, overlap=-1),
          "a negative overlap must raise ValueError")


@points(2)
def test_rag_retrieve_recall_at_5_on_held_out_questions(submission):
    """Recall@5 over the held-out questions (which you never see) reaches the threshold set from the reference pipeline's score."""
    questions = ref.heldout()
    run = {}
    for qid, got in results(submission).items():
        ranked = {}
        for rank, (sid, _, _) in enumerate(got[:5]):
            ranked.setdefault(sid, float(10 - rank))     # strictly falling: pytrec_eval keeps the learner's order
        run[qid] = ranked
    found = pytrec_eval.RelevanceEvaluator(qrels_for(list(questions)), {"recall_5"}).evaluate(run)
    recall = float(np.mean([found.get(q.qid, {}).get("recall_5", 0.0) for q in questions]))
    check(recall >= ref.RECALL_AT_5_MIN,
          f"recall@5 on the held-out questions is below {ref.RECALL_AT_5_MIN:.2f} (tune on DEV, not by resubmitting)")


@points(1)
def test_rag_retrieve_empty_questions_and_determinism(submission):
    """An empty question or one with no word of the corpus retrieves nothing (no exception), and a second pipeline built from the same sections returns the same results."""
    pipe = ref.pipeline(submission)
    for question in ("", "   ", "?!", ref.NO_CORPUS_WORD):
        check(ref.triples(pipe.retrieve(question, 5), "retrieve") == [],
              "a question sharing no word with the corpus must retrieve nothing")
    again = ref.build(submission)
    for q in ref.heldout()[::4]:
        check(ref.triples(again.retrieve(q.question, 5), "retrieve") == ref.triples(pipe.retrieve(q.question, 5), "retrieve"),
              "two pipelines built from the same sections returned different results for the same question")
