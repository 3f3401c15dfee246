"""Hidden tests for ``decode_tokens_per_second`` (grade cell ``test_cost_decode``).

Expected rates come from an independent reference (cost_reference.py) on
seeded random hardware, model, batch and context; the other tests check the
directions the rate must move in, which hold for any correct formula.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "cost_reference.py")


def rate(submission, model_bytes, kv, context, batch, bandwidth, flops, params):
    return submission.decode_tokens_per_second(model_bytes, kv, context, batch, bandwidth, flops, params)


@points(1)
def test_decode_matches_reference_on_random_inputs(submission):
    """The rate equals min(batch * bandwidth / (weight bytes + batch * context * KV bytes per token), flops / (2 params)) on random inputs."""
    rng = ref.rng_for(601)
    for _ in range(200):
        model_bytes, kv, bandwidth, flops, params = ref.random_hardware_and_model(rng)
        context, batch = rng.randint(0, 32768), rng.choice([1, 2, 3, 8, 17, 64, 256, 1000])
        ref.close(rate(submission, model_bytes, kv, context, batch, bandwidth, flops, params),
                  ref.decode_rate(model_bytes, kv, context, batch, bandwidth, flops, params),
                  "decode_tokens_per_second on a random case")


@points(1)
def test_decode_memory_bound_counts_kv_cache(submission):
    """While memory-bound, every sequence's KV cache is read each step, not only the weights."""
    # 7B-class in bf16 on an A100-class GPU, one sequence of 4096 tokens at 512 KiB per token:
    # far below the compute ceiling, so the rate is bandwidth over all the bytes read.
    model_bytes, kv, bandwidth, flops, params = 14e9, 2**19, 2.0e12, 312e12, 7e9
    for context, batch in ((4096, 1), (1024, 4), (8192, 2), (2048, 16)):
        want = batch * bandwidth / (model_bytes + batch * context * kv)
        ref.close(rate(submission, model_bytes, kv, context, batch, bandwidth, flops, params), want,
                  "the memory-bound decode rate with a KV cache")


@points(1)
def test_decode_rises_with_batch_up_to_compute_ceiling(submission):
    """More sequences per step never lower the throughput, raise it while memory-bound, and never pass flops / (2 params)."""
    rng = ref.rng_for(602)
    for _ in range(20):
        model_bytes, kv, bandwidth, flops, params = ref.random_hardware_and_model(rng)
        context = rng.randint(1, 4096)
        ceiling = flops / (2 * params)
        previous = 0.0
        for batch in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096):
            got = rate(submission, model_bytes, kv, context, batch, bandwidth, flops, params)
            check(got >= previous * (1 - 1e-12), "the decode rate fell when the batch grew")
            check(got <= ceiling * (1 + 1e-12), "the decode rate exceeded the compute ceiling flops / (2 params)")
            memory_bound = batch * bandwidth / (model_bytes + batch * context * kv)
            if memory_bound < ceiling * 0.5:  # clearly memory-bound: more sequences must help
                check(got > previous, "the decode rate did not rise with the batch while memory-bound")
            previous = got
    # No KV cache and a huge batch: the weights are amortised away and compute is the limit.
    ref.close(rate(submission, 14e9, 0, 0, 10**6, 2e12, 312e12, 7e9), 312e12 / 14e9,
              "the decode rate of a huge batch with no KV cache")


@points(1)
def test_decode_falls_with_context(submission):
    """A longer context means more KV-cache bytes per step: the rate falls while memory-bound, and never rises."""
    rng = ref.rng_for(603)
    for _ in range(20):
        model_bytes, _, bandwidth, flops, params = ref.random_hardware_and_model(rng)
        kv = float(rng.choice([2**16, 2**19]))
        batch = rng.choice([1, 8, 64])
        rates = [rate(submission, model_bytes, kv, context, batch, bandwidth, flops, params)
                 for context in (0, 512, 2048, 8192, 32768, 131072)]
        check(all(b <= a * (1 + 1e-12) for a, b in zip(rates, rates[1:])), "the decode rate rose with the context")
    # Memory-bound at every context here (batch 8 of a 7B model): strictly falling.
    rates = [rate(submission, 14e9, 2**19, context, 8, 2e12, 312e12, 7e9) for context in (0, 1000, 4000, 16000)]
    check(all(b < a for a, b in zip(rates, rates[1:])), "the memory-bound decode rate did not fall as the context grew")


@points(1)
def test_decode_precision_and_units(submission):
    """Int4 weights (a quarter of bf16's bytes) decode faster while memory-bound and hit the same compute ceiling; the rate does not depend on the byte unit used."""
    params, bandwidth, flops = 7e9, 2.0e12, 312e12
    for context, batch in ((0, 1), (4096, 1), (2048, 8)):
        bf16 = rate(submission, 2 * params, 2**19, context, batch, bandwidth, flops, params)
        int4 = rate(submission, 0.5 * params, 2**19, context, batch, bandwidth, flops, params)
        check(int4 > bf16, "int4 weights did not decode faster than bf16 while memory-bound")
    ref.close(rate(submission, 0.5 * params, 0, 0, 10**6, bandwidth, flops, params),
              rate(submission, 2 * params, 0, 0, 10**6, bandwidth, flops, params),
              "the compute-bound rate of int4 weights compared with bf16 (same FLOPs per token)")
    # Bytes and bytes per second measured in KiB instead of bytes: the same rate.
    for context, batch in ((4096, 1), (1024, 32)):
        in_bytes = rate(submission, 14e9, 2**19, context, batch, 2e12, 312e12, 7e9)
        in_kib = rate(submission, 14e9 / 1024, 2**19 / 1024, context, batch, 2e12 / 1024, 312e12, 7e9)
        ref.close(in_kib, in_bytes, "the decode rate with every byte quantity expressed in KiB")
