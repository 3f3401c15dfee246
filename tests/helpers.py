"""Helpers for the project's own tests: build variant notebooks and grade them."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from autograder.engine import grade_notebook


def with_cells(source: Path, out: Path, replacements: dict[str, str], drop_metadata: bool = False) -> Path:
    """Copy notebook ``source`` to ``out`` with the cells of the given grade ids replaced."""
    nb = copy.deepcopy(nbformat.read(source, as_version=4))
    found = set()
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in replacements:
            cell.source = replacements[gid]
            found.add(gid)
    missing = set(replacements) - found
    if missing:
        raise KeyError(f"no cells with grade ids {sorted(missing)} in {source}")
    if drop_metadata:
        nb.metadata.pop("autograder", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def failed_tests(report: dict) -> set[str]:
    return {t["name"] for t in report["tests"] if not t["passed"]}


def grade(path: Path) -> dict:
    return grade_notebook(path)


def assert_full_marks(report: dict) -> None:
    """Every hidden test passed and every cell of the notebook ran."""
    assert report["score"] == report["max_score"] > 0, failed_tests(report)
    assert all(c["status"] == "ok" for c in report["notebook"]["cells"]), report["notebook"]["cells"]


def assert_loses(report: dict, must_fail: set[str], label: str) -> None:
    """A wrong submission lost points, at least on the hidden tests named in ``must_fail``."""
    assert report["score"] < report["max_score"], f"{label} earned full marks"
    missed = must_fail - failed_tests(report)
    assert not missed, f"{label} passed hidden tests it should fail: {sorted(missed)}"
    print(f"{label}: {report['score']:g}/{report['max_score']:g}")
