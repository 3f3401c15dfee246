"""Hidden tests for ``kv_cache_bytes_from_config`` (grade cell ``test_gqa_cache_from_config``).

Configs use Hugging Face's Llama-style keys, with the shapes published in the
models' config files. Expected sizes are measured on meta-device cache tensors
as in ``test_gqa_cache_bytes``.
"""

import torch

from autograder.judge import points
from llmcourse.testing import check

GQA_CONFIGS = {
    "Llama-2-70B": {"hidden_size": 8192, "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8},
    "Mistral-7B": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                   "head_dim": None},
    "an MQA model": {"hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 1},
    "a tiny GQA model": {"hidden_size": 48, "num_hidden_layers": 3, "num_attention_heads": 6, "num_key_value_heads": 2},
}
OTHER_CONFIGS = {
    "Llama-1-7B (no num_key_value_heads)": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32},
    "an MHA model with num_key_value_heads None": {"hidden_size": 768, "num_hidden_layers": 12,
                                                   "num_attention_heads": 12, "num_key_value_heads": None},
    "Gemma-7B (head_dim 256, not 3072 // 16)": {"hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
                                                "num_key_value_heads": 16, "head_dim": 256},
    "a GQA model with its own head_dim": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
                                          "num_key_value_heads": 2, "head_dim": 12},
}
CASES = [(4096, 1, "bfloat16"), (32768, 2, "float16"), (100, 3, "float32")]   # (seq_len, batch, dtype)


def allocated_bytes(config, seq_len, batch, dtype_name):
    """Bytes of the meta-device key and value tensors a model with ``config`` caches."""
    n_heads = config["num_attention_heads"]
    kv = config.get("num_key_value_heads")
    n_kv = n_heads if kv is None else kv
    d_head = config.get("head_dim")
    d_head = config["hidden_size"] // n_heads if d_head is None else d_head
    one = torch.empty(batch, n_kv, seq_len, d_head, dtype=getattr(torch, dtype_name), device="meta")
    return 2 * config["num_hidden_layers"] * one.nbytes


def check_configs(submission, configs):
    for label, config in configs.items():
        for seq_len, batch, dtype_name in CASES:
            got = submission.kv_cache_bytes_from_config(
                dict(config), seq_len, batch=batch, dtype=getattr(submission.torch, dtype_name)
            )
            check(isinstance(got, int) and not isinstance(got, bool),
                  f"kv_cache_bytes_from_config should return an int, got {type(got).__name__}")
            check(got == allocated_bytes(config, seq_len, batch, dtype_name),
                  f"the cache of {label} for {batch} x {seq_len} tokens in {dtype_name} is not {got} bytes")
        default = submission.kv_cache_bytes_from_config(dict(config), 1000)
        check(default == allocated_bytes(config, 1000, 1, "bfloat16"),
              f"with the default batch and dtype the cache of {label} for 1000 tokens is not {default} bytes")


@points(1)
def test_counts_key_value_heads(submission):
    """For grouped- and multi-query configs the count uses num_key_value_heads, not the number of query heads."""
    check_configs(submission, GQA_CONFIGS)


@points(1)
def test_missing_kv_heads_and_explicit_head_dim(submission):
    """A config without num_key_value_heads (or with None) is multi-head attention, and an explicit head_dim wins over hidden_size // heads."""
    check_configs(submission, OTHER_CONFIGS)
