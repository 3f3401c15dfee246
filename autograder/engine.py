"""Grade one notebook: find its exercise, run the judge, return the report.

The judge (:mod:`autograder.judge`) runs in its own process, which in turn
starts the sandbox that runs the student's code. This module never imports
student code or hidden tests; it reads the judge's JSON report.

A notebook that cannot be read or recognised gets a report with score 0 and a
message saying why, rather than an exception, so a batch never stops on one
broken file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.exercises import Exercise, UnknownExercise, identify
from autograder.notebook import BrokenNotebook, cells_to_run, grade_cells, read_notebook


def _failed_report(message: str, exercise: Exercise | None = None) -> dict:
    report = {
        "exercise": exercise.id if exercise else None,
        "score": 0.0,
        "max_score": sum(grade_cells(exercise).values()) if exercise else 0.0,
        "tests": [],
        "error": message,
        "notebook": {"cells": [], "output": "", "sandbox_failures": []},
    }
    report["cells"] = cell_scores(report, exercise) if exercise else {}
    return report


def judge_timeout(exercise: Exercise) -> float:
    """An outer bound on one judge run: notebook time plus every call's time."""
    limits = exercise.limits
    n_tests = sum(1 for _ in exercise.suite_dir.glob("test_*.py")) * 50
    return limits.notebook_seconds * (limits.max_restarts + 1) + n_tests * limits.call_seconds


def grade_notebook(path: str | Path, exercise: Exercise | None = None) -> dict:
    """Grade the notebook at ``path``; see :mod:`autograder.judge` for the report."""
    try:
        nb = read_notebook(path)
        exercise = exercise or identify(nb)
    except (BrokenNotebook, UnknownExercise) as exc:
        return _failed_report(str(exc), exercise)
    cells = cells_to_run(nb, exercise)
    with tempfile.TemporaryDirectory(prefix="autograder-judge-") as tmp:
        cells_path = Path(tmp, "cells.json")
        report_path = Path(tmp, "report.json")
        cells_path.write_text(json.dumps(cells))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "autograder.judge", str(cells_path), exercise.id, str(report_path)],
                capture_output=True,
                text=True,
                timeout=judge_timeout(exercise),
                env=env,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return _failed_report("grading took longer than the submission's time limit", exercise)
        if proc.returncode != 0 or not report_path.exists():
            raise RuntimeError(
                f"the judge failed on {path} (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
        report = json.loads(report_path.read_text())
    report["cells"] = cell_scores(report, exercise)
    return report


def cell_scores(report: dict, exercise: Exercise) -> dict[str, dict]:
    """Per grade cell: points earned and possible, from the hidden tests' results."""
    scores = {gid: {"score": 0.0, "max_score": pts} for gid, pts in grade_cells(exercise).items()}
    for test in report["tests"]:
        cell = scores.setdefault(test["cell"], {"score": 0.0, "max_score": 0.0})
        cell["score"] += test["points"]
    return scores


def format_report(report: dict) -> str:
    """A human-readable report: one line per hidden test, then the score."""
    lines = [f"Exercise: {report.get('exercise') or 'unknown'}"]
    if report.get("error"):
        lines.append(f"Could not grade: {report['error']}")
    for cell in report.get("notebook", {}).get("cells", []):
        if cell.get("status") == "error":
            err = cell["error"]
            lines.append(f"  cell {cell['index']}: {err['type']}: {err['message'][:200]}")
    for test in report["tests"]:
        mark = "PASS" if test["passed"] else "FAIL"
        lines.append(f"  [{mark}] {test['points']:g}/{test['max_points']:g}  {test['message']}")
    lines.append(f"Score: {report['score']:g} / {report['max_score']:g}")
    return "\n".join(lines)
