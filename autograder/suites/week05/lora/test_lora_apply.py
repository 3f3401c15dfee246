"""Hidden tests for apply_lora (grade cell ``test_lora_apply``).

A course GPT with seeded weights is built in the judge and, with the same
weights, in the sandbox. The expected parameter names, counts and logits come
from the judge's copy: the learner's model must hold exactly the names the
exercise states (``<path>.base.weight``, ``<path>.A``, ``<path>.B`` for each
wrapped layer), and the count is r (in + out) per wrapped layer.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.gpt import GPT
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_lora_reference.py")

# (targets as the learner receives them: a list or a tuple, since sets cannot cross the seam; r, alpha, model shape)
CASES = [
    (("q_proj", "v_proj"), 4, 8.0, {}),
    (list(ref.ALL_LINEAR), 2, 2.0, dict(n_layer=3)),
    (("proj",), 3, 6.0, {}),                      # the MLP's proj only: not q_proj, out_proj, ...
    (("k_proj", "fc"), 1, 4.0, dict(d_model=24, vocab=11)),
]


def expected(config, state, targets, r):
    """Parameter names after wrapping, and the number of new (trainable) parameters."""
    model = GPT(config)
    names, new = set(), 0
    for path, module in model.named_modules():
        if path.rsplit(".", 1)[-1] in targets and isinstance(module, torch.nn.Linear):
            names |= {f"{path}.A", f"{path}.B"}
            new += r * (module.in_features + module.out_features)
    wrapped = {name.rsplit(".", 1)[0] for name in names}
    for key in state:
        owner, leaf = key.rsplit(".", 1)
        names.add(f"{owner}.base.{leaf}" if owner in wrapped else key)
    return names, new


def adapted(submission, case_index):
    targets, r, alpha, shape = CASES[case_index]
    config, state = ref.small_gpt_state(80 + case_index, **shape)
    model = ref.remote_gpt(submission, config, state)
    counts = submission.apply_lora(model, targets, r, alpha)
    label = f"targets {sorted(targets)}, r={r}, {config.n_layer} layers of width {config.d_model}"
    return config, state, model, counts, label


@points(1)
def test_lora_apply_counts(submission):
    """apply_lora returns (trainable, total) as ints: r (in + out) per wrapped layer, and every parameter of the adapted model counted once."""
    for index, (targets, r, _, _) in enumerate(CASES):
        config, state, _, counts, label = adapted(submission, index)
        names, new = expected(config, state, targets, r)
        base_total = GPT(config).num_parameters()
        check(isinstance(counts, (tuple, list)) and len(counts) == 2, "apply_lora must return a pair (trainable, total)")
        trainable, total = counts
        check(all(isinstance(n, int) and not isinstance(n, bool) for n in counts), "the counts must be ints")
        check(trainable == new, f"trainable is {trainable}, not the number of parameters in the new A and B factors ({label})")
        check(total == base_total + new, f"total is {total}, not every parameter of the adapted model counted once ({label})")


@points(1)
def test_lora_apply_wraps_exactly_the_named_layers(submission):
    """Exactly the nn.Linear layers whose attribute name is one of the targets are wrapped, wherever they sit; names match exactly ('proj' is not 'q_proj')."""
    for index, (targets, r, _, _) in enumerate(CASES):
        config, state, model, _, label = adapted(submission, index)
        names, _ = expected(config, state, targets, r)
        got = set(model.state_dict())
        extra, missing = sorted(got - names), sorted(names - got)
        check(not extra and not missing,
              f"the adapted model's parameters differ from wrapping exactly the targets ({label}); "
              f"unexpected: {', '.join(extra[:3]) or 'none'}; missing: {', '.join(missing[:3]) or 'none'}")


@points(1)
def test_lora_apply_keeps_outputs_at_init(submission):
    """Right after apply_lora the model's logits are those of the original model."""
    for index in range(len(CASES)):
        config, state, model, _, label = adapted(submission, index)
        reference = GPT(config)
        reference.load_state_dict(state)
        reference.eval()
        ids = torch.randint(config.vocab_size, (2, config.block_size), generator=torch.Generator().manual_seed(90 + index))
        with torch.no_grad():
            want = reference(ids)
        assert_close(model(ids), want, f"the logits right after apply_lora ({label})")


@points(1)
def test_lora_apply_freezes_everything_else(submission):
    """After apply_lora only the A and B factors require gradients: embeddings, output head, LayerNorms and unwrapped layers are frozen."""
    for index in range(len(CASES)):
        _, _, model, _, label = adapted(submission, index)
        params = model.state_dict(keep_vars=True)
        loose = sorted(k for k, p in params.items() if p.requires_grad and not k.endswith((".A", ".B")))
        check(not loose, f"these parameters are still trainable ({label}): {', '.join(loose[:4])}")
        stuck = sorted(k for k, p in params.items() if not p.requires_grad and k.endswith((".A", ".B")))
        check(not stuck, f"these factors are not trainable ({label}): {', '.join(stuck[:4])}")
