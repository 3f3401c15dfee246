"""Turn a submitted notebook into the cells the sandbox runs.

Locked cells (instructions, public checks, imports the instructor wrote) are
taken from the instructor's source notebook, matched by nbgrader grade id, as
nbgrader intends: a learner who edits a public check runs the original one.
A cell counts as locked only if the *source* says so, so a learner cannot
mark their own code as instructor code.

Not handled here: checksum verification and reporting of tampered grade
cells (deleted, duplicated, re-flagged); a missing locked cell is simply not
run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.exercises import Exercise


class BrokenNotebook(ValueError):
    """The file is not a readable Jupyter notebook."""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise BrokenNotebook(f"{path}: no such file") from None
    except Exception as exc:  # nbformat raises several unrelated types
        raise BrokenNotebook(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def source_locked_cells(exercise: Exercise) -> dict[str, str]:
    """grade_id -> source text for every cell the source notebook locks."""
    locked = {}
    for cell in exercise.source_notebook.cells:
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("grade_id") and (meta.get("locked") or meta.get("grade") and not meta.get("solution")):
            locked[meta["grade_id"]] = cell.source
    return locked


def cells_to_run(nb: nbformat.NotebookNode, exercise: Exercise) -> list[dict]:
    """The code cells of ``nb`` in order, locked ones restored from the source."""
    locked = source_locked_cells(exercise)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in locked:
            cells.append({"index": index, "source": locked[grade_id], "locked": True, "grade_id": grade_id})
        else:
            cells.append({"index": index, "source": cell.source, "locked": False, "grade_id": grade_id})
    return cells


def grade_cells(exercise: Exercise) -> dict[str, float]:
    """Autograded grade cells of the source notebook: grade_id -> points."""
    cells = {}
    for cell in exercise.source_notebook.cells:
        meta = _nbgrader(cell)
        if meta.get("grade") and cell.cell_type == "code":
            cells[meta["grade_id"]] = float(meta.get("points", 0))
    return cells
