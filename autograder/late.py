"""Due dates and the late-penalty policy.

Due dates live where nbgrader keeps them, in the gradebook
(``Assignment.duedate``, a naive UTC time; per-student extensions are
nbgrader's ``SubmittedAssignment.extension``). ``set_duedate`` reads the time
an instructor types in the course's time zone and stores it in UTC.

The policy lives in the course directory's ``autograder.toml``::

    timezone = "Europe/Paris"    # how typed due dates and LMS zip times are read (default UTC)

    [late_penalty]
    per_day = 0.10               # fraction of the week's score lost per day late, or part of a day
    max = 0.50                   # the most lateness can take
    grace_minutes = 5            # minutes after the due date that do not count

Without the file or the table there is no penalty (lateness is still reported).

Not handled: penalties per notebook (a week is late as a whole, as nbgrader's
submission timestamp is per week), penalties that are not a fraction of the
earned score, daylight-saving subtleties beyond what ``dateutil`` resolves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from pathlib import Path

CONFIG_NAME = "autograder.toml"
DAY = 86400.0


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    per_day: float = 0.0
    max: float = 1.0
    grace_minutes: float = 0.0

    def days_late(self, seconds_late: float | None) -> int:
        """Started days late after the grace period (0 when on time)."""
        if not seconds_late:
            return 0
        counted = seconds_late - 60.0 * self.grace_minutes
        return math.ceil(counted / DAY) if counted > 0 else 0

    def penalty(self, seconds_late: float | None) -> float:
        """The fraction of the score lost, between 0 and ``max``."""
        return min(self.max, self.per_day * self.days_late(seconds_late))

    def describe(self) -> str:
        if self.per_day <= 0:
            return "no late penalty"
        grace = f" after {self.grace_minutes:g} min of grace" if self.grace_minutes else ""
        return f"{self.per_day:.0%} per day late{grace}, at most {self.max:.0%}"


def load_config(course_dir: str | Path = ".") -> dict:
    path = Path(course_dir) / CONFIG_NAME
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_policy(course_dir: str | Path = ".") -> LatePolicy:
    table = load_config(course_dir).get("late_penalty", {})
    unknown = set(table) - {"per_day", "max", "grace_minutes"}
    if unknown:
        raise ValueError(f"{CONFIG_NAME}: unknown late_penalty keys {sorted(unknown)}")
    policy = LatePolicy(**{k: float(v) for k, v in table.items()})
    if not (0 <= policy.per_day <= 1 and 0 <= policy.max <= 1 and policy.grace_minutes >= 0):
        raise ValueError(f"{CONFIG_NAME}: per_day and max must be fractions between 0 and 1")
    return policy


def course_timezone(course_dir: str | Path = "."):
    """The course's time zone (a tzinfo) from autograder.toml, UTC by default."""
    from dateutil import tz

    name = load_config(course_dir).get("timezone", "UTC")
    zone = tz.gettz(name)
    if zone is None:
        raise ValueError(f"{CONFIG_NAME}: unknown time zone {name!r}")
    return zone


def to_utc(when: dt.datetime, zone) -> dt.datetime:
    """A naive UTC datetime; naive input is read in ``zone``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


def parse_time(text: str, course_dir: str | Path = ".") -> dt.datetime:
    """Parse "2026-12-01 23:59" (course time zone) or a time with an offset; return naive UTC."""
    from dateutil import parser

    try:
        when = parser.isoparse(text.strip())
    except ValueError:
        try:
            when = parser.parse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"not a date and time: {text!r} (try \"2026-12-01 23:59\")") from None
    if len(text.strip()) <= 10 and when.hour == when.minute == 0:  # a bare date: the end of that day
        when = when.replace(hour=23, minute=59, second=59)
    return to_utc(when, course_timezone(course_dir))


def set_duedate(week: str, when: str | dt.datetime, course_dir: str | Path = ".") -> dt.datetime:
    """Store ``week``'s due date in the gradebook; return it (naive UTC)."""
    from nbgrader.api import Gradebook

    from autograder.course import gradebook_url

    due = parse_time(when, course_dir) if isinstance(when, str) else to_utc(when, course_timezone(course_dir))
    with Gradebook(gradebook_url(Path(course_dir))) as gb:
        gb.update_or_create_assignment(week, duedate=due)
    return due


def get_duedate(week: str, course_dir: str | Path = ".") -> dt.datetime | None:
    """The week's due date (naive UTC), or None when none is set or there is no gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.course import gradebook_url

    if not (Path(course_dir) / "gradebook.db").exists():
        return None
    with Gradebook(gradebook_url(Path(course_dir))) as gb:
        try:
            return gb.find_assignment(week).duedate
        except MissingEntry:
            return None


def show_time(utc: dt.datetime | None, course_dir: str | Path = ".") -> str:
    """A naive UTC time shown in the course's time zone."""
    if utc is None:
        return "-"
    local = utc.replace(tzinfo=dt.timezone.utc).astimezone(course_timezone(course_dir))
    return local.strftime("%Y-%m-%d %H:%M %Z")


def describe_lateness(seconds: float) -> str:
    """e.g. "1 d 3 h" or "25 min"."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min"
