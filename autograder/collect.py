"""Import a week's submissions into nbgrader's ``submitted/`` layout.

``collect(week, path, course_dir)`` reads a folder or a zip file and writes
``submitted/<student>/<week>/<name>.ipynb`` plus ``timestamp.txt`` (the time
of the student's latest kept file, in UTC, nbgrader's format). It never
changes its input. It understands:

* Canvas bulk downloads: ``doejane_12345_67890_attention.ipynb`` (login, user
  id, file id, file name), ``doejane_LATE_12345_67890_attention-1.ipynb`` (a
  late resubmission: Canvas adds ``-1``, ``-2`` to repeated names);
* Moodle downloads: ``Jane Doe_12345_assignsubmission_file_/attention.ipynb``
  (a folder per student and participant id), or the same flattened into one
  file name;
* a plain folder: ``<student>/<name>.ipynb`` or ``<student>/<week>/<name>.ipynb``.

Students are matched against the gradebook's roster (:mod:`autograder.roster`)
when one is registered: by LMS user id, then id, then name; a student not on
the roster is reported and skipped unless ``accept_unknown``. A notebook is
matched to one of the week's exercises by its file name (ignoring case and the
``-1`` or `` (1)`` a re-upload adds), else by the exercise its own metadata
names. Times come from the zip entries (read in the course's time zone,
:mod:`autograder.late`) or the files' modification times; a submission later
than the week's due date in the gradebook is reported late.

Every file gets a row in the returned table, with what happened to it:
collected, unchanged (the same file is already there), replaced (a different
earlier copy was overwritten) or skipped, with the reason (not a notebook,
not one of the week's notebooks, unknown student, an older duplicate of a
kept file, ...). Nothing is dropped silently.

Not handled: Blackboard and other LMS naming schemes, notebooks inside
nested zip files (reported as skipped), group submissions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Callable

from autograder.exercises import exercises_of_week

MAX_BYTES = 100 * 1024**2
CANVAS = re.compile(r"^(?P<login>[A-Za-z0-9]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<fid>\d+)_(?P<file>.+)$")
MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
MOODLE_FLAT = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
REUPLOAD = re.compile(r"(-\d+|\s*\(\d+\))$")
JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}


class CollectError(ValueError):
    """The collection cannot start (unknown week, unreadable input)."""


@dataclasses.dataclass
class Entry:
    """One file of the input."""

    name: str  # its path inside the folder or zip, with '/'
    size: int
    timestamp: dt.datetime  # naive UTC
    read: Callable[[], bytes]
    order: int

    @property
    def parts(self) -> list[str]:
        return [p for p in self.name.split("/") if p]


@dataclasses.dataclass
class Row:
    """What happened to one input file."""

    file: str
    student: str = ""
    notebook: str = ""
    timestamp: dt.datetime | None = None
    action: str = "skipped"  # collected, unchanged, replaced, skipped
    note: str = ""
    late_seconds: float = 0.0
    # private: used while collecting
    entry: Entry | None = dataclasses.field(default=None, repr=False)
    rank: tuple = dataclasses.field(default=(), repr=False)


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]", "", ascii_text.lower())


def read_entries(path: str | Path, zone) -> list[Entry]:
    """The files of a folder or zip, with their times in naive UTC."""
    from autograder.late import to_utc

    path = Path(path)
    entries = []
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for i, p in enumerate(files):
            stat = p.stat()
            when = dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).replace(tzinfo=None)
            entries.append(Entry(p.relative_to(path).as_posix(), stat.st_size, when, p.read_bytes, i))
        return entries
    if not zipfile.is_zipfile(path):
        raise CollectError(f"{path} is neither a folder nor a zip file")
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    for i, info in enumerate(infos):
        def read(info=info) -> bytes:
            with zipfile.ZipFile(path) as zf:
                return zf.read(info)

        when = to_utc(dt.datetime(*info.date_time), zone)
        entries.append(Entry(info.filename, info.file_size, when, read, i))
    return entries


class Roster:
    """The registered students, and how to find one from what an LMS gives."""

    def __init__(self, rows: list[dict]):
        self.ids = {r["id"] for r in rows}
        self.by_lms = {r["lms_user_id"]: r["id"] for r in rows if r.get("lms_user_id")}
        self.by_name: dict[str, str] = {}
        for r in rows:
            first, last = r.get("first_name", ""), r.get("last_name", "")
            if first or last:
                self.by_name.setdefault(_fold(first + last), r["id"])
                self.by_name.setdefault(_fold(last + first), r["id"])

    def __bool__(self) -> bool:
        return bool(self.ids)

    def resolve(self, key: str, lms_id: str | None = None, name: str | None = None) -> str:
        """The student id for an LMS user id, a login or folder name, or a full name."""
        if lms_id and lms_id in self.by_lms:
            return self.by_lms[lms_id]
        if key in self.ids:
            return key
        if key in self.by_lms:
            return self.by_lms[key]
        for candidate in (name, key):
            if candidate and _fold(candidate) in self.by_name:
                return self.by_name[_fold(candidate)]
        return key


def _whose(entry: Entry, week: str, roster: Roster) -> tuple[str, str, str] | str:
    """(student, file name, note) for an entry, or the reason it cannot be placed."""
    parts = entry.parts
    base = parts[-1]
    for i, part in enumerate(parts[:-1]):
        m = MOODLE_DIR.match(part)
        if m:
            return roster.resolve(_fold(m["name"]), lms_id=m["pid"], name=m["name"]), base, ""
    m = MOODLE_FLAT.match(base)
    if m:
        return roster.resolve(_fold(m["name"]), lms_id=m["pid"], name=m["name"]), m["file"], ""
    m = CANVAS.match(base)
    if m and len(parts) == 1:
        note = "marked late by the LMS" if m["late"] else ""
        return roster.resolve(m["login"].lower(), lms_id=m["uid"]), m["file"], note
    if len(parts) == 2 or (len(parts) == 3 and parts[1] == week):
        return roster.resolve(parts[0]), base, ""
    return "cannot tell whose file this is (expected Canvas, Moodle or <student>/<notebook>.ipynb names)"


def _which_notebook(filename: str, entry: Entry, week: str, names: list[str]) -> tuple[str, str] | str:
    """(exercise name, how it was recognised), or why the file is not one of the week's notebooks."""
    stem = filename[: -len(".ipynb")]
    by_fold = {n.lower(): n for n in names}
    for candidate in (stem, REUPLOAD.sub("", stem)):
        if candidate.lower() in by_fold:
            return by_fold[candidate.lower()], ""
    try:
        meta = json.loads(entry.read()).get("metadata", {})
        declared = meta.get("autograder", {}).get("exercise", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        declared = ""
    if declared.startswith(f"{week}/") and declared.split("/", 1)[1] in names:
        return declared.split("/", 1)[1], f"recognised from its metadata ({filename})"
    if declared:
        return f"its metadata names {declared}, not one of {week}'s notebooks ({', '.join(names)})"
    return f"not one of {week}'s notebooks ({', '.join(names)})"


def _write_if_changed(path: Path, data: bytes) -> str:
    """collected, unchanged or replaced."""
    if path.exists():
        if path.read_bytes() == data:
            return "unchanged"
        action = "replaced"
    else:
        action = "collected"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return action


def collect(
    week: str,
    path: str | Path,
    course_dir: str | Path = ".",
    accept_unknown: bool = False,
) -> list[Row]:
    """Import the submissions in ``path``; return one row per input file (see the module doc)."""
    from autograder.late import course_timezone, describe_lateness, get_duedate, show_time
    from autograder.roster import VALID_ID, students

    names = [ex.name for ex in exercises_of_week(week)]
    if not names:
        raise CollectError(f"{week} has no exercises")
    path, course_dir = Path(path), Path(course_dir)
    if not path.exists():
        raise CollectError(f"{path} does not exist")
    roster = Roster(students(course_dir))
    due = get_duedate(week, course_dir)
    rows: list[Row] = []
    for entry in read_entries(path, course_timezone(course_dir)):
        row = Row(entry.name, timestamp=entry.timestamp, entry=entry)
        rows.append(row)
        base = entry.parts[-1]
        if entry.parts[0] == "__MACOSX" or base in JUNK or base.startswith("._"):
            row.note = "operating-system metadata, not a submission"
            continue
        whose = _whose(entry, week, roster)
        if isinstance(whose, str):
            row.note = whose
            continue
        row.student, filename, lms_note = whose
        if not filename.lower().endswith(".ipynb"):
            row.note = f"not a notebook ({Path(filename).suffix or 'no extension'})"
            continue
        if entry.size > MAX_BYTES:
            row.note = f"larger than {MAX_BYTES // 1024**2} MB"
            continue
        which = _which_notebook(filename, entry, week, names)
        if isinstance(which, str):
            row.note = which
            continue
        row.notebook, how = which
        if not VALID_ID.match(row.student):
            row.note = f"{row.student!r} cannot be a student id; add the student to the roster with an LMS id"
            continue
        if roster and row.student not in roster.ids and not accept_unknown:
            row.note = "unknown student: not on the roster (autograder roster add ID, or --accept-unknown)"
            continue
        notes = [n for n in (how, lms_note) if n]
        if roster and row.student not in roster.ids:
            notes.append("not on the roster")
        if due is not None and entry.timestamp > due:
            row.late_seconds = (entry.timestamp - due).total_seconds()
            notes.append(f"late by {describe_lateness(row.late_seconds)} (due {show_time(due, course_dir)})")
        row.note = "; ".join(notes)
        resubmission = REUPLOAD.search(Path(filename).stem)
        number = int(re.sub(r"\D", "", resubmission.group(0))) if resubmission else 0
        row.rank = (entry.timestamp, number, entry.order)
        row.action = "pending"

    # Duplicates: keep each student's latest copy of a notebook.
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.action == "pending":
            groups.setdefault((row.student, row.notebook), []).append(row)
    latest: dict[str, dt.datetime] = {}
    for (student, notebook), group in sorted(groups.items()):
        group.sort(key=lambda r: r.rank)
        keep = group[-1]
        for older in group[:-1]:
            older.action = "skipped"
            older.note = "; ".join(n for n in (f"an older duplicate; kept {keep.file}", older.note) if n)
        dest = course_dir / "submitted" / student / week / f"{notebook}.ipynb"
        keep.action = _write_if_changed(dest, keep.entry.read())
        latest[student] = max(latest.get(student, keep.timestamp), keep.timestamp)
    for student, when in latest.items():
        stamp = course_dir / "submitted" / student / week / "timestamp.txt"
        _write_if_changed(stamp, (when.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC").encode())
    return rows


def format_rows(rows: list[Row], course_dir: str | Path = ".") -> str:
    """The table of every input file, then a one-line summary."""
    from autograder.late import show_time

    headers = ("file", "student", "notebook", "submitted", "result")
    table = [
        (r.file, r.student or "-", r.notebook or "-", show_time(r.timestamp, course_dir),
         r.action + (f": {r.note}" if r.note else ""))
        for r in rows
    ]
    widths = [max([len(h)] + [len(t[i]) for t in table]) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths + [0])).rstrip()]
    for t in table:
        lines.append("  ".join(v.ljust(w) for v, w in zip(t, widths + [0])).rstrip())
    counts = {a: sum(r.action == a for r in rows) for a in ("collected", "replaced", "unchanged", "skipped")}
    students = {r.student for r in rows if r.action != "skipped"}
    late = sum(1 for r in rows if r.action != "skipped" and r.late_seconds > 0)
    summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
    lines.append(f"{len(rows)} file(s): {summary}; {len(students)} student(s); {late} late notebook(s)")
    return "\n".join(lines)
