"""Traces shared by the week06/continuous_batching hidden tests."""

# (rows, max_batch, token_budget): small enough to check by hand.
HAND = [
    # ties in arrival are served by smaller id; the list is not in arrival order
    ([(7, 0.0, 3, 1), (3, 0.0, 1, 4), (5, 2.0, 2, 2), (1, 2.0, 5, 1)], 2, 6),
    # one request that wants a single token
    ([(4, 0.75, 3, 1)], 4, 4),
    # the engine idles between arrivals
    ([(0, 1.5, 2, 2), (1, 10.0, 3, 3), (2, 10.5, 1, 2)], 4, 8),
    # a long prompt at the head blocks a short one behind it (no skipping)
    ([(0, 0.0, 2, 5), (1, 0.0, 6, 1), (2, 0.0, 1, 1), (3, 0.5, 1, 3)], 8, 7),
    # one request at a time
    ([(10, 0.0, 2, 3), (11, 0.0, 2, 2), (12, 1.0, 4, 1)], 1, 4),
]

# (fixed, per_token) step costs, exact in binary
COSTS = [(1.0, 0.0), (0.25, 0.125)]


def run(submission, name, rows, *args, fixed, per_token):
    """Build the requests and the step cost in the notebook, run one simulator there."""
    requests = submission.requests_from_rows(rows)
    step_time = submission.StepTime(fixed, per_token)
    return getattr(submission, name)(requests, *args, step_time)
