"""Hidden tests for the GGUF Q4_0 block format (grade cell ``test_quant_q4_0``).

Reference: llama.cpp's own Python quantizer and dequantizer, ``gguf.quants`` from
the ``gguf`` package (pinned in requirements.txt).
"""

import numpy as np
import torch

from autograder.judge import learner_raised, points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_quant_reference.py")


def inputs():
    """Named 1-D float32 inputs: sizes, scales, signs, an all-zero block, ties in magnitude."""
    gen = torch.Generator().manual_seed(1000)
    tie = torch.randn(64, generator=gen) * 0.1
    tie[3], tie[10] = 0.5, -0.5  # first largest is positive: d < 0
    tie[32 + 7], tie[32 + 20] = -0.5, 0.5  # first largest is negative: d > 0
    mixed = torch.randn(32 * 40, generator=gen) * torch.logspace(-3, 2, 40).repeat_interleave(32)
    return {
        "one block": torch.randn(32, generator=gen),
        "4096 values": torch.randn(4096, generator=gen) * 0.02,
        "blocks of very different sizes": mixed,
        "an all-zero block": torch.cat([torch.zeros(32), torch.randn(32, generator=gen)]),
        "ties in magnitude": tie,
        "all positive": torch.rand(96, generator=gen) + 1.0,
    }


def as_uint8(data, what):
    data = ref.as_tensor(data, what)
    check(data.dtype == torch.uint8 and data.dim() == 1, f"{what} must be a 1-D torch.uint8 tensor")
    return data


@points(1)
def test_q4_0_bytes_match_llama_cpp(submission):
    """pack_q4_0 produces exactly llama.cpp's Q4_0 bytes: 18 per block, fp16 d = m / -8 first, value j low and j + 16 high in byte 2 + j."""
    for name, x in inputs().items():
        data = as_uint8(submission.pack_q4_0(x), f"the bytes of {name}")
        expected = np.frombuffer(ref.gguf_q4_0(x.numpy()), dtype=np.uint8)
        check(data.numel() == expected.size, f"{name}: {x.numel()} values take {expected.size} bytes, got {data.numel()}")
        got = data.numpy()
        wrong = np.nonzero(got != expected)[0]
        check(wrong.size == 0, f"{name}: {wrong.size} of {expected.size} bytes differ from llama.cpp's "
              f"(first at byte {int(wrong[0]) % 18 if wrong.size else 0} of a block)")
    check(as_uint8(submission.pack_q4_0(torch.randn(4, 64)), "bytes").numel() == 8 * 18,
          "a (4, 64) weight is flattened into 8 blocks")


@points(1)
def test_q4_0_unpack_matches_llama_cpp(submission):
    """unpack_q4_0 reads Q4_0 bytes as llama.cpp does: (code - 8) times the block's fp16 d, codes from low nibbles first."""
    gen = torch.Generator().manual_seed(1010)
    for name, x in inputs().items():
        data = np.frombuffer(ref.gguf_q4_0(x.numpy()), dtype=np.uint8).copy()
        got = submission.unpack_q4_0(torch.from_numpy(data), x.numel())
        assert_close(got, ref.gguf_q4_0_values(data.tobytes()).reshape(-1), f"the values read from the bytes of {name}")
    # arbitrary blocks: every nibble pattern, scales of both signs
    blocks = torch.randint(0, 256, (20, 18), generator=gen, dtype=torch.uint8)
    d = (torch.randn(20, generator=gen) * 0.01).to(torch.float16)
    blocks[:, :2] = d.view(torch.uint8).reshape(20, 2)
    data = blocks.reshape(-1)
    got = submission.unpack_q4_0(data.clone(), 20 * 32)
    assert_close(got, ref.gguf_q4_0_values(data.numpy().tobytes()).reshape(-1), "the values of arbitrary Q4_0 blocks")


@points(1)
def test_q4_0_round_trip_and_errors(submission):
    """unpack_q4_0(pack_q4_0(w)) is within half a step of w except at the clipped end (within one step); a length that is not a multiple of 32 raises ValueError."""
    gen = torch.Generator().manual_seed(1020)
    x = torch.randn(32 * 50, generator=gen) * torch.rand(50, generator=gen).repeat_interleave(32)
    back = submission.unpack_q4_0(submission.pack_q4_0(x), x.numel())
    blocks = x.reshape(-1, 32)
    m = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))
    step = (m / -8).to(torch.float16).to(torch.float32).abs()
    err = (ref.as_tensor(back, "the round trip").reshape(-1, 32) - blocks).abs()
    clipped = (blocks / (m / -8)) > 7.5  # values above code 15 + half: only the far end of the range
    ok_half = err <= step / 2 * 1.002 + 1e-7  # fp16 storage of d rounds it by up to 2^-11
    ok_full = err <= step * 1.002 + 1e-7
    check(bool((ok_half | (clipped & ok_full)).all()), "some values moved more than half a step (or one step at the clipped end)")
    for n in (31, 100):
        check(learner_raised("ValueError", submission.pack_q4_0, torch.ones(n)),
              f"pack_q4_0 accepted {n} values instead of raising ValueError")
