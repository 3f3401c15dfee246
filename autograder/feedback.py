"""Feedback for learners: one self-contained HTML page per submitted notebook.

``generate_feedback(week, course_dir)`` writes
``feedback/<student>/<week>/<name>.html`` (nbgrader's layout, with the
submission's ``timestamp.txt`` beside it, so ``nbgrader release_feedback``
can hand it out) for every submission of the week in the gradebook. A page shows:

* the score, with hand-graded scores where a grader set them, and lateness
  against the due date with the course's late penalty (:mod:`autograder.late`);
* per grade cell its points; per hidden test the property it checks, its
  points and, on failure, the learner-facing reason the judge gave;
* written answers' scores and the grader's comments;
* how the learner's notebook ran: each public-check cell and each cell that
  raised, and what the notebook printed while it ran (before any hidden test
  called into it).

It is built only from the judge's report (``autograded/.../<name>.report.json``)
and the gradebook. It never contains hidden test source, hidden inputs or
expected values: the report holds none (the judge composes its messages from
docstrings and :class:`~llmcourse.testing.PropertyFailure` reasons), and the
notebook's output is cut where the hidden tests began, so a notebook that
prints what it is called with cannot echo hidden inputs. The page is plain
HTML with inline CSS: no script, no request to any other file or host.

Not handled: rendering the learner's notebook itself (they have it); messages
that the learner's own code raises while a hidden test calls it are shown as
the judge reports them.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from autograder.check import where_in_notebook
from autograder.exercises import UnknownExercise, get_exercise

OUTPUT_CHARS = 20_000

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#fff;margin:0}
main{max-width:860px;margin:0 auto;padding:24px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #d6dbe0}
h3{font-size:1em;margin:16px 0 6px}.meta{color:#4a5560;margin:0 0 12px}
.total{font-size:1.3em;margin:8px 0}.pill{display:inline-block;padding:0 8px;border-radius:10px;font-size:.85em}
.ok{background:#e3f4e8;color:#125c2b}.bad{background:#fde8e8;color:#8a1c1c}.warn{background:#fff4d6;color:#6b4b00}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e8ebee;vertical-align:top}
ul.tests{list-style:none;padding:0;margin:0}ul.tests li{padding:4px 0 4px 26px;position:relative}
ul.tests li:before{position:absolute;left:4px;font-weight:bold}
li.pass:before{content:"\\2713";color:#1a7f37}li.fail:before{content:"\\2717";color:#b42318}
.pts{color:#4a5560;font-variant-numeric:tabular-nums;margin-right:6px}
pre{background:#f5f7f9;border:1px solid #e1e5e9;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-word;font-size:13px}
blockquote{margin:6px 0;padding:4px 12px;border-left:3px solid #8aa4c8;background:#f4f7fb}
footer{margin-top:32px;color:#5b6670;font-size:.85em}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _pts(value) -> str:
    return f"{float(value or 0):g}"


def _cell_labels(course_dir: Path, student: str, week: str, notebook: str, exercise) -> list[dict]:
    """The cells the judge ran, in order, each with a label for the learner."""
    from autograder.notebook import BrokenNotebook, grade_cells, prepare_cells, read_notebook

    path = course_dir / "autograded" / student / week / f"{notebook}.ipynb"
    try:
        cells, _ = prepare_cells(read_notebook(path), exercise)
    except (BrokenNotebook, OSError):
        return []
    checks = grade_cells(exercise)
    for cell in cells:
        gid = cell["grade_id"]
        if cell["locked"] and gid in checks:
            cell["label"] = f"public checks {gid}"
        elif cell["locked"]:
            cell["label"] = f"course cell {gid}"
        else:
            where = f"cell {cell['index'] + 1}" if cell["index"] >= 0 else "a cell"
            cell["label"] = f"your {where}" + (f" ({gid})" if gid else "")
    return cells


def _notebook_section(report: dict, labelled: list[dict]) -> str:
    results = report.get("notebook", {}).get("cells", [])
    rows = []
    for i, result in enumerate(results):
        cell = labelled[i] if i < len(labelled) else {"label": f"cell {result.get('index')}", "locked": False, "grade_id": None}
        is_check = cell["label"].startswith("public checks")
        if result.get("status") == "error":
            err = result.get("error", {})
            message = err.get("message") or ("not implemented yet" if err.get("type") == "NotImplementedError" else "")
            detail = f"<strong>{_e(err.get('type', 'Error'))}</strong>: {_e(message)}"
            where = where_in_notebook(err.get("traceback") or "")
            if where:
                detail += f" <span class='pts'>({_e(where)})</span>"
            rows.append(f"<tr><td>{_e(cell['label'])}</td><td><span class='pill bad'>failed</span></td><td>{detail}</td></tr>")
        elif is_check:
            rows.append(f"<tr><td>{_e(cell['label'])}</td><td><span class='pill ok'>passed</span></td><td></td></tr>")
    if len(results) < len(labelled):
        rows.append("<tr><td colspan='3'>The notebook stopped before its last cells ran.</td></tr>")
    parts = ["<h2>How your notebook ran</h2>"]
    if rows:
        parts.append("<table><tr><th>cell</th><th>result</th><th>details</th></tr>" + "".join(rows) + "</table>")
    else:
        parts.append("<p>No cell of the notebook ran.</p>")
    output = report.get("notebook", {}).get("output_before_tests")
    if output is None:
        parts.append("<p>The notebook's printed output was not recorded for this grading run.</p>")
    elif output.strip():
        cut = f"\n[... {len(output) - OUTPUT_CHARS} more characters]" if len(output) > OUTPUT_CHARS else ""
        parts.append(f"<h3>What it printed</h3><pre>{_e(output[:OUTPUT_CHARS] + cut)}</pre>")
    return "\n".join(parts)


def render(
    student: str,
    week: str,
    notebook: str,
    report: dict | None,
    grades: list[dict],
    lateness: str,
    labelled: list[dict],
    title: str,
    code_comments: dict[str, str] | None = None,
) -> str:
    """The HTML page for one notebook (see the module doc for what it holds)."""
    score = sum(g["score"] for g in grades)
    max_score = sum(g["max_score"] for g in grades)
    tests_by_cell: dict[str, list[dict]] = {}
    for test in (report or {}).get("tests", []):
        tests_by_cell.setdefault(test["cell"], []).append(test)
    body = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='meta'>{_e(week)} &middot; {_e(notebook)}.ipynb &middot; feedback for <strong>{_e(student)}</strong></p>",
        f"<p class='total'>Score: <strong>{_pts(score)} / {_pts(max_score)}</strong></p>",
        f"<p>{lateness}</p>",
    ]
    notes = []
    if report is None:
        notes.append("This notebook has no grading report yet.")
    else:
        if report.get("error"):
            notes.append(f"It could not be graded: {report['error']}")
        notes += report.get("integrity", [])
        notes += [f"Sandbox: {f}" for f in report.get("notebook", {}).get("sandbox_failures", [])]
    if notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")

    auto = [g for g in grades if g["cell_type"] == "code"]
    written = [g for g in grades if g["cell_type"] != "code"]
    if auto:
        body.append("<h2>Autograded parts</h2>")
        body.append(
            "<p>Each part is graded by hidden tests. Each test is described by the property it checks; "
            "a failed test says why, in words that do not give away the test's inputs.</p>"
        )
    for g in auto:
        body.append(f"<h3>{_e(g['name'])}: {_pts(g['score'])} / {_pts(g['max_score'])}</h3>")
        tests = tests_by_cell.get(g["name"], [])
        if tests:
            items = []
            for t in tests:
                cls = "pass" if t["passed"] else "fail"
                items.append(
                    f"<li class='{cls}'><span class='pts'>{_pts(t['points'])}/{_pts(t['max_points'])}</span>{_e(t['message'])}</li>"
                )
            body.append("<ul class='tests'>" + "".join(items) + "</ul>")
        if g["manual_score"] is not None:
            body.append(f"<p><span class='pill warn'>adjusted by a grader</span> to {_pts(g['manual_score'])} points.</p>")
        if g["comment"]:
            body.append(f"<blockquote>{_e(g['comment'])}</blockquote>")
    if code_comments:
        body.append("<h2>Comments on your code</h2>")
        for cell, comment in sorted(code_comments.items()):
            body.append(f"<h3>{_e(cell)}</h3><blockquote>{_e(comment)}</blockquote>")
    if written:
        body.append("<h2>Written answers</h2>")
        for g in written:
            if g["manual_score"] is None:
                status = "<span class='pill warn'>not graded yet</span>"
            else:
                status = f"{_pts(g['manual_score'])} / {_pts(g['max_score'])}"
            body.append(f"<h3>{_e(g['name'])}: {status}</h3>")
            if g["comment"]:
                body.append(f"<blockquote>{_e(g['comment'])}</blockquote>")
    if report is not None:
        body.append(_notebook_section(report, labelled))
    body.append(
        "<footer>Hidden tests check edge cases beyond the public checks in your notebook. "
        "This page names the property each one checks; their code, inputs and expected values stay hidden.</footer>"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Feedback: {_e(week)}/{_e(notebook)} for {_e(student)}</title>"
        f"<style>{CSS}</style></head>\n<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def _position(exercise, grade_id: str) -> int:
    """Where a grade cell comes in the exercise's notebook (unknown ones last)."""
    if exercise is None:
        return 10**6
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in exercise.source_notebook.cells]
    return ids.index(grade_id) if grade_id in ids else 10**6


