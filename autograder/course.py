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

Not handled here: importing LMS downloads, late penalties, feedback reports
(the instructor workflow adds them), crash-safe resumption of a killed run
(the hardened engine adds it).
"""

from __future__ import annotations

import csv
import datetime as dt
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
    """(student, notebook, exercise) under submitted/, for the week's exercises."""
    exercises = {ex.name: ex for ex in exercises_of_week(week)}
    found = []
    root = Path(course_dir) / "submitted"
    for student_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        if students and student_dir.name not in students:
            continue
        for nb in sorted((student_dir / week).glob("*.ipynb")):
            if nb.stem in exercises:
                found.append((student_dir.name, nb, exercises[nb.stem]))
    return found


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
    """Write one report's grade-cell scores into the gradebook."""
    gb.update_or_create_student(student)
    timestamp = _timestamp(notebook.parent)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(week, student, **kwargs)
    for grade_id, cell in report["cells"].items():
        grade = gb.find_grade(grade_id, notebook.stem, week, student)
        grade.auto_score = float(cell["score"])
    gb.db.commit()


def autograde(week: str, course_dir: str | Path = ".", students: list[str] | None = None, jobs: int | None = None) -> list[dict]:
    """Grade every submission of ``week``; return one summary row per notebook."""
    from nbgrader.api import Gradebook

    # nbgrader's own session handling warns on every new submission; it is harmless.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    course_dir = Path(course_dir).resolve()
    submissions = find_submissions(week, course_dir, students)
    if not submissions:
        print(f"no submissions for {week} under {course_dir / 'submitted'}")
        return []
    ensure_week_in_gradebook(week, course_dir)
    jobs = jobs or os.cpu_count() or 1
    rows = []
    with Gradebook(gradebook_url(course_dir)) as gb, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_notebook, nb, ex): (student, nb) for student, nb, ex in submissions}
        for future in tqdm(as_completed(futures), total=len(futures), desc=f"autograde {week}", unit="nb"):
            student, nb = futures[future]
            report = future.result()
            out_dir = course_dir / "autograded" / student / week
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb, out_dir / nb.name)
            (out_dir / f"{nb.stem}.report.json").write_text(json.dumps(report, indent=1))
            if report.get("exercise"):
                record(gb, week, student, nb, report)
            rows.append(
                {
                    "student": student,
                    "notebook": nb.stem,
                    "score": report["score"],
                    "max_score": report["max_score"],
                    "note": report.get("error", ""),
                }
            )
    rows.sort(key=lambda r: (r["student"], r["notebook"]))
    print(summary_table(rows))
    return rows


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
