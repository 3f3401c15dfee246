"""``make test``: every suite of the project, each notebook executed once.

Stages, in order (a failing stage stops the run with its exit code):

1. Export the book's executable chapters to ``_build/nbval/`` (see tests/chapters.py).
2. One pytest run, spread over ``--jobs`` workers (``--dist loadfile`` keeps a
   notebook's cells on one worker): the project's tests in ``tests/``, nbval
   over every solution notebook and every chapter. Executed chapters go into
   the book's execution cache.
3. ``jupyter-book build`` with warnings as errors; it must reuse the cache and
   execute no chapter a second time.
4. The site checks in ``tests/site/`` against the built HTML.

pytest's exit code 5 (nothing collected) counts as a failure everywhere.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.chapters import NBVAL_DIR, REPO, export_for_nbval

BIN = Path(sys.executable).parent


def run(stage: str, cmd: list[str], capture: bool = False) -> str:
    print(f"\n=== {stage}: {' '.join(cmd)}", flush=True)
    start = time.monotonic()
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if capture:
        proc = subprocess.run(cmd, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        sys.stdout.write(proc.stdout)
    else:
        proc = subprocess.run(cmd, cwd=REPO, env=env)
    took = time.monotonic() - start
    print(f"=== {stage}: exit {proc.returncode} after {took:.0f} s", flush=True)
    if proc.returncode != 0:
        if proc.returncode == 5:
            print(f"=== {stage}: pytest collected no tests, which counts as a failure")
        sys.exit(proc.returncode or 1)
    return proc.stdout if capture else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for the main pytest run")
    args = parser.parse_args(argv)

    started = time.monotonic()
    chapters = export_for_nbval()
    print(f"exported {len(chapters)} chapter(s) to {NBVAL_DIR.relative_to(REPO)}")
    solutions = sorted(str(p.relative_to(REPO)) for p in (REPO / "solutions").glob("week*/*.ipynb"))
    run(
        "tests, solution notebooks and chapters",
        [
            str(BIN / "python"), "-m", "pytest",
            "-n", str(args.jobs), "--dist", "loadfile",
            "-p", "tests.nbval_cache", "--nbval-lax", "--nbval-current-env",
            "--ignore", "tests/site",
            "--durations=40",  # the slowest tests and notebooks, to see where the time budget goes
            "tests", *solutions, str(NBVAL_DIR.relative_to(REPO)),
            *args.pytest_args,
        ],
    )
    log = run(
        "book build",
        [str(BIN / "jupyter-book"), "build", ".", "--warningiserror", "--nitpick", "--keep-going"],
        capture=True,
    )
    executed = re.findall(r"(\S+\.md): Executing notebook", log)
    if executed:
        print(f"=== the book build executed {executed} again after nbval: the execution cache missed")
        return 1
    run("site checks", [str(BIN / "python"), "-m", "pytest", "tests/site", "-q"])
    print(f"\nall stages passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
