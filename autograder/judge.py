"""The judge: runs an exercise's hidden pytest suite against submissions.

Run as ``python -m autograder.judge`` by :mod:`autograder.engine`, it is a
long-lived worker: it starts its sandbox fork server first (before it reads
anything secret), then answers one JSON request per line on stdin (the cells
to run, the exercise id, extra paths to hide) with one JSON report per line.
For each request it loads the hidden suite with pytest, gives every test the
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
import types
from pathlib import Path

import torch  # noqa: F401 - imported once here, shared with the fork server

import pytest

from autograder.seam.submission import SandboxFailure, StudentError, Submission
from llmcourse.testing import PropertyFailure


def points(value: float):
    """Mark a hidden test as worth ``value`` points."""
    return pytest.mark.points(float(value))


def learner_raised(type_name: str, call, *args, **kwargs) -> bool:
    """Call into the learner's code: True if it raised ``type_name``, False if it returned.

    Any other exception the learner's code raises propagates unchanged: it is
    the learner's own error, reported as theirs (the stub's "not implemented
    yet" among them), not a missing check.
    """
    try:
        call(*args, **kwargs)
    except StudentError as exc:
        if exc.type_name != type_name:
            raise
        return True
    return False


def grade_id_of(item) -> str:
    """The grade cell a hidden test scores towards: its module's name."""
    return Path(str(item.fspath)).stem


def _where(traceback_text: str) -> str:
    """' in cell N, line M' for the innermost notebook frame of a student traceback."""
    import re

    frames = re.findall(r'File "<cell (\d+)(?: locked)?>", line (\d+)', traceback_text)
    return f" in cell {frames[-1][0]}, line {frames[-1][1]}" if frames else ""


def learner_reason(exc: BaseException | None) -> str:
    """Why a test failed, in words that are safe to show a learner."""
    if exc is None:
        return ""
    if isinstance(exc, StudentError):
        if exc.type_name == "NotImplementedError":
            return "not implemented yet (your code raises NotImplementedError)"
        # The message is left out on purpose: student code could put the hidden
        # test's inputs into it. The type and the line are the learner's to act on.
        return f"your code raised {exc.type_name}{_where(exc.traceback)}"
    if isinstance(exc, SandboxFailure):
        return str(exc)
    if isinstance(exc, PropertyFailure):
        return str(exc)
    if isinstance(exc, AssertionError):
        return "the property does not hold"
    return f"{type(exc).__name__}: {exc}"


def suite_helper(test_file: str, filename: str) -> types.ModuleType:
    """Load ``filename``, a helper beside a hidden test module, once per judge process.

    Hidden suites are not packages, and two exercises may name their helpers
    alike, so the helper is registered under a name made from its week,
    exercise and file name.
    """
    import importlib.util

    path = Path(test_file).with_name(filename)
    name = "autograder_suite_" + "_".join(path.with_suffix("").parts[-3:])
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _fixture_plugin(submission: Submission) -> types.ModuleType:
    """A plugin module holding the ``submission`` fixture for one run."""
    module = types.ModuleType("autograder_submission_fixture")

    @pytest.fixture(scope="session", name="submission")
    def submission_fixture():
        """The student's notebook, reached through the seam."""
        return submission

    module.submission_fixture = submission_fixture
    return module


class Collector:
    """Pytest plugin object: owns the submission and records every outcome."""

    def __init__(self, submission: Submission):
        self._submission = submission
        self.results: dict[str, dict] = {}

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


def run(cells: list[dict], exercise_id: str, hide: list[str] | tuple = (), limits: dict | None = None) -> dict:
    """Grade ``cells`` against the hidden suite of ``exercise_id``; return the report.

    ``limits`` overrides fields of the exercise's sandbox limits (the grader's
    own tests use short time limits).
    """
    import dataclasses

    from autograder.exercises import get_exercise, secret_paths

    exercise = get_exercise(exercise_id)
    submission = Submission(
        cells,
        forbidden=exercise.forbidden,
        forbidden_ops=exercise.forbidden_ops,
        limits=dataclasses.replace(exercise.limits, **(limits or {})),
        hide=secret_paths(hide),
    )
    collector = Collector(submission)
    try:
        status = pytest.main(
            [
                str(exercise.suite_dir),
                "-q",
                "-p", "no:cacheprovider",
                "-p", "no:randomly",
                "-c", str(exercise.suite_dir.parent.parent / "pytest.ini"),
                # Rooted at the suites folder, test modules import under names that
                # include week and exercise, so same-named modules never collide.
                "--rootdir", str(exercise.suite_dir.parent.parent),
                "--tb=no",
                "--import-mode=importlib",
                "--no-header",
                "-o", "console_output_style=classic",
            ],
            plugins=[collector, _fixture_plugin(submission)],
        )
    finally:
        notebook_cells = submission.cell_results
        output = submission.output()
        output_before_tests = submission.output_before_requests
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
        "notebook": {
            "cells": notebook_cells,
            "output": output,
            "output_before_tests": output_before_tests,  # safe for feedback: no hidden input reached it
            "sandbox_failures": failures,
        },
    }


def _watch_parent(zygote) -> None:
    """If the grader that started us dies (even by SIGKILL), end every sandbox and exit."""
    import os
    import threading
    import time

    from autograder.seam import isolation

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        for uid in list(isolation.HELD_UIDS):
            isolation.kill_user(uid)
        zygote.close()
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def serve() -> int:
    """Answer grading requests, one JSON line in, one JSON line out, until stdin closes."""
    import os

    from autograder.seam.submission import shared_zygote

    zygote = shared_zygote()  # fork the sandbox server before anything secret is read
    _watch_parent(zygote)
    # The hidden suites' reference computations are small, and judges run beside
    # sandboxes: two threads per process fighting for the cores made them several
    # times slower than one thread.
    import torch

    torch.set_num_threads(1)
    # pytest writes to stdout; keep the real stdout for replies, send the rest to stderr.
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            report = run(request["cells"], request["exercise"], request.get("hide", []), request.get("limits"))
            reply = {"ok": True, "report": report}
        except Exception as exc:  # noqa: BLE001 - an instructor-side error, reported to the engine
            import traceback

            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(serve())
