"""Hidden tests for ``bleu`` (grade cell ``test_tm_bleu``).

Reference: sacrebleu's corpus BLEU with whitespace tokens (tokenize="none")
and its default "exp" smoothing, on seeded random corpora over a small
vocabulary, plus corpora built to isolate clipping, the brevity penalty,
corpus-level pooling and the zero-count rules.
"""

import math

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_textmetrics_reference.py")


def _against_sacrebleu(submission, cases, what):
    got = [submission.bleu(h, r, n) for h, r, n in cases]
    ref.compare(got, [ref.sacre_bleu(h, r, n) for h, r, n in cases], what)


@points(1)
def test_bleu_matches_sacrebleu(submission):
    """Corpus BLEU equals sacrebleu's (whitespace tokens, exp smoothing) on random corpora, for max_n from 1 to 4."""
    cases = []
    for seed in range(24):
        hyps, refs = ref.corpus(100 + seed)
        cases.append((hyps, refs, (4, 4, 3, 2, 1)[seed % 5]))
    _against_sacrebleu(submission, cases, "corpus BLEU on random corpora")


@points(1)
def test_bleu_clips_repeated_ngrams(submission):
    """A hypothesis n-gram is matched at most as often as it occurs in the reference (clipped counts)."""
    cases = [
        (["the the the the the the the"], ["the cat is on the mat"], 1),
        (["a b a b a b a b"], ["a b c a"], 2),
        (["x x x y y y z z z"], ["x y z x y z"], 4),
    ]
    for seed in range(8):
        # Three words and long hypotheses: every n-gram repeats many times.
        hyps, refs = ref.corpus(200 + seed, words=["a", "b", "c"], low=4, high=20)
        cases.append((hyps, refs, 1 + seed % 4))
    _against_sacrebleu(submission, cases, "BLEU of hypotheses repeating n-grams")


@points(1)
def test_bleu_brevity_penalty(submission):
    """Hypotheses shorter than their references pay exp(1 - r/c) over the whole corpus; longer ones pay nothing."""
    words = [f"w{i}" for i in range(30)]
    for ref_len, hyp_len in [(8, 4), (12, 11), (20, 5), (6, 6), (9, 4)]:
        reference = " ".join(words[:ref_len])
        prefix = " ".join(words[:hyp_len])      # every n-gram of a prefix matches: only BP is left
        ref.compare([submission.bleu([prefix], [reference])], [100.0 * min(1.0, math.exp(1 - ref_len / hyp_len))],
                    f"BLEU of a correct prefix of {hyp_len} tokens for a reference of {ref_len}")
    longer = [(" ".join(words[:10]), " ".join(words[:7])), (" ".join(words[3:15]), " ".join(words[3:9]))]
    cases = [([h for h, _ in longer], [r for _, r in longer], 4)]
    # One short and one long hypothesis: the penalty looks at the corpus totals, not at each sentence.
    cases.append(([" ".join(words[:4]), " ".join(words[10:22])], [" ".join(words[:8]), " ".join(words[10:18])], 4))
    cases.append(([" ".join(words[:4]), " ".join(words[10:18])], [" ".join(words[:8]), " ".join(words[10:20])], 4))
    for seed in range(6):
        hyps, refs = ref.corpus(300 + seed, low=2, high=9)
        cases.append((hyps, [r + " " + ref.sentence(np.random.default_rng(seed), 2, 6) for r in refs], 4))
    _against_sacrebleu(submission, cases, "BLEU of corpora whose hypotheses are shorter or longer than the references")


@points(1)
def test_bleu_is_corpus_level(submission):
    """BLEU pools n-gram counts and lengths over the corpus before combining them; it is not a mean of sentence scores."""
    perfect = " ".join(f"w{i}" for i in range(25))
    cases = [
        ([perfect, "a b c", "d e f"], [perfect, "a b x", "d y f"], 4),
        ([perfect, "the cat sat"], [perfect, "the cat sat on the mat"], 4),
    ]
    for seed in range(6):
        hyps, refs = ref.corpus(400 + seed, size=12)
        cases.append((hyps + [perfect], refs + [perfect], 4))
    _against_sacrebleu(submission, cases, "corpus BLEU of corpora where sentence scores differ widely")
    hyps, refs = ref.corpus(410, size=15)
    whole = ref.numbers([submission.bleu(hyps, refs), submission.bleu(hyps[::-1], refs[::-1])], "BLEU")
    check(abs(whole[0] - whole[1]) <= 1e-9 * max(1.0, whole[0]), "BLEU changed when the sentence pairs were reordered")


@points(1)
def test_bleu_edge_cases(submission):
    """Empty hypotheses or references, identical texts (100), texts with no n-gram of some order (0) and orders with no match (exp smoothing)."""
    b = submission.bleu
    ref.compare([b(["", ""], ["a b c", "d e"])], [0.0], "BLEU of empty hypotheses")
    ref.compare([b(["a b c d e"], [""])], [0.0], "BLEU against an empty reference")
    ref.compare([b(["a b c"], ["d e f"])], [0.0], "BLEU when no n-gram of any order matches")
    ref.compare([b(["a b c", "c b a"], ["a b c", "c b a"])], [0.0],
                "BLEU when every hypothesis is shorter than 4 tokens (no 4-grams at all)")
    hyps, refs = ref.corpus(500, low=4, high=12)
    ref.compare([b(hyps, hyps), b(["a b c d e f", "x y z w"], ["a b c d e f", "x y z w"])], [100.0, 100.0],
                "BLEU of hypotheses identical to their references")
    cases = [
        (["", "the cat sat on the mat"], ["a b", "the cat sat on a mat"], 4),
        (["a b c d"], ["a b x d"], 4),                    # 3-grams and 4-grams: no match
        (["a b c d e"], ["a b c x d e"], 4),              # only the 4-gram order has no match
        (["a x b y c"], ["a b c"], 4),                    # unigrams only
        (["a b c", "d e f g h"], ["a b c", "d e f g h"], 4),
        (["a"], ["a"], 1),
        (["a b"], ["a b"], 3),
    ]
    for seed in range(6):
        hyps, refs = ref.corpus(510 + seed, size=3, low=0, high=6)
        cases.append((hyps, refs, 4))
    _against_sacrebleu(submission, cases, "BLEU on edge cases")


@points(1)
def test_bleu_and_rouge_are_written_by_hand(submission):
    """BLEU and ROUGE-L are computed by your own code, not by sacrebleu, rouge-score or NLTK."""
    submission.bleu(["a b c d"], ["a b c d"])
    submission.rouge_l("a b c", "a c")
    used = sorted(set(submission.forbidden_calls()))
    check(not used, f"your code {'; '.join(used)}" if used else "")
