"""Hidden tests for ``fit_to_budget`` (grade cell ``test_rag_budget``).

Reference: the definition, the longest prefix of the retrieved list whose texts add up to at
most the budget, each passage whole and unchanged.
"""

import random

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_rag_reference.py")


def longest_prefix(retrieved, budget):
    kept, used = [], 0
    for sid, text, _ in retrieved:
        if used + len(text) > budget:
            break
        kept.append((sid, text))
        used += len(text)
    return kept


def random_retrieved(seed):
    gen = random.Random(seed)
    n = gen.randint(1, 9)
    scores = sorted((gen.uniform(0, 20) for _ in range(n)), reverse=True)
    return [(f"week0{gen.randint(1, 8)}/page#part-{i}", "".join(gen.choice("ab .\n") for _ in range(gen.randint(1, 700))), s)
            for i, s in enumerate(scores)]


@points(1)
def test_rag_budget_keeps_the_longest_prefix_that_fits(submission):
    """The passages kept are the retrieved ones in rank order, whole, up to the first that does not fit."""
    for seed in range(12):
        retrieved = random_retrieved(seed)
        total = sum(len(t) for _, t, _ in retrieved)
        lengths = [len(t) for _, t, _ in retrieved]
        budgets = {0, total, total + 1, max(total - 1, 0), lengths[0], max(lengths[0] - 1, 0), total // 2, total // 3}
        if len(lengths) > 2:   # a long passage followed by a short one: stopping is the rule, skipping is not
            budgets.add(lengths[0] + lengths[2])
        for budget in sorted(budgets):
            got = ref.passage_pairs(submission.fit_to_budget(retrieved, budget), "fit_to_budget")
            check(sum(len(t) for _, t in got) <= budget, "the kept passages are longer in total than the budget")
            check(got == longest_prefix(retrieved, budget),
                  "fit_to_budget must keep the retrieved passages in rank order, whole, stopping at the first that does not fit")


@points(1)
def test_rag_budget_edge_cases(submission):
    """Nothing retrieved or a zero budget keeps nothing, an exact fit keeps everything, and a negative budget raises ValueError."""
    retrieved = [("a#x", "x" * 120, 3.0), ("b#y", "y" * 80, 2.0)]
    check(ref.passage_pairs(submission.fit_to_budget([], 1000), "fit_to_budget") == [], "nothing retrieved must keep nothing")
    check(ref.passage_pairs(submission.fit_to_budget(retrieved, 0), "fit_to_budget") == [], "a budget of 0 must keep nothing")
    check(ref.passage_pairs(submission.fit_to_budget(retrieved, 200), "fit_to_budget") == [("a#x", "x" * 120), ("b#y", "y" * 80)],
          "passages that add up to exactly the budget all fit")
    check(learner_raised("ValueError", submission.fit_to_budget, retrieved, -5), "a negative budget must raise ValueError")
