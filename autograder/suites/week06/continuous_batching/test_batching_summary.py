"""Hidden tests for ``summarize`` (grade cell ``test_batching_summary``)."""

import numpy as np

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_batching_reference.py")

KEYS = {"throughput", "ttft_p50", "ttft_p99", "latency_p50", "latency_p99"}


def made_up_records(seed, n):
    """Records with random arrivals, TTFTs and latencies (not from any simulator)."""
    rng = np.random.default_rng(seed)
    arrival = np.sort(rng.uniform(3.0, 40.0, size=n))
    ttft = rng.lognormal(-1.0, 1.0, size=n)
    finish = arrival + ttft + rng.lognormal(0.5, 0.8, size=n)
    outputs = rng.integers(1, 200, size=n)
    return [
        {"id": k, "arrival": float(a), "prompt_tokens": 10, "output_tokens": int(o),
         "first_token_time": float(a + t), "finish_time": float(f)}
        for k, (a, t, f, o) in enumerate(zip(arrival, ttft, finish, outputs))
    ]


@points(2)
def test_summary_percentiles_are_linear(submission):
    """The p50 and p99 of TTFT and latency use linear interpolation between order statistics (numpy's default)."""
    for seed, n in ((0, 10), (1, 7), (2, 33), (3, 2)):
        records = made_up_records(seed, n)
        got, want = submission.summarize(records), ref.summary(records)
        check(set(got) == KEYS, "summarize must return exactly the keys throughput, ttft_p50, ttft_p99, latency_p50, latency_p99")
        for key in ("ttft_p50", "ttft_p99", "latency_p50", "latency_p99"):
            assert_close(np.float64([got[key]]), np.float64([want[key]]), f"{key} for {n} requests")


@points(1)
def test_summary_throughput(submission):
    """Throughput is all generated tokens over the time from the first arrival to the last finish."""
    for seed, n in ((4, 12), (5, 1)):
        records = made_up_records(seed, n)
        got = submission.summarize(records)
        assert_close(np.float64([got["throughput"]]), np.float64([ref.summary(records)["throughput"]]),
                     f"throughput for {n} requests")


@points(1)
def test_summary_measures_from_arrival(submission):
    """TTFT and latency are measured from each request's own arrival, and summarize returns plain floats."""
    records = made_up_records(6, 9)
    shifted = [dict(r, arrival=r["arrival"] + 1.0, first_token_time=r["first_token_time"] + 1.0,
                    finish_time=r["finish_time"] + 1.0) for r in records]
    got, moved = submission.summarize(records), submission.summarize(shifted)
    check(all(isinstance(v, float) for v in got.values()), "every value summarize returns must be a Python float")
    for key in ("ttft_p50", "ttft_p99", "latency_p50", "latency_p99"):
        assert_close(np.float64([moved[key]]), np.float64([got[key]]), f"{key} when every time moves by the same amount")
        assert_close(np.float64([got[key]]), np.float64([ref.summary(records)[key]]), f"{key}")
