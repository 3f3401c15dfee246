"""A readable HNSW graph index and the data the week 3 search chapters measure it on.

Defined in the chapter *HNSW: approximate nearest neighbours on a graph*
(book/week03/hnsw.md) and reused by *Vector databases*
(book/week03/vector_databases.md).

What it does: builds a Hierarchical Navigable Small World graph over squared
L2 distance (Malkov and Yashunin, 2018), with either the simple "closest M"
neighbour rule or the paper's diversity heuristic, searches it with a beam of
``ef`` candidates, counts every vector-to-vector distance it computes
(``ndis``), and marks deleted ids with tombstones that search walks through
but never returns. Layer 0 lives in a fixed-width numpy array (2M slots per
node) so that one node's neighbours come out in one slice and their distances
in one matrix-vector product; the Python loop runs once per expanded node, not
once per neighbour.

What it does not handle: other metrics (normalise the vectors and use L2 for
cosine), concurrent inserts, physical removal of deleted nodes (a rebuild is
the cure), persistence, or speed: it is Python, roughly a hundred times slower
than faiss's C++ HNSW on the same graph.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from llmcourse.locking import exclusive


def clustered_vectors(n: int, dim: int, clusters: int = 50, spread: float = 1.0, seed: int = 0) -> np.ndarray:
    """``n`` float32 vectors around ``clusters`` Gaussian centres: clumpy, as real embeddings are.

    The centres are drawn first from ``seed``, so calls with the same ``dim``,
    ``clusters`` and ``seed`` share their centres whatever ``n`` is. The
    chapters draw base and query vectors in one call and split the rows.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)) * spread
    members = rng.integers(clusters, size=n)
    return (centres[members] + rng.normal(size=(n, dim))).astype(np.float32)


