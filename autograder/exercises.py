"""Where the course's exercises live, and which exercise a notebook is.

An exercise is ``weekNN/name``. Its pieces, by convention:

* ``solutions/weekNN/name.ipynb``: the instructor's source (nbgrader "source");
* ``exercises/weekNN/name.ipynb``: the released student notebook;
* ``autograder/suites/weekNN/name/``: the hidden suite, one ``test_x.py`` per
  autograded grade cell of the notebook (whose grade id is ``test_x``), and ``exercise.json`` with the
  exercise's grading settings (forbidden built-ins, time limits).

A notebook names its exercise in its metadata (``autograder.exercise``). When
that metadata was stripped, the exercise is recognised from the notebook's
nbgrader grade-cell ids instead.

Not handled: exercises outside this repository's layout.
"""

from __future__ import annotations

import dataclasses
import json
import os
from functools import cached_property
from pathlib import Path

from autograder.seam.submission import SandboxLimits

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where the exercises live: this repository, or a directory laid out the same way
# (solutions/, exercises/, autograder/suites/) named by AUTOGRADER_COURSE_ROOT. Only
# the project's own tests set it, to grade small fixture exercises no real week has.
COURSE_ROOT = Path(os.environ.get("AUTOGRADER_COURSE_ROOT") or REPO_ROOT).resolve()
SUITES_DIR = COURSE_ROOT / "autograder" / "suites" if COURSE_ROOT != REPO_ROOT else Path(__file__).resolve().parent / "suites"
SOURCE_DIR = COURSE_ROOT / "solutions"
RELEASE_DIR = COURSE_ROOT / "exercises"
METADATA_KEY = "autograder"


def secret_paths(extra: list[str] | tuple = ()) -> list[str]:
    """Paths a sandbox must not see: solutions, hidden suites, history, course state."""
    paths = [SOURCE_DIR, SUITES_DIR, REPO_ROOT / ".git"]
    paths += [REPO_ROOT / name for name in ("submitted", "autograded", "feedback", "gradebook.db")]
    return [str(p) for p in paths] + [str(p) for p in extra]


class UnknownExercise(LookupError):
    """A notebook that matches no exercise of the course."""


@dataclasses.dataclass(frozen=True)
class Exercise:
    week: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.week}/{self.name}"

    @property
    def suite_dir(self) -> Path:
        return SUITES_DIR / self.week / self.name

    @property
    def source_path(self) -> Path:
        return SOURCE_DIR / self.week / f"{self.name}.ipynb"

    @property
    def release_path(self) -> Path:
        return RELEASE_DIR / self.week / f"{self.name}.ipynb"

    @cached_property
    def settings(self) -> dict:
        path = self.suite_dir / "exercise.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def forbidden(self) -> list[str]:
        return list(self.settings.get("forbidden", []))

    @property
    def forbidden_ops(self) -> list[str]:
        """aten operators (e.g. ``aten::_softmax``) the student's code may not reach."""
        return list(self.settings.get("forbidden_ops", []))

    @property
    def limits(self) -> SandboxLimits:
        return SandboxLimits(**self.settings.get("limits", {}))

    @cached_property
    def source_notebook(self):
        import nbformat  # slow to import; the judge process never needs it

        return nbformat.read(self.source_path, as_version=4)


def all_exercises() -> list[Exercise]:
    """Every exercise that has a hidden suite, in week order."""
    found = []
    for suite in sorted(SUITES_DIR.glob("week*/*/")):
        if any(suite.glob("test_*.py")):
            found.append(Exercise(suite.parent.name, suite.name))
    return found


def get_exercise(exercise_id: str) -> Exercise:
    for ex in all_exercises():
        if ex.id == exercise_id:
            return ex
    raise UnknownExercise(f"no exercise called {exercise_id!r}")


def exercises_of_week(week: str) -> list[Exercise]:
    return [ex for ex in all_exercises() if ex.week == week]


def grade_ids(nb) -> set[str]:
    """The nbgrader grade ids of a notebook's cells."""
    ids = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            ids.add(meta["grade_id"])
    return ids


def identify(nb) -> Exercise:
    """Which exercise ``nb`` is: by its metadata, else by its grade ids."""
    declared = nb.get("metadata", {}).get(METADATA_KEY, {}).get("exercise")
    if declared:
        return get_exercise(declared)
    ids = grade_ids(nb)
    best, best_overlap = None, 0
    for ex in all_exercises():
        overlap = len(ids & grade_ids(ex.source_notebook))
        if overlap > best_overlap:
            best, best_overlap = ex, overlap
    if best is None:
        raise UnknownExercise(
            "this notebook names no exercise in its metadata and shares no grade cell "
            "with any exercise of the course"
        )
    return best
