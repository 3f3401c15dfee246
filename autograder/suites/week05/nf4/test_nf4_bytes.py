"""Hidden tests for nf4_bytes (grade cell ``test_nf4_bytes``).

References: the nbytes of real tensors (the learner's own packed codes and scales, and
the second-level tensors of _nf4_reference.double_quant_tensors), and the paper's bits
per weight.
"""

import math

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_nf4_reference.py")

SIZES = [(64, 64), (4096, 64), (128 * 512, 64), (64 * 300, 64), (256 * 256, 128), (32 * 1000, 32), (64 * 256 * 37, 64)]


def as_int(value, what):
    check(isinstance(value, int) and not isinstance(value, bool), f"{what} must be a Python int, got {type(value).__name__}")
    return value


@points(1)
def test_nf4_bytes_match_real_tensors(submission):
    """Without double quantization nf4_bytes equals the bytes of the packed codes plus float32 scales, measured on your own tensors and on the formula for many sizes."""
    for numel, block in ((4096, 64), (128 * 96, 32)):
        w = ref.gaussian((numel,), 400 + block)
        codes, scales = ref.checked_quantize(submission, w, block)
        held = ref.as_tensor(submission.pack_nibbles(codes), "the packed bytes").nbytes + scales.nbytes
        got = as_int(submission.nf4_bytes(numel, block_size=block), "nf4_bytes")
        check(got == held, f"{numel} weights in blocks of {block}: nf4_bytes differs from the bytes of the packed codes and scales")
    for numel, block in SIZES:
        got = as_int(submission.nf4_bytes(numel, block_size=block, double_quant=False), "nf4_bytes")
        check(got == ref.formula_bytes(numel, block, False), f"{numel} weights in blocks of {block}: wrong byte count")


@points(1)
def test_nf4_double_quant_bytes(submission):
    """With double quantization nf4_bytes counts packed codes, one byte per block scale and one float32 per 256 scales (a partial group included): about 4.127 bits per weight for blocks of 64."""
    for numel, block in SIZES:
        blocks = numel // block
        scales = torch.rand(blocks, generator=torch.Generator().manual_seed(numel % 1000)) * 0.1
        scale_codes, constants = ref.double_quant_tensors(scales)
        held = numel // 2 + scale_codes.nbytes + constants.nbytes
        got = as_int(submission.nf4_bytes(numel, block_size=block, double_quant=True), "nf4_bytes with double_quant")
        check(got == held, f"{numel} weights in blocks of {block}, double quantization: wrong byte count")
    numel = 64 * 256 * 4096
    bits = as_int(submission.nf4_bytes(numel, 64, True), "nf4_bytes") * 8 / numel
    check(math.isclose(bits, ref.paper_bits(64, True)), "for blocks of 64 double quantization must cost 4 + 8/64 + 32/(64*256) bits per weight")
