"""Hidden tests for ``rouge_l`` (grade cell ``test_tm_rouge_l``).

Reference: rouge-score's RougeScorer(["rougeL"], use_stemmer=False), whose
tokeniser lowercases and keeps runs of [a-z0-9], on seeded random texts and on
hand-made texts with case, punctuation, digits and non-ASCII letters.
"""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_textmetrics_reference.py")


def _against_rouge_score(submission, pairs, what):
    got = ref.rouge_triples([submission.rouge_l(c, r) for c, r in pairs], what)
    want = [x for c, r in pairs for x in ref.rouge_reference(c, r)]
    ref.compare(got, want, f"{what} (precision, recall, F-measure of each pair)")


@points(1)
def test_rouge_l_matches_rouge_score(submission):
    """ROUGE-L precision, recall and F-measure equal rouge-score's on random texts, including empty ones."""
    texts = np.random.default_rng(7)
    pairs = []
    for i in range(120):
        cand = ref.sentence(texts, 0, 20)
        other = ref.noisy_copy(texts, cand, rate=0.5) if i % 4 else ref.sentence(texts, 0, 20)
        pairs.append((cand, other))
    _against_rouge_score(submission, pairs, "ROUGE-L on random texts")


@points(1)
def test_rouge_l_tokenises_like_rouge_score(submission):
    """Texts are lowercased and split into runs of a-z and 0-9; punctuation, underscores and accented letters separate tokens."""
    pairs = [
        ("The Cat SAT on the mat.", "the cat sat on the MAT"),
        ("Don't STOP-now!", "stop now, don t"),
        ("snake_case and kebab-case", "snake case and kebab case"),
        ("GPT-4 scored 86.4% on MMLU", "gpt 4 scored 86 4 on mmlu in 2023"),
        ("café naïve façade", "caf na ve fa ade"),
        ("São Paulo\tis\nlarge", "s o paulo is large"),
        ("!!! ... ???", "a b c"),
        ("a b c", "--- ,,,"),
        ("x1y2 z3", "x1y2 z3"),
    ]
    _against_rouge_score(submission, pairs, "ROUGE-L on texts with case, punctuation and non-ASCII letters")


@points(1)
def test_rouge_l_uses_subsequences(submission):
    """The common part is the longest common subsequence (gaps allowed, order kept); swapping the texts swaps P and R."""
    r = submission.rouge_l
    pairs = [
        ("a x b y c z d", "a b c d"),             # subsequence with gaps: recall 1
        ("a b c d e f", "f e d c b a"),           # reversed: one token in order
        ("the cat on mat", "the cat sat on the mat"),
        ("p q r s t", "p q x r s y t"),
        ("b a c a b", "a b c b a"),
    ]
    _against_rouge_score(submission, pairs, "ROUGE-L where the longest common subsequence has gaps")
    one = ref.rouge_triples([r("one two three four", "one two three four")], "ROUGE-L")
    ref.compare(one, [1.0, 1.0, 1.0], "ROUGE-L of identical texts")
    rng = np.random.default_rng(8)
    for _ in range(10):
        a, b = ref.sentence(rng, 1, 12), ref.sentence(rng, 1, 12)
        both = ref.rouge_triples([r(a, b), r(b, a)], "ROUGE-L")
        ab, ba = both[:3], both[3:]
        ref.compare([ab[0], ab[1], ab[2]], [ba[1], ba[0], ba[2]], "ROUGE-L with the candidate and reference swapped")
        check(0.0 <= ab[2] <= 1.0, "ROUGE-L F-measure left [0, 1]")
