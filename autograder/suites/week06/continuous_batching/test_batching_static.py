"""Hidden tests for ``simulate_static`` (grade cell ``test_batching_static``)."""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_batching_reference.py")
cases = suite_helper(__file__, "_batching_cases.py")


def random_static_run(submission, seed, max_batch):
    rows = ref.random_rows(seed, n=60, rate=4.0)
    records, steps = cases.run(submission, "simulate_static", rows, max_batch, fixed=0.02, per_token=0.001)
    return rows, records, steps


@points(2)
def test_static_matches_reference_on_small_traces(submission):
    """On small hand-checkable traces, static batching produces exactly the reference's steps, first-token and finish times."""
    for k, (rows, max_batch, _) in enumerate(cases.HAND):
        for fixed, per_token in cases.COSTS:
            records, steps = cases.run(submission, "simulate_static", rows, max_batch, fixed=fixed, per_token=per_token)
            outcome, log = ref.run_static(rows, max_batch, fixed, per_token)
            ref.compare(records, steps, rows, outcome, log, f"static batching on hand trace {k + 1}")


@points(1)
def test_static_never_admits_into_a_running_batch(submission):
    """A static batch is formed only when the previous one has completely finished; nobody joins it mid-way."""
    for seed, max_batch in ((1, 4), (2, 8)):
        rows, records, steps = random_static_run(submission, seed, max_batch)
        batch = set()
        finish = {r["id"]: r["finish_time"] for r in records}
        for k, step in enumerate(steps):
            if step["prefill"]:
                check(not step["decode"], f"step {k}: a static step that prefills a new batch must decode nothing else")
                check(all(finish[i] <= step["start"] for i in batch),
                      f"step {k}: a new static batch starts before every request of the previous batch has finished")
                check(len(step["prefill"]) <= max_batch, f"step {k}: the batch is larger than max_batch")
                batch = set(step["prefill"])
            check(set(step["decode"]) <= batch, f"step {k}: a request outside the running batch is decoded")


@points(1)
def test_static_tokens_and_padding(submission):
    """Static batching gives every request exactly output_tokens tokens and pays for padded rows in every step."""
    rows, records, steps = random_static_run(submission, 3, 6)
    prompt = {row[0]: row[2] for row in rows}
    wanted = {row[0]: row[3] for row in rows}
    made = {i: 0 for i in wanted}
    width = 0
    for k, step in enumerate(steps):
        if step["prefill"]:
            width = len(step["prefill"])
            check(step["tokens"] == width * max(prompt[i] for i in step["prefill"]),
                  f"step {k}: a static prefill step must process batch size x longest prompt tokens")
        else:
            check(step["tokens"] == width, f"step {k}: a static decode step must process one row per request of its batch")
        for i in list(step["prefill"]) + list(step["decode"]):
            made[i] += 1
    check(made == wanted, "some request did not get exactly output_tokens tokens (its prefill step makes the first)")