def _lateness(sub, policy, course_dir: Path) -> str:
    from autograder.late import describe_lateness, show_time

    if sub.timestamp is None:
        return "Submission time unknown."
    when = f"Submitted {_e(show_time(sub.timestamp, course_dir))}"
    if sub.duedate is None:
        return when + "."
    late = sub.total_seconds_late
    if not late:
        return when + f", before the due date ({_e(show_time(sub.duedate, course_dir))})."
    penalty = policy.penalty(late)
    text = f"{when}, <strong>{_e(describe_lateness(late))} late</strong> (due {_e(show_time(sub.duedate, course_dir))})"
    if penalty:
        text += f"; the late penalty ({_e(policy.describe())}) takes {penalty:.0%} off this week's score"
    return text + "."


def generate_feedback(week: str, course_dir: str | Path = ".", students: list[str] | None = None) -> list[Path]:
    """Write the week's feedback pages; return their paths."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.course import gradebook_url
    from autograder.late import load_policy

    course_dir = Path(course_dir).resolve()
    policy = load_policy(course_dir)
    written = []
    with Gradebook(gradebook_url(course_dir)) as gb:
        for sub in sorted(gb.assignment_submissions(week), key=lambda s: s.student.id):
            student = sub.student.id
            if students and student not in students:
                continue
            lateness = _lateness(sub, policy, course_dir)
            out_dir = course_dir / "feedback" / student / week
            for nb in sorted(sub.notebooks, key=lambda n: n.name):
                try:
                    exercise = get_exercise(f"{week}/{nb.name}")
                except UnknownExercise:
                    exercise = None
                grades = []
                for grade in sorted(nb.grades, key=lambda g: (_position(exercise, g.name), g.name)):
                    try:
                        comment = gb.find_comment(grade.name, nb.name, week, student).manual_comment
                    except MissingEntry:
                        comment = None
                    grades.append({
                        "name": grade.name, "score": grade.score, "max_score": grade.max_score,
                        "manual_score": grade.manual_score, "cell_type": grade.cell.cell_type, "comment": comment,
                    })
                names = {g["name"] for g in grades}
                code_comments = {c.name: c.manual_comment for c in nb.comments if c.manual_comment and c.name not in names}
                marker = course_dir / "autograded" / student / week / f"{nb.name}.report.json"
                try:
                    report = json.loads(marker.read_text())
                except (OSError, ValueError):
                    report = None
                if exercise is not None:
                    title = exercise.settings.get("title", f"{week}/{nb.name}")
                    labelled = _cell_labels(course_dir, student, week, nb.name, exercise)
                else:
                    title, labelled = f"{week}/{nb.name}", []
                page = render(student, week, nb.name, report, grades, lateness, labelled, title, code_comments)
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f"{nb.name}.html"
                path.write_text(page, encoding="utf-8")
                written.append(path)
            stamp = course_dir / "submitted" / student / week / "timestamp.txt"
            if stamp.exists() and out_dir.exists():
                shutil.copy2(stamp, out_dir / "timestamp.txt")
    return written
