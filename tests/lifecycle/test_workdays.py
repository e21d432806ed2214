"""Working days for the 5-working-day publication (附件1 第26条)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itembank.errors import ConfigurationError
from lifecycle.workdays import WorkingCalendar, publication_end

PLAIN = WorkingCalendar()
# 2026 National Day: 1–7 October off (Thu–Wed), 8 Oct (Thu) off too in this example;
# make-up working days Sunday 27 September and Saturday 10 October (调休).
NATIONAL_DAY = WorkingCalendar.of(
    holidays=[date(2026, 10, d) for d in range(1, 9)],
    makeup_workdays=[date(2026, 9, 27), date(2026, 10, 10)],
)


def test_weekends_are_skipped() -> None:
    monday = date(2026, 11, 23)
    assert publication_end(PLAIN, monday) == date(2026, 11, 30)  # Tue..Fri, Mon
    friday = date(2026, 11, 27)
    assert publication_end(PLAIN, friday) == date(2026, 12, 4)
    saturday = date(2026, 11, 28)
    assert publication_end(PLAIN, saturday) == date(2026, 12, 4)


def test_holidays_are_skipped_and_makeup_days_count() -> None:
    start = date(2026, 9, 29)  # Tuesday
    # Wed 30 Sep; 1–8 Oct off; Fri 9 Oct; Sat 10 Oct (调休, works); Mon 12; Tue 13
    assert publication_end(NATIONAL_DAY, start) == date(2026, 10, 13)
    assert NATIONAL_DAY.is_working_day(date(2026, 9, 27)) and not NATIONAL_DAY.is_working_day(date(2026, 10, 5))
    assert NATIONAL_DAY.working_days_between(start, date(2026, 10, 13)) == 5


def test_a_day_cannot_be_both() -> None:
    with pytest.raises(ConfigurationError, match="同时标为节假日和调休上班日"):
        WorkingCalendar.of(holidays=[date(2026, 1, 1)], makeup_workdays=[date(2026, 1, 1)])
    with pytest.raises(ValueError):
        PLAIN.add_working_days(date(2026, 1, 1), -1)


@given(start=st.dates(date(2020, 1, 1), date(2030, 12, 31)), n=st.integers(1, 30),
       holidays=st.sets(st.dates(date(2020, 1, 1), date(2031, 3, 31)), max_size=40))
def test_the_end_is_a_working_day_with_exactly_n_working_days_after_the_start(start, n, holidays) -> None:  # type: ignore[no-untyped-def]
    cal = WorkingCalendar.of(holidays=holidays)
    end = cal.add_working_days(start, n)
    assert cal.is_working_day(end) and end > start
    assert cal.working_days_between(start, end) == n
    assert cal.working_days_between(start, end - timedelta(days=1)) == n - 1
