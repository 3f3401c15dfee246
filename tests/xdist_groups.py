"""How ``make test`` spreads its tests over workers (pytest plugin, with ``--dist loadgroup``).

Every test of a file runs on one worker, as ``--dist loadfile`` would do
(nbval runs a notebook's cells in order in one kernel, and several test
modules share expensive module-scoped fixtures), except the grading tests:
each test in ``test_every_exercise.py`` and ``test_weekNN_<name>_grading.py``
grades one notebook on its own, and those files hold most of the run's work,
so their tests are spread one by one over the workers.
"""

from __future__ import annotations

import re

import pytest

INDEPENDENT = re.compile(r"^test_(every_exercise|week\d\d_\w+_grading)\.py$")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if not INDEPENDENT.match(item.path.name):
            item.add_marker(pytest.mark.xdist_group(name=str(item.path)))
