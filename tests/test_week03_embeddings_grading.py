"""The week03/embeddings exercise, graded end to end through the real engine.

A differently written correct solution (counts from a loop over positions,
PMI as a difference of logarithms, the SVD from torch, InfoNCE from an
explicit log-softmax, CLIP from one logit matrix read by rows and by
columns) must earn full marks; each realistic mistake must lose the points
of the properties it breaks.
"""

from autograder.exercises import get_exercise
from tests.helpers import edited, grading_tests

EXERCISE = get_exercise("week03/embeddings")
SOLUTION = EXERCISE.source_path

DIFFERENTLY_WRITTEN = {
    "cooccurrence": '''
def cooccurrence(tokens, vocab, window):
    row_of = {w: i for i, w in enumerate(vocab)}
    kept = [row_of[t] for t in tokens if t in row_of]
    table = np.zeros((len(vocab), len(vocab)))
    for p, centre in enumerate(kept):
        for context in kept[max(0, p - window):p] + kept[p + 1:p + 1 + window]:
            table[centre, context] += 1
    return table
''',
    "ppmi": '''
def ppmi(counts):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = (np.log(counts) + np.log(counts.sum())
               - np.log(counts.sum(axis=1))[:, None] - np.log(counts.sum(axis=0))[None, :])
    return np.where(counts > 0, np.clip(pmi, 0, None), 0.0)
''',
    "svd_embeddings": '''
def svd_embeddings(M, dim):
    U, S, _ = torch.linalg.svd(torch.as_tensor(np.asarray(M, dtype=np.float64)))
    return (U[:, :dim] * S[:dim].sqrt()).numpy()
''',
    "info_nce": '''
def info_nce(a, b, temperature):
    a = a / a.norm(dim=1, keepdim=True)
    b = b / b.norm(dim=1, keepdim=True)
    log_probs = torch.log_softmax(torch.einsum("id,jd->ij", a, b) / temperature, dim=1)
    return -log_probs.diagonal().mean()
''',
    "clip_loss": '''
def clip_loss(image_emb, text_emb, temperature):
    scores = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).T / temperature
    image_to_text = -torch.log_softmax(scores, dim=1).diagonal().mean()
    text_to_image = -torch.log_softmax(scores, dim=0).diagonal().mean()
    return (image_to_text + text_to_image) / 2
''',
}

WRONG = {
    # PMI kept whole: pairs seen less often than chance keep their negative scores.
    "pmi_without_positive_part": (
        edited(SOLUTION, "ppmi", ("return np.maximum(pmi, 0.0)", "return pmi")),
        {"test_emb_ppmi_matches_reference", "test_emb_ppmi_never_negative_or_infinite"},
    ),
    # The window looks to the right only: each pair is counted in one direction.
    "window_on_one_side": (
        edited(SOLUTION, "cooccurrence", ("np.add.at(counts, (right, left), 1.0)", "pass")),
        {"test_emb_counts_match_reference", "test_emb_counts_symmetric_window"},
    ),
    # Raw dot products: the loss then rewards long vectors instead of aligned ones.
    "infonce_not_normalised": (
        edited(SOLUTION, "info_nce", ("F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T", "a @ b.T")),
        {"test_emb_infonce_matches_reference", "test_emb_infonce_limits", "test_emb_clip_matches_reference"},
    ),
    # Temperature multiplied: a small temperature flattens the softmax instead of sharpening it.
    "temperature_multiplied": (
        edited(SOLUTION, "info_nce", (".T / temperature", ".T * temperature")),
        {"test_emb_infonce_matches_reference", "test_emb_infonce_gradients", "test_emb_infonce_limits"},
    ),
    # Images find their captions, but captions never have to find their images.
    "clip_one_direction": (
        edited(SOLUTION, "clip_loss", (
            "0.5 * (info_nce(image_emb, text_emb, temperature) + info_nce(text_emb, image_emb, temperature))",
            "info_nce(image_emb, text_emb, temperature)",
        )),
        {"test_emb_clip_matches_reference", "test_emb_clip_symmetric"},
    ),
}

test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points = grading_tests(
    SOLUTION, {"differently_written": DIFFERENTLY_WRITTEN}, WRONG
)
