"""Hidden tests for the graph an ``HNSW`` builds (grade cell ``test_hnsw_graph``).

The structure is read through the learner's ``levels``, ``entry_point`` and
``neighbors`` (via the notebook's locked ``layer_links``); nothing depends on
which random draws a correct implementation makes.
"""


import numpy as np
from scipy import stats

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_hnsw_reference.py")


def level_fit(levels, m, what):
    """Chi-square test of the levels against P(level >= l) = m**-l, bins 0, 1, 2, 3+."""
    levels = np.asarray(levels)
    observed = np.array([np.sum(levels == 0), np.sum(levels == 1), np.sum(levels == 2), np.sum(levels >= 3)])
    p_at_least = np.array([1.0, m**-1.0, m**-2.0, m**-3.0, 0.0])
    expected = (p_at_least[:-1] - p_at_least[1:]) * len(levels)
    p_value = stats.chisquare(observed, expected).pvalue
    share = float(np.mean(levels >= 1))
    check(
        p_value > 1e-4,
        f"{what}: the levels do not follow P(level >= l) = M^-l (mL = 1/ln M): {share:.1%} of nodes reach "
        f"layer 1 where {1 / m:.1%} should (chi-square p = {p_value:.1e})",
    )


@points(1)
def test_levels_follow_the_geometric_law(submission):
    """Node levels are floor(-ln(U) * mL) with mL = 1/ln(M), for M = 8 and M = 4."""
    main = ref.built(submission, "main")
    levels = main["index"].levels
    check(len(levels) == ref.N, f"levels has {len(levels)} entries after {ref.N} insertions")
    level_fit(levels, ref.M, "M=8")
    level_fit(ref.built(submission, "m4")["index"].levels, 4, "M=4")


@points(1)
def test_entry_point_is_on_the_top_layer(submission):
    """The entry point is a node of the highest layer, after every batch."""
    main = ref.built(submission, "main")
    first = main["levels_after_first"]
    check(first[main["entry_after_first"]] == max(first), "after the first batch the entry point is not on the top layer")
    levels = main["index"].levels
    check(levels[main["index"].entry_point] == max(levels), "after the second batch the entry point is not on the top layer")
    m4 = ref.built(submission, "m4")["index"]
    check(m4.levels[m4.entry_point] == max(m4.levels), "with M=4 the entry point is not on the top layer")


@points(1)
def test_degree_limits_and_layer_membership(submission):
    """No node has more than 2M links on layer 0 or M above; links are unique, never to itself, and stay in their layer."""
    for name, m in (("main", ref.M), ("m4", 4)):
        index = ref.built(submission, name)["index"]
        levels = np.asarray(index.levels)
        n = len(levels)
        total = 0
        for layer in range(int(levels.max()) + 1):
            links = ref.links_of(submission, index, layer)
            total += len(links)
            cap = 2 * m if layer == 0 else m
            degree = int(np.bincount(links[:, 0], minlength=n).max()) if len(links) else 0
            check(degree <= cap, f"M={m}: a node has {degree} links on layer {layer}, over the limit of {cap}")
            check(not np.any(links[:, 0] == links[:, 1]), f"M={m}: a node links to itself on layer {layer}")
            check(len(np.unique(links, axis=0)) == len(links), f"M={m}: a node lists the same neighbour twice on layer {layer}")
            check(bool(np.all(levels[links[:, 1]] >= layer)), f"M={m}: a link on layer {layer} points to a node not in that layer")
        layer0 = ref.links_of(submission, index, 0)
        lonely = n - len(np.unique(layer0[:, 0]))
        check(lonely <= 1 if n > 1 else True, f"M={m}: {lonely} nodes have no link at all on layer 0")


@points(1)
def test_links_go_both_ways(submission):
    """Neighbours are linked back to a new node: early nodes gain links to later ones, and most links are mutual."""
    index = ref.built(submission, "main")["index"]
    links = ref.links_of(submission, index, 0)
    forward = float(np.mean(links[:, 1] > links[:, 0]))
    check(forward > 0.1, f"only {forward:.1%} of layer-0 links point to a node inserted later: links are not added in both directions")
    pairs = set(map(tuple, links.tolist()))
    mutual = float(np.mean([(b, a) in pairs for a, b in pairs]))
    check(mutual > 0.4, f"only {mutual:.1%} of layer-0 links are mutual")


@points(1)
def test_a_seed_fixes_the_graph(submission):
    """Two indexes built with the same seed and data are identical; another seed draws other levels."""
    data = ref.clustered(400, 10, 5, 301)
    graphs = []
    for seed in (5, 5, 6):
        index = submission.HNSW(10, M=6, ef_construction=20, seed=seed)
        index.add(data)
        layers = [ref.links_of(submission, index, layer).tolist() for layer in range(max(index.levels) + 1)]
        graphs.append((list(index.levels), index.entry_point, layers))
    check(graphs[0] == graphs[1], "two builds with the same seed differ")
    check(graphs[0][0] != graphs[2][0], "builds with seeds 5 and 6 drew the same levels: use the seed")
