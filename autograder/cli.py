"""The ``autograder`` command: grade, release, collect, autograde, grade by hand, feedback, export.

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
    from autograder.release import ReleaseFailed, release

    weeks = None if args.week == "--all" or args.all else [args.week]
    if args.no_verify:
        print("warning: releasing WITHOUT checking solutions, stubs and leaks (--no-verify)", file=sys.stderr)
    try:
        paths = release(weeks, verify=not args.no_verify)
    except ReleaseFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in paths:
        print(f"released {path}")
    return 0


def _collect(args) -> int:
    from autograder.collect import CollectError, collect, format_rows

    try:
        rows = collect(args.week, args.path, course_dir=args.course_dir, accept_unknown=args.accept_unknown)
    except CollectError as exc:
        print(f"collect: {exc}", file=sys.stderr)
        return 1
    print(format_rows(rows, args.course_dir))
    return 0


def _roster(args) -> int:
    from autograder import roster

    try:
        if args.action == "add":
            fields = {"first_name": args.first_name, "last_name": args.last_name, "email": args.email,
                      "lms_user_id": args.lms_id}
            roster.add_student(args.course_dir, args.student_id, **fields)
            print(f"{args.student_id} is on the roster")
        elif args.action == "import":
            added, updated = roster.import_roster(args.course_dir, args.csv)
            print(f"{added} student(s) added, {updated} updated")
        else:
            print(roster.format_roster(roster.students(args.course_dir)))
    except roster.RosterError as exc:
        print(f"roster: {exc}", file=sys.stderr)
        return 1
    return 0


def _duedate(args) -> int:
    from autograder.late import get_duedate, set_duedate, show_time

    if args.when:
        try:
            set_duedate(args.week, args.when, args.course_dir)
        except ValueError as exc:
            print(f"duedate: {exc}", file=sys.stderr)
            return 1
    due = get_duedate(args.week, args.course_dir)
    print(f"{args.week} is due {show_time(due, args.course_dir)}" if due else f"{args.week} has no due date")
    return 0


def _manual(args) -> int:
    from autograder import manual

    try:
        if args.to_csv:
            n = manual.to_csv(args.week, args.to_csv, args.course_dir)
            print(f"{n} written answer(s) written to {args.to_csv}")
        elif args.from_csv:
            n = manual.from_csv(args.week, args.from_csv, args.course_dir)
            print(f"{n} score(s) saved from {args.from_csv}")
        else:
            manual.walk(args.week, args.course_dir, students=args.student, include_graded=args.all)
    except manual.ManualGradingError as exc:
        print(f"manual: {exc}", file=sys.stderr)
        return 1
    return 0


def _feedback(args) -> int:
    from autograder.feedback import generate_feedback

    paths = generate_feedback(args.week, args.course_dir, students=args.student)
    for path in paths:
        print(f"feedback {path}")
    print(f"{len(paths)} feedback page(s) written")
    return 0


def _check(args) -> int:
    from autograder.check import check_notebook, format_check

    result = check_notebook(args.notebook)
    print(format_check(result))
    return 0 if result.ok else 1


def _doctor(args) -> int:
    from autograder.doctor import format_checks, run_checks

    checks = run_checks()
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


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
    from autograder.grades import export

    path = export(course_dir=args.course_dir, output=args.output, gradescope_dir=args.gradescope)
    print(f"grades written to {path}")
    if args.gradescope:
        print(f"Gradescope results written under {args.gradescope}/<week>/<student>/results.json")
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
    p.add_argument("--no-verify", action="store_true",
                   help="skip the checks (solutions full marks, stubs zero, no leaks): emergencies only")
    p.set_defaults(func=_release)

    p = sub.add_parser("collect", help="import submissions (folder, Canvas or Moodle zip) into submitted/")
    p.add_argument("week")
    p.add_argument("path", help="a folder or an LMS bulk-download zip; never modified")
    p.add_argument("--course-dir", default=".")
    p.add_argument("--accept-unknown", action="store_true", help="import students who are not on the roster")
    p.set_defaults(func=_collect)

    p = sub.add_parser("roster", help="the students in the gradebook: add, import a CSV, list")
    roster_sub = p.add_subparsers(dest="action", required=True)
    r = roster_sub.add_parser("add", help="add a student (or update their fields)")
    r.add_argument("student_id")
    r.add_argument("--first-name")
    r.add_argument("--last-name")
    r.add_argument("--email")
    r.add_argument("--lms-id", help="the LMS user id (Canvas user id, Moodle participant id)")
    r = roster_sub.add_parser("import", help="add or update students from a CSV (id,first_name,last_name,email,lms_user_id)")
    r.add_argument("csv")
    roster_sub.add_parser("list", help="list the students")
    for r in roster_sub.choices.values():
        r.add_argument("--course-dir", default=".")
    p.set_defaults(func=_roster)

    p = sub.add_parser("duedate", help="show or set a week's due date (course time zone, autograder.toml)")
    p.add_argument("week")
    p.add_argument("when", nargs="?", help='e.g. "2026-12-01 23:59"; omit to show the current one')
    p.add_argument("--course-dir", default=".")
    p.set_defaults(func=_duedate)

    p = sub.add_parser("autograde", help="grade every submission of a week into the gradebook")
    p.add_argument("week")
    p.add_argument("--course-dir", default=".", help="nbgrader course directory (default: .)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded side by side (default: cores)")
    p.add_argument("--force", action="store_true", help="regrade submissions that have not changed")
    p.add_argument("--dask-scheduler", default=None, help="grade on this Dask cluster (address)")
    p.set_defaults(func=_autograde)

    p = sub.add_parser("manual", help="grade written answers by hand, in the terminal or from a CSV")
    p.add_argument("week")
    p.add_argument("--course-dir", default=".")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--all", action="store_true", help="also revisit answers that already have a score")
    p.add_argument("--from-csv", help="read scores (student,notebook,cell,score[,comment]) instead of asking")
    p.add_argument("--to-csv", help="write every written answer to this CSV to grade elsewhere")
    p.set_defaults(func=_manual)

    p = sub.add_parser("feedback", help="write feedback/<student>/<week>/<name>.html for every submission")
    p.add_argument("week")
    p.add_argument("--course-dir", default=".")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.set_defaults(func=_feedback)

    p = sub.add_parser("export", help="write the gradebook's grades as CSV, with late penalties")
    p.add_argument("--course-dir", default=".")
    p.add_argument("--output", default="grades.csv")
    p.add_argument("--gradescope", metavar="DIR", help="also write DIR/<week>/<student>/results.json")
    p.set_defaults(func=_export)

    p = sub.add_parser("check", help="run a notebook's public checks and say which property failed")
    p.add_argument("notebook")
    p.set_defaults(func=_check)

    p = sub.add_parser("doctor", help="check this machine's set-up for the course")
    p.set_defaults(func=_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
