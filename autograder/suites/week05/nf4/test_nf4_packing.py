"""Hidden tests for pack_nibbles and unpack_nibbles (grade cell ``test_nf4_packing``).

Reference layout (bitsandbytes'): byte j = (code 2j << 4) | code 2j+1.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import check

ref = suite_helper(__file__, "_nf4_reference.py")


def random_codes(n, seed):
    return torch.randint(16, (n,), generator=torch.Generator().manual_seed(seed)).to(torch.uint8)


@points(1)
def test_nf4_unpack_inverts_pack(submission):
    """pack_nibbles returns half as many uint8 bytes, and unpack_nibbles gives back every code, for every pair of codes 0..15."""
    every_pair = torch.cartesian_prod(torch.arange(16), torch.arange(16)).reshape(-1).to(torch.uint8)
    for codes in (every_pair, random_codes(4096, 300), random_codes(2, 301)):
        packed = ref.as_tensor(submission.pack_nibbles(codes), "the packed bytes")
        check(packed.dtype == torch.uint8, f"the packed bytes must be uint8, got {packed.dtype}")
        check(tuple(packed.shape) == (codes.numel() // 2,), f"{codes.numel()} codes must pack into {codes.numel() // 2} bytes")
        back = ref.as_tensor(submission.unpack_nibbles(packed), "the unpacked codes")
        check(back.dtype == torch.uint8 and torch.equal(back, codes), "unpack_nibbles(pack_nibbles(codes)) must give back the codes")


@points(1)
def test_nf4_nibble_order(submission):
    """Byte j holds code 2j in its high nibble and code 2j+1 in its low nibble, and unpack_nibbles reads bytes in that order."""
    codes = random_codes(1024, 310)
    packed = ref.as_tensor(submission.pack_nibbles(codes), "the packed bytes")
    want = codes[0::2] * 16 + codes[1::2]
    check(torch.equal(packed.to(torch.int64), want.to(torch.int64)), "the packed bytes are not in the high-then-low nibble order")
    raw = torch.randint(256, (512,), generator=torch.Generator().manual_seed(311)).to(torch.uint8)
    back = ref.as_tensor(submission.unpack_nibbles(raw), "the unpacked codes")
    check(torch.equal(back.to(torch.int64), torch.stack([raw // 16, raw % 16], dim=1).reshape(-1).to(torch.int64)),
          "unpack_nibbles must read the high nibble of byte j as code 2j and the low nibble as code 2j+1")
