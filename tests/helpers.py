"""Helpers for the project's own tests: build variant notebooks and grade them."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

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
    print(f"{label}: {report['score']:g}/{report['max_score']:g}, failed {sorted(failed_tests(report))}")


def solution_cell(source: Path, grade_id: str) -> str:
    """The text of the cell ``grade_id`` of notebook ``source``."""
    for cell in nbformat.read(source, as_version=4).cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(f"no cell with grade id {grade_id} in {source}")


def edited(source: Path, grade_id: str, *changes: tuple[str, str]) -> dict[str, str]:
    """Cell ``grade_id`` of ``source`` with each (old, new) text replaced; each old text must occur once.

    For a mistake that differs from the solution in exactly one named way.
    """
    text = solution_cell(source, grade_id)
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} is not in cell {grade_id} exactly once"
        text = text.replace(old, new)
    return {grade_id: text}


def grading_tests(solution: Path, alternatives: dict[str, dict[str, str]], wrong: dict[str, tuple[dict[str, str], set[str]]]):
    """The two tests every exercise's grading module holds, for its own variants.

    ``alternatives``: name -> replacement cells of a correct solution written
    differently (must earn full marks). ``wrong``: name -> (replacement
    cells, hidden tests it must fail) for a realistic mistake (must lose
    points, on at least those tests). Assign the result to two module-level
    names starting with ``test_`` so that pytest collects them.
    """

    @pytest.mark.slow
    @pytest.mark.parametrize("variant", sorted(alternatives))
    def test_differently_written_solution_earns_full_marks(variant, tmp_path):
        report = grade(with_cells(solution, tmp_path / f"{variant}.ipynb", alternatives[variant]))
        assert_full_marks(report)
        print(f"{variant}: {report['score']:g}/{report['max_score']:g}")

    @pytest.mark.slow
    @pytest.mark.parametrize("mistake", sorted(wrong))
    def test_wrong_submission_loses_points(mistake, tmp_path):
        cells, must_fail = wrong[mistake]
        assert_loses(grade(with_cells(solution, tmp_path / f"{mistake}.ipynb", cells)), must_fail, mistake)

    return test_differently_written_solution_earns_full_marks, test_wrong_submission_loses_points
