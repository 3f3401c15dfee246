"""Small courses built in temporary directories for the instructor and learner tool tests.

A *course root* holds exercises laid out like this repository (``solutions/``,
``exercises/``, ``autograder/suites/``). :func:`use_course_root` points this
process's autograder at one (module attributes) and returns the environment
(``AUTOGRADER_COURSE_ROOT``) for the ``autograder`` commands a test starts.
In this process the judges keep the repository's hidden suites, so copies of
real exercises grade exactly as the originals while a test breaks their
solution. An exercise that exists only in a fixture course (``week99/essay``,
whose written answer is graded by hand: no real week has one yet) needs
judges that see the fixture's suites: :func:`own_judges` gives the test a
judge pool of its own, started with that environment, or an ``autograder``
subprocess started with it grades it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder import engine, exercises

ESSAY_ANSWER = "Addition is commutative, so swapping the two arguments never changes the sum."
ESSAY_SOLUTION_LINE = "total_of_both_numbers = a + b"
ESSAY_HIDDEN_LINE = "assert submission.add(918273645, 123456789) == 1041730434"


def copy_exercise(root: Path, exercise_id: str) -> None:
    """Copy a real exercise (source, release, hidden suite) into the course root."""
    week, name = exercise_id.split("/")
    real = exercises.get_exercise(exercise_id)
    for src, dst in [
        (real.source_path, root / "solutions" / week / f"{name}.ipynb"),
        (real.release_path, root / "exercises" / week / f"{name}.ipynb"),
    ]:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    shutil.copytree(real.suite_dir, root / "autograder" / "suites" / week / name,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(exercises.SUITES_DIR / "pytest.ini", root / "autograder" / "suites" / "pytest.ini")


def _cell(kind: str, source: str, grade_id: str, **flags) -> nbformat.NotebookNode:
    meta = {"grade": False, "solution": False, "locked": False, "task": False, "schema_version": 3, "grade_id": grade_id}
    meta.update(flags)
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source)
    cell.metadata["nbgrader"] = meta
    return cell


def essay_notebook(add_body: str | None = None, answer: str = ESSAY_ANSWER) -> nbformat.NotebookNode:
    """The week99/essay source notebook, or a submission with another ``add`` body and answer."""
    body = add_body or f"    ### BEGIN SOLUTION\n    {ESSAY_SOLUTION_LINE}\n    return total_of_both_numbers\n    ### END SOLUTION"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["autograder"] = {"exercise": "week99/essay"}
    nb.cells = [
        _cell("markdown", "# A tiny exercise\n\nWrite `add`, then explain it in words.", "intro", locked=True),
        _cell("code", f'def add(a, b):\n    """The sum of a and b."""\n{body}\n', "add", solution=True),
        _cell("code", 'assert add(1, 2) == 3, "add(1, 2) should be 3"\nprint("add: public checks passed")',
              "test_add", grade=True, locked=True, points=2),
        _cell("markdown", answer, "explain", grade=True, solution=True, points=3),
    ]
    return nb


def make_essay_course(root: Path) -> Path:
    """A course root with the one exercise week99/essay: 2 autograded points, 3 by hand."""
    nbformat.write(essay_notebook(), _mkparents(root / "solutions" / "week99" / "essay.ipynb"))
    suite = root / "autograder" / "suites" / "week99" / "essay"
    suite.mkdir(parents=True)
    shutil.copy2(exercises.SUITES_DIR / "pytest.ini", root / "autograder" / "suites" / "pytest.ini")
    (suite / "exercise.json").write_text(
        '{"title": "A tiny exercise with a written answer", "summary": "larger numbers and floats",'
        ' "limits": {"notebook_seconds": 30, "call_seconds": 10}}\n'
    )
    (suite / "test_add.py").write_text(
        '"""Hidden tests for ``add`` (grade cell ``test_add``)."""\n\n'
        "from autograder.judge import points\n\n\n"
        "@points(1)\n"
        "def test_adds_large_numbers(submission):\n"
        '    """add(a, b) returns the sum for large integers."""\n'
        f"    {ESSAY_HIDDEN_LINE}\n\n\n"
        "@points(1)\n"
        "def test_adds_floats(submission):\n"
        '    """add works on floats too."""\n'
        "    assert abs(submission.add(0.25, 0.5) - 0.75) < 1e-12\n"
    )
    return root


def _mkparents(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def use_course_root(monkeypatch, root: Path) -> dict:
    """Point this process's autograder at the course root; return the env for subprocesses."""
    root = Path(root).resolve()
    monkeypatch.setattr(exercises, "COURSE_ROOT", root)
    monkeypatch.setattr(exercises, "SOURCE_DIR", root / "solutions")
    monkeypatch.setattr(exercises, "RELEASE_DIR", root / "exercises")
    monkeypatch.setattr(exercises, "SUITES_DIR", root / "autograder" / "suites")
    return {"AUTOGRADER_COURSE_ROOT": str(root)}


def own_judges(monkeypatch, request, env: dict) -> engine.JudgePool:
    """A judge pool for this test only, whose judges see the course root in ``env``."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    pool = engine.JudgePool(2)
    monkeypatch.setattr(engine, "_pool", pool)
    request.addfinalizer(pool.close)
    return pool


def cli(*args: str, env: dict | None = None, check: bool = False, input: str | None = None):
    """Run ``python -m autograder ARGS``; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True, text=True, check=check, input=input,
        env=dict(os.environ, **(env or {})),
    )


def tree_digest(path: Path) -> str:
    h = hashlib.sha256()
    paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in paths:
        h.update(str(p.relative_to(path.parent)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()
