"""A cohort's grading in nbgrader's course layout: autograde a week, export grades.

Layout (nbgrader's own, so formgrader and ``nbgrader export`` keep working)::

    <course>/gradebook.db                              nbgrader's SQLite gradebook
    <course>/submitted/<student>/<week>/<name>.ipynb   what students handed in
    <course>/autograded/<student>/<week>/<name>.ipynb  copies for formgrader
    <course>/autograded/<student>/<week>/<name>.report.json   the judge's report

``autograde`` grades every submission of a week with
:func:`autograder.engine.grade_notebook`, side by side in ``jobs`` worker
threads (each grade runs in its own judge and sandbox processes), and writes
each hidden-test score to the auto score of the grade cell it belongs to.
Manual scores set in formgrader are left alone: nbgrader keeps them apart.

Grading can also run on a Dask cluster (``dask_scheduler``): each Dask worker
grades with its own judge workers and sandboxes, and only the reports come
back; the gradebook is written here, by one process.

Not handled here: importing LMS downloads, late penalties, feedback reports
(the instructor workflow adds them).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder.engine import grade_notebook
from autograder.exercises import Exercise, exercises_of_week
from autograder.release import _generate


def gradebook_url(course_dir: Path) -> str:
    return f"sqlite:///{(Path(course_dir) / 'gradebook.db').resolve()}"


def ensure_week_in_gradebook(week: str, course_dir: Path) -> None:
    """Register the week's notebooks and grade cells, as a release does."""
    with tempfile.TemporaryDirectory(prefix="register-") as tmp:
        _generate(week, Path(tmp), gradebook_url(course_dir))


def find_submissions(week: str, course_dir: Path, students: list[str] | None = None) -> list[tuple[str, Path, Exercise]]:
    """(student, notebook path, exercise) for every student folder and exercise of the week.

    The notebook path may not exist: a student who handed in the week without
    one of its notebooks gets a row that says so.
    """
    exercises = exercises_of_week(week)
    found = []
    root = Path(course_dir) / "submitted"
    for student_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        if students and student_dir.name not in students:
            continue
        if not (student_dir / week).is_dir():
            continue
        for ex in exercises:
            found.append((student_dir.name, student_dir / week / f"{ex.name}.ipynb", ex))
    return found


def submission_digest(notebook: Path) -> str:
    """A hash of what was handed in (notebook and timestamp), to tell whether it changed."""
    digest = hashlib.sha256()
    for path in (notebook, notebook.parent / "timestamp.txt"):
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _timestamp(week_dir: Path) -> dt.datetime | None:
    stamp = week_dir / "timestamp.txt"
    if not stamp.exists():
        return None
    text = stamp.read_text().strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def record(gb, week: str, student: str, notebook: Path, report: dict) -> None:
    """Write one report's grade-cell scores into the gradebook, in one transaction.

    Only auto scores are written; manual scores and comments, kept apart by
    nbgrader, are never touched.
    """
    gb.update_or_create_student(student)
    timestamp = _timestamp(notebook.parent)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(week, student, **kwargs)
    try:
        for grade_id, cell in report["cells"].items():
            grade = gb.find_grade(grade_id, notebook.stem, week, student)
            grade.auto_score = float(cell["score"])
            # nbgrader's rule (SaveAutoGrades): only a hand-set score needs a human look, so
            # formgrader lists written answers, and code cells a grader overrode, as to grade.
            grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def _marker(course_dir: Path, student: str, week: str, notebook: Path) -> Path:
    return course_dir / "autograded" / student / week / f"{notebook.stem}.report.json"


def _already_graded(course_dir: Path, student: str, week: str, notebook: Path) -> dict | None:
    marker = _marker(course_dir, student, week, notebook)
    try:
        report = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return report if report.get("digest") == submission_digest(notebook) else None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _grade_one(notebook: Path, exercise: Exercise, course_dir: Path) -> dict:
    if not notebook.exists():
        from autograder.engine import _failed_report

        return _failed_report(f"no {notebook.name} was handed in", exercise)
    return grade_notebook(notebook, exercise, hide=[str(course_dir)])


