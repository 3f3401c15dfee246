"""Hidden tests for ``render`` (grade cell ``test_sft_render``).

Expected ids come from ``_sft_reference.Layout``, the documented template
rebuilt in the judge, for two vocabularies whose special ids differ.
"""

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_sft_reference.py")


def rendered(submission, tokenizer, conversation, prompt=False):
    ids = submission.render(tokenizer, conversation, add_generation_prompt=prompt)
    check(isinstance(ids, list), f"render returned a {type(ids).__name__}, not a list of ints")
    return [int(i) for i in ids]


@points(2)
def test_sft_render_matches_template(submission):
    """render produces the template's ids (role token, content, <|end|> per message) for system messages, several turns, empty messages and a final user turn, and decode reads the template back."""
    tokenizers = {}
    for label, chars, conversation in ref.cases():
        layout = ref.Layout(chars)
        tokenizer = tokenizers.setdefault(chars, submission.ChatTokenizer(chars))
        want, _, kinds = ref.expected(layout, conversation)
        got = rendered(submission, tokenizer, conversation)
        check(got == want, f"the rendered ids differ from the template ({label}): {ref.first_difference(got, want, kinds)}")
        text = "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in conversation)
        check(tokenizer.decode(got) == text, f"decoding the rendered ids does not give back the template's text ({label})")
    check(rendered(submission, tokenizers[ref.SMALL_CHARS], []) == [], "an empty conversation must render as []")


@points(1)
def test_sft_render_generation_prompt(submission):
    """With add_generation_prompt, render appends exactly one <|assistant|>, so the inference prompt is a prefix of the training sequence that contains the answer."""
    for label, chars, conversation in ref.cases():
        layout = ref.Layout(chars)
        tokenizer = submission.ChatTokenizer(chars)
        want, _, _ = ref.expected(layout, conversation, generation_prompt=True)
        got = rendered(submission, tokenizer, conversation, prompt=True)
        check(got == want, f"render with add_generation_prompt=True is not the template followed by <|assistant|> ({label})")
        full = rendered(submission, tokenizer, conversation)
        for cut, message in enumerate(conversation):
            if message["role"] == "assistant":
                prompt = rendered(submission, tokenizer, conversation[:cut], prompt=True)
                check(full[: len(prompt)] == prompt,
                      f"the prompt for answer {cut} is not a prefix of the whole conversation's ids ({label})")
    layout = ref.Layout(ref.SMALL_CHARS)
    check(rendered(submission, submission.ChatTokenizer(ref.SMALL_CHARS), [], prompt=True) == [layout.special["assistant"]],
          "the generation prompt of an empty conversation is the <|assistant|> token alone")


@points(1)
def test_sft_render_rejects_unknown_roles(submission):
    """render raises ValueError for a message whose role is not system, user or assistant (case matters), wherever it appears."""
    tokenizer = submission.ChatTokenizer(ref.SMALL_CHARS)
    fine = [{"role": "user", "content": "hey"}, {"role": "assistant", "content": "hello there"}]
    for bad_role in ("bot", "User", "tool", ""):
        for where in (0, 1, 2):
            conversation = fine[:where] + [{"role": bad_role, "content": "ok"}] + fine[where:]
            check(learner_raised("ValueError", submission.render, tokenizer, conversation),
                  f"no ValueError for the role {bad_role!r} as message {where} of a conversation")
