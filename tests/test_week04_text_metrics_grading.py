"""The week04/text_metrics exercise, graded end to end through the real engine.

A differently written correct solution (numpy perplexity, n-gram statistics
gathered per order with Counter intersection, a recursive-memo LCS, pass@k
from exact binomial coefficients) must earn full marks; each realistic
mistake must lose the points of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week04/text_metrics")
SOLUTION = EXERCISE.source_path

REWRITTEN = {
    "perplexity": '''
def perplexity(logprobs, mask=None):
    values = np.asarray(logprobs.detach().cpu() if isinstance(logprobs, torch.Tensor) else logprobs, dtype=np.float64).ravel()
    if mask is not None:
        keep = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask).ravel() != 0
        values = values[keep]
    if values.size == 0:
        raise ValueError("nothing to score")
    return float(np.exp(-values.sum() / values.size))
''',
    "bleu": '''
def ngram_counts(tokens, n):
    return Counter(zip(*(tokens[i:] for i in range(n))))


def brevity_penalty(hyp_len, ref_len):
    return 0.0 if hyp_len == 0 else min(1.0, math.exp(1 - ref_len / hyp_len))


def bleu(hypotheses, references, max_n=4):
    pairs = [(h.split(), r.split()) for h, r in zip(hypotheses, references)]
    c = sum(len(h) for h, _ in pairs)
    r = sum(len(x) for _, x in pairs)
    log_precisions, penalty = [], 1
    stats = []
    for n in range(1, max_n + 1):
        hit = sum(sum((ngram_counts(h, n) & ngram_counts(x, n)).values()) for h, x in pairs)
        seen = sum(max(len(h) - n + 1, 0) for h, _ in pairs)
        stats.append((hit, seen))
    if all(hit == 0 for hit, _ in stats) or any(seen == 0 for _, seen in stats):
        return 0.0
    for hit, seen in stats:
        if hit:
            log_precisions.append(math.log(hit) - math.log(seen))
        else:
            penalty *= 2
            log_precisions.append(-math.log(penalty * seen))
    return 100 * brevity_penalty(c, r) * math.exp(sum(log_precisions) / max_n)
''',
    "rouge_l": '''
import functools


def rouge_tokens(text):
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def lcs_length(a, b):
    a, b = tuple(a), tuple(b)

    @functools.lru_cache(maxsize=None)
    def best(i, j):
        if i == len(a) or j == len(b):
            return 0
        if a[i] == b[j]:
            return 1 + best(i + 1, j + 1)
        return max(best(i + 1, j), best(i, j + 1))

    return best(0, 0)


def rouge_l(candidate, reference):
    cand, ref = rouge_tokens(candidate), rouge_tokens(reference)
    common = lcs_length(cand, ref) if cand and ref else 0
    if common == 0:
        return dict(precision=0.0, recall=0.0, fmeasure=0.0)
    p, r = common / len(cand), common / len(ref)
    return dict(precision=p, recall=r, fmeasure=2 * common / (len(cand) + len(ref)))
''',
    "pass_at_k": '''
def pass_at_k(n, c, k):
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)
''',
}

WRONG = {
    # Hypothesis n-grams counted in full, not clipped to their count in the reference.
    "bleu_without_clipping": (
        edited(SOLUTION, "bleu", ("sum(min(count, ref_grams[gram]) for", "sum(count for")),
        {"test_bleu_clips_repeated_ngrams", "test_bleu_matches_sacrebleu"},
    ),
    # Brevity penalty with the ratio upside down: it punishes long hypotheses and never short ones.
    "bleu_brevity_penalty_inverted": (
        edited(SOLUTION, "bleu", ("if hyp_len >= ref_len:", "if hyp_len <= ref_len:"),
               ("math.exp(1.0 - ref_len / hyp_len)", "math.exp(1.0 - hyp_len / ref_len)")),
        {"test_bleu_brevity_penalty", "test_bleu_matches_sacrebleu"},
    ),
    # Sentence BLEU averaged over the corpus instead of pooling the counts.
    "bleu_mean_of_sentence_scores": (
        edited(SOLUTION, "bleu", (
            "def bleu(hypotheses, references, max_n=4) -> float:\n",
            "def bleu(hypotheses, references, max_n=4) -> float:\n"
            "    if len(hypotheses) > 1:\n"
            "        return sum(bleu([h], [r], max_n) for h, r in zip(hypotheses, references)) / len(hypotheses)\n",
        )),
        {"test_bleu_is_corpus_level", "test_bleu_matches_sacrebleu"},
    ),
    # Longest common SUBSTRING (contiguous run) instead of subsequence.
    "rouge_l_common_substring": (
        edited(SOLUTION, "rouge_l",
               ("current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))",
                "current.append(previous[j - 1] + 1 if token == other else 0)"),
               ("previous = [0] * (len(b) + 1)", "previous, best = [0] * (len(b) + 1), 0"),
               ("        previous = current\n    return previous[-1]",
                "        best = max([best] + current)\n        previous = current\n    return best")),
        {"test_rouge_l_uses_subsequences", "test_rouge_l_matches_rouge_score"},
    ),
    # exp of the summed negative log-likelihood: grows with the length of the text.
    "perplexity_of_summed_nll": (
        edited(SOLUTION, "perplexity", ("math.exp(nll.mean().item())", "math.exp(nll.sum().item())")),
        {"test_perplexity_matches_cross_entropy", "test_perplexity_respects_mask", "test_perplexity_properties"},
    ),
    # Sampling with replacement: 1 - (1 - c/n)^k, biased low.
    "pass_at_k_with_replacement": (
        edited(SOLUTION, "pass_at_k", (
            "    if n - c < k:\n        return 1.0\n",
            "    return 1.0 - (1.0 - c / n) ** k\n",
        )),
        {"test_pass_at_k_matches_brute_force", "test_pass_at_k_edge_cases", "test_pass_at_k_large_n"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"rewritten": REWRITTEN}, WRONG
)
