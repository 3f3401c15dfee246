"""The week04/rag_pipeline exercise, graded end to end through the real engine.

A differently written correct solution (the budget by running sums, sentences found by a
regular expression over the text, scoring by shared words of four letters or more, and a
retriever that ranks chunks only, keeping each section at its best chunk) must earn full
marks; each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week04/rag_pipeline")
SOLUTION = EXERCISE.source_path

CHUNKS_ONLY = {
    "rag_budget": '''
from itertools import accumulate


def fit_to_budget(retrieved, budget_chars):
    if budget_chars < 0:
        raise ValueError("negative budget")
    ends = list(accumulate(len(text) for _, text, _ in retrieved))
    fitting = sum(1 for _ in __import__("itertools").takewhile(lambda end: end <= budget_chars, ends))
    return [(sid, text) for sid, text, _ in retrieved[:fitting]]
''',
    "rag_extract": '''
SENTENCE = re.compile(r"(?:[^\\n.!?]|[.!?](?=\\S))+[.!?]*")   # a dot inside "1.21" does not end a sentence


def split_sentences(text):
    return [m.group().strip() for m in SENTENCE.finditer(text) if m.group().strip()]


def extract_answer(question, passages, max_sentences=3):
    wanted = {w for w in words(question) if len(w) >= 4}
    scored = []
    for number, (_, text) in enumerate(passages, start=1):
        for order, sentence in enumerate(split_sentences(text)):
            overlap = len(wanted.intersection(words(sentence)))
            if overlap:
                scored.append(((-overlap, len(sentence), number, order), sentence, number))
    picked = []
    for _, sentence, number in sorted(scored):
        if all(sentence != s for s, _ in picked) and len(picked) < max_sentences:
            picked.append((sentence, number))
    cited = []
    for _, number in picked:
        if passages[number - 1][0] not in cited:
            cited.append(passages[number - 1][0])
    return {"sentences": picked, "answer": " ".join(f"{s} [{n}]" for s, n in picked), "citations": cited}
''',
    "rag_pipeline": '''
class RAGPipeline:
    def __init__(self, sections, chunk_size=800, overlap=200):
        if overlap < 0 or overlap >= chunk_size:
            raise ValueError("need 0 <= overlap < chunk_size")
        self.pieces = []                      # (section id, chunk text)
        for section in sections:
            text, start = section["text"], 0
            while True:
                self.pieces.append((section["id"], section["title"], text[start:start + chunk_size]))
                if start + chunk_size >= len(text):
                    break
                start += chunk_size - overlap
        self.index = BM25([words(title + " " + chunk) for _, title, chunk in self.pieces])

    def retrieve(self, question, k=5):
        scores = self.index.scores(words(question))
        out, seen = [], set()
        for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)):
            if scores[i] <= 0 or len(out) == k:
                break
            sid, _, chunk = self.pieces[i]
            if sid not in seen:
                seen.add(sid)
                out.append((sid, chunk, float(scores[i])))
        return out

    def answer(self, question, k=5, budget_chars=2000, max_sentences=3):
        passages = fit_to_budget(self.retrieve(question, k), budget_chars)
        result = extract_answer(question, passages, max_sentences)
        result["passages"] = passages
        return result
''',
}

WRONG = {
    # Citations as the passage numbers the answer's markers use, not the sections' ids.
    "citations_are_numbers": (
        edited(SOLUTION, "rag_extract", (
            "citations = list(dict.fromkeys(passages[number - 1][0] for _, number in chosen))",
            "citations = list(dict.fromkeys(number for _, number in chosen))")),
        {"test_rag_extract_sentences_are_verbatim_and_cited", "test_rag_answer_cites_retrieved_passages",
         "test_rag_answer_cites_relevant_sections"},
    ),
    # Every retrieved passage goes into the prompt, whatever the budget.
    "budget_ignored": (
        edited(SOLUTION, "rag_budget", ("        if used + len(text) > budget_chars:\n            break  # rank order is the contract: a later, shorter passage does not jump the queue\n", "")),
        {"test_rag_budget_keeps_the_longest_prefix_that_fits", "test_rag_budget_edge_cases",
         "test_rag_answer_keeps_the_budget"},
    ),
    # The chosen sentences merged into one fluent answer, cited to the best one's passage.
    "sentences_joined": (
        edited(SOLUTION, "rag_extract", (
            "    citations = list(",
            "    if chosen:\n        chosen = [(\" \".join(s for s, _ in chosen), chosen[0][1])]\n    citations = list(")),
        {"test_rag_extract_sentences_are_verbatim_and_cited", "test_rag_extract_picks_the_best_sentence",
         "test_rag_answer_cites_retrieved_passages"},
    ),
    # Chunks ranked and returned as they come: several chunks of one section fill the top k.
    "no_dedupe_by_section": (
        {"rag_pipeline": CHUNKS_ONLY["rag_pipeline"].replace(
            "            if sid not in seen:\n                seen.add(sid)\n                out.append((sid, chunk, float(scores[i])))",
            "            out.append((sid, chunk, float(scores[i])))")},
        {"test_rag_retrieve_one_passage_per_section"},
    ),
    # Sections ranked by their titles alone: most questions share few words with a heading.
    "retrieval_by_title": (
        edited(SOLUTION, "rag_pipeline", (
            'self.section_index = BM25([words(section["text"]) for section in sections])',
            'self.section_index = BM25([words(section["title"]) for section in sections])')),
        {"test_rag_retrieve_recall_at_5_on_held_out_questions", "test_rag_answer_cites_relevant_sections"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"chunks_only": CHUNKS_ONLY}, WRONG
)
