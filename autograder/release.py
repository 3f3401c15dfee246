"""Release: generate student notebooks from the instructor's sources with nbgrader.

``release(weeks)`` runs nbgrader's ``generate_assignment`` for each week (an
nbgrader "assignment" is one week; its notebooks are the week's exercises)
into a temporary directory, has :mod:`autograder.verify` check the result
(solutions earn full marks, stubs earn zero, nothing of the solutions or the
hidden tests leaks), and only then replaces ``exercises/weekNN/`` and
registers the week's grade cells in the course's gradebook. A refused release
raises :class:`ReleaseRefused` and leaves ``exercises/`` and the gradebook
untouched. ``verify=False`` skips the checks (emergencies only).

``release_to(week, directory)`` generates into another directory with a
throw-away gradebook, without checks; the tests use it to compare the
committed release with a fresh one.

Not handled here: what the checks are (see :mod:`autograder.verify`);
releasing to students' machines (the course publishes ``exercises/`` in git).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from traitlets.config import Config

from autograder import exercises
from autograder.exercises import REPO_ROOT


class ReleaseFailed(RuntimeError):
    """nbgrader refused or failed to generate the assignment."""


class ReleaseRefused(ReleaseFailed):
    """The generated release failed verification; nothing was released."""


def all_weeks() -> list[str]:
    return sorted(p.name for p in exercises.SOURCE_DIR.glob("week*") if any(p.glob("*.ipynb")))


def _generate(week: str, release_dir: Path, db_url: str) -> list[Path]:
    from nbgrader.apps import NbGraderAPI

    config = Config()
    # Load the course's own nbgrader_config.py, then point it at our folders.
    from traitlets.config.loader import PyFileConfigLoader

    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config())
    config.CourseDirectory.root = str(exercises.COURSE_ROOT)
    config.CourseDirectory.release_directory = str(release_dir)
    config.CourseDirectory.db_url = db_url
    config.GenerateAssignment.force = True
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(week, force=True)
    if not result.get("success"):
        details = f"{result.get('log', '')}\n{result.get('error', '')}"
        raise ReleaseFailed(f"nbgrader could not release {week}:\n{details}")
    return sorted((release_dir / week).glob("*.ipynb"))


def _install(staged: Path, target: Path) -> None:
    """Replace ``target`` by a copy of ``staged``, swapping whole directories."""
    target.parent.mkdir(parents=True, exist_ok=True)
    new = target.with_name(f".{target.name}.new")
    old = target.with_name(f".{target.name}.old")
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(staged, new)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def release(
    weeks: list[str] | None = None,
    db_url: str | None = None,
    verify: bool = True,
    out: Callable[[str], None] = print,
) -> list[Path]:
    """Release ``weeks`` (all weeks with sources if None) into exercises/, verified first.

    Every week is generated and verified before any is installed, so a refused
    week stops the whole release.
    """
    from autograder.verify import format_verification, verify_release

    weeks = weeks or all_weeks()
    for week in weeks:
        if not (exercises.SOURCE_DIR / week).is_dir():
            raise ReleaseFailed(f"no source notebooks for {week} in {exercises.SOURCE_DIR}")
    db_url = db_url or f"sqlite:///{exercises.COURSE_ROOT / 'gradebook.db'}"
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        stage = Path(tmp) / "release"
        refused = []
        for week in weeks:
            _generate(week, stage, f"sqlite:///{Path(tmp) / 'gradebook.db'}")
            if verify:
                verification = verify_release(week, stage)
                out(format_verification(week, verification))
                refused += [f"{week}: {problem}" for problem in verification.problems]
        if refused:
            raise ReleaseRefused(
                "release refused, exercises/ was not changed:\n  " + "\n  ".join(refused)
            )
        released = []
        for week in weeks:
            _install(stage / week, exercises.RELEASE_DIR / week)
            _generate(week, Path(tmp) / "register", db_url)  # the course gradebook learns the grade cells
            released += sorted((exercises.RELEASE_DIR / week).glob("*.ipynb"))
        return released


def release_to(week: str, directory: Path) -> list[Path]:
    """Release ``week`` into ``directory`` with a temporary gradebook (no checks)."""
    with tempfile.TemporaryDirectory(prefix="release-db-") as tmp:
        paths = _generate(week, Path(directory), f"sqlite:///{Path(tmp) / 'gradebook.db'}")
        shutil.rmtree(tmp, ignore_errors=True)
        return paths
