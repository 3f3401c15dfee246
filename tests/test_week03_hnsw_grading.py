"""The week03/hnsw exercise, graded end to end through the real engine.

A differently written correct solution (a per-query loop for exact search;
an index with the paper's diversity heuristic for choosing neighbours, sorted
lists instead of heaps, links kept as numpy arrays per layer) must earn full
marks; each realistic mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week03/hnsw")
SOLUTION = EXERCISE.source_path

HEURISTIC_INDEX = {
    "exact_search": '''
def exact_search(data, queries, k):
    data = np.asarray(data, dtype=np.float64)
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    rows = []
    for q in queries:   # one query at a time: slower, same answer
        d = np.sum((data - q) ** 2, axis=1)
        rows.append(np.argsort(d, kind="stable")[:k])
    return np.array(rows, dtype=np.int64).reshape(len(queries), min(k, len(data)))
''',
    "hnsw_index": '''
class HNSW:
    """HNSW with the paper's diversity heuristic for choosing neighbours."""

    def __init__(self, dim, M=16, ef_construction=100, seed=0):
        self.dim, self.M, self.ef_construction = dim, M, ef_construction
        self.M_max0 = 2 * M
        self.vectors = CountedVectors(dim)
        self.levels = []
        self.entry_point = None
        self.random = np.random.default_rng(seed)
        self.graph = []        # one dict per layer: node -> np.ndarray of neighbour ids

    @property
    def distance_count(self):
        return self.vectors.distance_count

    def neighbors(self, node, layer):
        return [int(x) for x in self.graph[layer][node]]

    def add(self, vectors):
        for node in self.vectors.append(vectors):
            self.insert(int(node))

    def draw_level(self):
        u = 1.0 - self.random.random()
        return math.floor(-math.log(u) / math.log(self.M))

    def layer_search(self, dist_fn, starts, ef, layer):
        """Returns a list of (distance, id), nearest first, at most ef long."""
        start_d = dist_fn(starts)
        seen = set(starts)
        todo = sorted(zip(start_d.tolist(), starts))
        kept = sorted(todo)[:ef]
        while todo:
            d, node = todo.pop(0)
            if len(kept) >= ef and d > kept[-1][0]:
                break
            nbrs = [x for x in self.graph[layer][node].tolist() if x not in seen]
            if not nbrs:
                continue
            seen.update(nbrs)
            for dd, x in zip(dist_fn(nbrs).tolist(), nbrs):
                if len(kept) < ef or dd < kept[-1][0]:
                    kept.append((dd, x))
                    kept.sort()
                    del kept[ef:]
                    todo.append((dd, x))
                    todo.sort()
        return kept

    def select(self, candidates, m):
        """Keep a candidate only if it is closer to the new node than to every neighbour kept so far."""
        chosen = []
        for d, c in candidates:
            if len(chosen) == m:
                break
            if chosen:
                to_chosen = self.vectors.distances_from(c, [x for _, x in chosen])
                if np.any(to_chosen < d):
                    continue
            chosen.append((d, c))
        return [c for _, c in chosen]

    def insert(self, node):
        top = self.draw_level()
        self.levels.append(top)
        while len(self.graph) <= top:
            self.graph.append({})
        for layer in range(top + 1):
            self.graph[layer][node] = np.zeros(0, dtype=np.int64)
        if self.entry_point is None:
            self.entry_point = node
            return
        dist_fn = lambda ids: self.vectors.distances_from(node, ids)
        current = self.levels[self.entry_point]
        starts = [self.entry_point]
        while current > top:
            starts = [self.layer_search(dist_fn, starts, 1, current)[0][1]]
            current -= 1
        for layer in range(current, -1, -1):
            cands = self.layer_search(dist_fn, starts, self.ef_construction, layer)
            picked = self.select(cands, self.M)
            self.graph[layer][node] = np.array(picked, dtype=np.int64)
            limit = self.M if layer else self.M_max0
            for other in picked:
                grown = np.append(self.graph[layer][other], node)
                if len(grown) > limit:
                    d = self.vectors.distances_from(other, grown)
                    grown = self.select(sorted(zip(d.tolist(), grown.tolist())), limit)
                self.graph[layer][other] = np.array(grown, dtype=np.int64)
            starts = [c for _, c in cands]
        if top > self.levels[self.entry_point]:
            self.entry_point = node

    def search(self, query, k, ef=64):
        if not self.levels:
            return np.array([], dtype=np.int64)
        q = np.asarray(query, dtype=np.float64)
        dist_fn = lambda ids: self.vectors.distances(q, ids)
        starts = [self.entry_point]
        for layer in range(self.levels[self.entry_point], 0, -1):
            starts = [self.layer_search(dist_fn, starts, 1, layer)[0][1]]
        best = self.layer_search(dist_fn, starts, max(ef, k), 0)
        return np.array([c for _, c in best[:k]], dtype=np.int64)
''',
}

WRONG = {
    # The layer-0 beam ignores ef: search keeps only k candidates, so ef buys nothing.
    "beam_of_k_ignores_ef": (
        edited(SOLUTION, "hnsw_index", ("found = self._search_layer(measure, entries, max(ef, k), 0)", "found = self._search_layer(measure, entries, k, 0)")),
        {"test_recall_against_exact_search", "test_recall_grows_with_ef"},
    ),
    # Links only from the new node to older ones: nothing ever leads to later nodes.
    "no_back_links": (
        edited(SOLUTION, "hnsw_index", ("                theirs.append(node)\n", "")),
        {"test_links_go_both_ways", "test_recall_against_exact_search"},
    ),
    # Back-links added but never pruned: degrees grow without bound.
    "no_pruning": (
        edited(SOLUTION, "hnsw_index", ("if len(theirs) > cap:", "if False:")),
        {"test_degree_limits_and_layer_membership"},
    ),
    # mL = ln M instead of 1/ln M: most nodes climb to upper layers.
    "wrong_level_multiplier": (
        edited(SOLUTION, "hnsw_index", ("self.mL = 1.0 / math.log(M)", "self.mL = math.log(M)")),
        {"test_levels_follow_the_geometric_law"},
    ),
    # The beam is returned in id order instead of by distance.
    "results_in_id_order": (
        edited(SOLUTION, "hnsw_index", ("return np.array(found[:k], dtype=np.int64)", "return np.array(sorted(found[:k]), dtype=np.int64)")),
        {"test_results_nearest_first", "test_small_and_empty_indexes"},
    ),
    # The first node stays the entry point forever, even when higher nodes arrive.
    "entry_point_never_updated": (
        edited(SOLUTION, "hnsw_index", ("        if level > self.top_layer:\n            self.entry_point, self.top_layer = node, level\n        ### END SOLUTION", "        ### END SOLUTION")),
        {"test_entry_point_is_on_the_top_layer"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"heuristic_index": HEURISTIC_INDEX}, WRONG
)
