"""The judge's data, builds and reference searches for the hidden tests of week03/hnsw.

Data is generated here (seeded), never taken from the notebook. Indexes the
learner builds are expensive in Python, so each distinct build is made once
per submission and kept on the submission object (the judge process outlives
one submission, so a module-level cache would leak between learners).
"""

import numpy as np

# The main index: big enough that HNSW's savings are visible, small enough to build in seconds.
N, DIM, M, EF_CONSTRUCTION, SEED = 3000, 24, 8, 40, 7
N_QUERIES = 150


def clustered(n, dim, clusters, seed):
    """n points around `clusters` Gaussian centres of unit spread."""
    gen = np.random.default_rng(seed)
    middles = gen.normal(size=(clusters, dim))
    members = gen.integers(clusters, size=n)
    return middles[members] + gen.normal(size=(n, dim))


def main_data():
    return clustered(N, DIM, 20, 101)


def main_queries():
    # Drawn around the same centres as the data, but not stored points.
    rng = np.random.default_rng(102)
    centres = np.random.default_rng(101).normal(size=(20, DIM))
    return centres[rng.integers(20, size=N_QUERIES)] + rng.normal(size=(N_QUERIES, DIM))


def squared_distances(data, queries):
    """(Q, N) squared L2 distances, computed directly (no expansion trick) in float64."""
    data = np.asarray(data, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    return ((queries[:, None, :] - data[None, :, :]) ** 2).sum(-1)


def true_neighbours(data, queries, k):
    return np.argsort(squared_distances(data, queries), axis=1, kind="stable")[:, :k]


def recall(found, truth):
    """Mean over queries of |found & truth| / |truth|."""
    shares = []
    for got, wanted in zip(found, truth):
        wanted = [int(x) for x in wanted]
        shares.append(len(set(wanted).intersection(int(x) for x in got)) / len(wanted))
    return float(np.mean(shares))


def built(submission, name):
    """The learner's index for build ``name``, made once per submission."""
    cache = submission.__dict__.setdefault("_hnsw_builds", {})
    if name not in cache:
        if name == "main":
            # Two batches, so that ids continuing across add() calls are exercised.
            data = main_data()
            index = submission.HNSW(DIM, M=M, ef_construction=EF_CONSTRUCTION, seed=SEED)
            count_before = index.distance_count
            index.add(data[:2000])
            entry_after_first = index.entry_point
            levels_after_first = list(index.levels)
            index.add(data[2000:])
            cache[name] = {
                "index": index,
                "build_distances": index.distance_count - count_before,
                "entry_after_first": entry_after_first,
                "levels_after_first": levels_after_first,
            }
        elif name == "m4":
            index = submission.HNSW(8, M=4, ef_construction=16, seed=11)
            index.add(clustered(2000, 8, 10, 103))
            cache[name] = {"index": index}
        else:
            raise KeyError(name)
    return cache[name]


def links_of(submission, index, layer):
    """All links of ``layer`` as (node, neighbour) rows, through the notebook's locked helper."""
    return np.asarray(submission.layer_links(index, layer), dtype=np.int64).reshape(-1, 2)


def faiss_recall(ef_search, k=10):
    """Recall@k of faiss's HNSW built with the main index's parameters on the same data."""
    import faiss

    faiss.omp_set_num_threads(1)  # the judge shares the cores with sandboxes
    data, queries = main_data(), main_queries()
    index = faiss.IndexHNSWFlat(DIM, M)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(data.astype(np.float32))
    index.hnsw.efSearch = ef_search
    _, ids = index.search(queries.astype(np.float32), k)
    return recall(ids, true_neighbours(data, queries, k))
