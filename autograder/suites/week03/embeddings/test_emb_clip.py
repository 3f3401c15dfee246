"""Hidden tests for ``clip_loss`` (grade cell ``test_emb_clip``).

Reference: the mean of torch's cross-entropy over the rows and over the
columns of one matrix of normalised, temperature-divided logits
(``_emb_reference.clip``); gradients are autograd's of that definition.
"""

import torch

from autograder.judge import points, suite_helper
from llmcourse.testing import assert_close, check

ref = suite_helper(__file__, "_emb_reference.py")


@points(1)
def test_emb_clip_matches_reference(submission):
    """The CLIP loss is the mean of the image-to-text and text-to-image cross-entropies, and so are its gradients."""
    for seed, batch, dim, tau in [(101, 8, 16, 0.07), (102, 24, 32, 0.5), (103, 2, 4, 0.01)]:
        images, texts = ref.pairs(seed, batch, dim, torch.float64)
        label = f"B={batch}, temperature={tau}"
        got = ref.scalar(submission.clip_loss(images, texts, tau), f"clip_loss ({label})")
        assert_close(got, ref.clip(images, texts, tau), f"clip_loss ({label})")
        ref.check_gradients(submission, submission.clip_loss, ref.clip, images, texts, tau,
                            ("image_emb", "text_emb"), "clip_loss", label)


@points(1)
def test_emb_clip_symmetric(submission):
    """Swapping images and texts leaves the CLIP loss unchanged, in float32 and float64."""
    for dtype in (torch.float32, torch.float64):
        for seed, batch, dim, tau in [(111, 16, 8, 0.1), (112, 5, 64, 0.03)]:
            images, texts = ref.pairs(seed, batch, dim, dtype)
            forward = ref.scalar(submission.clip_loss(images, texts, tau), "clip_loss")
            backward = ref.scalar(submission.clip_loss(texts, images, tau), "clip_loss with the arguments swapped")
            check(forward.dtype == dtype, f"clip_loss returned {forward.dtype} for {dtype} inputs")
            assert_close(backward, forward, f"clip_loss with images and texts swapped (B={batch}, {dtype})")
