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
