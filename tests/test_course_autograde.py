"""A cohort, end to end: autograde a week into nbgrader's gradebook, export grades."""

import csv
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder.course import gradebook_url
from autograder.exercises import get_exercise

EXERCISE = get_exercise("week01/attention")


def autograde(course):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "autograde", "week01", "--course-dir", str(course), "--jobs", "2"],
        capture_output=True, text=True, check=True,
    )


def scores(course):
    with Gradebook(gradebook_url(course)) as gb:
        result = {}
        for student in gb.students:
            sub = gb.find_submission("week01", student.id)
            nb = sub.notebooks[0]
            result[student.id] = {g.name: g.auto_score for g in nb.grades}
        return result


@pytest.mark.slow
def test_autograde_and_export(tmp_path):
    course = tmp_path / "course"
    for student, source in [("alice", EXERCISE.source_path), ("bob", EXERCISE.release_path)]:
        (course / "submitted" / student / "week01").mkdir(parents=True)
        shutil.copy(source, course / "submitted" / student / "week01" / "attention.ipynb")
    (course / "submitted" / "carol" / "week01").mkdir(parents=True)
    (course / "submitted" / "carol" / "week01" / "attention.ipynb").write_text("{ broken")
    (course / "submitted" / "alice" / "week01" / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")

    out = autograde(course).stdout
    assert "not a readable notebook" in out  # the broken file is reported, the batch goes on
    first = scores(course)
    assert first["alice"] == {"test_softmax": 4.0, "test_causal_mask": 2.0, "test_attention": 11.0}
    assert set(first["bob"].values()) == {0.0} and set(first["carol"].values()) == {0.0}

    autograde(course)  # re-running changes nothing and duplicates nothing
    assert scores(course) == first
    with Gradebook(gradebook_url(course)) as gb:
        assert len(gb.assignment_submissions("week01")) == 3

    subprocess.run(
        [sys.executable, "-m", "autograder", "export", "--course-dir", str(course), "--output", str(tmp_path / "g.csv")],
        check=True, capture_output=True,
    )
    rows = list(csv.DictReader((tmp_path / "g.csv").open()))
    totals = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == "(total)"}
    assert totals == {"alice": 17.0, "bob": 0.0, "carol": 0.0}
    alice = next(r for r in rows if r["student"] == "alice" and r["notebook"] == "attention")
    assert float(alice["max_score"]) == 17.0 and alice["timestamp"].startswith("2026-11-20")
