"""The instructor's cycle: release (verified), collect, autograde, grade by hand, feedback, export.

Each test builds its own course in a temporary directory (tests/course_fixtures.py):
copies of week01/attention when a solution must be broken, and the tiny
week99/essay exercise (two autograded points, a written answer worth three)
for grading by hand, which no real week has yet.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import collect as collecting
from autograder import exercises as course_exercises
from autograder import feedback, grades, late, manual, roster
from autograder.course import autograde, gradebook_url
from autograder.exercises import get_exercise
from autograder.leaks import find_leaks, fragments_for
from autograder.release import ReleaseRefused, release, release_to
from autograder.verify import verify_release
from tests.course_fixtures import (
    ESSAY_HIDDEN_LINE, ESSAY_SOLUTION_LINE, cli, copy_exercise, essay_notebook, make_essay_course,
    own_judges, tree_digest, use_course_root,
)
from tests.helpers import with_cells
from tests.test_week01_attention_grading import WRONG

ATTENTION = get_exercise("week01/attention")
SCALED = "q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])"


def attention_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    copy_exercise(root, "week01/attention")
    return root


def edit_cell(path: Path, grade_id: str, edit) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = edit(cell.source)
    nbformat.write(nb, path)


# --- release ------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _one_alembic_call(monkeypatch):
    """nbgrader asks an `alembic` subprocess for the schema version of each new gradebook; ask once."""
    import nbgrader.api

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", _alembic_version)


_alembic_version = functools.cache(__import__("nbgrader.api").api.get_alembic_version)


@pytest.mark.slow
def test_release_refuses_a_broken_solution_and_changes_nothing(tmp_path, monkeypatch):
    root = attention_root(tmp_path)
    use_course_root(monkeypatch, root)
    solution = root / "solutions" / "week01" / "attention.ipynb"
    edit_cell(solution, "scaled_dot_product_attention", lambda s: s.replace(SCALED, "q @ k.transpose(-2, -1)"))
    before = tree_digest(root / "exercises")

    printed = []
    with pytest.raises(ReleaseRefused) as refused:
        release(["week01"], out=printed.append)
    assert "release refused, exercises/ was not changed" in str(refused.value)
    assert "week01/attention solution: the solution earns" in str(refused.value)
    assert re.search(r"week01/attention +solution +\d+/17 +FAIL: the solution earns", printed[0])
    assert "release REFUSED" in printed[0]
    assert tree_digest(root / "exercises") == before
    assert not (root / "gradebook.db").exists(), "a refused release must not touch the gradebook"

    # In an emergency, --no-verify releases anyway.
    paths = release(["week01"], verify=False, out=printed.append)
    assert [p.name for p in paths] == ["attention.ipynb"] and len(printed) == 1


def test_release_command_exit_status_and_no_verify(monkeypatch, capsys):
    from autograder import cli as command
    from autograder import release as releasing

    calls = []

    def refuse(weeks, verify=True):
        calls.append((weeks, verify))
        if verify:
            raise ReleaseRefused("release refused, exercises/ was not changed:\n  week01: broken")
        return [Path("exercises/week01/attention.ipynb")]

    monkeypatch.setattr(releasing, "release", refuse)
    assert command.main(["release", "week01"]) == 1
    assert "week01: broken" in capsys.readouterr().err
    assert command.main(["release", "week01", "--no-verify"]) == 0
    out = capsys.readouterr()
    assert "WITHOUT checking" in out.err and "released exercises/week01/attention.ipynb" in out.out
    assert calls == [(["week01"], True), (["week01"], False)]


@pytest.mark.slow
def test_release_installs_a_verified_week_and_registers_it(tmp_path, monkeypatch):
    root = attention_root(tmp_path)
    use_course_root(monkeypatch, root)
    (root / "exercises" / "week01" / "attention.ipynb").unlink()
    (root / "exercises" / "week01" / "stale.ipynb").write_text("{}")
    printed = []
    paths = release(["week01"], out=printed.append)
    assert "release verified" in printed[0] and "no solution or hidden-test line" in printed[0]
    assert re.search(r"solution +17/17 +ok", printed[0]) and re.search(r"stub +0/17 +ok", printed[0])
    assert [p.name for p in paths] == ["attention.ipynb"], "the week's folder is replaced as a whole"
    fresh = release_to("week01", tmp_path / "fresh")[0]
    assert json.loads(paths[0].read_text()) == json.loads(fresh.read_text())
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_assignment("week01").max_score == 17


def test_verification_reports_a_scoring_stub_a_leak_and_a_missing_suite(tmp_path, monkeypatch):
    root = attention_root(tmp_path)
    use_course_root(monkeypatch, root)
    released = tmp_path / "release"
    shutil.copytree(root / "exercises", released)
    stub = released / "week01" / "attention.ipynb"
    # The causal mask left outside the solution markers: the stub earns its points.
    edit_cell(stub, "causal_mask", lambda s: "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril()\n")
    # A hint that copies a solution line into the released text.
    line = "shifted = x - x.amax(dim=dim, keepdim=True).detach()"
    edit_cell(stub, "intro", lambda s: s + f"\n\nHint: `{line}`")
    shutil.copy2(root / "solutions" / "week01" / "attention.ipynb", root / "solutions" / "week01" / "orphan.ipynb")

    result = verify_release("week01", released)
    assert not result.ok
    problems = "\n".join(result.problems)
    assert "orphan.ipynb has no hidden suite" in problems
    assert "week01/attention stub: the released stub earns 2/17" in problems
    assert f"attention.ipynb contains a line of the solution week01/attention: {line!r}" in problems
    solution = next(g for g in result.graded if g.kind == "solution")
    assert solution.score == solution.max_score == 17 and not solution.problem


def test_roster_and_due_date_commands(tmp_path, capsys):
    from autograder import cli as command

    course = str(tmp_path / "course")
    (tmp_path / "course").mkdir()
    assert command.main(["roster", "add", "ada", "--first-name", "Ada", "--lms-id", "42", "--course-dir", course]) == 0
    (tmp_path / "more.csv").write_text("id,first_name,last_name\nben,Ben,Lee\nada,Ada,Byron\n")
    assert command.main(["roster", "import", str(tmp_path / "more.csv"), "--course-dir", course]) == 0
    assert "1 student(s) added, 1 updated" in capsys.readouterr().out
    assert command.main(["roster", "list", "--course-dir", course]) == 0
    listing = capsys.readouterr().out
    assert "Ada Byron" in listing and "42" in listing and listing.rstrip().endswith("2 student(s)")
    (tmp_path / "bad.csv").write_text("id\nok\nno good\n")
    assert command.main(["roster", "import", str(tmp_path / "bad.csv"), "--course-dir", course]) == 1
    assert "line 3" in capsys.readouterr().err and len(roster.students(course)) == 2

    assert command.main(["duedate", "week01", "--course-dir", course]) == 0
    assert "week01 has no due date" in capsys.readouterr().out
    assert command.main(["duedate", "week01", "2026-12-01", "--course-dir", course]) == 0
    assert "week01 is due 2026-12-01 23:59 UTC" in capsys.readouterr().out
    assert command.main(["duedate", "week01", "next tuesday-ish", "--course-dir", course]) == 1
    policy = late.LatePolicy(per_day=0.1, max=0.5, grace_minutes=5)
    assert [policy.penalty(s) for s in (0, 299, 301, 86400 + 300, 86400 + 301, 40 * 86400)] == [0, 0, 0.1, 0.1, 0.2, 0.5]


# --- collect ------------------------------------------------------------------

def _nb_bytes(source: Path = ATTENTION.release_path, tag: str = "") -> bytes:
    nb = nbformat.read(source, as_version=4)
    nb.metadata["tag"] = tag  # make copies distinguishable
    return nbformat.writes(nb).encode()


def _zip(path: Path, entries: list[tuple[str, bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _rows(rows) -> dict[str, tuple[str, str, str, str]]:
    return {r.file: (r.student, r.notebook, r.action, r.note) for r in rows}


def test_collect_a_canvas_zip_against_the_roster(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (tmp_path / "roster.csv").write_text(
        "id,first_name,last_name,email,lms_user_id\n"
        "jdoe,Jane,Doe,jane@example.org,12345\njsmith,John,Smith,,222\nflee,Foo,Lee,,\n"
    )
    assert roster.import_roster(course, tmp_path / "roster.csv") == (3, 0)
    late.set_duedate("week01", "2026-12-01 23:59", course)  # autograder.toml absent: UTC
    renamed = nbformat.read(ATTENTION.release_path, as_version=4)
    entries = [
        ("doejane_12345_67890_attention.ipynb", _nb_bytes(tag="first"), (2026, 11, 30, 10, 0, 0)),
        ("doejane_LATE_12345_67891_attention-1.ipynb", _nb_bytes(tag="second"), (2026, 12, 2, 9, 30, 0)),
        ("doejane_12345_67892_multihead_attention.ipynb",
         _nb_bytes(get_exercise("week01/multihead_attention").release_path), (2026, 11, 29, 8, 0, 0)),
        ("smithjohn_222_333_attention.ipynb", _nb_bytes(tag="john"), (2026, 11, 30, 12, 0, 0)),
        ("smithjohn_222_334_notes.pdf", b"%PDF-1.4", (2026, 11, 30, 12, 0, 0)),
        ("leefoo_777_2_my_homework.ipynb", nbformat.writes(renamed).encode(), (2026, 11, 30, 12, 0, 0)),
        ("zhangwei_999_1_attention.ipynb", _nb_bytes(tag="zw"), (2026, 11, 30, 12, 0, 0)),
        ("__MACOSX/._doejane_12345_67890_attention.ipynb", b"\0\0", (2026, 11, 30, 12, 0, 0)),
    ]
    bundle = _zip(tmp_path / "submissions.zip", entries)
    before = tree_digest(bundle)

    rows = collecting.collect("week01", bundle, course)
    table = collecting.format_rows(rows, course)
    got = _rows(rows)
    assert len(rows) == len(entries), "every file gets a row"
    assert got["doejane_LATE_12345_67891_attention-1.ipynb"][:3] == ("jdoe", "attention", "collected")
    assert "late by 9 h 31 min" in got["doejane_LATE_12345_67891_attention-1.ipynb"][3]
    assert "marked late by the LMS" in got["doejane_LATE_12345_67891_attention-1.ipynb"][3]
    assert got["doejane_12345_67890_attention.ipynb"][2:] == (
        "skipped", "an older duplicate; kept doejane_LATE_12345_67891_attention-1.ipynb")
    assert got["doejane_12345_67892_multihead_attention.ipynb"][:3] == ("jdoe", "multihead_attention", "collected")
    assert got["smithjohn_222_333_attention.ipynb"][:3] == ("jsmith", "attention", "collected")
    assert got["smithjohn_222_334_notes.pdf"][2:] == ("skipped", "not a notebook (.pdf)")
    assert got["leefoo_777_2_my_homework.ipynb"][:3] == ("flee", "attention", "collected")
    assert "recognised from its metadata" in got["leefoo_777_2_my_homework.ipynb"][3]
    assert got["zhangwei_999_1_attention.ipynb"][2] == "skipped"
    assert "unknown student" in got["zhangwei_999_1_attention.ipynb"][3]
    assert got["__MACOSX/._doejane_12345_67890_attention.ipynb"][2] == "skipped"
    assert table.splitlines()[-1] == "8 file(s): 4 collected, 4 skipped; 3 student(s); 1 late notebook(s)"
    for name in ("zhangwei_999_1_attention.ipynb", "smithjohn_222_334_notes.pdf"):
        assert name in table

    kept = course / "submitted" / "jdoe" / "week01"
    assert json.loads((kept / "attention.ipynb").read_text())["metadata"]["tag"] == "second"
    assert (kept / "timestamp.txt").read_text() == "2026-12-02 09:30:00.000000 UTC"
    assert not (course / "submitted" / "zhangwei").exists()
    assert tree_digest(bundle) == before, "the input was modified"

    again = _rows(collecting.collect("week01", bundle, course))
    assert again["smithjohn_222_333_attention.ipynb"][2] == "unchanged"
    accepted = _rows(collecting.collect("week01", bundle, course, accept_unknown=True))
    assert accepted["zhangwei_999_1_attention.ipynb"][:3] == ("zhangwei", "attention", "collected")
    assert "not on the roster" in accepted["zhangwei_999_1_attention.ipynb"][3]


def test_collect_a_moodle_zip_without_roster_in_the_course_time_zone(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "autograder.toml").write_text('timezone = "Europe/Paris"\n')
    late.set_duedate("week01", "2026-12-01 23:59", course)  # 22:59 UTC
    assert late.get_duedate("week01", course) == dt.datetime(2026, 12, 1, 22, 59)
    entries = [
        ("Jane Doe_12345_assignsubmission_file_/attention.ipynb", _nb_bytes(tag="jd"), (2026, 12, 2, 0, 30, 0)),
        ("Jane Doe_12345_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>", (2026, 12, 1, 23, 30, 0)),
        ("Bob Ray_555_assignsubmission_file_/Attention (1).ipynb", _nb_bytes(tag="br"), (2026, 12, 1, 20, 0, 0)),
        ("Bob Ray_555_assignsubmission_file_/notes/scratch.ipynb", b"{ not json", (2026, 12, 1, 20, 0, 0)),
    ]
    rows = _rows(collecting.collect("week01", _zip(tmp_path / "moodle.zip", entries), course))
    jane = rows["Jane Doe_12345_assignsubmission_file_/attention.ipynb"]
    assert jane[:3] == ("janedoe", "attention", "collected") and "late by 31 min" in jane[3]
    assert rows["Bob Ray_555_assignsubmission_file_/Attention (1).ipynb"][:4] == ("bobray", "attention", "collected", "")
    assert rows["Jane Doe_12345_assignsubmission_onlinetext_/onlinetext.html"][2:] == ("skipped", "not a notebook (.html)")
    assert rows["Bob Ray_555_assignsubmission_file_/notes/scratch.ipynb"][2] == "skipped"
    assert "not one of week01's notebooks" in rows["Bob Ray_555_assignsubmission_file_/notes/scratch.ipynb"][3]
    assert (course / "submitted" / "janedoe" / "week01" / "timestamp.txt").read_text().startswith("2026-12-01 23:30:00")


def test_collect_a_plain_folder_with_the_cli(tmp_path):
    folder = tmp_path / "inbox"
    for rel in ("alice/attention.ipynb", "bob/week01/attention.ipynb", "stray.ipynb"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(_nb_bytes(tag=rel))
    (folder / "alice" / "notes.txt").write_text("notes")
    when = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc).timestamp()
    for p in folder.rglob("*"):
        os.utime(p, (when, when))
    before = tree_digest(folder)
    course = tmp_path / "course"
    done = cli("collect", "week01", str(folder), "--course-dir", str(course), check=True)
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:-1]}
    assert "collected" in lines["alice/attention.ipynb"] and "2026-11-20 10:00 UTC" in lines["alice/attention.ipynb"]
    assert "collected" in lines["bob/week01/attention.ipynb"]
    assert "skipped: not a notebook (.txt)" in lines["alice/notes.txt"]
    assert "skipped: cannot tell whose file this is" in lines["stray.ipynb"]
    assert done.stdout.splitlines()[-1].startswith("4 file(s): 2 collected, 2 skipped; 2 student(s)")
    assert (course / "submitted" / "bob" / "week01" / "attention.ipynb").exists()
    assert tree_digest(folder) == before


# --- autograde, feedback and export on week01/attention ----------------------------

PRINTS_ITS_INPUTS = (
    "def scaled_dot_product_attention(q, k, v, mask=None):\n"
    "    print('CALLED WITH', tuple(q.shape), float(q.flatten()[0]))\n"
    f"    scores = {SCALED}\n"
    "    if mask is not None:\n"
    "        scores = scores.masked_fill(~mask, float('-inf'))\n"
    "    weights = softmax(scores, dim=-1)\n"
    "    return weights @ v, weights\n"
)


@pytest.mark.slow
def test_autograde_feedback_and_export_on_a_cohort(tmp_path, monkeypatch):
    use_course_root(monkeypatch, attention_root(tmp_path))  # week01 is attention alone here
    course = tmp_path / "course"
    sub = course / "submitted"
    for student, source in [("ada", ATTENTION.source_path), ("ben", ATTENTION.release_path)]:
        (sub / student / "week01").mkdir(parents=True)
        shutil.copy(source, sub / student / "week01" / "attention.ipynb")
    with_cells(ATTENTION.source_path, sub / "cy" / "week01" / "attention.ipynb", WRONG["no_sqrt_dk_scaling"][0])
    with_cells(ATTENTION.source_path, sub / "dee" / "week01" / "attention.ipynb",
               {"scaled_dot_product_attention": PRINTS_ITS_INPUTS})
    for student, stamp in [("ada", "2026-11-30 10:00:00"), ("cy", "2026-12-03 08:00:00"), ("dee", "2026-12-20 08:00:00")]:
        (sub / student / "week01" / "timestamp.txt").write_text(f"{stamp}.000000 UTC")
    (course / "autograder.toml").write_text("[late_penalty]\nper_day = 0.10\nmax = 0.30\ngrace_minutes = 10\n")
    late.set_duedate("week01", "2026-12-01 23:59", course)

    rows = autograde("week01", course_dir=course, jobs=2)
    scores = {r["student"]: r["score"] for r in rows if r["notebook"] == "attention"}
    assert len(rows) == 4
    assert scores["ada"] == 17 and scores["ben"] == 0 and 0 < scores["cy"] < 17
    with Gradebook(gradebook_url(course)) as gb:
        flags = {g.needs_manual_grade for s in gb.assignment_submissions("week01") for nb in s.notebooks for g in nb.grades}
        assert flags == {False}, "autograded cells must not wait in formgrader's manual-grading queue"
        grade = gb.find_grade("test_attention", "attention", "week01", "cy")
        grade.manual_score = 9.0  # a grader overrides a code cell in formgrader
        gb.db.commit()
        gb.find_comment("scaled_dot_product_attention", "attention", "week01", "cy").manual_comment = "Scale by sqrt(d_k)."
        gb.db.commit()

    # Feedback: one page per notebook, no hidden test text, no solution text except the student's own.
    pages = feedback.generate_feedback("week01", course)
    assert {p.relative_to(course).as_posix() for p in pages} == {
        f"feedback/{s}/week01/attention.html" for s in ("ada", "ben", "cy", "dee")}
    fragments = fragments_for([ATTENTION])
    hidden_only = {k: v for k, v in fragments.items() if k.startswith("hidden")}
    assert not find_leaks([course / "feedback"], fragments)
    for page in pages:
        text = page.read_text()
        assert "<script" not in text and "http" not in text.replace("http-equiv", ""), page
        assert "<link" not in text and "src=" not in text
    cy = (course / "feedback" / "cy" / "week01" / "attention.html").read_text()
    assert "test_attention: 9 / 11" in cy and "15 / 17" in cy.replace("<strong>", "").replace("</strong>", "")
    assert "adjusted by a grader" in cy and "Scale by sqrt(d_k)." in cy
    assert "the late penalty" in cy and "takes 20% off" in cy
    assert "is off" in cy  # the failed public check's reason
    ben = (course / "feedback" / "ben" / "week01" / "attention.html").read_text()
    assert "not implemented yet" in ben and "0 / 17" in ben.replace("<strong>", "").replace("</strong>", "")
    # dee's code prints what it is called with: only calls from the public checks may show.
    report = json.loads((course / "autograded" / "dee" / "week01" / "attention.report.json").read_text())
    shown = report["notebook"]["output_before_tests"].count("CALLED WITH")
    assert 0 < shown < report["notebook"]["output"].count("CALLED WITH")
    assert (course / "feedback" / "dee" / "week01" / "attention.html").read_text().count("CALLED WITH") == shown

    # Export: totals with late penalties, and Gradescope results.
    out = grades.export(course, tmp_path / "grades.csv", gradescope_dir=tmp_path / "gradescope")
    table = list(csv.DictReader(out.open()))
    total = {r["student"]: r for r in table if r["notebook"] == "(total)" and r["week"] == "week01"}
    assert total["ada"]["late_days"] == "0" and float(total["ada"]["final_score"]) == 17
    assert total["cy"]["late_days"] == "2" and float(total["cy"]["penalty"]) == pytest.approx(0.2)
    assert float(total["cy"]["final_score"]) == pytest.approx(float(total["cy"]["score"]) * 0.8)
    assert float(total["dee"]["penalty"]) == pytest.approx(0.3)  # capped
    overall = {r["student"]: r for r in table if r["week"] == "(all weeks)"}
    assert float(overall["cy"]["final_score"]) == pytest.approx(float(total["cy"]["final_score"]))
    result = json.loads((tmp_path / "gradescope" / "week01" / "cy" / "results.json").read_text())
    assert result["score"] == pytest.approx(float(total["cy"]["final_score"]))
    assert "late penalty 20%" in result["output"]
    assert all({"name", "score", "max_score", "output"} <= set(t) for t in result["tests"])
    assert any("adjusted by a grader to 9" in t["name"] for t in result["tests"])
    assert not find_leaks([tmp_path / "gradescope"], hidden_only)


# --- grading written answers by hand ---------------------------------------------

@pytest.mark.slow
def test_manual_grading_survives_autograde_and_works_with_formgrader(tmp_path, monkeypatch, request, capsys):
    root = make_essay_course(tmp_path / "root")
    env = use_course_root(monkeypatch, root)
    own_judges(monkeypatch, request, env)
    course = tmp_path / "course"
    submissions = {
        "ann": essay_notebook(),
        "bob": essay_notebook("    return a - b", "I do not know."),
        "cat": essay_notebook(answer="YOUR ANSWER HERE"),
    }
    for student, nb in submissions.items():
        path = course / "submitted" / student / "week99" / "essay.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    rows = autograde("week99", course_dir=course, jobs=2)
    assert {r["student"]: r["score"] for r in rows} == {"ann": 2, "bob": 0, "cat": 2}

    todo = manual.answers("week99", course)
    assert [(a.student, a.cell, a.max_score) for a in todo] == [("ann", "explain", 3), ("bob", "explain", 3), ("cat", "explain", 3)]
    assert todo[0].text.startswith("Addition is commutative")
    # formgrader's view of the same gradebook: only the written answers wait for a human.
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(config=config)
    queue = {s["student"]: s["needs_manual_grade"] for s in api.get_notebook_submissions("week99", "essay")}
    assert queue == {"ann": True, "bob": True, "cat": True}
    assert {s["student"] for s in api.get_submissions("week99") if s["autograded"]} == {"ann", "bob", "cat"}

    # The terminal walk-through: ann 3 with a comment; bob: a typo, an out-of-range score, then 1; cat skipped.
    replies = iter(["3", "Clear and right.", "x", "7", "1", "", ""])
    shown = []
    saved = manual.walk("week99", course, ask=lambda prompt: next(replies), out=shown.append)
    assert saved == 2
    assert any("(no answer: the cell still holds the stub)" in s for s in shown)
    # Scripted scores from a CSV: cat gets 0 and a comment; a bad row stops the whole file.
    (tmp_path / "bad.csv").write_text("student,notebook,cell,score,comment\ncat,essay,explain,4,too many\n")
    with pytest.raises(manual.ManualGradingError, match="not between 0 and 3"):
        manual.from_csv("week99", tmp_path / "bad.csv", course)
    assert manual.to_csv("week99", tmp_path / "answers.csv", course) == 3
    rows = list(csv.DictReader((tmp_path / "answers.csv").open()))
    for row in rows:
        if row["student"] == "cat":
            row.update(score="0", comment="No answer given.")
    with (tmp_path / "scores.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = cli("manual", "week99", "--course-dir", str(course), "--from-csv", str(tmp_path / "scores.csv"), env=env)
    assert done.returncode == 0 and "3 score(s) saved" in done.stdout, done.stderr

    def state():
        with Gradebook(gradebook_url(course)) as gb:
            out = {}
            for s in gb.assignment_submissions("week99"):
                nb = s.notebooks[0]
                out[s.student.id] = (
                    {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades},
                    gb.find_comment("explain", "essay", "week99", s.student.id).manual_comment,
                    s.score,
                )
            return out

    before = state()
    assert before["ann"] == ({"test_add": (2.0, None, False), "explain": (None, 3.0, False)}, "Clear and right.", 5.0)
    assert before["bob"][0]["explain"] == (None, 1.0, False) and before["bob"][2] == 1.0
    assert before["cat"][1] == "No answer given." and before["cat"][2] == 2.0
    assert {s["student"]: s["needs_manual_grade"] for s in api.get_notebook_submissions("week99", "essay")} == {
        "ann": False, "bob": False, "cat": False}

    autograde("week99", course_dir=course, force=True)
    assert state() == before, "a forced regrade changed manual scores"
    done = cli("autograde", "week99", "--course-dir", str(course), env=env, check=True)  # the real command
    assert "unchanged since last run" in done.stdout
    assert state() == before

    # formgrader renders the graded copy with a score box for the written answer.
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": "week99", "notebook_id": "essay", "submission_id": "x", "index": 0, "total": 3,
                 "base_url": "", "student": "ann", "last_name": "", "first_name": "", "notebook_path": "x"}
    page, _ = HTMLExporter(config=config).from_filename(
        str(course / "autograded" / "ann" / "week99" / "essay.ipynb"), resources=resources)
    assert 'class="score tabbable" id="explain"' in page and 'id="explain-comment"' in page

    # Feedback shows the hand-graded score and comment, never the hidden tests or the solution.
    pages = feedback.generate_feedback("week99", course)
    bob = (course / "feedback" / "bob" / "week99" / "essay.html").read_text()
    assert "explain: 1 / 3" in bob and "Written answers" in bob
    ann = (course / "feedback" / "ann" / "week99" / "essay.html").read_text()
    assert "Clear and right." in ann and "add: public checks passed" in ann
    hidden = fragments_for([course_exercises.get_exercise("week99/essay")])
    assert ESSAY_HIDDEN_LINE in hidden["hidden tests week99/essay"]
    assert ESSAY_SOLUTION_LINE in hidden["solution week99/essay"]
    assert not find_leaks(pages, hidden)
