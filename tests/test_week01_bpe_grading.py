"""The week01/bpe exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. That the solution earns full marks and
the released stub zero is checked for every exercise by
tests/test_every_exercise.py; here, a differently written correct solution (an
incremental trainer over a linked list, a lowest-rank-first encoder) must earn
full marks, and each realistic mistake must lose the points of the properties
it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import grading_tests

EXERCISE = get_exercise("week01/bpe")
SOLUTION = EXERCISE.source_path

TRAIN_TEMPLATE = '''
def train_bpe(text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    ids = {start}
    merges = []
    while {keep_going}:
        counts = count_pairs(ids)
        if not counts:
            break
        best = {choose}
        if counts[best] < {at_least}:
            break
        ids = merge_pair(ids, best, {new_id})
        merges.append(best)
    return merges
'''


def train(
    start='list(text.encode("utf-8"))',
    keep_going="len(merges) < vocab_size - 256",
    choose="min(counts, key=lambda p: (-counts[p], p))",
    at_least="2",
    new_id="256 + len(merges)",
):
    return TRAIN_TEMPLATE.format(start=start, keep_going=keep_going, choose=choose, at_least=at_least, new_id=new_id)


# Each wrong submission: the cells it replaces and the hidden tests it must fail.
WRONG = {
    "ties_by_first_occurrence": (
        # max() over a dict returns the first maximal key: the pair seen first in the text.
        {"train_bpe": train(choose="max(counts, key=counts.get)")},
        {"test_ties_go_to_smallest_pair"},
    ),
    "ties_by_largest_pair": (
        {"train_bpe": train(choose="max(counts, key=lambda p: (counts[p], p))")},
        {"test_ties_go_to_smallest_pair"},
    ),
    "one_merge_too_many": (
        {"train_bpe": train(keep_going="len(merges) <= vocab_size - 256")},
        {"test_merge_count_matches_vocab_size", "test_matches_reference_on_english"},
    ),
    "new_ids_start_at_257": (
        {"train_bpe": train(new_id="257 + len(merges)")},
        {"test_merge_count_matches_vocab_size", "test_matches_reference_on_english", "test_stops_when_no_pair_repeats"},
    ),
    "merges_pairs_seen_once": (
        {"train_bpe": train(at_least="1")},
        {"test_stops_when_no_pair_repeats"},
    ),
    "trains_on_code_points_not_bytes": (
        {"train_bpe": train(start="[ord(c) for c in text]")},
        {"test_matches_reference_on_other_scripts"},
    ),
    "merge_pair_first_occurrence_only": (
        {
            "pairs": '''
def count_pairs(ids):
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge_pair(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == pair:
            return ids[:i] + [new_id] + ids[i + 2:]   # stops after the first occurrence
    return list(ids)
'''
        },
        {
            "test_merge_pair_replaces_every_occurrence",
            "test_merge_pair_runs_and_edges",
            "test_matches_reference_on_english",
            "test_matches_reference_encoding",
        },
    ),
    "count_pairs_without_overlaps": (
        {
            "pairs": '''
def count_pairs(ids):
    counts = {}
    i = 0
    while i < len(ids) - 1:
        pair = (ids[i], ids[i + 1])
        counts[pair] = counts.get(pair, 0) + 1
        i += 2 if pair[0] == pair[1] else 1   # a run "aaa" counts ("a", "a") once
    return counts


def merge_pair(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
'''
        },
        {"test_stops_when_no_pair_repeats"},
    ),
    "encode_by_greedy_longest_match": (
        {
            "encode": '''
def encode(text, merges):
    pieces = {b: bytes([b]) for b in range(256)}
    for rank, (left, right) in enumerate(merges):
        pieces[256 + rank] = pieces[left] + pieces[right]
    by_bytes = {piece: token for token, piece in pieces.items()}
    longest = max(len(piece) for piece in by_bytes)
    data = text.encode("utf-8")
    out, i = [], 0
    while i < len(data):
        for size in range(min(longest, len(data) - i), 0, -1):
            if data[i:i + size] in by_bytes:
                out.append(by_bytes[data[i:i + size]])
                i += size
                break
    return out
'''
        },
        {"test_matches_reference_encoding"},
    ),
    "encode_merges_in_reverse_rank": (
        {
            "encode": '''
def encode(text, merges):
    ids = list(text.encode("utf-8"))
    for rank in reversed(range(len(merges))):
        ids = merge_pair(ids, tuple(merges[rank]), 256 + rank)
    return ids
'''
        },
        {"test_matches_reference_encoding"},
    ),
    "decode_token_by_token": (
        {
            "decode": '''
def decode(ids, merges):
    pieces = [bytes([b]) for b in range(256)]
    for left, right in merges:
        pieces.append(pieces[left] + pieces[right])
    return "".join(pieces[i].decode("utf-8", errors="replace") for i in ids)
'''
        },
        {"test_round_trip", "test_characters_split_across_tokens", "test_invalid_utf8_becomes_replacement_character"},
    ),
    "decode_drops_invalid_bytes": (
        {
            "decode": '''
def decode(ids, merges):
    pieces = [bytes([b]) for b in range(256)]
    for left, right in merges:
        pieces.append(pieces[left] + pieces[right])
    return b"".join(pieces[i] for i in ids).decode("utf-8", errors="ignore")
'''
        },
        {"test_invalid_utf8_becomes_replacement_character"},
    ),
}

# Correct, but written differently from the solution: pairs counted once and
# then updated incrementally over a doubly linked list, with an index from each
# pair to its positions; encoding by repeatedly merging the lowest-ranked pair
# present (rather than one pass per merge); decoding by recursive expansion.
INCREMENTAL_SOLUTION = {
    "pairs": '''
def count_pairs(ids):
    return dict(Counter(zip(ids, ids[1:])))


def merge_pair(ids, pair, new_id):
    out = []
    skip = False
    for i, token in enumerate(ids):
        if skip:
            skip = False
        elif i + 1 < len(ids) and (token, ids[i + 1]) == pair:
            out.append(new_id)
            skip = True
        else:
            out.append(token)
    return out
''',
    "train_bpe": '''
from collections import defaultdict


def train_bpe(text, vocab_size):
    if vocab_size < 256:
        raise ValueError(f"vocab_size {vocab_size} is smaller than the 256 byte values")
    sym = list(text.encode("utf-8"))
    n = len(sym)
    nxt = list(range(1, n + 1))          # n marks the end
    prv = list(range(-1, n - 1))         # -1 marks the start
    alive = [True] * n
    counts = Counter(zip(sym, sym[1:]))
    where = defaultdict(set)
    for i in range(n - 1):
        where[sym[i], sym[i + 1]].add(i)
    merges = []

    for new_id in range(256, vocab_size):
        top = max(counts.values(), default=0)
        if top < 2:
            break
        best = min(p for p, c in counts.items() if c == top)
        merges.append(best)
        del counts[best]

        def forget(pair, pos):
            if pair == best:
                return
            counts[pair] -= 1
            if counts[pair] == 0:
                del counts[pair]
            where[pair].discard(pos)

        def remember(pair, pos):
            counts[pair] += 1
            where[pair].add(pos)

        for i in sorted(where.pop(best)):
            if not alive[i] or nxt[i] >= n:
                continue
            j = nxt[i]
            if (sym[i], sym[j]) != best:
                continue
            h, k = prv[i], nxt[j]
            if h >= 0:
                forget((sym[h], sym[i]), h)
            if k < n:
                forget((sym[j], sym[k]), j)
            sym[i] = new_id
            alive[j] = False
            nxt[i] = k
            if k < n:
                prv[k] = i
                remember((new_id, sym[k]), i)
            if h >= 0:
                remember((sym[h], new_id), h)
    return merges
''',
    "encode": '''
def encode(text, merges):
    rank = {}
    for r, pair in enumerate(merges):
        rank.setdefault(tuple(pair), r)
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        present = [rank[p] for p in set(zip(ids, ids[1:])) if p in rank]
        if not present:
            break
        r = min(present)
        ids = merge_pair(ids, tuple(merges[r]), 256 + r)
    return ids
''',
    "decode": '''
def decode(ids, merges):
    cache = {}

    def expand(token):
        if token < 256:
            return bytes([token])
        if token not in cache:
            left, right = merges[token - 256]
            cache[token] = expand(left) + expand(right)
        return cache[token]

    buffer = bytearray()
    for token in ids:
        buffer += expand(token)
    return bytes(buffer).decode("utf-8", "replace")
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"incremental": INCREMENTAL_SOLUTION}, WRONG
)
