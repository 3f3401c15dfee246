"""The committed student notebooks are exactly what nbgrader releases, and leak nothing."""

import json

import pytest

from autograder.exercises import all_exercises, get_exercise
from autograder.leaks import find_leaks, fragments_for, hidden_test_fragments, public_library_lines
from autograder.notebook import grade_cells
from autograder.release import all_weeks, release_to


@pytest.mark.parametrize("week", all_weeks())
def test_committed_release_equals_a_fresh_release(week, tmp_path):
    fresh = release_to(week, tmp_path)
    committed = sorted((get_exercise(f"{week}/{p.stem}").release_path for p in fresh))
    assert [p.name for p in fresh] == [p.name for p in committed]
    for new, old in zip(fresh, committed):
        assert json.loads(new.read_text()) == json.loads(old.read_text()), (
            f"{old} differs from a fresh release: run `make release WEEK={week}` and commit the result"
        )


def test_release_contains_no_solution_or_hidden_test_text():
    exercises = all_exercises()
    leaks = find_leaks([ex.release_path for ex in exercises], fragments_for(exercises))
    assert not leaks, [(str(l.path), l.fragment) for l in leaks]


def test_leak_scan_finds_a_planted_solution_line(tmp_path):
    """The scan is not vacuous: a solution line pasted into a page is found."""
    ex = all_exercises()[0]
    fragments = fragments_for([ex])
    line = sorted(fragments[f"solution {ex.id}"])[0]
    page = tmp_path / "page.html"
    page.write_text(f"<pre><span>{line[:10]}</span>{line[10:].replace('>', '&gt;')}</pre>")
    assert find_leaks([tmp_path], fragments)


def test_leak_scan_finds_a_held_out_question_on_a_page(tmp_path):
    """The week 4 pipeline is graded on the held-out questions: a page that quotes one leaks them."""
    fragments = fragments_for([])
    question = sorted(fragments["held-out questions"])[0]
    (tmp_path / "page.html").write_text(f"<p>Try it on: <em>{question}</em></p>")
    assert [leak.origin for leak in find_leaks([tmp_path], fragments)] == ["held-out questions"]


def test_a_line_the_course_library_already_shows_is_not_a_secret():
    """Learners read llmcourse/: its lines are public even when a hidden test repeats them."""
    tiny_gpt = get_exercise("week01/tiny_gpt")
    shared = "tokenizer = CharTokenizer.from_text(text)"
    assert shared in hidden_test_fragments(tiny_gpt) and shared in public_library_lines(), (
        "the premise moved: pick another line that both the tiny_gpt suite and llmcourse/gpt.py hold")
    kept = fragments_for([tiny_gpt])["hidden tests week01/tiny_gpt"]
    assert shared not in kept and kept  # the suite's own lines still count


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_grade_cells_match_hidden_suite(exercise):
    """Every autograded grade cell has a hidden test module whose points add up to the cell's."""
    import ast

    cells = grade_cells(exercise)
    suites = {p.stem: p for p in exercise.suite_dir.glob("test_*.py")}
    assert set(cells) == set(suites), "grade cells and hidden test modules must correspond one to one"
    for grade_id, path in suites.items():
        total = 0.0
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = [
                    d for d in node.decorator_list
                    if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "points"
                ]
                assert len(marks) == 1, f"{path.name}::{node.name} must declare its points once"
                total += float(ast.literal_eval(marks[0].args[0]))
        assert total == cells[grade_id], f"{grade_id}: hidden tests add up to {total}, the cell to {cells[grade_id]}"


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_notebooks_name_their_exercise(exercise):
    for path in (exercise.source_path, exercise.release_path):
        meta = json.loads(path.read_text())["metadata"]
        assert meta["autograder"]["exercise"] == exercise.id
