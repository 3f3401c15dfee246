"""Seeded random texts and the reference numbers for them (judge side only).

Texts are drawn from a small vocabulary so that n-gram and subsequence matches
are common; a reference is a noisy copy of its hypothesis (words substituted,
dropped, inserted), sometimes an unrelated sentence, sometimes empty.
References: sacrebleu's BLEU with whitespace tokens ("none") and its default
"exp" smoothing, rouge-score's ROUGE-L without stemming, torch's cross-entropy.
"""

import numpy as np
from sacrebleu.metrics import BLEU
from rouge_score import rouge_scorer

from llmcourse.testing import assert_close, check

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "park", "it", "was"]
_ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def sentence(rng, low=0, high=15, words=WORDS):
    return " ".join(rng.choice(words, size=int(rng.integers(low, high + 1))))


def noisy_copy(rng, text, words=WORDS, rate=0.3):
    """Each word kept, substituted, dropped or followed by an inserted word."""
    out = []
    for word in text.split():
        edit = rng.random()  # below rate/3 substitute, then drop; in the top rate/3 insert after
        if edit < rate / 3:
            out.append(str(rng.choice(words)))
        elif edit < 2 * rate / 3:
            continue
        else:
            out.append(word)
            if edit > 1 - rate / 3:
                out.append(str(rng.choice(words)))
    return " ".join(out)


def corpus(seed, size=None, words=WORDS, low=0, high=15):
    """(hypotheses, references) of one seeded random corpus."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 40)) if size is None else size
    hyps, refs = [], []
    for i in range(size):
        hyp = sentence(rng, low, high, words)
        kind = rng.random()
        if kind < 0.1:
            ref = sentence(rng, low, high, words)            # unrelated
        elif kind < 0.15:
            ref = hyp                                       # identical
        else:
            ref = noisy_copy(rng, hyp, words)
        # sacrebleu strips trailing whitespace; a leading or doubled space must not matter either.
        if i % 7 == 3:
            hyp = "  " + hyp.replace(" ", "  ", 1) + " "
        hyps.append(hyp)
        refs.append(ref)
    return hyps, refs


def sacre_bleu(hyps, refs, max_n=4):
    return BLEU(tokenize="none", max_ngram_order=max_n).corpus_score(list(hyps), [list(refs)]).score


def rouge_reference(candidate, reference):
    """rouge-score's ROUGE-L (P, R, F) of candidate against reference."""
    s = _ROUGE.score(reference, candidate)["rougeL"]
    return [s.precision, s.recall, s.fmeasure]


def numbers(values, what):
    """The learner's results as a float64 array, or a learner-facing failure naming what was wrong."""
    for v in values:
        check(isinstance(v, float), f"{what} should be a Python float, got {type(v).__name__}")
    return np.asarray(values, dtype=np.float64)


def compare(got, want, what):
    """The learner's numbers equal the reference's within the float64 tolerance policy."""
    assert_close(numbers(got, what), np.asarray(want, dtype=np.float64), what)


def rouge_triples(results, what):
    """[[P, R, F], ...] from the learner's dicts, checking their form."""
    out = []
    for r in results:
        check(isinstance(r, dict) and set(r) == {"precision", "recall", "fmeasure"},
              f"{what}: rouge_l must return a dict with the keys precision, recall and fmeasure")
        out.extend([r["precision"], r["recall"], r["fmeasure"]])
    return out
