"""Benchmark: our autograder against stock ``nbgrader autograde`` on the same 40 submissions.

Builds a cohort of 40 week01/attention submissions, a realistic mix: correct
solutions written two ways, each of the common mistakes from the grading
tests, untouched stubs, and notebooks with a crashing or noisy cell. Then, in
one run on this machine:

1. executes every notebook bare (nbclient, one kernel each, no grading), as
   the floor for any notebook grader;
2. grades them with stock ``nbgrader autograde`` (one kernel per notebook,
   serially, as nbgrader does);
3. grades them with ``autograder autograde --jobs N`` (sandboxed, with every
   protection on).

It prints submissions per minute for both graders, their ratio, and our
per-submission overhead over bare execution (wall time per submission times
the number of jobs, minus the bare time per notebook). Run with
``make bench-grading``; it is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.exercises import get_exercise  # noqa: E402
from tests.helpers import with_cells  # noqa: E402
from tests.test_week01_attention_grading import EINSUM_SOLUTION, WRONG  # noqa: E402

EXERCISE = get_exercise("week01/attention")
BIN = Path(sys.executable).parent


def cohort(submitted: Path, size: int = 40) -> list[Path]:
    """Write ``size`` submissions under submitted/<student>/week01/attention.ipynb."""
    kinds: list[tuple[str, dict | None]] = [("correct", {}), ("einsum", EINSUM_SOLUTION)]
    kinds += [(name, cells) for name, (cells, _) in sorted(WRONG.items())]
    kinds += [("stub", None)]
    kinds += [("crashing_cell", {"causal_mask": "raise RuntimeError('oops')\n"})]
    kinds += [("noisy", {"causal_mask": "import sys\nprint('x' * 10000, file=sys.stderr)\n"
                         "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril()\n"})]
    paths = []
    for i in range(size):
        name, cells = kinds[i % len(kinds)]
        out = submitted / f"student{i:02d}_{name}" / "week01" / "attention.ipynb"
        out.parent.mkdir(parents=True)
        if cells is None:
            shutil.copy(EXERCISE.release_path, out)
        else:
            with_cells(EXERCISE.source_path, out, cells)
        (out.parent / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        paths.append(out)
    return paths


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"))
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def bare_execution(paths: list[Path]) -> float:
    import nbformat
    from nbclient import NotebookClient

    import logging

    logging.getLogger("traitlets").setLevel(logging.ERROR)  # the kernel's TCP notice, once per notebook
    start = time.monotonic()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        stock = tmp / "stock"
        ours = tmp / "ours"
        (stock / "source" / "week01").mkdir(parents=True)
        shutil.copy(EXERCISE.source_path, stock / "source" / "week01" / "attention.ipynb")
        (stock / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
            "c.ExecutePreprocessor.timeout = 120\n"
        )
        paths = cohort(stock / "submitted", args.size)
        shutil.copytree(stock / "submitted", ours / "submitted")
        timed([str(BIN / "nbgrader"), "generate_assignment", "week01", "--force"], stock)
        # The students' roster: nbgrader autograde refuses unknown students by default.
        for student in sorted(p.name for p in (stock / "submitted").iterdir()):
            timed([str(BIN / "nbgrader"), "db", "student", "add", student], stock)

        print(f"{len(paths)} submissions, {args.jobs} jobs, {os.cpu_count()} cores", flush=True)
        bare = bare_execution(paths)
        print(f"bare execution (nbclient)     {bare:7.1f} s   {bare / len(paths):5.2f} s/notebook", flush=True)
        stock_s = timed([str(BIN / "nbgrader"), "autograde", "week01", "--force"], stock)
        print(f"stock nbgrader autograde      {stock_s:7.1f} s   {60 * len(paths) / stock_s:6.1f} submissions/min", flush=True)
        ours_s = timed([str(BIN / "autograder"), "autograde", "week01", "--course-dir", str(ours),
                        "--jobs", str(args.jobs), "--force"], REPO)
        print(f"autograder autograde          {ours_s:7.1f} s   {60 * len(paths) / ours_s:6.1f} submissions/min", flush=True)
        print(f"throughput ratio (ours/stock) {stock_s / ours_s:7.2f}x")
        per_sub = ours_s * args.jobs / len(paths)
        print(f"our time per submission per job slot {per_sub:.2f} s; "
              f"overhead over bare execution {per_sub - bare / len(paths):+.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
