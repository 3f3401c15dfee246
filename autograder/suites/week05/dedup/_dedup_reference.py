"""Reference computations and inputs for the week05/dedup hidden suite.

Everything here runs in the judge. The reference shingling and Jaccard
similarity are written independently of the solution notebook; the inputs
(sets of known Jaccard similarity, signatures with a known per-position
agreement rate, a corpus with planted near-duplicates) are generated from
fixed seeds. Statistical checks use exact binomial tails, so a correct
submission fails one of them with probability far below one in ten thousand.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys

import numpy as np

from autograder.judge import learner_raised
from autograder.seam.submission import Remote, StudentError
from llmcourse.testing import check

EMPTY_SLOT = 2**63 - 1  # what the notebook calls EMPTY_SLOT: the largest int64
# A one-sided tail probability below this fails a statistical check.
ALPHA = 1e-7


# -- reference shingling -------------------------------------------------------

def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def reference_shingles(text: str, k: int = 5) -> set[str]:
    """Character k-grams of the normalised text; the rules for short and empty texts of the notebook."""
    body = normalised(text)
    if not body:
        return set()
    return {body[i:i + k] for i in range(max(len(body) - k, 0) + 1)}


def reference_jaccard(a, b) -> float:
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def same_set(got, want: set[str], what: str) -> None:
    """Check that the learner's returned set (a handle to a set in the sandbox) equals ``want``."""
    check(isinstance(got, Remote), f"{what} must be a set, got a {type(got).__name__}")
    items = sorted(want)
    try:
        inside, covers = got.issubset(items), got.issuperset(items)
    except StudentError as exc:
        if exc.type_name != "AttributeError":
            raise
        check(False, f"{what} must be a set")
    check(inside is True, f"{what} holds shingles that should not be there")
    check(covers is True, f"{what} is missing shingles")


def expect_value_error(call, what: str) -> None:
    """``call()`` must raise ValueError in the learner's code; any other exception is the learner's own."""
    check(learner_raised("ValueError", call), f"no ValueError for {what}")


# -- binomial tails ----------------------------------------------------------------

def binomial_tails(count: int, trials: int, p: float) -> tuple[float, float]:
    """P(X <= count) and P(X >= count) for X ~ Binomial(trials, p)."""
    pmf = [math.comb(trials, i) * p**i * (1 - p) ** (trials - i) for i in range(trials + 1)]
    return sum(pmf[:count + 1]), sum(pmf[count:])


def plausible(count: int, trials: int, p: float) -> bool:
    """Is ``count`` successes in ``trials`` a plausible draw at rate ``p`` (both tails above ALPHA)?"""
    low, high = binomial_tails(count, trials, p)
    return low > ALPHA and high > ALPHA


# -- sets of known Jaccard similarity ---------------------------------------------

def controlled_pairs(seed: int, n: int, low: float = 0.1, high: float = 0.9):
    """n pairs of lists of distinct tokens, with exact Jaccard similarity between low and high."""
    gen = np.random.default_rng(seed)
    pairs = []
    for p in range(n):
        union = int(gen.integers(30, 240))
        shared = int(np.clip(round(gen.uniform(low, high) * union), 1, union - 2))
        tokens = [f"s{seed}p{p}t{int(v):x}" for v in gen.choice(1 << 40, size=union, replace=False)]
        split = shared + (union - shared) // 2
        left, right = tokens[:split], tokens[:shared] + tokens[split:]
        pairs.append((left, right, shared / union))
    return pairs


# -- signatures with a known agreement rate ----------------------------------------

def agreeing_signatures(seed: int, n_pairs: int, length: int, agree: float) -> np.ndarray:
    """2 * n_pairs rows: rows 2p and 2p+1 agree at each position independently with probability ``agree``.

    Every other value is drawn at random from [0, 2**61), so unrelated rows never share a band.
    """
    gen = np.random.default_rng(seed)
    first = gen.integers(0, 1 << 61, size=(n_pairs, length), dtype=np.int64)
    second = gen.integers(0, 1 << 61, size=(n_pairs, length), dtype=np.int64)
    same = gen.random((n_pairs, length)) < agree
    second = np.where(same, first, second)
    out = np.empty((2 * n_pairs, length), dtype=np.int64)
    out[0::2], out[1::2] = first, second
    return out


def reference_banding(signatures, bands: int, rows: int) -> list[tuple[int, int]]:
    """All pairs (i < j) equal on some band, by comparing every pair (fine for small inputs)."""
    sigs = np.asarray(signatures).reshape(len(signatures), bands, rows)
    found = []
    for i in range(len(sigs)):
        for j in range(i + 1, len(sigs)):
            if (sigs[i] == sigs[j]).all(axis=1).any():
                found.append((i, j))
    return found


def check_pair_list(pairs, what: str) -> None:
    """Pairs must be a sorted list of (i, j) tuples with i < j, each once."""
    check(isinstance(pairs, list), f"{what} must be a list of pairs, got a {type(pairs).__name__}")
    as_tuples = [tuple(p) for p in pairs]
    check(all(len(p) == 2 for p in as_tuples), f"{what}: every pair must be (i, j)")
    check(all(i != j for i, j in as_tuples), f"{what} pairs a document with itself")
    check(all(i < j for i, j in as_tuples), f"{what} holds a pair (i, j) with i > j: write each pair once, as i < j")
    check(len(set(as_tuples)) == len(as_tuples), f"{what} holds the same pair more than once")
    check(as_tuples == sorted(as_tuples), f"{what} must be sorted")


# -- a corpus with planted near-duplicates ------------------------------------------

