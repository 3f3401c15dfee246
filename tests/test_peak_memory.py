"""The judge's peak-memory probe (``Submission.peak_memory_of``) can tell big from small.

A hidden test that says "this function never held a T x T matrix" is only worth
something if the measurement behind it sees such a matrix when one is made.
These tests run tiny notebooks in a real sandbox: one function allocates a
T x T float32 tensor, one works on (T, d) rows only, and the probe must put
the first above the size of the matrix and the second far below it, with
isolation (when the tests run as root) and without. With isolation, a
notebook that tries to lower its own peak in the middle of the call must not
manage to. Where the kernel does not allow the measurement the probe must say
so, not return a number.
"""

from __future__ import annotations

import os

import pytest

from autograder.seam import isolation
from autograder.seam import submission as seam
from autograder.seam.submission import MemoryProbeUnavailable, StudentError, Submission

T = 4096
MATRIX_BYTES = T * T * 4  # one float32 T x T matrix: 64 MiB, above glibc's largest mmap threshold

NOTEBOOK = [
    {
        "index": 0,
        "locked": False,
        "source": '''
import torch

def whole_matrix(T):
    """Holds every pairwise score at once, like naive attention."""
    x = torch.randn(T, 64)
    scores = x @ x.T
    return float(scores.sum())

def row_blocks(T, block=128):
    """The same total, one block of rows at a time: never more than block x T scores."""
    x = torch.randn(T, 64)
    return float(sum((x[i:i + block] @ x.T).sum() for i in range(0, T, block)))

def whole_matrix_then_hide_it(T):
    """Makes the matrix, then tries to lower its own recorded peak before returning."""
    total = whole_matrix(T)
    import ctypes
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: would give it its own /proc files
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return "reset"
    except OSError as exc:
        return type(exc).__name__

def fails(T):
    raise ValueError("student error")
''',
    }
]


def isolation_modes():
    modes = ["without isolation"]
    if os.geteuid() == 0:
        modes.append("with isolation")
    return modes


@pytest.fixture(params=isolation_modes())
def sandbox(request, monkeypatch):
    if request.param == "without isolation":
        monkeypatch.setenv("AUTOGRADER_NO_ISOLATION", "1")
    else:
        monkeypatch.delenv("AUTOGRADER_NO_ISOLATION", raising=False)
    assert isolation.available() == (request.param == "with isolation")
    with Submission(NOTEBOOK) as sub:
        assert sub.cell_results == [{"index": 0, "status": "ok"}]
        yield sub


@pytest.mark.slow
def test_a_whole_score_matrix_is_seen_and_row_blocks_are_not(sandbox):
    value, whole = sandbox.peak_memory_of(sandbox.whole_matrix, T)
    assert isinstance(value, float)
    assert whole >= MATRIX_BYTES, f"a {MATRIX_BYTES >> 20} MiB matrix was measured at {whole >> 20} MiB"
    value_blocks, blocks = sandbox.peak_memory_of(sandbox.row_blocks, T)
    assert isinstance(value_blocks, float)
    assert blocks < MATRIX_BYTES / 4, f"row blocks were measured at {blocks >> 20} MiB"
    # The measurement is per call: the big call before does not leak into the next one.
    _, again = sandbox.peak_memory_of(sandbox.row_blocks, T)
    assert again < MATRIX_BYTES / 4


@pytest.mark.slow
def test_student_errors_pass_through(sandbox):
    with pytest.raises(StudentError) as caught:
        sandbox.peak_memory_of(sandbox.fails, T)
    assert caught.value.type_name == "ValueError"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")
def test_an_isolated_sandbox_cannot_lower_its_own_peak(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_NO_ISOLATION", raising=False)
    with Submission(NOTEBOOK) as sub:
        outcome, peak = sub.peak_memory_of(sub.whole_matrix_then_hide_it, T)
    assert outcome == "OSError"  # /proc is read-only inside the sandbox
    assert peak >= MATRIX_BYTES


def test_no_measurement_is_an_error_not_a_number():
    pid = os.fork()
    if pid == 0:  # pragma: no cover - exits at once
        os._exit(0)
    os.waitpid(pid, 0)  # reaped: its /proc entry is gone
    with pytest.raises(MemoryProbeUnavailable, match="clear_refs"):
        seam._reset_resident_peak(pid)
