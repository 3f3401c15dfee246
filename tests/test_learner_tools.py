"""The learner's tools: ``autograder check`` (public checks outside Jupyter) and ``autograder doctor``."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import doctor
from autograder.check import check_notebook, format_check
from autograder.exercises import get_exercise
from tests.course_fixtures import cli
from tests.helpers import with_cells
from tests.test_week01_attention_grading import WRONG

ATTENTION = get_exercise("week01/attention")


# --- check ----------------------------------------------------------------------

def test_check_the_released_stub(tmp_path):
    result = check_notebook(ATTENTION.release_path)
    text = format_check(result)
    assert not result.ok
    assert [(o.grade_id, o.passed) for o in result.checks] == [
        ("test_softmax", False), ("test_causal_mask", False), ("test_attention", False)]
    assert text.count("NotImplementedError: not implemented yet") == 3
    assert "(at cell 4, line 4, in softmax)" in text
    assert "0 of 3 public checks pass." in text
    # The hidden suite is announced, in general terms only.
    flat = " ".join(text.split())
    assert "hidden test suite worth 17 points over 3 part(s)" in flat
    assert flat.count(ATTENTION.settings["summary"]) == 1
    assert "hidden_" not in text and "assert" not in text


def test_check_names_the_property_that_failed_and_where(tmp_path):
    notebook = with_cells(ATTENTION.source_path, tmp_path / "mine.ipynb", WRONG["no_sqrt_dk_scaling"][0])
    result = check_notebook(notebook)
    text = format_check(result)
    assert [(o.grade_id, o.passed) for o in result.checks] == [
        ("test_softmax", True), ("test_causal_mask", True), ("test_attention", False)]
    failed = result.checks[-1].error
    assert failed["type"] == "PropertyFailure"
    # assert_close's message: how many entries, the worst one's index and relative error.
    assert "entries are outside the tolerance" in failed["message"] and "the worst, at index (" in failed["message"]
    assert failed["message"].splitlines()[0] in text
    assert "2 of 3 public checks pass." in text


def test_check_reports_broken_cells_edited_checks_and_forbidden_calls(tmp_path):
    notebook = with_cells(ATTENTION.source_path, tmp_path / "mine.ipynb", {
        "causal_mask": "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril(\n",
        "softmax": "def softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n",
        "test_softmax": "pass  # the checks were in my way",
    })
    result = check_notebook(notebook)
    text = format_check(result)
    assert not result.ok
    assert "Cells that raised an error" in text and "SyntaxError" in text
    assert "locked cell 'test_softmax' was edited; the original runs instead" in text
    assert "your code uses .softmax: this exercise asks you to write it yourself" in text
    softmax = result.checks[0]
    assert not softmax.passed and "not available in this exercise" in softmax.error["message"]


def test_check_a_file_that_is_not_an_exercise(tmp_path):
    bad = tmp_path / "notes.ipynb"
    bad.write_text("{ not json")
    result = check_notebook(bad)
    assert not result.ok and "not a readable notebook" in format_check(result)
    other = tmp_path / "other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), other)
    assert "shares no grade cell" in format_check(check_notebook(other))


@pytest.mark.slow
def test_check_command_on_a_laptop_without_root(tmp_path):
    """The real command, with the sandbox's root-only isolation switched off as on a learner's machine."""
    notebook = tmp_path / "attention.ipynb"
    notebook.write_bytes(ATTENTION.source_path.read_bytes())
    done = cli("check", str(notebook), env={"AUTOGRADER_NO_ISOLATION": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  test_attention" in done.stdout and "3 of 3 public checks pass." in done.stdout
    notebook.write_bytes(ATTENTION.release_path.read_bytes())
    done = cli("check", str(notebook), env={"AUTOGRADER_NO_ISOLATION": "1"})
    assert done.returncode == 1 and "FAIL  test_softmax" in done.stdout


# --- doctor ---------------------------------------------------------------------

def test_doctor_on_the_course_environment():
    checks = {c.name: c for c in doctor.run_checks()}
    assert list(checks) == ["Python", "torch", "Jupyter kernel", "threads", "packages", "course packages"]
    for name in ("Python", "torch", "Jupyter kernel", "threads", "course packages"):
        assert checks[name].ok, checks[name]
    assert "CPU build" in checks["torch"].detail


def test_doctor_says_what_to_fix(tmp_path, monkeypatch):
    import torch

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\ntorch==2.13.0\nnumpy==0.0.1\nno-such-package-xyz==1.0\n")
    packages = doctor.check_packages(requirements)
    assert not packages.ok and "numpy" in packages.detail and "no-such-package-xyz missing" in packages.detail
    assert "make setup" in packages.fix

    monkeypatch.setattr(torch.version, "cuda", "12.4")
    gpu = doctor.check_torch({"torch": "2.13.0"})
    assert not gpu.ok and "CUDA build" in gpu.detail and "download.pytorch.org/whl/cpu" in gpu.fix
    monkeypatch.undo()

    monkeypatch.setattr(doctor, "usable_cores", lambda: 1)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    threads = doctor.check_threads()
    assert not threads.ok and "OMP_NUM_THREADS=1" in threads.fix

    monkeypatch.setattr(doctor, "PYTHON", (3, 99))
    assert not doctor.check_python().ok

    text = doctor.format_checks([packages, threads])
    assert text.splitlines()[0].startswith("FIX  packages") and "-> " in text and text.endswith("2 thing(s) to fix.")


def _foreign_kernel(tmp_path: Path) -> Path:
    """A JUPYTER_PATH whose python3 kernel runs another Python (a stand-in script)."""
    python = tmp_path / "other-python"
    python.write_text("#!/bin/sh\necho /opt/some-other-env\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python",
    }))
    return tmp_path / "jupyter"


def test_doctor_finds_a_kernel_that_runs_another_python(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(_foreign_kernel(tmp_path)))
    kernel = doctor.check_kernel()
    assert not kernel.ok and "belongs to /opt/some-other-env" in kernel.detail
    assert f"{Path(sys.executable)} -m ipykernel install --sys-prefix --name python3" in kernel.fix


@pytest.mark.slow
def test_doctor_command_exit_status(tmp_path):
    done = cli("doctor", env={"JUPYTER_PATH": str(_foreign_kernel(tmp_path))})
    assert done.returncode == 1, done.stdout
    assert "FIX  Jupyter kernel" in done.stdout and "OK   torch" in done.stdout
    assert done.stdout.rstrip().endswith("thing(s) to fix.")
    done = cli("doctor", env={"JUPYTER_PATH": ""})
    assert ("OK   Jupyter kernel" in done.stdout) and (done.returncode == 0) == ("All set." in done.stdout)
