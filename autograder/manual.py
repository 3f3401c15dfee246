"""Grade written answers by hand, in the gradebook nbgrader's formgrader also uses.

A written answer is an nbgrader "manual" grade cell: a Markdown cell with
``grade: true`` and ``solution: true``. Its score goes to the cell's
``Grade.manual_score`` and the grader's remark to ``Comment.manual_comment``,
exactly where formgrader puts them, so the two tools can be mixed;
``autograder autograde`` writes only auto scores and never touches these.

* :func:`walk` asks, in the terminal, for a score (and an optional comment)
  for each answer that still needs one (``include_graded`` to revisit all),
  showing the learner's text; each score is saved as soon as it is typed, so
  quitting loses nothing.
* :func:`to_csv` writes every answer to a CSV (student, notebook, cell,
  max_score, score, comment, answer) to fill in elsewhere; :func:`from_csv`
  reads scores back (only the student, notebook, cell and score columns are
  needed). The whole file is checked before anything is written.

The answers are read from ``autograded/<student>/<week>/<name>.ipynb`` (the
copy that was graded), or ``submitted/`` when there is none; a student must
have been autograded once so the gradebook holds their submission.

Not handled: manually graded *code* cells and nbgrader "task" cells (the
course has none; code is graded by the hidden suites), extra credit
(formgrader sets it).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Callable

STUB = "YOUR ANSWER HERE"


class ManualGradingError(ValueError):
    """Scores that cannot be written (unknown answer, score out of range)."""


@dataclasses.dataclass
class Answer:
    student: str
    notebook: str
    cell: str
    max_score: float
    text: str | None  # None: the cell is missing from the notebook
    score: float | None  # the manual score so far
    comment: str | None
    needs_grade: bool

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.student, self.notebook, self.cell)


def _gradebook(course_dir: Path):
    from nbgrader.api import Gradebook

    from autograder.course import gradebook_url

    return Gradebook(gradebook_url(course_dir))


def manual_cells(gb, week: str) -> dict[str, dict[str, float]]:
    """notebook -> {grade id: points} of the week's written-answer cells."""
    from nbgrader.api import MissingEntry

    try:
        assignment = gb.find_assignment(week)
    except MissingEntry:
        return {}
    return {
        nb.name: {c.name: float(c.max_score) for c in nb.grade_cells if c.cell_type == "markdown"}
        for nb in assignment.notebooks
    }


def _cell_text(path: Path, grade_id: str) -> str | None:
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    texts = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and meta.get("grade_id") == grade_id:
            src = cell.get("source", "")
            texts.append("".join(src) if isinstance(src, list) else str(src))
    return "\n\n".join(texts) if texts else None


def answer_text(course_dir: Path, student: str, week: str, notebook: str, grade_id: str) -> str | None:
    for folder in ("autograded", "submitted"):
        path = course_dir / folder / student / week / f"{notebook}.ipynb"
        if path.exists():
            return _cell_text(path, grade_id)
    return None


def answers(
    week: str, course_dir: str | Path = ".", students: list[str] | None = None, include_graded: bool = False
) -> list[Answer]:
    """Every written answer of the week (only those still needing a score, unless ``include_graded``)."""
    from nbgrader.api import MissingEntry

    course_dir = Path(course_dir).resolve()
    found = []
    with _gradebook(course_dir) as gb:
        cells = manual_cells(gb, week)
        for sub in sorted(gb.assignment_submissions(week), key=lambda s: s.student.id):
            student = sub.student.id
            if students and student not in students:
                continue
            for nb in sorted(sub.notebooks, key=lambda n: n.name):
                for grade_id, points in cells.get(nb.name, {}).items():
                    grade = gb.find_grade(grade_id, nb.name, week, student)
                    try:
                        comment = gb.find_comment(grade_id, nb.name, week, student).manual_comment
                    except MissingEntry:
                        comment = None
                    needs = grade.manual_score is None
                    if needs or include_graded:
                        text = answer_text(course_dir, student, week, nb.name, grade_id)
                        found.append(Answer(student, nb.name, grade_id, points, text, grade.manual_score, comment, needs))
    return found


def save(gb, week: str, answer: Answer, score: float | None, comment: str | None) -> None:
    """Write one manual score and comment (None keeps the score as it is), in one transaction."""
    from nbgrader.api import MissingEntry

    try:
        if score is not None:
            grade = gb.find_grade(answer.cell, answer.notebook, week, answer.student)
            grade.manual_score = float(score)
            grade.needs_manual_grade = False  # as formgrader does when a score is entered
        try:
            gb.find_comment(answer.cell, answer.notebook, week, answer.student).manual_comment = comment or None
        except MissingEntry:
            pass
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def _show(answer: Answer, width: int = 88) -> str:
    if answer.text is None:
        return "    (no answer: the cell is missing from the notebook)"
    text = answer.text.strip()
    if not text or text == STUB:
        return "    (no answer: the cell still holds the stub)"
    lines = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, width - 4, initial_indent="    ", subsequent_indent="    ") or [""]
    return "\n".join(lines)


