"""Hidden tests for ``simulate_continuous`` (grade cell ``test_batching_continuous``)."""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_batching_reference.py")
cases = suite_helper(__file__, "_batching_cases.py")

# (seed, requests, arrival rate, token_budget, max_batch): a loose and a tight engine
RANDOM = [(11, 80, 6.0, 256, 16), (12, 80, 40.0, 64, 16)]


def random_continuous_runs(submission):
    for seed, n, rate, budget, max_batch in RANDOM:
        rows = ref.random_rows(seed, n=n, rate=rate, max_prompt=min(96, budget))
        records, steps = cases.run(submission, "simulate_continuous", rows, budget, max_batch,
                                   fixed=0.02, per_token=0.001)
        yield rows, budget, max_batch, records, steps


@points(1)
def test_continuous_respects_token_budget_and_batch_size(submission):
    """No continuous-batching step processes more than token_budget tokens or holds more than max_batch requests."""
    for rows, budget, max_batch, records, steps in random_continuous_runs(submission):
        prompt = {row[0]: row[2] for row in rows}
        for k, step in enumerate(steps):
            tokens = sum(prompt[i] for i in step["prefill"]) + len(step["decode"])
            check(step["tokens"] == tokens,
                  f"step {k}: the logged tokens are not the admitted prompts plus one per decoded request")
            check(tokens <= budget, f"step {k}: the step processes more tokens than the token budget allows")
            check(len(step["prefill"]) + len(step["decode"]) <= max_batch, f"step {k}: more than max_batch requests run")


@points(1)
def test_continuous_every_request_gets_exactly_its_tokens(submission):
    """Every request is prefilled once and decoded output_tokens - 1 times; it finishes at the end of its last step."""
    for rows, _, _, records, steps in random_continuous_runs(submission):
        prefills = {row[0]: 0 for row in rows}
        made = {row[0]: 0 for row in rows}
        last = {}
        for step in steps:
            for i in step["prefill"]:
                prefills[i] += 1
            for i in list(step["prefill"]) + list(step["decode"]):
                made[i] += 1
                last[i] = step["end"]
        check(all(n == 1 for n in prefills.values()), "every request must be prefilled exactly once")
        check(made == {row[0]: row[3] for row in rows},
              "some request did not get exactly output_tokens tokens (its prefill step makes the first)")
        check(all(r["finish_time"] == last[r["id"]] for r in records),
              "finish_time must be the end of the last step the request takes part in")


@points(1)
def test_continuous_no_request_starts_before_it_arrives(submission):
    """A request is admitted only at a step that starts at or after its arrival, and its first token comes at that step's end."""
    for rows, _, _, records, steps in random_continuous_runs(submission):
        arrival = {row[0]: row[1] for row in rows}
        first = {r["id"]: r["first_token_time"] for r in records}
        for k, step in enumerate(steps):
            for i in step["prefill"]:
                check(step["start"] >= arrival[i], f"step {k} admits a request before it has arrived")
                check(first[i] == step["end"], "first_token_time must be the end of the request's prefill step")
            if k:
                check(step["start"] >= steps[k - 1]["end"], f"step {k} starts before the previous step has ended")


@points(1)
def test_continuous_admits_first_come_first_served(submission):
    """Requests are admitted in order of arrival (ties by id), whatever the order of the list they come in."""
    for rows, _, _, _, steps in random_continuous_runs(submission):
        admitted = [i for step in steps for i in step["prefill"]]
        expected = [row[0] for row in sorted(rows, key=lambda row: (row[1], row[0]))]
        check(admitted == expected, "the order in which requests are admitted is not first come, first served")


@points(2)
def test_continuous_matches_reference_on_small_traces(submission):
    """On small hand-checkable traces, continuous batching produces exactly the reference's steps and times, and a prompt longer than the budget raises ValueError."""
    for k, (rows, max_batch, budget) in enumerate(cases.HAND):
        for fixed, per_token in cases.COSTS:
            records, steps = cases.run(submission, "simulate_continuous", rows, budget, max_batch,
                                       fixed=fixed, per_token=per_token)
            outcome, log = ref.run_continuous(rows, budget, max_batch, fixed, per_token)
            ref.compare(records, steps, rows, outcome, log, f"continuous batching on hand trace {k + 1}")
    raised = False
    try:
        cases.run(submission, "simulate_continuous", [(0, 0.0, 3, 1), (1, 0.0, 9, 2)], 8, 4, fixed=1.0, per_token=0.0)
    except Exception as exc:  # the student's ValueError arrives as a StudentError
        raised = getattr(exc, "type_name", "") == "ValueError"
    check(raised, "a prompt longer than token_budget must raise ValueError")


@points(1)
def test_continuous_beats_static_throughput(submission):
    """Under heavy load, continuous batching delivers more tokens per second than static batching with the same batch size."""
    rows = ref.random_rows(21, n=120, rate=30.0)
    kw = dict(fixed=0.02, per_token=0.0005)
    cont, _ = cases.run(submission, "simulate_continuous", rows, 512, 8, **kw)
    stat, _ = cases.run(submission, "simulate_static", rows, 8, **kw)
    check(ref.summary(cont)["throughput"] > ref.summary(stat)["throughput"],
          "continuous batching should have a higher throughput than static batching on a busy trace")
