"""Turn a submitted notebook into the cells the sandbox runs, checking its integrity.

Locked cells (instructions, imports, public checks the instructor wrote) are
taken from the instructor's source notebook, matched by nbgrader grade id, as
nbgrader intends: a learner who edits a public check runs the original one. A
cell counts as locked only if the *source* says so, so a learner cannot mark
their own code as instructor code.

Whatever happened to the notebook, grading goes on with what can still be
graded, and each problem becomes one message for the report:

* a locked cell that was edited, or whose nbgrader metadata was changed
  (re-flagged), runs as in the source;
* a locked cell that was deleted is put back after the cell that precedes it
  in the source;
* a grade id that appears more than once: a locked cell runs once, the
  learner's duplicated solution cells all run (they are the learner's code);
* a notebook whose nbgrader metadata was stripped: cells whose text equals a
  source locked cell are treated as locked, the rest as the learner's code;
* changed cell ids are irrelevant and not reported.

Not handled here: unreadable files (see :func:`read_notebook`), which exercise
a notebook is (see :mod:`autograder.exercises`).
"""

from __future__ import annotations

from pathlib import Path

from autograder.exercises import Exercise


class BrokenNotebook(ValueError):
    """The file is not a readable Jupyter notebook."""


def read_notebook(path: str | Path):
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise BrokenNotebook(f"{path}: no such file") from None
    except Exception as exc:  # nbformat raises several unrelated types
        raise BrokenNotebook(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    if not isinstance(nb.get("cells"), list):
        raise BrokenNotebook(f"{path}: not a readable notebook (no cell list)")
    return nb


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    value = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return value if isinstance(value, dict) else {}


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _is_locked(meta: dict) -> bool:
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def _signature(meta: dict) -> tuple:
    return tuple(bool(meta.get(k)) for k in ("grade", "solution", "locked")) + (float(meta.get("points", 0) or 0),)


def source_cells(exercise: Exercise) -> list[tuple[str | None, dict, str]]:
    """The source's code cells in order: (grade_id, nbgrader metadata, text)."""
    cells = []
    for cell in exercise.source_notebook.cells:
        if cell.cell_type == "code":
            meta = _nbgrader(cell)
            cells.append((meta.get("grade_id"), meta, cell.source))
    return cells


def prepare_cells(nb, exercise: Exercise) -> tuple[list[dict], list[str]]:
    """The code cells to run, in order, and the integrity problems found."""
    source = source_cells(exercise)
    locked = {gid: (meta, text) for gid, meta, text in source if gid and _is_locked(meta)}
    locked_by_text = {text.strip(): gid for gid, (meta, text) in locked.items()}
    problems: list[str] = []
    code = [(i, c) for i, c in enumerate(nb.cells) if isinstance(c, dict) and c.get("cell_type") == "code"]
    has_ids = any(_nbgrader(c).get("grade_id") for _, c in code)
    if not has_ids:
        problems.append("the notebook's nbgrader metadata is missing; instructor cells were matched by their text")

    run: list[dict] = []
    seen: set[str] = set()
    for index, cell in code:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id") if has_ids else locked_by_text.get(_source(cell).strip())
        if gid in locked:
            if gid in seen:
                problems.append(f"cell {gid!r} appears more than once; it runs once")
                continue
            seen.add(gid)
            src_meta, text = locked[gid]
            if _source(cell) != text:
                problems.append(f"locked cell {gid!r} was edited; the original runs instead")
            elif has_ids and _signature(meta) != _signature(src_meta):
                problems.append(f"the grading metadata of cell {gid!r} was changed; the original's is used")
            run.append({"index": index, "source": text, "locked": True, "grade_id": gid})
        else:
            if gid and gid in {c["grade_id"] for c in run if c["grade_id"]}:
                problems.append(f"cell {gid!r} appears more than once; every copy of your code runs")
            run.append({"index": index, "source": _source(cell), "locked": False, "grade_id": gid})

    # Put back deleted locked cells after the cell that precedes them in the source.
    order = [gid for gid, _, _ in source]
    for pos, gid in enumerate(order):
        if gid not in locked or gid in seen:
            continue
        problems.append(f"locked cell {gid!r} was deleted; the original runs in its place")
        anchor = next((order[p] for p in range(pos - 1, -1, -1) if order[p] and any(c["grade_id"] == order[p] for c in run)), None)
        at = 0 if anchor is None else max(i for i, c in enumerate(run) if c["grade_id"] == anchor) + 1
        run.insert(at, {"index": -1, "source": locked[gid][1], "locked": True, "grade_id": gid})
        seen.add(gid)
    return run, problems


def cells_to_run(nb, exercise: Exercise) -> list[dict]:
    """The code cells of ``nb`` in order, locked ones restored from the source."""
    return prepare_cells(nb, exercise)[0]


def grade_cells(exercise: Exercise) -> dict[str, float]:
    """Autograded grade cells of the source notebook: grade_id -> points."""
    cells = {}
    for gid, meta, _ in source_cells(exercise):
        if meta.get("grade") and gid:
            cells[gid] = float(meta.get("points", 0))
    return cells
