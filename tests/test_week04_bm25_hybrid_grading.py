"""The week04/bm25_hybrid exercise, graded end to end through the real engine.

A differently written correct solution (an inverted index of postings in
plain Python, heapq for the top k, explicit first-seen maps for the fusions,
a per-candidate MMR loop) must earn full marks; each realistic mistake must
lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week04/bm25_hybrid")
SOLUTION = EXERCISE.source_path

POSTINGS = {
    "bm25_index": '''
import heapq
from collections import defaultdict


class BM25Index:
    def __init__(self, corpus_tokens, k1=1.5, b=0.75, epsilon=0.25):
        self.k1, self.b, self.n = k1, b, len(corpus_tokens)
        self.lengths = [len(doc) for doc in corpus_tokens]
        self.avg = sum(self.lengths) / self.n
        self.postings = defaultdict(list)          # term -> [(document, count)]
        for doc_id, doc in enumerate(corpus_tokens):
            for term, count in Counter(doc).items():
                self.postings[term].append((doc_id, count))
        raw = {t: math.log(self.n - len(p) + 0.5) - math.log(len(p) + 0.5) for t, p in self.postings.items()}
        mean = sum(raw.values()) / len(raw)
        self.weight = {t: v if v >= 0 else epsilon * mean for t, v in raw.items()}

    def scores(self, query_tokens):
        out = [0.0] * self.n
        for term in query_tokens:
            for doc_id, count in self.postings.get(term, ()):
                saturation = count + self.k1 * (1 - self.b + self.b * self.lengths[doc_id] / self.avg)
                out[doc_id] += self.weight[term] * count * (self.k1 + 1) / saturation
        return out

    def top_k(self, query_tokens, k):
        s = self.scores(query_tokens)
        return [(i, s[i]) for i in heapq.nsmallest(k, range(self.n), key=lambda i: (-s[i], i))]
''',
    "rrf": '''
from collections import defaultdict


def reciprocal_rank_fusion(rankings, k=60):
    total, first = defaultdict(float), {}
    for ranking in rankings:
        for position, (doc_id, _) in enumerate(ranking):
            first.setdefault(doc_id, len(first))
            total[doc_id] += 1 / (k + position + 1)
    return [(d, total[d]) for d in sorted(total, key=lambda d: (-total[d], first[d]))]
''',
    "minmax": '''
def minmax_fusion(score_lists, weights):
    if len(weights) != len(score_lists):
        raise ValueError("one weight per result list")
    total, first = {}, {}
    for pairs, w in zip(score_lists, weights):
        if len(pairs) == 0:
            continue
        s = np.array([v for _, v in pairs], dtype=float)
        span = s.max() - s.min()
        normalised = (s - s.min()) / span if span > 0 else np.ones_like(s)
        for (d, _), v in zip(pairs, normalised):
            first.setdefault(d, len(first))
            total[d] = total.get(d, 0.0) + w * float(v)
    return [(d, total[d]) for d in sorted(total, key=lambda d: (-total[d], first[d]))]
''',
    "mmr": '''
def mmr(query_vec, doc_vecs, lambda_, k):
    def cos(a, b):
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    relevance = [cos(query_vec, d) for d in doc_vecs]
    chosen, remaining = [], list(range(len(doc_vecs)))
    while remaining and len(chosen) < k:
        if not chosen:
            best = max(remaining, key=lambda i: (relevance[i], -i))
        else:
            def value(i):
                return lambda_ * relevance[i] - (1 - lambda_) * max(cos(doc_vecs[i], doc_vecs[j]) for j in chosen)
            best = max(remaining, key=lambda i: (value(i), -i))
        chosen.append(best)
        remaining.remove(best)
    return chosen
''',
}

WRONG = {
    # Negative idfs kept: a term in most documents now lowers their scores.
    "bm25_no_idf_floor": (
        edited(SOLUTION, "bm25_index", (
            "self.idf = {term: (floor if value < 0 else value) for term, value in raw.items()}", "self.idf = raw")),
        {"test_bm25_floors_negative_idf", "test_bm25_matches_rank_bm25_on_course_text"},
    ),
    # Length normalised by the raw document length, not relative to the average length.
    "bm25_length_without_avgdl": (
        edited(SOLUTION, "bm25_index", ("self.b * self.doc_len / self.avgdl", "self.b * self.doc_len")),
        {"test_bm25_matches_rank_bm25_on_random_corpora", "test_bm25_matches_rank_bm25_for_other_parameters",
         "test_bm25_matches_rank_bm25_on_course_text", "test_bm25_top_k_agrees_with_sorted_scores"},
    ),
    # The query treated as a set of terms: a repeated query token counts once.
    "bm25_query_terms_once": (
        edited(SOLUTION, "bm25_index", ("for term in query_tokens:", "for term in set(query_tokens):")),
        {"test_bm25_counts_repeated_query_terms", "test_bm25_matches_rank_bm25_on_random_corpora"},
    ),
    # Ranks counted from 0: every contribution is 1 / (k + rank - 1).
    "rrf_rank_from_zero": (
        edited(SOLUTION, "rrf", ("enumerate(ranking, start=1)", "enumerate(ranking)")),
        {"test_bm25_rrf_matches_its_definition"},
    ),
    # The retriever's score where the rank belongs: the fusion depends on the scores' scale.
    "rrf_uses_scores": (
        edited(SOLUTION, "rrf", ("1.0 / (k + rank)", "1.0 / (k + _score)")),
        {"test_bm25_rrf_matches_its_definition", "test_bm25_rrf_uses_only_ranks"},
    ),
    # Redundancy as the sum of similarities to every picked document instead of the closest one.
    "mmr_sum_of_similarities": (
        edited(SOLUTION, "mmr", ("similar[:, picked].max(axis=1)", "similar[:, picked].sum(axis=1)")),
        {"test_bm25_mmr_each_pick_maximises_the_objective"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"postings": POSTINGS}, WRONG
)
