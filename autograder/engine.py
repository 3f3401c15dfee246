"""Grade one notebook: find its exercise, run the judge, return the report.

The judge (:mod:`autograder.judge`) runs in its own long-lived worker process,
which in turn starts a sandbox per submission for the student's code. This
module never imports student code or hidden tests; it reads the judge's JSON
reports. :class:`JudgePool` keeps up to ``size`` workers and hands each
request to an idle one, so threads can grade side by side; a worker that
stops answering is killed and replaced.

A notebook that cannot be read or recognised gets a report with score 0 and a
message saying why, rather than an exception, so a batch never stops on one
broken file.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from autograder.exercises import Exercise, UnknownExercise, identify
from autograder.notebook import BrokenNotebook, grade_cells, prepare_cells, read_notebook


def _failed_report(message: str, exercise: Exercise | None = None) -> dict:
    report = {
        "exercise": exercise.id if exercise else None,
        "score": 0.0,
        "max_score": sum(grade_cells(exercise).values()) if exercise else 0.0,
        "tests": [],
        "error": message,
        "notebook": {"cells": [], "output": "", "sandbox_failures": []},
    }
    report["cells"] = cell_scores(report, exercise) if exercise else {}
    return report


def judge_timeout(exercise: Exercise) -> float:
    """An outer bound on one judge run: the submission's budget plus start-up slack."""
    return exercise.limits.submission_seconds + 120.0


class JudgeFailed(RuntimeError):
    """The judge itself failed (an instructor-side problem, not the student's)."""


class JudgeWorker:
    """One ``python -m autograder.judge`` process."""

    def __init__(self) -> None:
        self._log = tempfile.TemporaryFile(prefix="autograder-judge-log-")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.judge"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
            start_new_session=True,
        )

    def log_tail(self) -> str:
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(size - 4000, 0))
        return self._log.read().decode("utf-8", "replace")

    def request(self, message: dict, timeout: float) -> dict:
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise TimeoutError
        line = self.proc.stdout.readline()
        if not line:
            self.kill()
            raise JudgeFailed(f"the judge process exited:\n{self.log_tail()}")
        return json.loads(line)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class JudgePool:
    """Up to ``size`` judge workers, started on demand and reused."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: queue.Queue[JudgeWorker] = queue.Queue()
        self._started = 0
        self._lock = threading.Lock()

    def _take(self) -> JudgeWorker:
        while True:
            with self._lock:
                if self._idle.empty() and self._started < self.size:
                    self._started += 1
                    return JudgeWorker()
            worker = self._idle.get()
            if worker.alive:
                return worker
            with self._lock:
                self._started -= 1

    def request(self, message: dict, timeout: float) -> dict:
        worker = self._take()
        try:
            reply = worker.request(message, timeout)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise
        self._idle.put(worker)
        return reply

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get()
            worker.proc.stdin.close()
            try:
                worker.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


_pool: JudgePool | None = None
_pool_lock = threading.Lock()


def default_pool() -> JudgePool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = JudgePool(os.cpu_count() or 1)
            atexit.register(_pool.close)
        return _pool


def grade_notebook(
    path: str | Path,
    exercise: Exercise | None = None,
    pool: JudgePool | None = None,
    hide: list[str] | tuple = (),
    limits: dict | None = None,
) -> dict:
    """Grade the notebook at ``path``; see :mod:`autograder.judge` for the report.

    ``hide`` lists more paths (e.g. the course directory) the sandbox must not
    see; ``limits`` overrides fields of the exercise's sandbox limits.
    """
    try:
        nb = read_notebook(path)
        exercise = exercise or identify(nb)
    except (BrokenNotebook, UnknownExercise) as exc:
        return _failed_report(str(exc), exercise)
    cells, problems = prepare_cells(nb, exercise)
    message = {"cells": cells, "exercise": exercise.id, "hide": [str(h) for h in hide], "limits": limits}
    try:
        reply = (pool or default_pool()).request(message, judge_timeout(exercise))
    except TimeoutError:
        return _failed_report("grading took longer than the submission's time limit", exercise)
    if not reply.get("ok"):
        raise JudgeFailed(f"the judge failed on {path}: {reply.get('error')}\n{reply.get('traceback', '')}")
    report = reply["report"]
    report["integrity"] = problems
    report["cells"] = cell_scores(report, exercise)
    return report


def cell_scores(report: dict, exercise: Exercise) -> dict[str, dict]:
    """Per grade cell: points earned and possible, from the hidden tests' results."""
    scores = {gid: {"score": 0.0, "max_score": pts} for gid, pts in grade_cells(exercise).items()}
    for test in report["tests"]:
        cell = scores.setdefault(test["cell"], {"score": 0.0, "max_score": 0.0})
        cell["score"] += test["points"]
    return scores


def format_report(report: dict) -> str:
    """A human-readable report: one line per hidden test, then the score."""
    lines = [f"Exercise: {report.get('exercise') or 'unknown'}"]
    if report.get("error"):
        lines.append(f"Could not grade: {report['error']}")
    for problem in report.get("integrity", []):
        lines.append(f"  note: {problem}")
    for failure in report.get("notebook", {}).get("sandbox_failures", []):
        lines.append(f"  sandbox: {failure}")
    for cell in report.get("notebook", {}).get("cells", []):
        if cell.get("status") == "error":
            err = cell["error"]
            lines.append(f"  cell {cell['index']}: {err['type']}: {err['message'][:200]}")
    for test in report["tests"]:
        mark = "PASS" if test["passed"] else "FAIL"
        lines.append(f"  [{mark}] {test['points']:g}/{test['max_points']:g}  {test['message']}")
    lines.append(f"Score: {report['score']:g} / {report['max_score']:g}")
    return "\n".join(lines)
