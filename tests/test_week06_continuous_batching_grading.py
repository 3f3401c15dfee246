"""The week06/continuous_batching exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. A correct solution written differently
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week06/continuous_batching")
SOLUTION = EXERCISE.source_path

# A correct solution written another way: index arrays instead of dicts and
# queues, tokens counted down instead of up, percentiles interpolated by hand.
ALTERNATIVE = {
    "static": '''
def simulate_static(requests, max_batch, step_time):
    order = sorted(range(len(requests)), key=lambda k: (requests[k].arrival, requests[k].id))
    first = [None] * len(requests)
    finish = [None] * len(requests)
    left = [r.output_tokens for r in requests]
    log, now, nxt = [], 0.0, 0
    while nxt < len(order):
        now = max(now, requests[order[nxt]].arrival)
        group = []
        while nxt < len(order) and len(group) < max_batch and requests[order[nxt]].arrival <= now:
            group.append(order[nxt])
            nxt += 1
        rows = len(group)
        load = rows * max(requests[k].prompt_tokens for k in group)
        prefilling = True
        while any(left[k] for k in group):
            busy = [k for k in group if left[k] > 0]
            done_at = now + step_time(load if prefilling else rows)
            log.append({"start": now, "end": done_at,
                        "prefill": [requests[k].id for k in busy] if prefilling else [],
                        "decode": [] if prefilling else [requests[k].id for k in busy],
                        "tokens": load if prefilling else rows})
            for k in busy:
                left[k] -= 1
                if first[k] is None:
                    first[k] = done_at
                if left[k] == 0:
                    finish[k] = done_at
            now, prefilling = done_at, False
    records = [{"id": r.id, "arrival": r.arrival, "prompt_tokens": r.prompt_tokens, "output_tokens": r.output_tokens,
                "first_token_time": first[k], "finish_time": finish[k]} for k, r in enumerate(requests)]
    return records, log
''',
    "continuous": '''
def simulate_continuous(requests, token_budget, max_batch, step_time):
    too_long = [r.id for r in requests if r.prompt_tokens > token_budget]
    if too_long:
        raise ValueError(f"prompts longer than the token budget: {too_long}")
    order = sorted(range(len(requests)), key=lambda k: (requests[k].arrival, requests[k].id))
    first = [None] * len(requests)
    finish = [None] * len(requests)
    left = [r.output_tokens for r in requests]
    active, log, now, nxt = [], [], 0.0, 0
    while nxt < len(order) or active:
        if not active:
            now = max(now, requests[order[nxt]].arrival)
        joins, load = [], len(active)
        while nxt < len(order):
            r = requests[order[nxt]]
            if r.arrival > now or len(active) + len(joins) == max_batch or load + r.prompt_tokens > token_budget:
                break
            joins.append(order[nxt])
            load += r.prompt_tokens
            nxt += 1
        done_at = now + step_time(load)
        log.append({"start": now, "end": done_at, "prefill": [requests[k].id for k in joins],
                    "decode": [requests[k].id for k in active], "tokens": load})
        for k in active + joins:
            left[k] -= 1
            if first[k] is None:
                first[k] = done_at
            if left[k] == 0:
                finish[k] = done_at
        active = [k for k in active + joins if left[k] > 0]
        now = done_at
    records = [{"id": r.id, "arrival": r.arrival, "prompt_tokens": r.prompt_tokens, "output_tokens": r.output_tokens,
                "first_token_time": first[k], "finish_time": finish[k]} for k, r in enumerate(requests)]
    return records, log
''',
    "summary": '''
def _linear_percentile(values, q):
    xs = sorted(values)
    h = (len(xs) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (h - lo) * (xs[hi] - xs[lo]))


def summarize(records):
    ttft = [r["first_token_time"] - r["arrival"] for r in records]
    latency = [r["finish_time"] - r["arrival"] for r in records]
    span = max(r["finish_time"] for r in records) - min(r["arrival"] for r in records)
    out = {"throughput": sum(r["output_tokens"] for r in records) / span}
    for name, values in (("ttft", ttft), ("latency", latency)):
        for q in (50, 99):
            out[f"{name}_p{q}"] = _linear_percentile(values, q)
    return {k: float(v) for k, v in out.items()}
''',
}

STATIC_REFILLS_FREE_SLOTS = '''
def simulate_static(requests, max_batch, step_time):
    queue = deque(sorted(requests, key=lambda r: (r.arrival, r.id)))
    records = {r.id: {"id": r.id, "arrival": r.arrival, "prompt_tokens": r.prompt_tokens,
                      "output_tokens": r.output_tokens, "first_token_time": None, "finish_time": None}
               for r in requests}
    made, running, steps, clock = {}, [], [], 0.0
    while queue or running:
        if not running and queue[0].arrival > clock:
            clock = queue[0].arrival
        joining = []
        while queue and queue[0].arrival <= clock and len(running) + len(joining) < max_batch:
            joining.append(queue.popleft())          # a finished request's slot is reused at once
        rows = len(running) + len(joining)
        tokens = rows * max(r.prompt_tokens for r in joining) if joining else rows
        end = clock + step_time(tokens)
        steps.append({"start": clock, "end": end, "prefill": [r.id for r in joining],
                      "decode": [r.id for r in running], "tokens": tokens})
        for r in running:
            made[r.id] += 1
        for r in joining:
            made[r.id] = 1
            records[r.id]["first_token_time"] = end
        for r in running + joining:
            if made[r.id] == r.output_tokens:
                records[r.id]["finish_time"] = end
        running = [r for r in running + joining if made[r.id] < r.output_tokens]
        clock = end
    return [records[r.id] for r in requests], steps
'''

LIFO_ADMISSION = '''
def simulate_continuous(requests, token_budget, max_batch, step_time):
    if any(r.prompt_tokens > token_budget for r in requests):
        raise ValueError("a prompt is longer than the token budget")
    pending = sorted(requests, key=lambda r: (r.arrival, r.id))
    records = {r.id: {"id": r.id, "arrival": r.arrival, "prompt_tokens": r.prompt_tokens,
                      "output_tokens": r.output_tokens, "first_token_time": None, "finish_time": None}
               for r in requests}
    made, running, steps, clock = {}, [], [], 0.0
    while pending or running:
        if not running and pending[0].arrival > clock:
            clock = pending[0].arrival
        arrived = [r for r in pending if r.arrival <= clock]
        admitted, tokens = [], len(running)
        for r in reversed(arrived):                  # newest first: a stack, not a queue
            if len(running) + len(admitted) >= max_batch or tokens + r.prompt_tokens > token_budget:
                break
            admitted.append(r)
            tokens += r.prompt_tokens
        for r in admitted:
            pending.remove(r)
        end = clock + step_time(tokens)
        steps.append({"start": clock, "end": end, "prefill": [r.id for r in admitted],
                      "decode": [r.id for r in running], "tokens": tokens})
        for r in running:
            made[r.id] += 1
        for r in admitted:
            made[r.id] = 1
            records[r.id]["first_token_time"] = end
        for r in running + admitted:
            if made[r.id] == r.output_tokens:
                records[r.id]["finish_time"] = end
        running = [r for r in running + admitted if made[r.id] < r.output_tokens]
        clock = end
    return [records[r.id] for r in requests], steps
'''

NEAREST_RANK = '''
def summarize(records):
    def nearest_rank(values, q):
        xs = sorted(values)
        return float(xs[max(math.ceil(q / 100 * len(xs)) - 1, 0)])   # the textbook nearest rank, not linear

    ttft = [r["first_token_time"] - r["arrival"] for r in records]
    latency = [r["finish_time"] - r["arrival"] for r in records]
    span = max(r["finish_time"] for r in records) - min(r["arrival"] for r in records)
    return {"throughput": float(sum(r["output_tokens"] for r in records) / span),
            "ttft_p50": nearest_rank(ttft, 50), "ttft_p99": nearest_rank(ttft, 99),
            "latency_p50": nearest_rank(latency, 50), "latency_p99": nearest_rank(latency, 99)}
'''

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "budget_ignores_decode_tokens": (
        # only the new prompts are counted against the budget: the running decodes ride free
        edited(SOLUTION, "continuous", ("decode_tokens + prefill_tokens + waiting[0]", "prefill_tokens + waiting[0]")),
        {"test_continuous_respects_token_budget_and_batch_size", "test_continuous_matches_reference_on_small_traces"},
    ),
    "prefill_step_makes_no_token": (
        # off by one: the first token is only counted from the first decode step
        edited(SOLUTION, "continuous", ("produced[r.id] = 1 ", "produced[r.id] = 0 ")),
        {"test_continuous_every_request_gets_exactly_its_tokens", "test_continuous_matches_reference_on_small_traces"},
    ),
    "static_refills_free_slots": (
        {"static": STATIC_REFILLS_FREE_SLOTS},
        {"test_static_never_admits_into_a_running_batch", "test_static_matches_reference_on_small_traces"},
    ),
    "lifo_admission": (
        {"continuous": LIFO_ADMISSION},
        {"test_continuous_admits_first_come_first_served", "test_continuous_matches_reference_on_small_traces"},
    ),
    "nearest_rank_percentile": (
        {"summary": NEAREST_RANK},
        {"test_summary_percentiles_are_linear"},
    ),
    "throughput_from_time_zero": (
        # the span starts at 0 instead of at the first arrival
        edited(SOLUTION, "summary", ("(finish.max() - arrival.min())", "finish.max()")),
        {"test_summary_throughput"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"index_arrays_and_hand_percentiles": ALTERNATIVE}, WRONG
)
