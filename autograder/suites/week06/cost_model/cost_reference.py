"""An independent reference for the week06/cost_model hidden suite.

Written from the formulas in the notebook, in a different form from the
solution: the decode rate is the batch over the slower of two step times, and
whole-number answers are computed with exact fractions, so that the
reference itself has no floating-point rounding at the boundaries.
"""

import math
import random
from fractions import Fraction

import torch

from llmcourse.testing import assert_close, check


def decode_rate(model_bytes, kv_bytes_per_token, context, batch, bandwidth, flops, params):
    """Tokens per second over the batch: batch / max(time to read the bytes, time to do the FLOPs)."""
    read_time = (model_bytes + kv_bytes_per_token * context * batch) / bandwidth
    math_time = 2.0 * params * batch / flops
    return batch / max(read_time, math_time)


def prefill_time(prompt_tokens, params, flops, model_bytes, bandwidth):
    return max(prompt_tokens * params * 2.0 / flops, model_bytes / bandwidth)


def dollars_per_million(hourly, tokens_per_second, utilisation):
    seconds_per_million = 1e6 / (tokens_per_second * utilisation)
    return seconds_per_million * hourly / 3600.0


def dollars_per_query(hourly, prompt_tokens, output_tokens, prefill_rate, decode_rate_, utilisation):
    return (hourly / 3600.0) * (prompt_tokens / prefill_rate + output_tokens / decode_rate_) / utilisation


def gpu_count(qps, prompt_tokens, output_tokens, rates, headroom):
    """Exact ceiling with fractions: the inputs are converted exactly from their binary floats."""
    prefill_rate, decode_rate_ = (Fraction(r) for r in rates)
    busy = Fraction(qps) * (Fraction(prompt_tokens) / prefill_rate + Fraction(output_tokens) / decode_rate_)
    return math.ceil(busy / (1 - Fraction(headroom)))


def gpu_count_fraction(qps, prompt_tokens, output_tokens, rates, headroom):
    """The unrounded number of GPUs, to skip random cases that sit on a float boundary."""
    prefill_rate, decode_rate_ = rates
    return qps * (prompt_tokens / prefill_rate + output_tokens / decode_rate_) / (1 - headroom)


def batch_that_fits(gpu_memory, model_bytes, kv_bytes_per_token, context):
    free = gpu_memory - model_bytes
    per_sequence = kv_bytes_per_token * context
    return max(0, free // per_sequence)


def close(got, want, what):
    """Compare two numbers under the course's float64 tolerance."""
    is_number = isinstance(got, (int, float)) and not isinstance(got, bool)
    check(is_number, f"{what} must be an int or a float, not {type(got).__name__}")
    as_tensor = lambda value: torch.tensor(float(value), dtype=torch.float64)  # noqa: E731
    assert_close(as_tensor(got), as_tensor(want), what)


def whole(actual, expected, what):
    """An exact integer answer, returned as a Python int."""
    check(isinstance(actual, int) and not isinstance(actual, bool),
          f"{what} should be a Python int, got {type(actual).__name__}")
    check(actual == expected, f"{what} is not the right whole number")


def log_uniform(rng, low, high):
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def random_hardware_and_model(rng):
    """A random but plausible (model_bytes, kv_bytes_per_token, bandwidth, flops, params)."""
    params = log_uniform(rng, 1e8, 2e11)
    bytes_per_param = rng.choice([0.5, 1.0, 2.0, 4.0])
    kv = float(rng.choice([0, 2**12, 2**16, 3 * 2**16, 2**19, 5 * 2**16]))
    return params * bytes_per_param, kv, log_uniform(rng, 5e11, 8e12), log_uniform(rng, 5e13, 2e15), params


def rng_for(seed):
    return random.Random(seed)
