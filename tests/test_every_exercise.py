"""For every exercise of the course: the solution earns full marks, the released stub zero.

Per-exercise test modules (tests/test_weekNN_<name>_grading.py) add what only
they know: correct solutions written differently, and realistic mistakes with
the hidden tests each must fail.
"""

import pytest

from autograder.exercises import all_exercises
from tests.helpers import assert_full_marks, grade


@pytest.mark.slow
@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_solution_earns_full_marks(exercise):
    assert_full_marks(grade(exercise.source_path))


@pytest.mark.slow
@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_released_stub_earns_zero_with_clean_report(exercise):
    report = grade(exercise.release_path)
    assert report["score"] == 0 and report["max_score"] > 0
    for test in report["tests"]:
        assert "not implemented yet" in test["message"], test
