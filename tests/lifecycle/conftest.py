"""Fixtures of the lifecycle service tests: an occupation with banks, settings, people."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from itembank.domain import Level, OccupationCategory
from itembank.occupations import create_bank, create_occupation
from lifecycle.config import LifecycleSettings
from lifecycle.idnumbers import mainland_check_digit

OCC = "6-31-01-03"
CST = timezone(timedelta(hours=8))


def make_id(n: int, birth: date = date(1990, 5, 17)) -> str:
    first17 = f"320102{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + mainland_check_digit(first17)


@pytest.fixture()
def settings() -> LifecycleSettings:
    return LifecycleSettings(qr_secret=SecretStr("test-secret"), institution="苏州信息职业技术学院",
                             organisation_code="0321", province_code="32", site_serial="000007",
                             institution_code="3205000000001", _env_file=None)


@pytest.fixture()
def occupation(session: Session):  # type: ignore[no-untyped-def]
    occ = create_occupation(session, code=OCC, name="电工", category=OccupationCategory.TECHNICAL_SKILL)
    for lvl in (Level.L5, Level.L2):
        create_bank(session, occupation_code=OCC, level=lvl)
    return occ


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)
