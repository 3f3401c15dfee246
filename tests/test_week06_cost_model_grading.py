"""The week06/cost_model exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. A differently written correct solution
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks. (tests/test_every_exercise.py grades the solution and
the released stub.)
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

SOLUTION = get_exercise("week06/cost_model").source_path

# A correct solution written another way: step times instead of rates, rates per
# hour, integer arithmetic for the whole-number answers.
ALTERNATIVE = {
    "decode": '''
def decode_tokens_per_second(model_bytes, kv_bytes_per_token, context, batch, bandwidth, flops, params):
    seconds_reading = (model_bytes + kv_bytes_per_token * context * batch) / bandwidth
    seconds_computing = batch * 2 * params / flops
    step = seconds_reading if seconds_reading > seconds_computing else seconds_computing
    return batch / step
''',
    "prefill": '''
def prefill_seconds(prompt_tokens, params, flops, model_bytes, bandwidth):
    return max(prompt_tokens * (2 * params / flops), model_bytes / bandwidth)
''',
    "money": '''
SECONDS_PER_HOUR = 60 * 60


def cost_per_million_tokens(gpu_hourly_price, tokens_per_second, utilisation):
    millions_per_hour = tokens_per_second * SECONDS_PER_HOUR * utilisation / 1e6
    return gpu_hourly_price / millions_per_hour


def cost_per_query(gpu_hourly_price, prompt_tokens, output_tokens, prefill_tokens_per_second,
                   decode_tokens_per_second, utilisation):
    hours = (prompt_tokens / prefill_tokens_per_second + output_tokens / decode_tokens_per_second) / SECONDS_PER_HOUR
    return hours / utilisation * gpu_hourly_price
''',
    "gpus": '''
def gpus_needed(qps, prompt_tokens, output_tokens, per_gpu_throughput, headroom):
    prefill, decode = per_gpu_throughput
    demand = qps * prompt_tokens / prefill + qps * output_tokens / decode
    return -int(-demand // (1 - headroom))   # ceiling by negated floor division
''',
    "memory": '''
def max_batch_for_memory(gpu_memory, model_bytes, kv_bytes_per_token, context):
    n = math.floor((gpu_memory - model_bytes) / (context * kv_bytes_per_token))
    return max(n, 0)
''',
}

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "forgets_kv_cache_bytes": (
        edited(SOLUTION, "decode", ("model_bytes + batch * context * kv_bytes_per_token", "model_bytes")),
        {
            "test_decode_matches_reference_on_random_inputs",
            "test_decode_memory_bound_counts_kv_cache",
            "test_decode_falls_with_context",
        },
    ),
    "max_instead_of_min_of_the_bounds": (
        edited(SOLUTION, "decode", ("min(memory_bound, compute_bound)", "max(memory_bound, compute_bound)")),
        {
            "test_decode_matches_reference_on_random_inputs",
            "test_decode_memory_bound_counts_kv_cache",
            "test_decode_rises_with_batch_up_to_compute_ceiling",
            "test_decode_falls_with_context",
            "test_decode_precision_and_units",
        },
    ),
    "price_per_hour_used_as_per_second": (
        edited(SOLUTION, "money", ("3600 * tokens_per_second * utilisation", "tokens_per_second * utilisation")),
        {"test_cost_per_million_matches_reference", "test_cost_per_query_matches_reference"},
    ),
    "ignores_utilisation": (
        edited(
            SOLUTION, "money",
            ("3600 * tokens_per_second * utilisation", "3600 * tokens_per_second"),
            ("price_per_second / utilisation", "price_per_second"),
        ),
        {
            "test_cost_per_million_matches_reference",
            "test_cost_per_million_tracks_utilisation_and_speed",
            "test_cost_per_query_matches_reference",
        },
    ),
    "rounds_gpus_to_nearest": (
        edited(SOLUTION, "gpus", ("int(math.ceil(busy_gpus / (1 - headroom)))", "int(round(busy_gpus / (1 - headroom)))")),
        {"test_gpus_match_reference_on_random_inputs", "test_gpus_round_up_and_not_past_exact_boundaries"},
    ),
    "headroom_as_a_multiplier_and_one_gpu_too_many": (
        # plans for (1 + headroom) times the load, and adds one "to be safe" instead of rounding up
        edited(SOLUTION, "gpus", ("int(math.ceil(busy_gpus / (1 - headroom)))", "int(busy_gpus * (1 + headroom)) + 1")),
        {"test_gpus_match_reference_on_random_inputs", "test_gpus_round_up_and_not_past_exact_boundaries"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"alternative": ALTERNATIVE}, WRONG
)
