"""The judge: runs one exercise's hidden pytest suite against one submission.

Run as ``python -m autograder.judge CELLS_JSON EXERCISE_ID REPORT_JSON``. It
loads the hidden suite with pytest in this process, gives every test the
``submission`` fixture (a :class:`~autograder.seam.submission.Submission`
whose student code runs in a sandbox child process), and writes one JSON
report: per test its points, whether it passed and a learner-facing message.

The learner-facing message is the test's docstring (the property, in plain
words) plus, on failure, a reason that reveals no hidden input or expected
value: a :class:`~llmcourse.testing.PropertyFailure` message, the student's
own exception, or a sandbox failure. Bare ``assert`` failures in a hidden test
say only that the property does not hold.

Hidden tests declare their points with :func:`points`. A test module
``test_x.py`` scores towards the notebook's grade cell whose id is ``test_x``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autograder.seam.submission import SandboxFailure, StudentError, Submission
from llmcourse.testing import PropertyFailure


def points(value: float):
    """Mark a hidden test as worth ``value`` points."""
    return pytest.mark.points(float(value))


def grade_id_of(item) -> str:
    """The grade cell a hidden test scores towards: its module's name."""
    return Path(str(item.fspath)).stem


def learner_reason(exc: BaseException | None) -> str:
    """Why a test failed, in words that are safe to show a learner."""
    if exc is None:
        return ""
    if isinstance(exc, StudentError):
        if exc.type_name == "NotImplementedError":
            return "not implemented yet (your code raises NotImplementedError)"
        return f"your code raised {exc.type_name}: {exc.message}"
    if isinstance(exc, SandboxFailure):
        return str(exc)
    if isinstance(exc, PropertyFailure):
        return str(exc)
    if isinstance(exc, AssertionError):
        return "the property does not hold"
    return f"{type(exc).__name__}: {exc}"


class Collector:
    """Pytest plugin object: owns the submission and records every outcome."""

    def __init__(self, submission: Submission):
        self._submission = submission
        self.results: dict[str, dict] = {}

    @pytest.fixture(scope="session")
    def submission(self):  # noqa: D401 - a fixture
        """The student's notebook, reached through the seam."""
        return self._submission

    def pytest_collection_modifyitems(self, items):
        for item in items:
            marker = item.get_closest_marker("points")
            if marker is None:
                raise pytest.UsageError(f"hidden test {item.nodeid} declares no points")
            doc = (getattr(item.obj, "__doc__", None) or item.name).strip().splitlines()[0]
            self.results[item.nodeid] = {
                "name": item.nodeid.split("::", 1)[-1],
                "cell": grade_id_of(item),
                "points": 0.0,
                "max_points": float(marker.args[0]),
                "passed": False,
                "message": doc,
            }

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        entry = self.results.get(item.nodeid)
        if entry is None:
            return
        if report.when == "call" and report.passed:
            entry["passed"] = True
            entry["points"] = entry["max_points"]
        elif report.failed:
            entry["passed"] = False
            entry["points"] = 0.0
            exc = call.excinfo.value if call.excinfo else None
            reason = learner_reason(exc)
            if reason:
                entry["message"] = f"{entry['message']} - {reason}"
        elif report.skipped and report.when != "teardown":
            entry["message"] = f"{entry['message']} - skipped"


def run(cells: list[dict], exercise_id: str) -> dict:
    """Grade ``cells`` against the hidden suite of ``exercise_id``; return the report."""
    from autograder.exercises import get_exercise

    exercise = get_exercise(exercise_id)
    submission = Submission(cells, forbidden=exercise.forbidden, limits=exercise.limits)
    collector = Collector(submission)
    try:
        status = pytest.main(
            [
                str(exercise.suite_dir),
                "-q",
                "-p", "no:cacheprovider",
                "-p", "no:randomly",
                "-c", str(exercise.suite_dir.parent.parent / "pytest.ini"),
                "--rootdir", str(exercise.suite_dir),
                "--tb=no",
                "--no-header",
                "-o", "console_output_style=classic",
            ],
            plugins=[collector],
        )
    finally:
        notebook_cells = submission.cell_results
        output = submission.output()
        failures = list(submission.failures)
        submission.close()
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not collector.results:
        raise RuntimeError(f"the hidden suite for {exercise_id} did not run (pytest exit {status})")
    tests = list(collector.results.values())
    return {
        "exercise": exercise_id,
        "score": sum(t["points"] for t in tests),
        "max_score": sum(t["max_points"] for t in tests),
        "tests": tests,
        "notebook": {"cells": notebook_cells, "output": output, "sandbox_failures": failures},
    }


def main(argv: list[str]) -> int:
    cells_path, exercise_id, report_path = argv
    cells = json.loads(Path(cells_path).read_text())
    report = run(cells, exercise_id)
    Path(report_path).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
