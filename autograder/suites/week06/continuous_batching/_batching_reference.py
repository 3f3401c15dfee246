"""An independent reference for the week06/continuous_batching hidden suite.

Requests are plain rows ``(id, arrival, prompt_tokens, output_tokens)``; the
cost of a step is ``fixed + per_token * tokens``, the expression the notebook's
``StepTime`` uses. Each simulator returns ``(outcome, log)``: ``outcome`` maps
an id to ``(first_token_time, finish_time)`` and ``log`` lists the steps as
dicts with the notebook's keys. Written as a per-request state machine,
deliberately unlike the solution's loop.
"""

from __future__ import annotations

import numpy as np


class Job:
    """A request's progress: tokens made so far and when its first and last came out."""

    def __init__(self, row):
        self.id, self.arrival, self.prompt, self.output = int(row[0]), float(row[1]), int(row[2]), int(row[3])
        self.made = 0
        self.first = None
        self.finish = None

    @property
    def done(self) -> bool:
        return self.made >= self.output

    def emit(self, at: float) -> None:
        self.made += 1
        if self.made == 1:
            self.first = at
        if self.made == self.output:
            self.finish = at


def fcfs(rows):
    """Jobs in the order a first-come-first-served queue serves them."""
    return sorted((Job(r) for r in rows), key=lambda j: (j.arrival, j.id))


def _step(log, now, fixed, per_token, prefill, decode, tokens):
    end = now + (fixed + per_token * tokens)
    log.append({"start": now, "end": end, "prefill": [j.id for j in prefill],
                "decode": [j.id for j in decode], "tokens": tokens})
    for job in list(prefill) + list(decode):
        job.emit(end)
    return end


def run_static(rows, max_batch, fixed, per_token):
    queue = fcfs(rows)
    jobs = list(queue)
    now, log = 0.0, []
    while queue:
        if queue[0].arrival > now:
            now = queue[0].arrival
        group = []
        while queue and queue[0].arrival <= now and len(group) < max_batch:
            group.append(queue.pop(0))
        width = len(group)
        now = _step(log, now, fixed, per_token, group, [], width * max(j.prompt for j in group))
        while not all(j.done for j in group):
            now = _step(log, now, fixed, per_token, [], [j for j in group if not j.done], width)
    return {j.id: (j.first, j.finish) for j in jobs}, log


def run_continuous(rows, token_budget, max_batch, fixed, per_token):
    queue = fcfs(rows)
    jobs = list(queue)
    active = []
    now, log = 0.0, []
    while queue or active:
        if not active and queue[0].arrival > now:
            now = queue[0].arrival
        joining = []
        spent = len(active)
        while queue and queue[0].arrival <= now:
            candidate = queue[0]
            if len(active) + len(joining) + 1 > max_batch or spent + candidate.prompt > token_budget:
                break
            joining.append(queue.pop(0))
            spent += candidate.prompt
        now = _step(log, now, fixed, per_token, joining, active, spent)
        active = [j for j in active + joining if not j.done]
    return {j.id: (j.first, j.finish) for j in jobs}, log


def summary(records) -> dict:
    """Throughput and linear percentiles, computed from records (the notebook's dicts)."""
    arrival = np.array([r["arrival"] for r in records], dtype=float)
    ttft = np.array([r["first_token_time"] for r in records], dtype=float) - arrival
    finish = np.array([r["finish_time"] for r in records], dtype=float)
    latency = finish - arrival
    return {
        "throughput": sum(r["output_tokens"] for r in records) / (finish.max() - arrival.min()),
        "ttft_p50": np.percentile(ttft, 50), "ttft_p99": np.percentile(ttft, 99),
        "latency_p50": np.percentile(latency, 50), "latency_p99": np.percentile(latency, 99),
    }


def random_rows(seed, n, rate, shuffle=True, max_prompt=96, max_output=64):
    """A trace: Poisson arrivals at ``rate`` per second, long-tailed (lognormal) lengths."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / rate, size=n))
    prompts = np.clip(np.round(rng.lognormal(3.0, 0.8, size=n)), 1, max_prompt).astype(int)
    outputs = np.clip(np.round(rng.lognormal(2.5, 0.9, size=n)), 1, max_output).astype(int)
    ids = rng.permutation(n) + 100  # ids unrelated to arrival order
    rows = [(int(i), float(t), int(p), int(o)) for i, t, p, o in zip(ids, arrivals, prompts, outputs)]
    if shuffle:
        rows = [rows[k] for k in rng.permutation(n)]
    return rows


def compare(records, steps, rows, outcome, log, what):
    """Check a run's records and step log against the reference's, naming the first difference."""
    from llmcourse.testing import assert_close, check

    check(len(records) == len(rows), f"{what}: there must be one record per request")
    check([r["id"] for r in records] == [row[0] for row in rows],
          f"{what}: records must come in the order of the requests")
    check(len(steps) == len(log), f"{what}: the step log has a different number of steps than it should")
    for k, (got, want) in enumerate(zip(steps, log)):
        check(list(got["prefill"]) == want["prefill"],
              f"{what}: step {k} prefills a different set of requests (or in a different order) than it should")
        check(sorted(got["decode"]) == sorted(want["decode"]),
              f"{what}: step {k} decodes a different set of requests than it should")
        check(got["tokens"] == want["tokens"], f"{what}: step {k} processes a different number of tokens than it should")
    assert_close(np.array([s["start"] for s in steps], dtype=float),
                 np.array([s["start"] for s in log], dtype=float), f"{what}: the start times of the steps")
    assert_close(np.array([s["end"] for s in steps], dtype=float),
                 np.array([s["end"] for s in log], dtype=float), f"{what}: the end times of the steps")
    assert_close(np.array([r["first_token_time"] for r in records], dtype=float),
                 np.array([outcome[row[0]][0] for row in rows], dtype=float), f"{what}: first_token_time")
    assert_close(np.array([r["finish_time"] for r in records], dtype=float),
                 np.array([outcome[row[0]][1] for row in rows], dtype=float), f"{what}: finish_time")