def autograde(
    week: str,
    course_dir: str | Path = ".",
    students: list[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    dask_scheduler: str | None = None,
) -> list[dict]:
    """Grade every submission of ``week``; return one summary row per notebook.

    Safe to kill at any moment and run again: a submission's scores are
    committed in one transaction, and only then is its report written (atomically)
    with the hash of what was graded. A re-run skips submissions whose report
    matches what is handed in now (``force`` regrades them all) and grades the
    rest, so it ends with the scores of an uninterrupted run.
    """
    from nbgrader.api import Gradebook

    # nbgrader's own session handling warns on every new submission; it is harmless.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    course_dir = Path(course_dir).resolve()
    submissions = find_submissions(week, course_dir, students)
    if not submissions:
        print(f"no submissions for {week} under {course_dir / 'submitted'}")
        return []
    ensure_week_in_gradebook(week, course_dir)
    rows = []
    todo = []
    with Gradebook(gradebook_url(course_dir)) as gb:
        for student, nb, ex in submissions:
            done = None if force else _already_graded(course_dir, student, week, nb)
            if done is not None:
                rows.append(_row(student, nb, done, "unchanged since last run"))
            else:
                todo.append((student, nb, ex))
        with _executor(jobs, dask_scheduler) as submit:
            futures = {submit(_grade_one, nb, ex, course_dir): (student, nb) for student, nb, ex in todo}
            for future in tqdm(_completed(futures), total=len(futures), desc=f"autograde {week}", unit="nb"):
                student, nb = futures[future]
                report = future.result()
                report["digest"] = submission_digest(nb)
                if nb.exists():
                    (course_dir / "autograded" / student / week).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(nb, course_dir / "autograded" / student / week / nb.name)
                if report.get("exercise"):
                    record(gb, week, student, nb, report)
                _write_atomically(_marker(course_dir, student, week, nb), json.dumps(report, indent=1))
                rows.append(_row(student, nb, report, ""))
    rows.sort(key=lambda r: (r["student"], r["notebook"]))
    print(summary_table(rows))
    return rows


def _row(student: str, nb: Path, report: dict, note: str) -> dict:
    notes = [note] if note else []
    if report.get("error"):
        notes.append(report["error"])
    notes += report.get("integrity", [])
    return {
        "student": student,
        "notebook": nb.stem,
        "score": report["score"],
        "max_score": report["max_score"],
        "note": "; ".join(notes),
    }


class _executor:
    """Threads on this machine, or a Dask cluster when a scheduler address is given."""

    def __init__(self, jobs: int | None, dask_scheduler: str | None):
        self.jobs = jobs or os.cpu_count() or 1
        self.scheduler = dask_scheduler

    def __enter__(self):
        if self.scheduler:
            from distributed import Client

            self._client = Client(self.scheduler)
            return lambda fn, *args: self._client.submit(fn, *args, pure=False)
        self._pool = ThreadPoolExecutor(max_workers=self.jobs)
        return self._pool.submit

    def __exit__(self, *exc):
        if self.scheduler:
            self._client.close()
        else:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _completed(futures: dict):
    first = next(iter(futures), None)
    if first is not None and type(first).__module__.startswith("distributed"):
        from distributed import as_completed as dask_completed

        return dask_completed(list(futures))
    return as_completed(futures)


def summary_table(rows: list[dict]) -> str:
    width = max([len("student")] + [len(r["student"]) for r in rows])
    lines = [f"{'student':<{width}}  {'notebook':<24} {'score':>12}  note"]
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g}"
        lines.append(f"{r['student']:<{width}}  {r['notebook']:<24} {score:>12}  {r['note']}")
    return "\n".join(lines)


def export_grades(course_dir: str | Path = ".", output: str | Path = "grades.csv") -> Path:
    """Write one CSV row per student, week and notebook, plus a week total row."""
    from nbgrader.api import Gradebook, MissingEntry

    course_dir = Path(course_dir).resolve()
    output = Path(output)
    with Gradebook(gradebook_url(course_dir)) as gb, output.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "week", "notebook", "score", "max_score", "timestamp"])
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for student in sorted(gb.students, key=lambda s: s.id):
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    writer.writerow([student.id, assignment.name, "(total)", 0, assignment.max_score, ""])
                    continue
                for nb in sorted(sub.notebooks, key=lambda n: n.name):
                    writer.writerow([student.id, assignment.name, nb.name, nb.score, nb.max_score, sub.timestamp or ""])
                writer.writerow([student.id, assignment.name, "(total)", sub.score, sub.max_score, sub.timestamp or ""])
    return output
