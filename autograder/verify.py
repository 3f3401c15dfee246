"""Check a generated release before it reaches students.

``verify_release(week, release_dir)`` looks at what nbgrader just generated
into ``release_dir/week`` and at the week's sources and hidden suites, and
lists every reason not to publish it:

* a source notebook without a hidden suite, a suite without a source, or a
  source notebook that was not released;
* a solution notebook that does not earn full marks on its hidden suite, or
  whose own public checks fail (a cell of it raises);
* a released stub that earns any points;
* a solution line or a hidden-test line found in the release
  (:mod:`autograder.leaks`).

Each notebook is graded by the engine (:func:`autograder.engine.grade_notebook`),
side by side on the judge pool, so the verdicts are the ones students will get.

Not handled: whether a *differently written* correct solution earns full
marks or a subtly wrong one loses points (each exercise's tests in ``tests/``
prove that); files other than notebooks in the release (copied as they are);
leaks that are paraphrased rather than copied (see :mod:`autograder.leaks`).
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import exercises as course
from autograder.exercises import Exercise, exercises_of_week


@dataclasses.dataclass
class Graded:
    """One graded notebook of the check: a solution or a stub."""

    exercise: str
    kind: str  # "solution" or "stub"
    score: float
    max_score: float
    problem: str  # empty when this notebook is as it should be


@dataclasses.dataclass
class Verification:
    graded: list[Graded]
    structure: list[str]  # missing suites, sources or released notebooks
    leaks: list[str]

    @property
    def problems(self) -> list[str]:
        """Every reason to refuse the release, one sentence each."""
        graded = [f"{g.exercise} {g.kind}: {g.problem}" for g in self.graded if g.problem]
        return self.structure + graded + self.leaks

    @property
    def ok(self) -> bool:
        return not self.problems


def _judge_solution(ex: Exercise, report: dict) -> str:
    if report.get("error"):
        return f"the solution could not be graded: {report['error']}"
    if report["max_score"] <= 0:
        return "the hidden suite awards no points"
    failed = [t["message"] for t in report["tests"] if not t["passed"]]
    if failed:
        shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
        return f"the solution earns {report['score']:g}/{report['max_score']:g}: {shown}"
    errors = [c for c in report.get("notebook", {}).get("cells", []) if c.get("status") == "error"]
    if errors:
        err = errors[0]["error"]
        return f"a cell of the solution raises {err['type']}: {err['message'][:200]}"
    if report.get("integrity"):
        return f"the solution notebook does not match itself: {report['integrity'][0]}"
    return ""


def _judge_stub(ex: Exercise, report: dict) -> str:
    if report.get("error"):
        return f"the released notebook could not be graded: {report['error']}"
    passed = [t["message"] for t in report["tests"] if t["passed"]]
    if report["score"] != 0 or passed:
        return f"the released stub earns {report['score']:g}/{report['max_score']:g} (passes: {passed[0]})"
    return ""


def verify_release(week: str, release_dir: Path, jobs: int | None = None) -> Verification:
    """Grade the week's solutions and released stubs and scan the release for leaks."""
    from autograder.engine import grade_notebook
    from autograder.leaks import find_leaks, fragments_for

    release_week = Path(release_dir) / week
    suites = {ex.name: ex for ex in exercises_of_week(week)}
    sources = {p.stem for p in (course.SOURCE_DIR / week).glob("*.ipynb")}
    released = {p.stem: p for p in release_week.glob("*.ipynb")}
    structure = []
    for name in sorted(sources - set(suites)):
        structure.append(f"solutions/{week}/{name}.ipynb has no hidden suite (autograder/suites/{week}/{name}/)")
    for name in sorted(set(suites) - sources):
        structure.append(f"the hidden suite {week}/{name} has no source notebook solutions/{week}/{name}.ipynb")
    for name in sorted(sources - set(released)):
        structure.append(f"{name}.ipynb was not released")

    work = []
    for name in sorted(set(suites) & sources):
        ex = suites[name]
        work.append((ex, "solution", ex.source_path))
        if name in released:
            work.append((ex, "stub", released[name]))
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        reports = list(pool.map(lambda item: grade_notebook(item[2], item[0]), work))
    graded = []
    for (ex, kind, _), report in zip(work, reports):
        problem = (_judge_solution if kind == "solution" else _judge_stub)(ex, report)
        graded.append(Graded(ex.id, kind, report["score"], report["max_score"], problem))

    exercises = [suites[n] for n in sorted(set(suites) & sources)]
    found = find_leaks([release_week], fragments_for(exercises)) if release_week.exists() else []
    leaks = [f"{leak.path.name} contains a line of the {leak.origin}: {leak.fragment[:80]!r}" for leak in found]
    return Verification(graded, structure, leaks)


def format_verification(week: str, verification: Verification) -> str:
    """A table: one line per graded notebook, then the leak scan, then the verdict."""
    lines = [f"verifying the release of {week}"]
    width = max([len("exercise")] + [len(g.exercise) for g in verification.graded])
    for g in verification.graded:
        verdict = "ok" if not g.problem else f"FAIL: {g.problem}"
        lines.append(f"  {g.exercise:<{width}}  {g.kind:<8} {g.score:>6g}/{g.max_score:<6g} {verdict}")
    lines += [f"  FAIL: {p}" for p in verification.structure]
    if verification.leaks:
        lines += [f"  LEAK: {p}" for p in verification.leaks]
    else:
        lines.append("  leak scan: no solution or hidden-test line in the release")
    lines.append(f"  {'release verified' if verification.ok else 'release REFUSED'}")
    return "\n".join(lines)
