"""Hidden tests for nf4_code_book (grade cell ``test_nf4_code_book``).

Reference: the 16 NF4 values published with QLoRA (_nf4_reference.PUBLISHED).
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_nf4_reference.py")


@points(2)
def test_nf4_levels_match_published_table(submission):
    """The 16 levels, sorted, equal the NF4 table published with QLoRA (float32, within the course's tolerance)."""
    book = ref.as_tensor(submission.nf4_code_book(), "the code book")
    check(book.dtype == torch.float32, f"the code book must be float32, got {book.dtype}")
    check(tuple(book.shape) == (16,), f"the code book must hold 16 values, it has shape {tuple(book.shape)}")
    assert_close(book, ref.PUBLISHED, "the NF4 levels")


@points(1)
def test_nf4_levels_are_asymmetric_with_exact_zero(submission):
    """The levels are strictly increasing from exactly -1 to exactly +1, with 7 negative levels, one exact 0.0 and 8 positive ones."""
    book = ref.as_tensor(submission.nf4_code_book(), "the code book").to(torch.float32)
    check(tuple(book.shape) == (16,), "the code book must hold 16 values")
    check(bool((book[1:] > book[:-1]).all()), "the levels must be strictly increasing")
    check(book[0].item() == -1.0 and book[-1].item() == 1.0, "the outermost levels must be exactly -1.0 and +1.0")
    check(int((book == 0).sum()) == 1, "the code book must hold exactly one level equal to 0.0")
    check(int((book < 0).sum()) == 7 and int((book > 0).sum()) == 8, "there must be 7 negative and 8 positive levels")
