"""Time rules: Auto Scaling's cron recurrences and RDS's backup and maintenance windows.

Each ``*_problem`` returns None for a good value, else the rule it breaks with the AWS
limit, phrased to follow "setting=value:".
"""
from __future__ import annotations

import re

from stack.config.aws_limits import CRON_FIELDS, RDS_WINDOW_MIN_MINUTES, RECURRENCE_MAX_LENGTH

DAY, WEEK = 24 * 60, 7 * 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"
_DAY = "(" + "|".join(WEEKDAYS) + ")"
DAILY_WINDOW = re.compile(rf"{_HHMM}-{_HHMM}")
WEEKLY_WINDOW = re.compile(rf"{_DAY}:{_HHMM}-{_DAY}:{_HHMM}")
_CRON_ITEM = re.compile(r"(?P<base>\*|(?P<low>\w+)(?:-(?P<high>\w+))?)(?:/(?P<step>\d+))?")
_CRON_HINT = ("AWS Auto Scaling recurrences are Unix cron: 'minute hour day-of-month month "
              "day-of-week', e.g. '0 8 * * MON-FRI'")


def cron_problem(expr: str) -> str | None:
    if len(expr) > RECURRENCE_MAX_LENGTH:
        return f"is {len(expr)} characters; an Auto Scaling cron recurrence may have {RECURRENCE_MAX_LENGTH}"
    fields = expr.split(" ")
    if len(fields) != len(CRON_FIELDS) or not all(fields):
        return (f"needs {len(CRON_FIELDS)} cron fields separated by single spaces, got "
                f"{len([f for f in fields if f])}: {_CRON_HINT}")
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            problem = _cron_item_problem(item, low, high, names)
            if problem:
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                return (f"cron {name} field {text!r}: {problem} (allowed: {allowed}, with "
                        f"',' lists, '-' ranges, '*' and '/' steps; {_CRON_HINT})")
    return None


def _cron_item_problem(item: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    match = _CRON_ITEM.fullmatch(item)
    if not match:
        return f"{item!r} is not a value, a range or a step"
    values = []
    for part in (match["low"], match["high"]):
        if part is None:
            continue
        value = _cron_value(part, low, names)
        if value is None or not low <= value <= high:
            return f"{part!r} is out of range"
        values.append(value)
    if len(values) == 2 and values[0] > values[1]:
        return f"the range {item!r} runs backwards"
    if match["step"] is not None:
        if match["base"] != "*" and match["high"] is None:
            return f"a step needs '*' or a range before it, as in '*/{match['step']}'"
        if not 1 <= int(match["step"]) <= high:
            return f"the step in {item!r} must be 1-{high}"
    return None


def _cron_value(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return low + names.index(upper) if upper in names else None


def daily_minutes(window: str) -> tuple[int, int] | None:
    """(start, end) minutes after midnight of ``hh24:mi-hh24:mi``, or None."""
    match = DAILY_WINDOW.fullmatch(window)
    if not match:
        return None
    h1, m1, h2, m2 = map(int, match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def weekly_minutes(window: str) -> tuple[int, int] | None:
    """(start, end) minutes after Monday 00:00 of ``ddd:hh24:mi-ddd:hh24:mi``, or None."""
    match = WEEKLY_WINDOW.fullmatch(window)
    if not match:
        return None
    d1, h1, m1, d2, h2, m2 = match.groups()
    return (WEEKDAYS.index(d1) * DAY + int(h1) * 60 + int(m1),
            WEEKDAYS.index(d2) * DAY + int(h2) * 60 + int(m2))


def backup_window_problem(window: str) -> str | None:
    span = daily_minutes(window)
    if span is None:
        return "must be hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00 (RDS PreferredBackupWindow)"
    return _length_problem((span[1] - span[0]) % DAY, "backup")


def maintenance_window_problem(window: str) -> str | None:
    span = weekly_minutes(window)
    if span is None:
        return ("must be ddd:hh24:mi-ddd:hh24:mi in UTC with lowercase days "
                f"({' '.join(WEEKDAYS)}), e.g. sun:05:00-sun:06:00 (RDS PreferredMaintenanceWindow)")
    return _length_problem((span[1] - span[0]) % WEEK, "maintenance")


def _length_problem(minutes: int, kind: str) -> str | None:
    if minutes >= RDS_WINDOW_MIN_MINUTES:
        return None
    return (f"is {minutes} minutes long; RDS needs a {kind} window of at least "
            f"{RDS_WINDOW_MIN_MINUTES} minutes")


def windows_overlap(backup: str, maintenance: str) -> str | None:
    """The weekday on which the daily backup window overlaps the weekly maintenance window."""
    daily, weekly = daily_minutes(backup), weekly_minutes(maintenance)
    if daily is None or weekly is None:
        return None
    b_start, b_end = daily[0], daily[0] + (daily[1] - daily[0]) % DAY
    m_start, m_end = weekly[0], weekly[0] + (weekly[1] - weekly[0]) % WEEK
    for shift in (-WEEK, 0, WEEK):
        for day in range(-1, 8):
            start, end = day * DAY + b_start + shift, day * DAY + b_end + shift
            if start < m_end and m_start < end:
                return WEEKDAYS[day % 7]
    return None
