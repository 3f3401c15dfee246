"""Hidden tests for the cost of HNSW (grade cell ``test_hnsw_cost``).

Distances are counted by the notebook's locked ``CountedVectors`` store that
the index must measure through. The count is checked against what brute force
would spend, and the store's record of measured ids is checked against what
search returns, so that results not measured through the store are caught.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_hnsw_reference.py")


@points(1)
def test_search_measures_few_vectors(submission):
    """A search at ef=64 measures under 30% of the N distances brute force needs, and only via the counted store."""
    index = ref.built(submission, "main")["index"]
    spent = []
    for q in ref.main_queries()[:40]:
        store = index.vectors
        start = index.distance_count
        store.start_recording()
        ids = np.asarray(index.search(q, 10, 64))
        seen = set(np.asarray(store.stop_recording()).tolist())
        spent.append(index.distance_count - start)
        check(set(ids.tolist()) <= seen, "search returned an id whose distance it never measured through index.vectors")
    share = float(np.mean(spent)) / ref.N
    check(share < 0.3, f"a search at ef=64 measures {share:.0%} of the index on average: barely cheaper than brute force")


@points(1)
def test_wider_beam_costs_more(submission):
    """Counting is per distance: a search at ef=128 measures more vectors than at ef=10, and at least the k it returns."""
    index = ref.built(submission, "main")["index"]
    costs = {}
    for ef in (10, 128):
        total = 0
        for q in ref.main_queries()[:20]:
            store = index.vectors
            start = index.distance_count
            store.start_recording()
            index.search(q, 10, ef)
            seen = len(store.stop_recording())
            spent = index.distance_count - start
            check(spent >= seen >= 10, f"a search at ef={ef} counted fewer distances than the 10 ids it must have measured")
            total += spent
        costs[ef] = total
    check(costs[128] > costs[10], "a search at ef=128 measured no more vectors than at ef=10")


@points(1)
def test_insertion_is_not_quadratic(submission):
    """Building the index measures fewer than half of the N(N-1)/2 pairs that comparing every pair would."""
    main = ref.built(submission, "main")
    pairs = ref.N * (ref.N - 1) / 2
    spent = main["build_distances"]
    check(spent > ref.N, "building the index counted almost no distances: measure them through self.vectors")
    check(spent < 0.5 * pairs, f"building measured {spent / pairs:.0%} of all pairs")