def brute_force_knn(base: np.ndarray, queries: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """Exact k nearest ids per query (nearest first), scanning the base in query chunks."""
    base = np.asarray(base, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    base_sq = np.einsum("ij,ij->i", base, base)
    out = np.empty((len(queries), min(k, len(base))), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        # |x|^2 - 2 x.q ranks exactly like |x - q|^2 for a fixed q; |q|^2 is dropped.
        scores = base_sq[None, :] - 2.0 * block @ base.T
        top = np.argpartition(scores, out.shape[1] - 1, axis=1)[:, : out.shape[1]]
        rank = np.argsort(np.take_along_axis(scores, top, axis=1), axis=1)
        out[start : start + chunk] = np.take_along_axis(top, rank, axis=1)
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """recall@k: the mean share of each query's true k neighbours that ``found`` contains."""
    hits = [len(np.intersect1d(f[f >= 0], t)) for f, t in zip(found, truth)]
    return float(np.sum(hits) / truth.size)


class HNSWGraph:
    """An HNSW index over squared L2 distance that counts its distance computations.

    ``selection`` is ``"heuristic"`` (keep a candidate only if it is closer to
    the new node than to every neighbour already kept, Algorithm 4 of the
    paper) or ``"simple"`` (the M closest candidates).
    """

    def __init__(self, dim: int, M: int = 16, ef_construction: int = 100, selection: str = "heuristic",
                 seed: int = 0, capacity: int = 1024):
        if selection not in ("heuristic", "simple"):
            raise ValueError("selection is 'heuristic' or 'simple'")
        self.dim, self.M, self.ef_construction, self.selection = dim, M, ef_construction, selection
        self.width0 = 2 * M                      # M_max0: layer 0 keeps twice as many links
        self.level_scale = 1.0 / math.log(M)     # mL
        self.rng = np.random.default_rng(seed)
        self.data = np.zeros((capacity, dim), dtype=np.float32)
        self.base = np.full((capacity, self.width0), -1, dtype=np.int32)   # layer-0 links, -1 = empty slot
        self.base_degree = np.zeros(capacity, dtype=np.int32)
        self.upper: list[dict[int, list[int]]] = []                      # layers 1.. : node -> links
        self.node_level = np.zeros(capacity, dtype=np.int32)
        self.deleted = np.zeros(capacity, dtype=bool)
        self.count = 0
        self.entry = -1
        self.ndis = 0                           # vector-to-vector distances computed so far
        self._stamp = np.zeros(capacity, dtype=np.int64)   # visited marks, one generation per search
        self._generation = 0

    # storage ------------------------------------------------------------------------

    def _grow(self, needed: int) -> None:
        size = len(self.data)
        if needed <= size:
            return
        new = max(needed, 2 * size)
        for name, fill in (("data", 0), ("base", -1), ("base_degree", 0), ("node_level", 0), ("deleted", False), ("_stamp", 0)):
            old = getattr(self, name)
            grown = np.full((new,) + old.shape[1:], fill, dtype=old.dtype)
            grown[:size] = old
            setattr(self, name, grown)

    def links(self, node: int, layer: int) -> np.ndarray:
        """The neighbour ids of ``node`` on ``layer``."""
        if layer == 0:
            return self.base[node, : self.base_degree[node]]
        return np.asarray(self.upper[layer - 1].get(node, ()), dtype=np.int32)

    def _set_links(self, node: int, layer: int, ids) -> None:
        ids = np.asarray(ids, dtype=np.int32)
        if layer == 0:
            self.base[node, : len(ids)] = ids
            self.base[node, len(ids) :] = -1
            self.base_degree[node] = len(ids)
        else:
            self.upper[layer - 1][node] = ids.tolist()

    def _dist(self, point: np.ndarray, ids) -> np.ndarray:
        diff = self.data[ids] - point
        self.ndis += len(diff)
        return np.einsum("ij,ij->i", diff, diff)

    def memory_bytes(self) -> dict:
        """Bytes held for vectors and for links, as a C implementation would store them (4-byte ids)."""
        upper_links = sum(len(v) for layer in self.upper for v in layer.values())
        return {"vectors": self.count * self.dim * 4, "links": 4 * (self.count * self.width0 + upper_links)}

    # search ---------------------------------------------------------------------

    def _beam(self, point: np.ndarray, starts: list[tuple[float, int]], ef: int, layer: int) -> list[tuple[float, int]]:
        """Best-first search of one layer from ``starts`` ((distance, id) pairs); the ef best, nearest first."""
        self._generation += 1
        stamp, gen, data = self._stamp, self._generation, self.data
        for _, node in starts:
            stamp[node] = gen
        frontier = list(starts)
        heapq.heapify(frontier)
        kept = [(-d, node) for d, node in starts]        # max-heap of the ef best so far
        heapq.heapify(kept)
        while len(kept) > ef:
            heapq.heappop(kept)
        base, degree = self.base, self.base_degree
        while frontier:
            dist, node = heapq.heappop(frontier)
            if dist > -kept[0][0] and len(kept) >= ef:
                break
            nbrs = base[node, : degree[node]] if layer == 0 else self.links(node, layer)
            nbrs = nbrs[stamp[nbrs] != gen]
            if len(nbrs) == 0:
                continue
            stamp[nbrs] = gen
            diff = data[nbrs] - point
            self.ndis += len(nbrs)
            # One vectorised distance computation per expanded node; the scalar loop below
            # only touches Python floats.
            for d, other in zip((diff * diff).sum(axis=1).tolist(), nbrs.tolist()):
                if len(kept) < ef:
                    heapq.heappush(frontier, (d, other))
                    heapq.heappush(kept, (-d, other))
                elif d < -kept[0][0]:
                    heapq.heappush(frontier, (d, other))
                    heapq.heapreplace(kept, (-d, other))
        return sorted((-nd, node) for nd, node in kept)

    def _descend(self, point: np.ndarray, down_to: int) -> list[tuple[float, int]]:
        """Greedy walk (beam of one) from the entry point down to layer ``down_to``."""
        best = [(float(self._dist(point, [self.entry])[0]), self.entry)]
        for layer in range(self.node_level[self.entry], down_to, -1):
            best = self._beam(point, best, 1, layer)
        return best

    def search(self, query: np.ndarray, k: int, ef: int = 64) -> np.ndarray:
        """Ids of (up to) the k nearest live vectors found with a layer-0 beam of max(ef, k), nearest first."""
        if self.count == 0:
            return np.zeros(0, dtype=np.int64)
        point = np.asarray(query, dtype=np.float32)
        found = self._beam(point, self._descend(point, 0), max(ef, k), 0)
        # Tombstoned nodes still route the walk; they are only dropped from the answer.
        live = [node for _, node in found if not self.deleted[node]]
        return np.array(live[:k], dtype=np.int64)

    # insertion ------------------------------------------------------------------

    def _choose(self, candidates: list[tuple[float, int]], m: int) -> list[int]:
        """Pick at most m neighbours from candidates sorted nearest first."""
        if self.selection == "simple" or len(candidates) <= m:
            return [node for _, node in candidates[:m]]
        ids = np.array([node for _, node in candidates], dtype=np.int64)
        # All candidate-to-candidate distances in one product (counted), then a scalar scan.
        block = self.data[ids]
        sq = np.einsum("ij,ij->i", block, block)
        pair = (sq[:, None] + sq[None, :] - 2.0 * block @ block.T).tolist()
        self.ndis += len(ids) * (len(ids) - 1) // 2
        picked: list[int] = []
        for i, (dist, _) in enumerate(candidates):
            # Skip a candidate that is nearer to an already chosen neighbour than to the new
            # node: that neighbour already leads there, and the slot is better spent elsewhere.
            row = pair[i]
            if all(row[j] >= dist for j in picked):
                picked.append(i)
                if len(picked) == m:
                    break
        return [int(ids[i]) for i in picked]

    def _link_back(self, node: int, other: int, layer: int) -> None:
        """Add node to other's links on layer; if that overflows, re-select other's links."""
        limit = self.width0 if layer == 0 else self.M
        current = self.links(other, layer)
        if len(current) < limit:
            self._set_links(other, layer, np.append(current, node))
            return
        pool = np.append(current, node)
        dists = self._dist(self.data[other], pool)
        order = np.argsort(dists)
        self._set_links(other, layer, self._choose([(float(dists[i]), int(pool[i])) for i in order], limit))

    def add(self, vectors: np.ndarray) -> None:
        """Insert a batch; ids continue from the previous batch."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self._grow(self.count + len(vectors))
        for row in vectors:
            self._insert(row)

    def _insert(self, row: np.ndarray) -> None:
        node = self.count
        self.data[node] = row
        self.count += 1
        level = int(-math.log(1.0 - self.rng.random()) * self.level_scale)
        self.node_level[node] = level
        while len(self.upper) < level:
            self.upper.append({})
        if self.entry < 0:
            self.entry = node
            return
        top = int(self.node_level[self.entry])
        starts = self._descend(row, level) if top > level else [(float(self._dist(row, [self.entry])[0]), self.entry)]
        for layer in range(min(level, top), -1, -1):
            candidates = self._beam(row, starts, self.ef_construction, layer)
            chosen = self._choose(candidates, self.M)
            self._set_links(node, layer, chosen)
            for other in chosen:
                self._link_back(node, other, layer)
            starts = candidates
        if level > top:
            self.entry = node

    def delete(self, node: int) -> None:
        """Tombstone ``node``: searches still walk through it but never return it."""
        self.deleted[node] = True


# A cache of built graphs (the chapters build the same 20,000-vector graph) ----------

CACHE_DIR = Path(os.environ.get("LLMCOURSE_HNSW_CACHE", Path(__file__).resolve().parent.parent / "_build" / "hnsw"))
CACHE_VERSION = 1   # bump when the construction algorithm changes


def _graph_arrays(graph: HNSWGraph) -> dict:
    arrays = {
        "base": graph.base[: graph.count], "base_degree": graph.base_degree[: graph.count],
        "node_level": graph.node_level[: graph.count],
        "scalars": np.array([graph.count, graph.entry, graph.ndis], dtype=np.int64),
    }
    for i, layer in enumerate(graph.upper):
        nodes = np.array(sorted(layer), dtype=np.int64)
        arrays[f"up{i}_nodes"] = nodes
        arrays[f"up{i}_sizes"] = np.array([len(layer[n]) for n in nodes], dtype=np.int64)
        arrays[f"up{i}_links"] = np.array([x for n in nodes for x in layer[n]], dtype=np.int64)
    arrays["layers"] = np.array([len(graph.upper)], dtype=np.int64)
    return arrays


def _restore(graph: HNSWGraph, data: np.ndarray, saved) -> None:
    count, entry, ndis = (int(x) for x in saved["scalars"])
    graph._grow(count)
    graph.data[:count] = data
    graph.base[:count] = saved["base"]
    graph.base_degree[:count] = saved["base_degree"]
    graph.node_level[:count] = saved["node_level"]
    graph.count, graph.entry, graph.ndis = count, entry, ndis
    graph.upper = []
    for i in range(int(saved["layers"][0])):
        nodes, sizes, links = saved[f"up{i}_nodes"], saved[f"up{i}_sizes"], saved[f"up{i}_links"]
        parts = np.split(links, np.cumsum(sizes)[:-1]) if len(nodes) else []
        graph.upper.append({int(n): p.tolist() for n, p in zip(nodes, parts)})


def cached_graph(data: np.ndarray, M: int = 16, ef_construction: int = 100, selection: str = "heuristic",
                 seed: int = 0) -> tuple[HNSWGraph, float]:
    """An HNSWGraph over ``data``, built once and cached in ``_build/hnsw/``; and its build CPU seconds.

    The key covers the data's bytes, the parameters and ``CACHE_VERSION``; the
    build time returned is the one measured when the graph was first built.
    ``ndis`` of the returned graph counts the distances its construction took.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    key_source = json.dumps([CACHE_VERSION, M, ef_construction, selection, seed, list(data.shape),
                             hashlib.sha256(data.tobytes()).hexdigest()])
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    path = CACHE_DIR / f"hnsw-{key}.npz"
    graph = HNSWGraph(data.shape[1], M, ef_construction, selection=selection, seed=seed, capacity=len(data))
    with exclusive(CACHE_DIR / f"hnsw-{key}.lock"):
        if path.exists():
            with np.load(path) as saved:
                _restore(graph, data, saved)
                seconds = float(saved["build_seconds"][0])
        else:
            start = time.process_time()
            graph.add(data)
            seconds = time.process_time() - start
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, build_seconds=np.array([seconds]), **_graph_arrays(graph))
            os.replace(tmp, path)   # readers never see a half-written file
    return graph, seconds
