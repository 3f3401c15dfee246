"""Grades out of the gradebook: a CSV with late penalties, and Gradescope results.

``export(course_dir, output)`` writes the CSV of
:func:`autograder.course.export_grades` (one row per student, week and
notebook, and a ``(total)`` row per student and week) with four more columns
on the ``(total)`` rows: ``seconds_late`` (after nbgrader's per-student
extension), ``late_days`` (started days after the grace period),
``penalty`` (the fraction taken off, from ``autograder.toml``, see
:mod:`autograder.late`) and ``final_score``; and one row per student whose week and notebook are
``(all weeks)``, adding up the weeks' scores and final scores.

``gradescope_dir`` also writes ``<dir>/<week>/<student>/results.json`` per
submission, in Gradescope's autograder results format: ``score`` (the week's
final score), ``output`` (lateness), and one entry per hidden test and per
hand-graded cell in ``tests`` (``name``, ``score``, ``max_score``,
``output``: the learner-facing message, never hidden test source).

Not handled: uploading to Gradescope or an LMS; rounding policies.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

EXTRA = ["seconds_late", "late_days", "penalty", "final_score"]


def _late_by_submission(gb, policy) -> dict[tuple[str, str], dict]:
    """(student, week) -> lateness, penalty and final score, from nbgrader's submission rows."""
    late = {}
    for assignment in gb.assignments:
        for sub in gb.assignment_submissions(assignment.name):
            seconds = sub.total_seconds_late or 0.0
            fraction = policy.penalty(seconds)
            late[(sub.student.id, assignment.name)] = {
                "seconds_late": round(seconds),
                "late_days": policy.days_late(seconds),
                "penalty": fraction,
                "final_score": round(sub.score * (1 - fraction), 6),
            }
    return late


def export(course_dir: str | Path = ".", output: str | Path = "grades.csv", gradescope_dir: str | Path | None = None) -> Path:
    """Write the grades CSV (and Gradescope results); return the CSV's path."""
    from nbgrader.api import Gradebook

    from autograder.course import export_grades, gradebook_url
    from autograder.late import load_policy

    course_dir = Path(course_dir).resolve()
    policy = load_policy(course_dir)
    output = export_grades(course_dir=course_dir, output=output)
    with Gradebook(gradebook_url(course_dir)) as gb:
        late = _late_by_submission(gb, policy)
        if gradescope_dir:
            write_gradescope(gb, course_dir, Path(gradescope_dir), late, policy)
    with open(output, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    totals: dict[str, list[float]] = {}  # student -> [score, final score, max score]
    for row in rows:
        if row["notebook"] != "(total)":
            continue
        info = late.get((row["student"], row["week"]))
        if info is None:  # no submission: nothing to be late with
            info = {"seconds_late": 0, "late_days": 0, "penalty": 0.0, "final_score": float(row["score"] or 0)}
        row.update({k: info[k] for k in EXTRA})
        acc = totals.setdefault(row["student"], [0.0, 0.0, 0.0])
        acc[0] += float(row["score"] or 0)
        acc[1] += float(info["final_score"])
        acc[2] += float(row["max_score"] or 0)
    for student, (score, final, max_score) in sorted(totals.items()):
        rows.append({"student": student, "week": "(all weeks)", "notebook": "(all weeks)", "score": round(score, 6),
                     "max_score": max_score, "final_score": round(final, 6)})
    with open(output, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields + [f for f in EXTRA if f not in fields], restval="")
        writer.writeheader()
        writer.writerows(rows)
    return Path(output)


def write_gradescope(gb, course_dir: Path, out_dir: Path, late: dict, policy) -> list[Path]:
    """One Gradescope ``results.json`` per submission (see the module doc)."""
    from nbgrader.api import MissingEntry

    from autograder.late import describe_lateness

    written = []
    for assignment in sorted(gb.assignments, key=lambda a: a.name):
        week = assignment.name
        for sub in sorted(gb.assignment_submissions(week), key=lambda s: s.student.id):
            student = sub.student.id
            tests = []
            for nb in sorted(sub.notebooks, key=lambda n: n.name):
                marker = course_dir / "autograded" / student / week / f"{nb.name}.report.json"
                try:
                    report = json.loads(marker.read_text())
                except (OSError, ValueError):
                    report = {"tests": [], "error": "not autograded yet"}
                if report.get("error"):
                    tests.append({"name": f"{nb.name}: grading", "score": 0.0, "max_score": 0.0, "output": report["error"]})
                for t in report.get("tests", []):
                    tests.append({
                        "name": f"{nb.name}/{t['cell']}: {t['name']}",
                        "score": float(t["points"]), "max_score": float(t["max_points"]), "output": t["message"],
                    })
                for grade in sorted(nb.grades, key=lambda g: g.name):
                    if grade.manual_score is None and grade.cell.cell_type == "code":
                        continue
                    try:
                        comment = gb.find_comment(grade.name, nb.name, week, student).manual_comment or ""
                    except MissingEntry:
                        comment = ""
                    if grade.cell.cell_type != "code":  # a written answer
                        tests.append({
                            "name": f"{nb.name}/{grade.name}: written answer",
                            "score": float(grade.score), "max_score": float(grade.max_score),
                            "output": comment if grade.manual_score is not None else "not graded yet",
                        })
                    else:  # a grader overrode the hidden tests' points: the difference, as its own line
                        tests.append({
                            "name": f"{nb.name}/{grade.name}: adjusted by a grader to {grade.manual_score:g}",
                            "score": float(grade.manual_score - (grade.auto_score or 0.0)), "max_score": 0.0,
                            "output": comment,
                        })
            info = late.get((student, week), {"seconds_late": 0, "penalty": 0.0, "final_score": sub.score})
            output = f"{week}: {sub.score:g} / {sub.max_score:g}"
            if info["seconds_late"]:
                output += f"; submitted {describe_lateness(info['seconds_late'])} late"
                if info["penalty"]:
                    output += f", late penalty {info['penalty']:.0%} ({policy.describe()})"
            result = {"score": float(info["final_score"]), "output": output, "tests": tests}
            path = out_dir / week / student / "results.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result, indent=1))
            written.append(path)
    return written
