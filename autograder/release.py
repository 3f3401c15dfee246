"""Release: generate student notebooks from the instructor's sources with nbgrader.

``release(weeks)`` runs nbgrader's ``generate_assignment`` for each week (an
nbgrader "assignment" is one week; its notebooks are the week's exercises),
writing ``exercises/weekNN/`` and registering the week's grade cells in a
gradebook. ``release_to(week, directory)`` does the same into another
directory with a throw-away gradebook, which the tests use to check that the
committed release is exactly what a fresh release produces.

Not handled here: refusing a release whose solutions do not earn full marks
(the instructor workflow issue adds that on top).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from traitlets.config import Config

from autograder.exercises import RELEASE_DIR, REPO_ROOT, SOURCE_DIR


class ReleaseFailed(RuntimeError):
    """nbgrader refused or failed to generate the assignment."""


def all_weeks() -> list[str]:
    return sorted(p.name for p in SOURCE_DIR.glob("week*") if any(p.glob("*.ipynb")))


def _generate(week: str, release_dir: Path, db_url: str) -> list[Path]:
    from nbgrader.apps import NbGraderAPI

    config = Config()
    # Load the course's own nbgrader_config.py, then point it at our folders.
    from traitlets.config.loader import PyFileConfigLoader

    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config())
    config.CourseDirectory.root = str(REPO_ROOT)
    config.CourseDirectory.release_directory = str(release_dir)
    config.CourseDirectory.db_url = db_url
    config.GenerateAssignment.force = True
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(week, force=True)
    if not result.get("success"):
        details = f"{result.get('log', '')}\n{result.get('error', '')}"
        raise ReleaseFailed(f"nbgrader could not release {week}:\n{details}")
    return sorted((release_dir / week).glob("*.ipynb"))


def release(weeks: list[str] | None = None, db_url: str | None = None) -> list[Path]:
    """Release ``weeks`` (all weeks with sources if None) into exercises/."""
    released = []
    for week in weeks or all_weeks():
        if not (SOURCE_DIR / week).is_dir():
            raise ReleaseFailed(f"no source notebooks for {week} in {SOURCE_DIR}")
        released += _generate(week, RELEASE_DIR, db_url or f"sqlite:///{REPO_ROOT / 'gradebook.db'}")
    return released


def release_to(week: str, directory: Path) -> list[Path]:
    """Release ``week`` into ``directory`` with a temporary gradebook."""
    with tempfile.TemporaryDirectory(prefix="release-db-") as tmp:
        paths = _generate(week, Path(directory), f"sqlite:///{Path(tmp) / 'gradebook.db'}")
        shutil.rmtree(tmp, ignore_errors=True)
        return paths
