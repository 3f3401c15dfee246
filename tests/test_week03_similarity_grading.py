"""The week03/similarity exercise, graded end to end through the real engine.

A differently written correct solution (cosine by dividing the dot products
by the product of the lengths, distances from explicit differences, top-k by
a full lexicographic sort, batches from np.array_split) must earn full marks;
each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week03/similarity")
SOLUTION = EXERCISE.source_path

DIFFERENTLY_WRITTEN = {
    "metrics": '''
def dot_similarity(A, B):
    A, B = as_matrices(A, B)
    return np.einsum("id,jd->ij", A, B)


def cosine_similarity(A, B):
    A, B = as_matrices(A, B)
    lengths_a = np.sqrt(np.einsum("id,id->i", A, A))
    lengths_b = np.sqrt(np.einsum("jd,jd->j", B, B))
    denominator = np.outer(lengths_a, lengths_b)    # lengths, not squared lengths: no overflow
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0, (A @ B.T) / safe).astype(A.dtype)


def l2_distance(A, B):
    A, B = as_matrices(A, B)
    out = np.empty((len(A), len(B)), dtype=A.dtype)
    for i, row in enumerate(A):          # one row of A at a time: no expansion, no cancellation
        out[i] = np.linalg.norm(B - row, axis=1)
    return out
''',
    "top_k": '''
def top_k(scores, k, largest=True):
    scores = np.asarray(scores)
    columns = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    primary = -scores if largest else scores
    order = np.lexsort((columns, primary), axis=1)[:, :k]   # by score, then by column
    return order.astype(np.int64), np.take_along_axis(scores, order, axis=1)
''',
    "search": '''
def search(queries, corpus, k, metric="cosine", batch_size=1024):
    if metric == "cosine":
        scorer, largest = cosine_similarity, True
    elif metric == "dot":
        scorer, largest = dot_similarity, True
    elif metric == "l2":
        scorer, largest = l2_distance, False
    else:
        raise ValueError(metric)
    queries, corpus = as_matrices(queries, corpus)
    pieces = np.array_split(np.arange(len(queries)), max(1, -(-len(queries) // batch_size)))
    results = [top_k(scorer(queries[rows], corpus), k, largest) for rows in pieces]
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])
''',
}

UNSORTED_ARGPARTITION = {
    "top_k": '''
def top_k(scores, k, largest=True):
    scores = np.asarray(scores)
    k = min(k, scores.shape[1])
    cost = -scores if largest else scores
    picked = np.argpartition(cost, k - 1, axis=1)[:, :k]   # the k best, in no particular order
    return picked, np.take_along_axis(scores, picked, axis=1)
''',
}

UNSTABLE_SORT = {
    "top_k": '''
def top_k(scores, k, largest=True):
    scores = np.asarray(scores)
    order = np.argsort(-scores if largest else scores, axis=1)[:, :k]   # default sort: not stable
    return order, np.take_along_axis(scores, order, axis=1)
''',
}

WRONG = {
    # Divides by a zero length: 0/0 gives NaN for every zero vector.
    "cosine_without_zero_guard": (
        edited(SOLUTION, "metrics", ("return X / np.where(lengths > 0, lengths, 1)", "return X / lengths")),
        {"test_sim_metrics_zero_vectors", "test_sim_search_edge_cases"},
    ),
    # The expansion without a clamp: tiny negative squares, and NaN after the square root.
    "l2_expansion_not_clamped": (
        edited(SOLUTION, "metrics", ("return np.sqrt(np.maximum(squared, 0))", "return np.sqrt(squared)")),
        {"test_sim_l2_survives_cancellation"},
    ),
    # Sorts ascending whatever `largest` says: similarities come back worst first.
    "ascending_when_largest": (
        edited(SOLUTION, "top_k", ("cost = -scores if largest else scores", "cost = scores")),
        {"test_sim_topk_agrees_with_a_stable_sort", "test_sim_topk_best_first"},
    ),
    # argpartition finds the right k but never sorts them.
    "argpartition_without_sort": (
        UNSORTED_ARGPARTITION,
        {"test_sim_topk_agrees_with_a_stable_sort", "test_sim_topk_best_first"},
    ),
    # A full sort with numpy's default (unstable) algorithm: equal scores in arbitrary order.
    "unstable_sort_for_ties": (
        UNSTABLE_SORT,
        {"test_sim_topk_ties_go_to_the_lower_index"},
    ),
    # The loop stops before a last, shorter batch: those queries are never searched.
    "drops_last_partial_batch": (
        edited(SOLUTION, "search", ("for start in range(0, len(queries), batch_size):", "for start in range(0, len(queries) - batch_size + 1, batch_size):")),
        {"test_sim_search_batch_size_does_not_matter", "test_sim_search_matches_exact_references"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"differently_written": DIFFERENTLY_WRITTEN}, WRONG
)
