"""Working days: Monday to Friday, less public holidays, plus make-up working days (调休)
that fall on a weekend. Holidays and make-up days are data (``calendar_days`` rows, loaded by
``lifecycle.publication.load_calendar``). Pure; no database.

附件1 第26条: 认定结果公示5 个工作日后无异议，按规定程序发布认定成绩.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from itembank.errors import ConfigurationError
from itembank.i18n import Message

_MAX_SCAN_DAYS = 800  # no real calendar lacks a working day for two years


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()  # 调休: weekend days worked

    @classmethod
    def of(cls, holidays: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> "WorkingCalendar":
        h, w = frozenset(holidays), frozenset(makeup_workdays)
        both = h & w
        if both:
            raise ConfigurationError(Message(
                "the working-day calendar marks {days} both as a holiday and as a make-up working day: remove "
                "one of the two marks", days=sorted(both)), field="calendar")
        return cls(h, w)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``add_working_days(Friday, 1)`` is the next Monday when that is a working day.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day, counted = start, 0
        for _ in range(_MAX_SCAN_DAYS):
            if counted == n:
                return day
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        if counted == n:
            return day
        raise ConfigurationError(Message(
            "the working-day calendar has fewer than {n} working days in the {days} days after {start}: check the "
            "holidays marked in it", n=n, days=_MAX_SCAN_DAYS, start=start), field="calendar")

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        n, day = 0, start
        while day < end:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return n


def publication_end(calendar: WorkingCalendar, starts_on: date, working_days: int = 5) -> date:
    """Last day of a publication that starts on ``starts_on``: the 5th working day after it.

    The start day is not counted (a notice posted during the day does not give a full day),
    so the public always has 5 whole working days; release is possible the day after the end.
    """
    return calendar.add_working_days(starts_on, working_days)
