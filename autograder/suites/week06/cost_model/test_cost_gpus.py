"""Hidden tests for ``gpus_needed`` (grade cell ``test_cost_gpus``).

Boundary cases use dyadic numbers (sums of powers of two), which every order
of floating-point operations represents exactly, so the exact answer is the
only right one; random cases near a whole number are skipped.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "cost_reference.py")


@points(1)
def test_gpus_match_reference_on_random_inputs(submission):
    """The GPU count is the smallest whole number covering qps * GPU-seconds per query / (1 - headroom), on random inputs."""
    rng = ref.rng_for(631)
    tried = 0
    while tried < 200:
        qps = ref.log_uniform(rng, 0.01, 500.0)
        prompt, output = rng.randint(0, 20000), rng.randint(1, 2000)
        rates = (ref.log_uniform(rng, 1e3, 1e5), ref.log_uniform(rng, 50.0, 1e4))
        headroom = rng.uniform(0.0, 0.6)
        unrounded = ref.gpu_count_fraction(qps, prompt, output, rates, headroom)
        if abs(unrounded - round(unrounded)) < 1e-6:
            continue  # too close to a whole number to be a fair random case
        tried += 1
        ref.whole(submission.gpus_needed(qps, prompt, output, rates, headroom),
                  ref.gpu_count(qps, prompt, output, rates, headroom), "gpus_needed on a random case")


@points(1)
def test_gpus_round_up_and_not_past_exact_boundaries(submission):
    """Any fraction of a GPU needs a whole GPU more, and a demand of exactly k GPUs needs k, not k + 1."""
    # one query busies a GPU 1024/8192 + 256/1024 = 0.375 s
    shape = (1024, 256, (8192.0, 1024.0))
    cases = [  # (qps, headroom, GPUs)
        (8, 0.0, 3), (8, 0.5, 6), (8, 0.75, 12), (16, 0.0, 6), (32, 0.5, 24),
        (1, 0.0, 1), (2, 0.0, 1), (3, 0.0, 2), (9, 0.0, 4), (10, 0.5, 8), (0.125, 0.0, 1),
    ]
    for qps, headroom, want in cases:
        prompt, output, rates = shape
        ref.whole(submission.gpus_needed(qps, prompt, output, rates, headroom), want,
                  "gpus_needed at or near a whole number of busy GPUs")
    check(submission.gpus_needed(0, 1024, 256, (8192.0, 1024.0), 0.3) == 0, "no traffic should need no GPUs")


@points(1)
def test_gpus_grow_with_traffic_length_and_headroom(submission):
    """More queries, longer outputs or more headroom never need fewer GPUs; faster GPUs never need more."""
    base = dict(qps=20.0, prompt=2000, output=300, rates=(20000.0, 1500.0), headroom=0.3)

    def count(qps=base["qps"], prompt=base["prompt"], output=base["output"], rates=base["rates"], headroom=base["headroom"]):
        return submission.gpus_needed(qps, prompt, output, rates, headroom)

    reference = count()
    check(count(qps=40.0) >= reference and count(qps=400.0) > reference, "more queries per second needed fewer GPUs")
    check(count(output=3000) > reference, "ten times longer outputs did not need more GPUs")
    check(count(headroom=0.6) > reference, "keeping more capacity free did not need more GPUs")
    check(count(headroom=0.0) <= reference, "keeping no capacity free needed more GPUs")
    check(count(rates=(40000.0, 3000.0)) < reference, "GPUs twice as fast did not need fewer of them")
