"""Hidden tests for ``prefill_seconds`` (grade cell ``test_cost_prefill``)."""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "cost_reference.py")


@points(1)
def test_prefill_matches_reference_on_random_inputs(submission):
    """Prefill takes max(2 * params * prompt tokens / flops, weight bytes / bandwidth) seconds on random inputs."""
    rng = ref.rng_for(611)
    for _ in range(200):
        model_bytes, _, bandwidth, flops, params = ref.random_hardware_and_model(rng)
        prompt = rng.choice([1, 2, 7, 64, 300, 1000, 4096, 32768, 200000])
        ref.close(submission.prefill_seconds(prompt, params, flops, model_bytes, bandwidth),
                  ref.prefill_time(prompt, params, flops, model_bytes, bandwidth),
                  "prefill_seconds on a random case")


@points(1)
def test_prefill_scales_with_prompt_above_a_floor(submission):
    """Long prompts take time in proportion to their length; short prompts cannot beat one read of the weights."""
    params, flops, model_bytes, bandwidth = 7e9, 312e12, 14e9, 2.0e12
    floor = model_bytes / bandwidth
    long_times = [submission.prefill_seconds(n, params, flops, model_bytes, bandwidth) for n in (2000, 4000, 8000)]
    ref.close(long_times[1], 2 * long_times[0], "twice as long a compute-bound prompt")
    ref.close(long_times[2], 4 * long_times[0], "four times as long a compute-bound prompt")
    for n in (1, 10, 100):
        ref.close(submission.prefill_seconds(n, params, flops, model_bytes, bandwidth), floor,
                  "a short prompt's prefill time (the weight-read floor)")
    check(submission.prefill_seconds(4000, 70e9, flops, 140e9, bandwidth)
          > submission.prefill_seconds(4000, 7e9, flops, 14e9, bandwidth),
          "a ten times larger model did not take longer to prefill")
