"""EventBridge schedule expressions: when a `rate(...)` or `cron(...)` rule fires next."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
_MONTHS = {name: n for n, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class ScheduleError(ValueError):
    """A schedule expression EventBridge would refuse."""


def next_fire_time(expression: str, after: datetime, created: datetime) -> datetime:
    """The first time strictly after `after` that a `rate(...)` or `cron(...)` schedule fires.

    A rate fires every period counted from the rule's creation; a cron expression (minutes,
    hours, day of month, month, day of week, year, in UTC) at each matching minute.
    """
    rate = _RATE.match(expression.strip())
    if rate is not None:
        period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
        if period <= 0:
            raise ScheduleError(expression)
        elapsed = (after - created).total_seconds()
        periods = int(elapsed // period) + 1 if elapsed >= 0 else 1
        return created + timedelta(seconds=periods * period)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _Cron(expression[5:-1]).next_after(after)
    raise ScheduleError(expression)


class _Cron:
    def __init__(self, fields: str) -> None:
        parts = fields.split()
        if len(parts) != 6:
            raise ScheduleError(f"cron({fields})")
        minutes, hours, self.days, months, self.weekdays, years = parts
        self.minutes = sorted(_cron_values(minutes, 0, 59, {}))
        self.hours = sorted(_cron_values(hours, 0, 23, {}))
        self.months = _cron_values(months, 1, 12, _MONTHS)
        self.years = _cron_values(years, 1970, 2199, {})

    def next_after(self, after: datetime) -> datetime:
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        moment = day.replace(hour=hour, minute=minute)
                        if moment >= start:
                            return moment
            day += timedelta(days=1)
        raise ScheduleError("the cron expression does not fire in the next five years")

    def _day_matches(self, day: datetime) -> bool:
        if self.days != "?" and not _day_of_month_matches(self.days, day):
            return False
        return self.weekdays == "?" or _weekday_matches(self.weekdays, day)


def _cron_values(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        for name, number in names.items():
            part = part.replace(name.upper(), str(number))
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            first, last = low, high
        elif "-" in span:
            first, last = (int(bound) for bound in span.split("-", 1))
        else:
            first = int(span)
            last = high if step else first
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def _day_of_month_matches(text: str, day: datetime) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    for part in text.upper().split(","):
        if part == "L":
            if day.day == last:
                return True
        elif part == "LW":
            if day.day == _nearest_weekday(day, last):
                return True
        elif part.endswith("W"):
            if day.day == _nearest_weekday(day, int(part[:-1])):
                return True
        elif day.day in _cron_values(part, 1, 31, {}):
            return True
    return False


def _nearest_weekday(day: datetime, target: int) -> int:
    last = calendar.monthrange(day.year, day.month)[1]
    target = min(target, last)
    weekday = day.replace(day=target).weekday()  # Monday 0 ... Sunday 6
    if weekday == 5:
        return target - 1 if target > 1 else target + 2
    if weekday == 6:
        return target + 1 if target < last else target - 2
    return target


def _weekday_matches(text: str, day: datetime) -> bool:
    number = (day.weekday() + 1) % 7 + 1  # EventBridge: SUN 1 ... SAT 7
    last = calendar.monthrange(day.year, day.month)[1]
    for part in text.upper().split(","):
        for name, value in _WEEKDAYS.items():
            part = part.replace(name, str(value))
        if "#" in part:
            weekday, nth = (int(x) for x in part.split("#"))
            if number == weekday and (day.day - 1) // 7 + 1 == nth:
                return True
        elif part.endswith("L"):
            weekday = int(part[:-1] or 7)
            if number == weekday and day.day + 7 > last:
                return True
        elif number in _cron_values(part, 1, 7, {}):
            return True
    return False