WORDS = (
    "the a of to and in that is for on with as by at from this be are was it an or which model data "
    "training text token tokens document documents corpus web page pages copy copies near duplicate "
    "filter filters quality score language english code license header footer boilerplate menu "
    "crawl crawler common snapshot extraction html markup paragraph sentence word words character "
    "hash hashes signature band bands bucket buckets row rows similarity jaccard shingle shingles "
    "estimate error variance probability threshold curve recall precision pair pairs candidate "
    "benchmark question answer test set leak contamination overlap ngram memorise memorisation "
    "repeated repeat removal remove keep drop sample samples mixture weight epoch epochs budget "
    "compute cost cheap expensive fast slow large small billion million thousand hundred every each "
    "some many few most other same different new old first last long short high low good bad clean "
    "noisy raw final early late before after during because although while when where why how"
).split()


def _sentence(gen) -> list[str]:
    return [WORDS[int(i)] for i in gen.integers(0, len(WORDS), size=int(gen.integers(8, 16)))]


def _document(gen) -> list[str]:
    words = []
    for _ in range(int(gen.integers(4, 8))):
        sentence = _sentence(gen)
        sentence[-1] += "."
        words += sentence
    return words


def _edited(gen, words: list[str], rate: float) -> list[str]:
    """Substitute, delete or insert a word at each position with probability ``rate``."""
    out = []
    for word in words:
        if gen.random() >= rate:
            out.append(word)
            continue
        action = int(gen.integers(3))
        if action == 0:
            out.append(WORDS[int(gen.integers(len(WORDS)))])
        elif action == 2:
            out += [word, WORDS[int(gen.integers(len(WORDS)))]]
    return out


def _cosmetic(gen, words: list[str]) -> str:
    """Join words with random whitespace and random capitals: the same text after normalisation."""
    pieces = []
    for word in words:
        roll = gen.random()
        pieces.append(word.upper() if roll < 0.05 else word.capitalize() if roll < 0.2 else word)
    gaps = [" ", " ", " ", "  ", "\n", "\t", " \n "]
    text = "".join(p + gaps[int(gen.integers(len(gaps)))] for p in pieces)
    return "\n " + text if gen.random() < 0.5 else text


def planted_corpus(seed: int, n_originals: int = 45, n_copies: int = 45) -> list[str]:
    """Originals, then edited copies of randomly chosen earlier documents (copies of copies too)."""
    gen = np.random.default_rng(seed)
    docs = [_document(gen) for _ in range(n_originals)]
    rates = [0.0, 0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3]
    for _ in range(n_copies):
        source = docs[int(gen.integers(len(docs)))]
        docs.append(_edited(gen, source, rates[int(gen.integers(len(rates)))]))
    texts = [_cosmetic(gen, d) for d in docs]
    order = gen.permutation(len(texts))  # copies are not always after their originals
    return [texts[int(i)] for i in order]


def similar_pairs(texts: list[str], k: int) -> dict[tuple[int, int], float]:
    """Exact Jaccard similarity of every pair of non-empty documents (all pairs: the ground truth)."""
    sets = [reference_shingles(t, k) for t in texts]
    return {
        (i, j): reference_jaccard(sets[i], sets[j])
        for i in range(len(sets)) for j in range(i + 1, len(sets)) if sets[i] and sets[j]
    }


# -- the same calls in a fresh Python process ---------------------------------------------

_PROBE = r"""
import json, sys
import numpy as np
from autograder.seam.submission import SandboxFailure, SandboxLimits, StudentError, Submission
job = json.loads(sys.stdin.read())
sandbox = Submission(job["cells"], forbidden=job["forbidden"], forbidden_ops=job["forbidden_ops"],
                     limits=SandboxLimits(**job["limits"]), hide=job["hide"])
try:
    with sandbox:
        hasher = sandbox.MinHasher(job["num_perm"], job["seed"])
        answer = {"signatures": [np.asarray(hasher.signature(items)).tolist() for items in job["docs"]]}
except StudentError as exc:
    answer = {"student_error": exc.type_name}
except SandboxFailure as exc:
    answer = {"sandbox_failure": str(exc)}
print("PROBE-ANSWER " + json.dumps(answer))
"""


def signatures_in_new_process(submission, docs: list[list[str]], num_perm: int, seed: int) -> list[list[int]]:
    """Run the learner's notebook again in a new sandbox, started from a new Python interpreter.

    The new interpreter gets a PYTHONHASHSEED other than this judge's, so its
    built-in ``hash()`` of a string differs from the one every sandbox forked
    from this judge shares. The learner's code still runs only in a sandbox,
    with the same limits and hidden paths as the submission's own.
    """
    other_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    job = {
        "cells": submission.cells,
        "forbidden": submission.forbidden,
        "forbidden_ops": submission.forbidden_ops,
        "limits": dataclasses.asdict(submission.limits),
        "hide": submission.hide,
        "docs": docs,
        "num_perm": num_perm,
        "seed": seed,
    }
    from autograder.exercises import REPO_ROOT

    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=submission.limits.notebook_seconds + 2 * submission.limits.call_seconds + 120,
        env=dict(os.environ, PYTHONHASHSEED=other_seed),
        cwd=REPO_ROOT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE-ANSWER ")]
    if not lines:
        raise RuntimeError(f"the second grading process failed: {done.stderr[-2000:]}")
    answer = json.loads(lines[-1][len("PROBE-ANSWER "):])
    if "student_error" in answer:
        check(False, f"in a new process your code raised {answer['student_error']}")
    if "sandbox_failure" in answer:
        check(False, f"in a new process the notebook did not run: {answer['sandbox_failure']}")
    return answer["signatures"]
