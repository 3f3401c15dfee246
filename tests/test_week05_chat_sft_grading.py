"""The week05/chat_sft exercise, graded end to end through the real engine.

Every submission here goes through ``grade_notebook``: the judge process, the
sandbox process and the hidden suite. Differently written correct solutions
must earn full marks, and each realistic mistake must lose the points of the
properties it breaks (tests/test_every_exercise.py grades the solution and the
released stub).
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week05/chat_sft")
SOLUTION = EXERCISE.source_path

# Each wrong submission: the cells it replaces and hidden tests it must fail.
WRONG = {
    "end_of_answer_not_trained": (
        # the closing <|end|> is treated like a role token: the model never learns to stop
        edited(SOLUTION, "build_labels", (
            "labels.extend([IGNORE_INDEX] + piece[1:])",
            "labels.extend([IGNORE_INDEX] + piece[1:-1] + [IGNORE_INDEX])",
        )),
        {"test_sft_labels_only_assistant_tokens", "test_sft_labels_teach_the_model_to_stop"},
    ),
    "trains_on_everything": (
        # plain language-model labels: every token of the conversation is a target
        edited(SOLUTION, "build_labels", ("return input_ids, labels", "return input_ids, list(input_ids)")),
        {
            "test_sft_labels_only_assistant_tokens",
            "test_sft_labels_final_user_turn",
            "test_sft_loss_only_assistant_tokens_count",
        },
    ),
    "shifted_twice": (
        # labels pre-shifted the way GPT.forward's targets are, and shifted again in the loss
        edited(SOLUTION, "build_labels", ("return input_ids, labels", "return input_ids, labels[1:] + [IGNORE_INDEX]")),
        {
            "test_sft_labels_only_assistant_tokens",
            "test_sft_labels_teach_the_model_to_stop",
            "test_sft_labels_aligned_with_inputs",
        },
    ),
    "trains_on_user_turns": (
        # the role test picks the wrong speaker
        edited(SOLUTION, "build_labels", ('if message["role"] == "assistant":', 'if message["role"] == "user":')),
        {
            "test_sft_labels_only_assistant_tokens",
            "test_sft_labels_teach_the_model_to_stop",
            "test_sft_labels_final_user_turn",
            "test_sft_loss_only_assistant_tokens_count",
        },
    ),
    "padding_in_the_mean": (
        # per-position losses averaged over every position: ignored ones add 0 but still count
        edited(SOLUTION, "sft_loss", (
            "F.cross_entropy(predictions, targets, ignore_index=IGNORE_INDEX)",
            'F.cross_entropy(predictions, targets, ignore_index=IGNORE_INDEX, reduction="none").mean()',
        )),
        {"test_sft_loss_matches_reference", "test_sft_loss_ignores_padding", "test_sft_loss_only_assistant_tokens_count"},
    ),
    "role_token_trained": (
        # the whole rendered assistant message is labelled, its <|assistant|> token included
        edited(SOLUTION, "build_labels", ("labels.extend([IGNORE_INDEX] + piece[1:])", "labels.extend(piece)")),
        {"test_sft_labels_only_assistant_tokens"},
    ),
    "padding_trained": (
        # labels padded with the pad id instead of -100: the model learns to predict padding
        edited(SOLUTION, "collate", (
            "labels = torch.full((len(examples), longest), IGNORE_INDEX, dtype=torch.long)",
            "labels = torch.full((len(examples), longest), pad_id, dtype=torch.long)",
        )),
        {"test_sft_collate_right_pads", "test_sft_loss_only_assistant_tokens_count"},
    ),
}

# Correct, written differently: the template joins per-message lists; the labels come from the
# lengths of rendered prefixes (how masking by offsets works in libraries); padding by
# pad_sequence; the loss through GPT.forward with targets shifted once.
PREFIX_OFFSETS = {
    "render": '''
def render(tokenizer, conversation, add_generation_prompt=False):
    unknown = [m["role"] for m in conversation if m["role"] not in ROLES]
    if unknown:
        raise ValueError(f"roles must be one of {ROLES}, got {unknown[0]!r}")
    pieces = [[tokenizer.special_ids["<|" + m["role"] + "|>"], *tokenizer.encode(m["content"]), tokenizer.end_id]
              for m in conversation]
    tail = [tokenizer.special_ids["<|assistant|>"]] if add_generation_prompt else []
    return sum(pieces, []) + tail
''',
    "build_labels": '''
def build_labels(tokenizer, conversation):
    ids = render(tokenizer, conversation)
    labels = [IGNORE_INDEX] * len(ids)
    for k, message in enumerate(conversation):
        if message["role"] != "assistant":
            continue
        start = len(render(tokenizer, conversation[:k], add_generation_prompt=True))
        stop = len(render(tokenizer, conversation[: k + 1]))
        labels[start:stop] = ids[start:stop]
    return ids, labels
''',
    "collate": '''
from torch.nn.utils.rnn import pad_sequence


def collate(examples, pad_id):
    ids = [torch.tensor(list(e[0]), dtype=torch.long) for e in examples]
    labs = [torch.tensor(list(e[1]), dtype=torch.long) for e in examples]
    return {
        "input_ids": pad_sequence(ids, batch_first=True, padding_value=pad_id),
        "labels": pad_sequence(labs, batch_first=True, padding_value=IGNORE_INDEX),
    }
''',
    "sft_loss": '''
def sft_loss(model, batch):
    # GPT.forward wants targets already shifted; its cross_entropy ignores -100 by default
    _, loss = model(batch["input_ids"][:, :-1], batch["labels"][:, 1:])
    return loss
''',
}

# Correct too: a boolean mask built per token while rendering, and the loss written out with
# log_softmax, gather and a masked sum.
MASK_AND_GATHER = {
    "build_labels": '''
def build_labels(tokenizer, conversation):
    ids, keep = [], []
    for m in conversation:
        body = tokenizer.encode(m["content"]) + [tokenizer.end_id]
        if m["role"] not in ROLES:
            raise ValueError(m["role"])
        ids += [tokenizer.special_ids[f"<|{m['role']}|>"]] + body
        keep += [False] + [m["role"] == "assistant"] * len(body)
    return ids, [t if k else -100 for t, k in zip(ids, keep)]
''',
    "sft_loss": '''
def sft_loss(model, batch):
    x, y = batch["input_ids"], batch["labels"]
    logp = torch.log_softmax(model(x)[:, :-1], dim=-1)
    target = y[:, 1:]
    mask = target.ne(IGNORE_INDEX)
    nll = -logp.gather(2, target.masked_fill(~mask, 0).unsqueeze(-1)).squeeze(-1)
    return (nll * mask).sum() / mask.sum()
''',
}


test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"prefix_offsets": PREFIX_OFFSETS, "mask_and_gather": MASK_AND_GATHER}, WRONG
)
