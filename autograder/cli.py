"""The ``autograder`` command: grade, release, autograde, export.

One subcommand per step of the course's data flow (see README.md). Each
subcommand's work lives in its own module; this file only parses arguments.
"""

from __future__ import annotations

import argparse
import json
import sys


def _grade(args) -> int:
    from autograder.engine import format_report, grade_notebook

    report = grade_notebook(args.notebook)
    if args.json:
        keys = ("score", "max_score", "tests")
        public = {k: report[k] for k in keys}
        public["tests"] = [
            {k: t[k] for k in ("name", "points", "max_points", "passed", "message")} for t in report["tests"]
        ]
        if report.get("error"):
            public["error"] = report["error"]
        print(json.dumps(public, indent=None))
    else:
        print(format_report(report))
    return 0 if not report.get("error") else 1


def _release(args) -> int:
    from autograder.release import release

    weeks = None if args.week == "--all" or args.all else [args.week]
    for path in release(weeks):
        print(f"released {path}")
    return 0


def _autograde(args) -> int:
    from autograder.course import autograde

    autograde(
        args.week,
        course_dir=args.course_dir,
        students=args.student or None,
        jobs=args.jobs,
        force=args.force,
        dask_scheduler=args.dask_scheduler,
    )
    return 0


def _export(args) -> int:
    from autograder.course import export_grades

    path = export_grades(course_dir=args.course_dir, output=args.output)
    print(f"grades written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one notebook and print a per-test report")
    p.add_argument("notebook")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=_grade)

    p = sub.add_parser("release", help="generate exercises/weekNN from solutions/weekNN")
    p.add_argument("week", nargs="?", default="--all", help="e.g. week01; all weeks if omitted")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_release)

    p = sub.add_parser("autograde", help="grade every submission of a week into the gradebook")
    p.add_argument("week")
    p.add_argument("--course-dir", default=".", help="nbgrader course directory (default: .)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded side by side (default: cores)")
    p.add_argument("--force", action="store_true", help="regrade submissions that have not changed")
    p.add_argument("--dask-scheduler", default=None, help="grade on this Dask cluster (address)")
    p.set_defaults(func=_autograde)

    p = sub.add_parser("export", help="write the gradebook's grades as CSV")
    p.add_argument("--course-dir", default=".")
    p.add_argument("--output", default="grades.csv")
    p.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
