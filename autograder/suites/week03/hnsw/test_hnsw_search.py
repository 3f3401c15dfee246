"""Hidden tests for ``HNSW.search`` (grade cell ``test_hnsw_search``).

Recall@10 is measured against the judge's own exact search on seeded
clustered data, and compared with faiss's HNSW (the established library)
built with the same M and ef_construction and searched with the same ef.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_hnsw_reference.py")


def recall_at(submission, ef, k=10):
    index = ref.built(submission, "main")["index"]
    queries = ref.main_queries()
    found = [index.search(q, k, ef) for q in queries]
    return ref.recall(found, ref.true_neighbours(ref.main_data(), queries, k)), found


@points(2)
def test_recall_against_exact_search(submission):
    """Recall@10 at ef=64 is at least 0.93 and within 0.05 of faiss's HNSW with the same parameters."""
    ours, _ = recall_at(submission, 64)
    theirs = ref.faiss_recall(64)
    check(ours >= 0.93, f"recall@10 at ef=64 is {ours:.3f}, below 0.93")
    check(ours >= theirs - 0.05, f"recall@10 at ef=64 is {ours:.3f}; faiss's HNSW with the same parameters reaches {theirs:.3f}")


@points(1)
def test_recall_grows_with_ef(submission):
    """A wider beam finds more true neighbours: recall@10 at ef=128 is at least 0.96 and not below recall at ef=16."""
    low, _ = recall_at(submission, 16)
    high, _ = recall_at(submission, 128)
    check(high >= 0.96, f"recall@10 at ef=128 is {high:.3f}, below 0.96")
    check(high >= low - 0.005, f"recall@10 falls from {low:.3f} at ef=16 to {high:.3f} at ef=128")


@points(1)
def test_results_nearest_first(submission):
    """search returns min(k, N) distinct ids as an integer array, nearest first, for k below and above ef."""
    index = ref.built(submission, "main")["index"]
    data, queries = ref.main_data(), ref.main_queries()[:25]
    for k, ef in ((10, 64), (1, 32), (50, 20)):
        for q in queries:
            ids = np.asarray(index.search(q, k, ef))
            check(ids.shape == (k,), f"search(q, {k}, ef={ef}) returned {ids.shape[0] if ids.ndim else 0} ids")
            check(np.issubdtype(ids.dtype, np.integer), "search should return an integer numpy array")
            check(len(set(ids.tolist())) == k, f"search(q, {k}, ef={ef}) repeats an id")
            dist = ((data[ids] - q) ** 2).sum(1)
            check(bool(np.all(np.diff(dist) >= -1e-9 * (1 + dist[:-1]))), f"search(q, {k}, ef={ef}) does not return its ids nearest first")


@points(1)
def test_small_and_empty_indexes(submission):
    """An empty index returns nothing; with k larger than the index, search returns every id in exact order."""
    empty = submission.HNSW(5, M=4, ef_construction=10, seed=0)
    check(len(np.asarray(empty.search(np.zeros(5), 3, 10))) == 0, "searching an empty index should return no ids")
    data = ref.clustered(40, 5, 3, 401)
    index = submission.HNSW(5, M=4, ef_construction=10, seed=1)
    index.add(data[:1])
    one = np.asarray(index.search(data[5], 3, 10)).tolist()
    check(one == [0], "an index of one vector returns that vector's id, 0")
    index.add(data[1:])
    for q in ref.clustered(5, 5, 3, 402):
        ids = np.asarray(index.search(q, 100, 200)).tolist()
        exact = ref.true_neighbours(data, q[None, :], 40)[0].tolist()
        check(ids == exact, "with k larger than the index and a beam wider than it, search returns all ids in exact order")
