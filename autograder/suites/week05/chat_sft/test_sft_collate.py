"""Hidden tests for ``collate`` (grade cell ``test_sft_collate``).

The examples are (ids, labels) pairs made in the judge from the reference
template, so only the batching is under test here.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_sft_reference.py")


def pairs(layout, names):
    return [ref.expected(layout, ref.CONVERSATIONS[name])[:2] for name in names]


@points(2)
def test_sft_collate_right_pads(submission):
    """collate returns long tensors (B, longest) holding each example in order, right-padded with the pad id in input_ids and -100 in labels."""
    for chars, names in (
        (ref.SMALL_CHARS, ["three turns", "a user turn only", "a system message first"]),
        (ref.PRINTABLE_CHARS, ["empty messages"]),
        (ref.PRINTABLE_CHARS, ["one user turn and one answer", "one user turn and one answer"]),
    ):
        layout = ref.Layout(chars)
        examples = pairs(layout, names)
        batch = submission.collate(examples, layout.special["pad"])
        want = ref.right_padded(layout, examples)
        label = f"{len(examples)} examples of lengths {[len(ids) for ids, _ in examples]}"
        check(isinstance(batch, dict) and {"input_ids", "labels"} <= set(batch),
              "collate must return a dict with 'input_ids' and 'labels'")
        for key in ("input_ids", "labels"):
            got = batch[key]
            check(isinstance(got, torch.Tensor) and got.dtype == torch.long, f"batch[{key!r}] must be a torch.long tensor")
            check(tuple(got.shape) == tuple(want[key].shape),
                  f"batch[{key!r}] has shape {tuple(got.shape)}, not (examples, longest example) ({label})")
            wrong = (got != want[key]).nonzero()
            check(len(wrong) == 0, f"batch[{key!r}] is wrong first at row {int(wrong[0][0]) if len(wrong) else 0}, "
                                   f"column {int(wrong[0][1]) if len(wrong) else 0} ({label})")