def walk(
    week: str,
    course_dir: str | Path = ".",
    students: list[str] | None = None,
    include_graded: bool = False,
    ask: Callable[[str], str] = input,
    out: Callable[[str], None] = print,
) -> int:
    """Ask for a score for each answer in the terminal; return how many were saved."""
    course_dir = Path(course_dir).resolve()
    todo = answers(week, course_dir, students, include_graded)
    if not todo:
        out(f"nothing to grade by hand in {week}" + ("" if include_graded else " (--all to revisit graded answers)"))
        return 0
    out(f"{len(todo)} written answer(s) of {week} to grade. Enter: skip; q: stop (scores are saved as you go).")
    saved = 0
    with _gradebook(course_dir) as gb:
        for i, answer in enumerate(todo, start=1):
            out("-" * 72)
            current = "" if answer.score is None else f", now {answer.score:g}"
            out(f"[{i}/{len(todo)}] {answer.student} - {answer.notebook} - {answer.cell} (out of {answer.max_score:g}{current})")
            out(_show(answer))
            if answer.comment:
                out(f"  comment so far: {answer.comment}")
            score = _ask_score(answer, ask, out)
            if score == "quit":
                break
            if score is None:
                continue
            try:
                remark = ask("comment (Enter: keep" + (" it" if answer.comment else " none") + ", -: remove): ").strip()
            except EOFError:
                remark = ""
            comment = answer.comment if remark == "" else (None if remark == "-" else remark)
            save(gb, week, answer, score, comment)
            saved += 1
            out(f"saved {score:g}/{answer.max_score:g}")
    out(f"{saved} score(s) saved")
    return saved


def _ask_score(answer: Answer, ask, out):
    while True:
        try:
            reply = ask(f"score 0-{answer.max_score:g}: ").strip().lower()
        except EOFError:
            return "quit"
        if reply in ("q", "quit"):
            return "quit"
        if reply == "":
            return None
        try:
            score = float(reply)
        except ValueError:
            out(f"  a number between 0 and {answer.max_score:g}, please")
            continue
        if 0 <= score <= answer.max_score:
            return score
        out(f"  a number between 0 and {answer.max_score:g}, please")


CSV_COLUMNS = ["student", "notebook", "cell", "max_score", "score", "comment", "answer"]


def to_csv(week: str, output: str | Path, course_dir: str | Path = ".", include_graded: bool = True) -> int:
    """Write the week's written answers to a CSV to fill in; return the number of rows."""
    rows = answers(week, course_dir, include_graded=include_graded)
    with open(output, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for a in rows:
            score = "" if a.score is None else f"{a.score:g}"
            writer.writerow([a.student, a.notebook, a.cell, f"{a.max_score:g}", score, a.comment or "", a.text or ""])
    return len(rows)


def from_csv(week: str, csv_path: str | Path, course_dir: str | Path = ".") -> int:
    """Write the scores (and comments) of a CSV; return how many answers changed.

    Rows whose score and comment are both empty are ignored. Any invalid row
    (unknown student, notebook or cell; a score that is not a number between 0
    and the cell's points) stops the import before anything is written.
    """
    course_dir = Path(course_dir).resolve()
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"student", "notebook", "cell", "score"} - set(reader.fieldnames or [])
        if missing:
            raise ManualGradingError(f"{csv_path}: missing column(s) {sorted(missing)}")
        rows = list(reader)
    known = {a.key: a for a in answers(week, course_dir, include_graded=True)}
    errors, todo = [], []
    for line, row in enumerate(rows, start=2):
        key = tuple((row.get(k) or "").strip() for k in ("student", "notebook", "cell"))
        score_text = (row.get("score") or "").strip()
        comment = (row.get("comment") or "").strip() if "comment" in row else None
        if not score_text and not comment:
            continue
        answer = known.get(key)
        if answer is None:
            errors.append(f"line {line}: no written answer {'/'.join(key)} in {week}'s gradebook")
            continue
        score = None
        if score_text:
            try:
                score = float(score_text)
            except ValueError:
                score = -1.0
            if not 0 <= score <= answer.max_score:
                errors.append(f"line {line}: score {score_text!r} is not between 0 and {answer.max_score:g}")
                continue
        todo.append((answer, score, answer.comment if comment is None else comment))
    if errors:
        raise ManualGradingError(f"{csv_path}: nothing was written:\n  " + "\n  ".join(errors))
    with _gradebook(course_dir) as gb:
        for answer, score, comment in todo:
            save(gb, week, answer, score, comment)
    return len(todo)
