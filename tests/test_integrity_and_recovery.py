"""Broken notebooks grade what they can; a killed grading run loses nothing.

Integrity: each tampered or damaged notebook yields a clear message and the
batch goes on. Recovery: an autograde run killed with SIGKILL at any moment,
then run again, ends with exactly the scores of an uninterrupted run; manual
grades survive re-runs; submissions are never modified. Also: the same batch
graded on a local Dask cluster gives the same scores.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.course import gradebook_url
from autograder.engine import grade_notebook
from autograder.exercises import get_exercise
from tests.helpers import with_cells
from tests.test_week01_attention_grading import WRONG

EXERCISE = get_exercise("week01/attention")
SOLUTION = EXERCISE.source_path


def _cells(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def tamper(kind: str, out: Path) -> Path:
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = _cells(nb)
    if kind == "deleted_grade_cell":
        nb.cells.remove(cells["test_softmax"])
    elif kind == "deleted_locked_imports":
        nb.cells.remove(cells["imports"])
    elif kind == "duplicated_grade_cell":
        nb.cells.insert(nb.cells.index(cells["test_attention"]), copy.deepcopy(cells["test_attention"]))
    elif kind == "edited_grade_cell":
        cells["test_attention"].source = "pass  # the checks were in my way"
    elif kind == "reflagged_grade_cell":
        cells["test_causal_mask"].metadata["nbgrader"].update(points=100, grade=False, solution=True)
    elif kind == "stripped_metadata":
        for cell in nb.cells:
            cell.metadata = {}
        nb.metadata = {"kernelspec": nb.metadata["kernelspec"]}
    elif kind == "changed_cell_ids":
        for i, cell in enumerate(nb.cells):
            cell.id = f"renamed-{i}"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


INTEGRITY = {
    # kind: (expected score, words the report must contain)
    "deleted_grade_cell": (17, "'test_softmax' was deleted"),
    "deleted_locked_imports": (17, "'imports' was deleted"),
    "duplicated_grade_cell": (17, "appears more than once"),
    "edited_grade_cell": (17, "was edited"),
    "reflagged_grade_cell": (17, "metadata of cell 'test_causal_mask' was changed"),
    "stripped_metadata": (17, "metadata is missing"),
    "changed_cell_ids": (17, None),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(INTEGRITY))
def test_tampered_notebook_is_graded_with_a_clear_message(kind, tmp_path):
    expected, words = INTEGRITY[kind]
    report = grade_notebook(tamper(kind, tmp_path / "attention.ipynb"), EXERCISE)
    assert report["score"] == expected, report.get("integrity")
    notes = " ".join(report.get("integrity", []))
    if words:
        assert words in notes
    else:
        assert notes == ""


def test_invalid_json_and_missing_notebook_get_messages(tmp_path):
    bad = tmp_path / "attention.ipynb"
    bad.write_text('{"cells": [')
    assert "not a readable notebook" in grade_notebook(bad, EXERCISE)["error"]
    assert "no such file" in grade_notebook(tmp_path / "gone.ipynb", EXERCISE)["error"]


# --- a small cohort -----------------------------------------------------------

def make_course(root: Path) -> Path:
    """Six students: correct, stub, three mistakes, one broken file; one student hands in nothing."""
    submitted = root / "submitted"
    sources = {
        "ada": SOLUTION,
        "ben": EXERCISE.release_path,
    }
    for student, path in sources.items():
        (submitted / student / "week01").mkdir(parents=True)
        shutil.copy(path, submitted / student / "week01" / "attention.ipynb")
    for student, mistake in [("cy", "no_sqrt_dk_scaling"), ("di", "mask_after_softmax"), ("ed", "unstable_softmax")]:
        with_cells(SOLUTION, submitted / student / "week01" / "attention.ipynb", WRONG[mistake][0])
    (submitted / "fay" / "week01").mkdir(parents=True)
    (submitted / "fay" / "week01" / "attention.ipynb").write_text("not a notebook")
    (submitted / "gus" / "week01").mkdir(parents=True)  # handed in the week, without the notebook
    return root


def run_autograde(course: Path, *extra: str, timeout: float | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "autograde", "week01", "--course-dir", str(course), "--jobs", "2", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def gradebook_scores(course: Path) -> dict:
    with Gradebook(gradebook_url(course)) as gb:
        out = {}
        for sub in gb.assignment_submissions("week01"):
            for nb in sub.notebooks:
                for grade in nb.grades:
                    out[(sub.student.id, grade.name)] = (grade.auto_score, grade.manual_score)
        return out


def tree_digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def reference_scores(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("reference"))
    assert run_autograde(course).wait() == 0
    return gradebook_scores(course)


@pytest.mark.slow
def test_reference_run_scores_every_student(reference_scores):
    students = {s for s, _ in reference_scores}
    assert students == {"ada", "ben", "cy", "di", "ed", "fay", "gus"}
    assert reference_scores[("ada", "test_attention")] == (11.0, None)
    assert reference_scores[("gus", "test_attention")] == (0.0, None)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1.5, 5.0])
def test_killed_run_then_rerun_equals_uninterrupted(kill_after, reference_scores, tmp_path):
    course = make_course(tmp_path / "course")
    before = tree_digest(course / "submitted")
    proc = run_autograde(course)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert run_autograde(course).wait() == 0
    assert gradebook_scores(course) == reference_scores
    assert run_autograde(course).wait() == 0  # idempotent
    assert gradebook_scores(course) == reference_scores
    assert tree_digest(course / "submitted") == before, "a submission was modified"


@pytest.mark.slow
def test_manual_grades_survive_regrading(tmp_path):
    course = make_course(tmp_path / "course")
    assert run_autograde(course).wait() == 0
    with Gradebook(gradebook_url(course)) as gb:
        grade = gb.find_grade("test_attention", "attention", "week01", "cy")
        grade.manual_score = 9.5
        gb.db.commit()
    assert run_autograde(course, "--force").wait() == 0
    scores = gradebook_scores(course)
    assert scores[("cy", "test_attention")][1] == 9.5
    assert scores[("ada", "test_attention")] == (11.0, None)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_scores(reference_scores, tmp_path):
    from distributed import LocalCluster

    course = make_course(tmp_path / "course")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        proc = run_autograde(course, "--dask-scheduler", cluster.scheduler_address)
        assert proc.wait(timeout=600) == 0
    assert gradebook_scores(course) == reference_scores
    report = json.loads((course / "autograded" / "ada" / "week01" / "attention.report.json").read_text())
    assert report["score"] == 17
