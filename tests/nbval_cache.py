"""pytest plugin: chapters executed by nbval are stored for the book build.

Loaded by ``tests/run.py`` with ``-p tests.nbval_cache``. For every notebook
that carries ``chapter_source`` metadata (see :mod:`tests.chapters`) it keeps
the outputs nbval produced for each code cell; at the end of the session, each
chapter whose every cell passed is written to the book's execution cache.
A chapter with a failing cell is not cached, so the book build executes it
again and fails on the same error.
"""

from __future__ import annotations

import pytest

from tests.chapters import SOURCE_KEY, store_executed

_runs: dict[str, dict] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    nb = getattr(item.parent, "nb", None)
    source = nb.metadata.get(SOURCE_KEY) if nb is not None else None
    if source is None or not hasattr(item, "cell"):
        return
    run = _runs.setdefault(source, {"outputs": {}, "failed": False, "nb": nb})
    if report.failed:
        run["failed"] = True
    if report.when == "call":
        index = next(i for i, c in enumerate(nb.cells) if c is item.cell)
        run["outputs"][index] = list(getattr(item, "test_outputs", None) or [])


def pytest_sessionfinish(session):
    for source, run in _runs.items():
        code = [i for i, c in enumerate(run["nb"].cells) if c.cell_type == "code"]
        if run["failed"] or set(code) != set(run["outputs"]):
            continue
        store_executed(source, [run["outputs"][i] for i in code])
