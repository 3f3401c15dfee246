"""Hidden tests for ``build_labels`` (grade cell ``test_sft_labels``).

Expected ids and labels come from ``_sft_reference.expected``; failure
messages name the kind of token (role token, user text, the <|end|> of an
assistant message...) where the learner's labels first go wrong.
"""

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_sft_reference.py")


def labelled(submission, tokenizer, conversation, label):
    result = submission.build_labels(tokenizer, conversation)
    check(isinstance(result, (list, tuple)) and len(result) == 2,
          f"build_labels must return a pair (input_ids, labels) ({label})")
    ids, labels = ([int(v) for v in part] for part in result)
    check(len(ids) == len(labels), f"input_ids and labels have different lengths ({label})")
    return ids, labels


@points(2)
def test_sft_labels_only_assistant_tokens(submission):
    """Exactly the assistant's content tokens and the <|end|> closing each assistant message are labelled; role tokens, system and user messages get -100, over many conversation shapes."""
    for label, chars, conversation in ref.cases():
        want_ids, want_labels, kinds = ref.expected(ref.Layout(chars), conversation)
        ids, labels = labelled(submission, submission.ChatTokenizer(chars), conversation, label)
        check(ids == want_ids, f"input_ids is not the rendered conversation ({label})")
        check(labels == want_labels,
              f"the labels differ from the mask ({label}): {ref.first_difference(labels, want_labels, kinds)}")


@points(1)
def test_sft_labels_teach_the_model_to_stop(submission):
    """The <|end|> token closing every assistant message is labelled (with its own id), even after an empty answer, so the model learns to stop."""
    for label, chars, conversation in ref.cases():
        _, want_labels, kinds = ref.expected(ref.Layout(chars), conversation)
        ids, labels = labelled(submission, submission.ChatTokenizer(chars), conversation, label)
        for position, kind in enumerate(kinds):
            if kind == "the <|end|> closing an assistant message":
                check(position < len(labels) and labels[position] == want_labels[position],
                      f"the <|end|> closing an assistant message at position {position} is not labelled with its id ({label})")


@points(1)
def test_sft_labels_final_user_turn(submission):
    """A final user message with no answer adds no labels and leaves the earlier labels as they were; a conversation with no assistant message has no labels at all."""
    for label, chars, conversation in ref.cases():
        if conversation[-1]["role"] == "assistant":
            continue
        tokenizer = submission.ChatTokenizer(chars)
        ids, labels = labelled(submission, tokenizer, conversation, label)
        cut = max((k for k, m in enumerate(conversation) if m["role"] == "assistant"), default=-1) + 1
        before_ids, before_labels = labelled(submission, tokenizer, conversation[:cut], label)
        check(labels[: len(before_labels)] == before_labels,
              f"adding the unanswered user turn changed the labels before it ({label})")
        check(all(v == ref.IGNORED for v in labels[len(before_labels):]),
              f"the unanswered user turn at the end has labels; it must have none ({label})")
        if cut == 0:
            check(all(v == ref.IGNORED for v in labels), f"a conversation with no assistant message has labels ({label})")


@points(1)
def test_sft_labels_aligned_with_inputs(submission):
    """Labels are aligned with the input ids, not shifted: every label is -100 or the input id at the same position."""
    for label, chars, conversation in ref.cases():
        ids, labels = labelled(submission, submission.ChatTokenizer(chars), conversation, label)
        misaligned = [k for k, (t, v) in enumerate(zip(ids, labels)) if v not in (ref.IGNORED, t)]
        check(not misaligned,
              f"{len(misaligned)} labels are neither -100 nor the input id at their own position ({label})")
        if any(m["role"] == "assistant" and m["content"] for m in conversation):
            check(any(v != ref.IGNORED for v in labels), f"a conversation with an answer has no labels ({label})")
