"""Hidden tests for ``RAGPipeline.answer`` end to end (grade cell ``test_rag_answer``).

Asked the held-out questions, every answer must cite only sections that ``retrieve`` returned
for that question, copy each sentence from the passage it cites, and keep the passages within
the budget; a share of the answers must cite a section the held-out judgments call relevant.

Threshold: the reference solution's answers cite at least one judged-relevant section for
24 of the 28 held-out questions (0.86; 0.75 on the development questions). A share near 0.8
over 28 questions has a standard error of about 0.075, so RELEVANT_CITATION_SHARE_MIN = 0.6 sits
more than three standard errors below the reference: answerers that score sentences differently
pass, while one that cites passage numbers instead of section ids, or a retriever that misses
most relevant sections, does not.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_rag_reference.py")


def reply_for(pipe, question, k=5, budget=2000):
    reply = pipe.answer(question, k=k, budget_chars=budget)
    check(isinstance(reply, dict) and "passages" in reply, "answer must return the dict of extract_answer with 'passages' added")
    passages = ref.passage_pairs(reply["passages"], "answer(...)['passages']")
    ref.check_reply(reply, passages, "answer")
    return reply, passages


@points(1)
def test_rag_answer_cites_retrieved_passages(submission):
    """Every citation is the id of a section retrieved for that question, and every answer sentence is copied from the passage it cites."""
    pipe = ref.pipeline(submission)
    for q in ref.heldout():
        retrieved = [sid for sid, _, _ in ref.triples(pipe.retrieve(q.question, 5), "retrieve")]
        reply, passages = reply_for(pipe, q.question)
        check(all(isinstance(c, str) for c in reply["citations"]), "citations must be section ids (strings), not passage numbers")
        check(set(reply["citations"]) <= set(retrieved), "an answer cites a section that was not retrieved for the question")
        check(len(reply["sentences"]) >= 1, "a question about the book must get at least one cited sentence")


@points(1)
def test_rag_answer_keeps_the_budget(submission):
    """The passages given to the answerer are the retrieved ones that fit in budget_chars, in rank order, and never exceed it."""
    pipe = ref.pipeline(submission)
    for q in ref.heldout()[::3]:
        retrieved = [(sid, text) for sid, text, _ in ref.triples(pipe.retrieve(q.question, 5), "retrieve")]
        for budget in (0, 300, 900, 2000, 5000):
            _, passages = reply_for(pipe, q.question, budget=budget)
            check(sum(len(t) for _, t in passages) <= budget, f"with budget_chars={budget} the passages are longer in total than the budget")
            check(passages == retrieved[:len(passages)], "the passages must be the retrieved ones, whole and in rank order")
            if len(passages) < len(retrieved):
                check(sum(len(t) for _, t in passages) + len(retrieved[len(passages)][1]) > budget,
                      "a retrieved passage that fits in the budget was left out")


@points(1)
def test_rag_answer_cites_relevant_sections(submission):
    """Most answers to the held-out questions cite at least one section the judgments call relevant."""
    pipe = ref.pipeline(submission)
    questions = ref.heldout()
    hits = 0
    for q in questions:
        reply, _ = reply_for(pipe, q.question)
        hits += any(q.qrels.get(c, 0) >= 1 for c in reply["citations"] if isinstance(c, str))
    check(hits / len(questions) >= ref.RELEVANT_CITATION_SHARE_MIN,
          f"fewer than {ref.RELEVANT_CITATION_SHARE_MIN:.0%} of the held-out answers cite a relevant section")


@points(1)
def test_rag_answer_abstains_without_support(submission):
    """An empty question or one with no word of the corpus gets an empty answer with no citations (no exception); the same question gets the same answer."""
    pipe = ref.pipeline(submission)
    for question in ("", ref.NO_CORPUS_WORD):
        reply, passages = reply_for(pipe, question)
        check(reply["answer"] == "" and list(reply["citations"]) == [] and passages == [],
              "a question with nothing to retrieve must get an empty answer, no passages and no citations")
    q = ref.heldout()[0].question
    check(pipe.answer(q) == pipe.answer(q), "the same question must get the same answer")
