"""Shared pieces of the week05/nf4 hidden suite: the published levels, inputs, references.

``PUBLISHED`` is the NF4 table of the QLoRA paper (Dettmers et al., 2023, appendix),
the same 16 numbers bitsandbytes hard-codes, written out here as data. The nearest-level
reference is a brute-force search in float64; the double-quantization reference builds
the real tensors (8-bit scale codes and float32 constants) whose bytes it counts.
"""

import math

import torch

from llmcourse.testing import check, tolerance

PUBLISHED = torch.tensor([
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
], dtype=torch.float32)

# Largest half-gap between neighbouring levels: the worst normalised rounding error.
HALF_GAP = float(((PUBLISHED[1:].double() - PUBLISHED[:-1].double()) / 2).max())

# A level chosen instead of the nearest one is accepted only if it is this close to
# being nearest. A correct code book may differ from the published one by the float32
# tolerance (atol + rtol for levels of size <= 1), which moves a midpoint by as much;
# twice that covers both neighbours, and float32 division adds an ulp.
_RTOL, _ATOL = tolerance(torch.float32)
NEAR_TIE = 2 * (_ATOL + _RTOL)


def gaussian(shape, seed, scale=1.0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def student_t(shape, seed, df=3.0):
    """Heavy-tailed weights; drawn through the normal and chi-square generators so the seed fixes them."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(*shape, generator=gen, dtype=torch.float64)
    chi2 = (torch.randn(*shape, int(df), generator=gen, dtype=torch.float64) ** 2).sum(-1)
    return (z / torch.sqrt(chi2 / df)).to(torch.float32) * 0.02


def mixed_scales(n_blocks, block_size, seed):
    """Blocks whose magnitudes differ by up to four orders of magnitude, flattened."""
    gen = torch.Generator().manual_seed(seed)
    magnitude = 10 ** (torch.rand(n_blocks, 1, generator=gen) * 4 - 3)
    return (torch.randn(n_blocks, block_size, generator=gen) * magnitude).reshape(-1)


def as_tensor(x, what):
    check(isinstance(x, torch.Tensor), f"{what} should be a torch tensor, got {type(x).__name__}")
    return x


def checked_quantize(submission, w, block_size):
    """Call quantize_nf4 and check the types and shapes of what it returns."""
    out = submission.quantize_nf4(w, block_size=block_size)
    check(isinstance(out, (tuple, list)) and len(out) == 2, "quantize_nf4 must return a pair (codes, scales)")
    codes, scales = as_tensor(out[0], "the codes"), as_tensor(out[1], "the scales")
    n_blocks = w.numel() // block_size
    check(codes.dtype == torch.uint8, f"the codes must be a torch.uint8 tensor, got {codes.dtype}")
    check(tuple(codes.shape) == (w.numel(),), f"the codes must have shape (numel,) = ({w.numel()},), got {tuple(codes.shape)}")
    check(int(codes.max()) <= 15, "every code must be between 0 and 15")
    check(scales.dtype == torch.float32, f"the scales must be a torch.float32 tensor, got {scales.dtype}")
    check(tuple(scales.shape) == (n_blocks,),
          f"there must be one scale per block: shape ({n_blocks},) for block_size={block_size}, got {tuple(scales.shape)}")
    return codes, scales


def checked_dequantize(submission, codes, scales, shape, block_size):
    back = as_tensor(submission.dequantize_nf4(codes, scales, tuple(shape), block_size=block_size), "dequantize_nf4's result")
    check(tuple(back.shape) == tuple(shape), f"dequantize_nf4 must return shape {tuple(shape)}, got {tuple(back.shape)}")
    check(back.dtype == torch.float32, f"dequantize_nf4 must return float32, got {back.dtype}")
    return back


def nearest_gap(w, scales, codes, block_size):
    """How much farther each chosen level is than the nearest level (0 when nearest), normalised units, float64."""
    blocks = w.to(torch.float64).reshape(-1, block_size)
    s = scales.to(torch.float64)[:, None]
    x = torch.where(s > 0, blocks / torch.where(s > 0, s, 1.0), 0.0).reshape(-1)
    levels = PUBLISHED.to(torch.float64)
    best = (x[:, None] - levels).abs().min(dim=1).values
    chosen = (x - levels[codes.long()]).abs()
    return chosen - best


def double_quant_tensors(scales, group=256):
    """QLoRA's second level: the scales minus their mean, absmax int8 in groups of 256; the real tensors."""
    offset = scales.mean()
    centred = scales - offset
    n = centred.numel()
    padded = torch.cat([centred, centred.new_zeros(-n % group)]).reshape(-1, group)
    constants = padded.abs().amax(dim=1).to(torch.float32)
    codes = torch.round(padded / torch.where(constants > 0, constants, 1.0)[:, None] * 127).to(torch.int8)
    return codes.reshape(-1)[:n], constants


def paper_bits(block_size, double_quant):
    """Bits per weight of the paper's accounting."""
    if not double_quant:
        return 4 + 32 / block_size
    return 4 + 8 / block_size + 32 / (block_size * 256)


def formula_bytes(numel, block_size, double_quant):
    blocks = numel // block_size
    if not double_quant:
        return numel // 2 + 4 * blocks
    return numel // 2 + blocks + 4 * math.ceil(blocks / 256)
