"""Hidden tests for ``sft_loss`` (grade cell ``test_sft_loss``).

The reference loss is computed here on a twin of the sandbox's GPT. The test
of what the loss ignores uses a context-free GPT (no attention output, no
position embedding): there each loss term depends on two neighbouring tokens
only, so replacing system and user text must leave a correctly masked loss
exactly where it was, through the learner's whole pipeline.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_sft_reference.py")

BATCHES = [
    ["one user turn and one answer"],
    ["three turns", "a final user turn with no answer", "empty messages"],
    ["a system message first", "the assistant speaks first and twice in a row", "a user turn only"],
]


def learner_loss(submission, remote, batch):
    value = submission.sft_loss(remote, batch)
    check(isinstance(value, torch.Tensor) and value.dim() == 0, "sft_loss must return a 0-dimensional tensor")
    return value.detach().float()


@points(2)
def test_sft_loss_matches_reference(submission):
    """sft_loss equals the mean cross-entropy of the trained tokens, each predicted from the position before it, for single conversations and padded batches."""
    layout = ref.Layout(ref.SMALL_CHARS)
    model, remote = ref.twin_models(submission, layout, seed=3)
    for names in BATCHES:
        batch = ref.right_padded(layout, [ref.expected(layout, ref.CONVERSATIONS[n])[:2] for n in names])
        assert_close(learner_loss(submission, remote, batch), ref.reference_loss(model, batch),
                     f"the loss of a batch of {len(names)} conversation(s)")


@points(1)
def test_sft_loss_ignores_padding(submission):
    """Padding counts for nothing: extra pad columns leave the loss unchanged, and a batch's loss is the token-weighted mean of its examples' losses."""
    layout = ref.Layout(ref.PRINTABLE_CHARS)
    _, remote = ref.twin_models(submission, layout, seed=4)
    examples = [ref.expected(layout, ref.CONVERSATIONS[n])[:2] for n in BATCHES[1]]
    tight = learner_loss(submission, remote, ref.right_padded(layout, examples))
    loose = learner_loss(submission, remote, ref.right_padded(layout, examples, extra=17))
    assert_close(loose, tight, "the loss after adding 17 columns of padding")
    alone = [learner_loss(submission, remote, ref.right_padded(layout, [pair])) for pair in examples]
    counts = torch.tensor([float(sum(v != ref.IGNORED for v in labels[1:])) for _, labels in examples])
    assert_close(tight, (torch.stack(alone) * counts).sum() / counts.sum(),
                 "the batch's loss against its examples' losses weighted by their trained tokens")


@points(1)
def test_sft_loss_only_assistant_tokens_count(submission):
    """Through build_labels, collate and sft_loss, changing system and user text (even its length) never changes the loss, and changing the assistant's text does."""
    layout = ref.Layout(ref.SMALL_CHARS)
    _, remote = ref.twin_models(submission, layout, seed=5, context_free=True)
    tokenizer = submission.ChatTokenizer(ref.SMALL_CHARS)

    def pipeline_loss(conversations):
        examples = [submission.build_labels(tokenizer, c) for c in conversations]
        return learner_loss(submission, remote, submission.collate(examples, layout.special["pad"]))

    def rewrite(conversation, roles, text):
        return [dict(m, content=text(m["content"])) if m["role"] in roles else m for m in conversation]

    def others(content):
        return "".join(reversed(content)) + " and more, more"

    originals = [ref.CONVERSATIONS[n] for n in ("a system message first", "three turns", "a final user turn with no answer")]
    before = pipeline_loss(originals)
    after = pipeline_loss([rewrite(c, ("system", "user"), others) for c in originals])
    assert_close(after, before, "the loss after rewriting every system and user message")
    changed = pipeline_loss([rewrite(c, ("assistant",), others) for c in originals])
    check(abs(changed.item() - before.item()) > 1e-3, "rewriting the assistant's messages did not change the loss")
