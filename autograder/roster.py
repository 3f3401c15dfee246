"""The cohort's roster: students in nbgrader's gradebook.

The roster is nbgrader's own ``Student`` table (id, first and last name,
email, LMS user id), so formgrader and ``nbgrader db student list`` show the
same students. ``import_roster`` reads a CSV with an ``id`` column and any of
``first_name``, ``last_name``, ``email``, ``lms_user_id`` (the columns of
``nbgrader db student import``, plus the LMS id); it adds new students and
updates the fields given for known ones. ``autograder collect`` checks
submissions against this roster and matches LMS downloads by ``lms_user_id``
(Canvas's user id, Moodle's participant id) or by name.

Not handled: removing students (``nbgrader db student remove`` does it, with
their grades), syncing with an LMS's API.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

FIELDS = ("first_name", "last_name", "email", "lms_user_id")
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


class RosterError(ValueError):
    """A roster file or a student id that cannot be used."""


def check_id(student_id: str) -> str:
    if not VALID_ID.match(student_id or ""):
        raise RosterError(
            f"{student_id!r} is not a usable student id (letters, digits and . _ @ + -, starting with a letter or digit)"
        )
    return student_id


def _gradebook(course_dir: str | Path):
    from nbgrader.api import Gradebook

    from autograder.course import gradebook_url

    return Gradebook(gradebook_url(Path(course_dir)))


def add_student(course_dir: str | Path, student_id: str, **fields: str | None) -> None:
    """Add a student, or update the given fields of a known one."""
    check_id(student_id)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise RosterError(f"unknown student fields {sorted(unknown)}")
    with _gradebook(course_dir) as gb:
        gb.update_or_create_student(student_id, **{k: v for k, v in fields.items() if v})


def import_roster(course_dir: str | Path, csv_path: str | Path) -> tuple[int, int]:
    """Add or update every student of the CSV; return (added, updated).

    The whole file is checked before anything is written.
    """
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise RosterError(f"{csv_path}: no students")
    columns = {c.strip() for c in rows[0].keys() if c}
    if "id" not in columns:
        raise RosterError(f"{csv_path}: needs an 'id' column (has {sorted(columns)})")
    errors, clean, seen = [], [], set()
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        try:
            check_id(row["id"])
        except RosterError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if row["id"] in seen:
            errors.append(f"line {line}: {row['id']!r} appears twice")
        seen.add(row["id"])
        clean.append((row["id"], {k: row[k] for k in FIELDS if row.get(k)}))
    if errors:
        raise RosterError(f"{csv_path}:\n  " + "\n  ".join(errors))
    with _gradebook(course_dir) as gb:
        known = {s.id for s in gb.students}
        for student_id, fields in clean:
            gb.update_or_create_student(student_id, **fields)
    added = sum(1 for sid, _ in clean if sid not in known)
    return added, len(clean) - added


def students(course_dir: str | Path) -> list[dict]:
    """Every registered student as a dict (id and the FIELDS); [] without a gradebook."""
    if not (Path(course_dir) / "gradebook.db").exists():
        return []
    with _gradebook(course_dir) as gb:
        return [
            {"id": s.id, **{k: getattr(s, k) or "" for k in FIELDS}}
            for s in sorted(gb.students, key=lambda s: s.id)
        ]


def format_roster(rows: list[dict]) -> str:
    if not rows:
        return "no students registered (autograder roster add ID, or autograder roster import roster.csv)"
    width = max(len("id"), *(len(r["id"]) for r in rows))
    lines = [f"{'id':<{width}}  {'name':<28} {'email':<28} lms_user_id"]
    for r in rows:
        name = f"{r['first_name']} {r['last_name']}".strip()
        lines.append(f"{r['id']:<{width}}  {name:<28} {r['email']:<28} {r['lms_user_id']}")
    lines.append(f"{len(rows)} student(s)")
    return "\n".join(lines)
