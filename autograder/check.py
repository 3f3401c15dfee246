"""The learner's check: run a notebook's public checks outside Jupyter.

``check_notebook(path)`` runs the notebook the way grading does, through the
same sandbox (:class:`autograder.seam.submission.Submission`): the code cells
in order, the course's locked cells (imports, public checks) taken from the
instructor's source so an edited check runs as written. On a learner's
machine, without root, the sandbox applies only its resource limits. It then
reports each public-check cell as passed or failed with the reason the check
gave (for arrays, :func:`llmcourse.testing.assert_close` names the largest
error and where it is), each of the learner's cells that raised, and notes:
locked cells that were changed, and built-ins the exercise asks not to use.

It also says plainly that a hidden suite exists and, from the ``summary`` in
the exercise's ``exercise.json``, what it looks at in general terms; it never
runs or reads the hidden tests (``autograder grade`` does that).

Exit status (``autograder check``): 0 when every public check passes, else 1.

Not handled: notebooks of other courses; cells that need a display or widgets
(the sandbox has neither); checking cells in isolation (a check that depends
on an earlier broken cell fails too, and says so).
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

FRAME = re.compile(r'File "<cell (-?\d+)( locked)?>", line (\d+), in (\S+)')


@dataclasses.dataclass
class CellOutcome:
    label: str
    grade_id: str | None
    is_check: bool
    passed: bool
    error: dict | None = None
    ran: bool = True


@dataclasses.dataclass
class CheckResult:
    path: str
    exercise: str | None = None
    title: str = ""
    outcomes: list[CellOutcome] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    failure: str = ""  # the notebook could not be checked or did not finish
    output: str = ""
    summary: str = ""
    hidden_points: float = 0.0
    hidden_parts: int = 0

    @property
    def checks(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.is_check]

    @property
    def ok(self) -> bool:
        return not self.failure and bool(self.checks) and all(o.passed for o in self.checks)


def check_notebook(path: str | Path) -> CheckResult:
    """Run the notebook's cells in the sandbox and collect what the public checks say."""
    from autograder.exercises import UnknownExercise, identify, secret_paths
    from autograder.notebook import BrokenNotebook, grade_cells, prepare_cells, read_notebook
    from autograder.scratch import forbidden_references
    from autograder.seam.submission import SandboxFailure, Submission

    result = CheckResult(str(path))
    try:
        nb = read_notebook(path)
        exercise = identify(nb)
    except (BrokenNotebook, UnknownExercise) as exc:
        result.failure = str(exc)
        return result
    result.exercise = exercise.id
    result.title = exercise.settings.get("title", "")
    result.summary = exercise.settings.get("summary", "")
    points = grade_cells(exercise)
    result.hidden_points, result.hidden_parts = sum(points.values()), len(points)
    cells, result.notes = prepare_cells(nb, exercise)
    if exercise.forbidden:
        for finding in forbidden_references(cells, exercise.forbidden):
            result.notes.append(
                f"your code {finding}: this exercise asks you to write it yourself (a hidden test checks this)"
            )
    submission = Submission(
        cells,
        forbidden=exercise.forbidden,
        forbidden_ops=exercise.forbidden_ops,
        limits=exercise.limits,
        hide=secret_paths(),
    )
    try:
        submission.start()
    except SandboxFailure as exc:
        result.failure = f"the notebook did not finish: {exc}"
    finally:
        results = list(submission.cell_results)
        submission.close()
        result.output = submission.output()
    for i, cell in enumerate(cells):
        gid = cell["grade_id"]
        is_check = bool(cell["locked"] and gid in points)
        if is_check:
            label = f"public checks {gid}"
        elif cell["locked"]:
            label = f"course cell {gid}"
        else:
            where = f"cell {cell['index'] + 1}" if cell["index"] >= 0 else "a cell"
            label = f"your {where}" + (f" ({gid})" if gid else "")
        if i < len(results):
            res = results[i]
            ok = res.get("status") == "ok"
            result.outcomes.append(CellOutcome(label, gid, is_check, ok, None if ok else res.get("error")))
        else:
            result.outcomes.append(CellOutcome(label, gid, is_check, False, None, ran=False))
    return result


def where_in_notebook(traceback: str) -> str:
    """Where a cell error happened, from the sandbox's traceback: "at cell 4, line 2, in softmax"."""
    frames = FRAME.findall(traceback or "")
    if not frames:
        return ""
    index, locked, line, func = frames[-1]
    inside = f", in {func}" if func != "<module>" else ""
    if locked:
        return f"line {line} of the course's cell{inside}"
    return f"at cell {int(index) + 1}, line {line}{inside}"


def format_check(result: CheckResult) -> str:
    """What ``autograder check`` prints."""
    head = f"Checking {result.path}"
    if result.exercise:
        head += f" ({result.exercise}" + (f": {result.title}" if result.title else "") + ")"
    lines = [head]
    if result.exercise is None:
        lines.append(f"  cannot check this notebook: {result.failure}")
        return "\n".join(lines)
    lines.append("")
    lines.append("Public checks")
    for o in result.checks:
        if o.passed:
            lines.append(f"  PASS  {o.grade_id}")
        elif not o.ran:
            lines.append(f"  FAIL  {o.grade_id}: did not run (the notebook stopped before it)")
        else:
            lines.append(f"  FAIL  {o.grade_id}")
            lines += _error_lines(o.error)
    broken = [o for o in result.outcomes if not o.is_check and o.ran and not o.passed]
    if broken:
        lines.append("")
        lines.append("Cells that raised an error")
        for o in broken:
            lines.append(f"  ERROR {o.label}")
            lines += _error_lines(o.error)
    if result.failure:
        lines += ["", f"The notebook did not finish: {result.failure.removeprefix('the notebook did not finish: ')}"]
    if result.notes:
        lines += ["", "Notes"] + [f"  - {n}" for n in result.notes]
    passed = sum(o.passed for o in result.checks)
    lines += ["", f"{passed} of {len(result.checks)} public checks pass."]
    looks_at = f" In general terms it looks at: {result.summary}." if result.summary else ""
    hidden = (
        f"Hidden tests: besides these public checks, {result.exercise} has a hidden test suite worth "
        f"{result.hidden_points:g} points over {result.hidden_parts} part(s), run when your notebook is graded."
        f"{looks_at} Passing every public check does not guarantee full marks: test the edge cases yourself."
    )
    lines += [""] + textwrap.wrap(hidden, 88)
    return "\n".join(lines)


def _error_lines(error: dict | None) -> list[str]:
    if not error:
        return []
    message = (error.get("message") or "").strip()
    if error.get("type") == "NotImplementedError" and not message:
        message = "not implemented yet (the code still raises NotImplementedError)"
    lines = [f"        {error.get('type', 'Error')}: " + (message.splitlines()[0] if message else "")]
    lines += [f"        {extra}" for extra in message.splitlines()[1:6]]
    where = where_in_notebook(error.get("traceback", ""))
    if where:
        lines.append(f"        ({where})")
    return lines
