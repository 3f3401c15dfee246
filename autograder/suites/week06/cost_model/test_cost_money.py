"""Hidden tests for ``cost_per_million_tokens`` and ``cost_per_query`` (grade cell ``test_cost_money``)."""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "cost_reference.py")


@points(1)
def test_cost_per_million_matches_reference(submission):
    """Dollars per million tokens equal price per hour / (3600 * tokens per second * utilisation) * 1e6 on random inputs."""
    rng = ref.rng_for(621)
    for _ in range(200):
        hourly, tps, util = ref.log_uniform(rng, 0.2, 100.0), ref.log_uniform(rng, 1.0, 1e5), rng.uniform(0.05, 1.0)
        ref.close(submission.cost_per_million_tokens(hourly, tps, util), ref.dollars_per_million(hourly, tps, util),
                  "cost_per_million_tokens on a random case")
    # One GPU-hour at full use produces 3600 * tps tokens and costs exactly the hourly price.
    for hourly, tps in ((2.0, 1000.0), (4.0, 250.0), (1.5, 3.0)):
        tokens_in_an_hour = 3600 * tps
        ref.close(submission.cost_per_million_tokens(hourly, tps, 1.0) * tokens_in_an_hour / 1e6, hourly,
                  "the cost of one hour's tokens at full utilisation (the hourly price)")


@points(1)
def test_cost_per_million_tracks_utilisation_and_speed(submission):
    """Halving utilisation doubles the cost per token; doubling the throughput halves it; a pricier GPU costs more per token."""
    for hourly, tps in ((2.0, 1000.0), (3.5, 42.0)):
        full = submission.cost_per_million_tokens(hourly, tps, 1.0)
        ref.close(submission.cost_per_million_tokens(hourly, tps, 0.5), 2 * full, "the cost at half the utilisation")
        ref.close(submission.cost_per_million_tokens(hourly, tps, 0.25), 4 * full, "the cost at a quarter of the utilisation")
        ref.close(submission.cost_per_million_tokens(hourly, 2 * tps, 1.0), full / 2, "the cost at twice the throughput")
        check(submission.cost_per_million_tokens(2 * hourly, tps, 1.0) > full, "a pricier GPU was not dearer per token")


@points(1)
def test_cost_per_query_matches_reference(submission):
    """A query costs the GPU-seconds of its prompt and output tokens at the hourly price and utilisation, on random inputs."""
    rng = ref.rng_for(622)
    for _ in range(200):
        hourly, util = ref.log_uniform(rng, 0.2, 100.0), rng.uniform(0.05, 1.0)
        prompt, output = rng.randint(0, 50000), rng.randint(0, 4000)
        prefill_rate, decode_rate = ref.log_uniform(rng, 1e3, 1e6), ref.log_uniform(rng, 10.0, 1e5)
        ref.close(submission.cost_per_query(hourly, prompt, output, prefill_rate, decode_rate, util),
                  ref.dollars_per_query(hourly, prompt, output, prefill_rate, decode_rate, util),
                  "cost_per_query on a random case")
    # A query of a million output tokens and no prompt costs what a million decoded tokens cost.
    for hourly, decode_rate, util in ((2.0, 800.0, 0.6), (12.0, 5000.0, 1.0)):
        ref.close(submission.cost_per_query(hourly, 0, 1_000_000, 1e5, decode_rate, util),
                  submission.cost_per_million_tokens(hourly, decode_rate, util),
                  "cost_per_query of a million output tokens, against cost_per_million_tokens")
