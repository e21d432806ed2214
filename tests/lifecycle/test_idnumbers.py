"""ID numbers: GB 11643-1999 MOD 11-2 check digit, birth date, other document formats
(附件1 第6条 registration with the ID card; 附件3 第11条 证件类型/证件号码 on certificates)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.idnumbers import (
    IdType,
    check_id_number,
    mainland_check_digit,
    mask_id_number,
    normalise_id_number,
)

TODAY = date(2026, 11, 28)


def test_the_standards_worked_example_is_valid() -> None:
    # GB 11643-1999 appendix example: 11010519491231002X
    assert mainland_check_digit("11010519491231002") == "X"
    c = check_id_number(IdType.MAINLAND_ID, "11010519491231002x", today=TODAY)
    assert c.ok and c.number == "11010519491231002X"
    assert c.birth_date == date(1949, 12, 31) and c.sex == "F"


def test_a_mistyped_digit_is_caught_and_named() -> None:
    c = check_id_number("mainland_id", "110105194912310021", today=TODAY)
    assert not c.ok and str(c.errors[0]) == ("证件号码：110105194912310021 的校验码为 1，按 GB 11643-1999 应为 X，"
                                            "可能有数字输错")
    assert c.errors[0].field == "id_number"


@pytest.mark.parametrize("number, words", [
    ("11010519491332002X", "19491332 不是有效的出生日期"),
    ("99010519491231002X", "990105 不是行政区划代码"),
    ("1101051949123100", "共 16 位，居民身份证号码应为 18 位"),
    ("1101051949123100AX", "前 17 位为数字"),
    ("110105219912310025", "出生日期 2199年12月31日 不合理"),  # year 2199: in the future
])
def test_bad_mainland_numbers(number: str, words: str) -> None:
    c = check_id_number(IdType.MAINLAND_ID, number, today=TODAY)
    assert not c.ok and any(words in str(e) for e in c.errors), [str(e) for e in c.errors]


@given(region=st.sampled_from(["110105", "320102", "440305", "810000", "830000"]),
       birth=st.dates(date(1930, 1, 1), date(2010, 12, 31)),
       order=st.integers(0, 999))
def test_every_generated_number_validates_and_every_corruption_of_the_check_digit_fails(
        region: str, birth: date, order: int) -> None:
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    good = first17 + mainland_check_digit(first17)
    c = check_id_number(IdType.MAINLAND_ID, good, today=TODAY)
    assert c.ok and c.birth_date == birth
    for wrong in "0123456789X":
        if wrong != good[-1]:
            assert not check_id_number(IdType.MAINLAND_ID, first17 + wrong, today=TODAY).ok


@given(pos=st.integers(0, 16), delta=st.integers(1, 9))
def test_any_single_digit_error_is_detected(pos: int, delta: int) -> None:
    good = "11010519491231002X"
    digits = list(good)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    assert mainland_check_digit("".join(digits[:17])) != "X"  # MOD 11-2 catches every single error


@pytest.mark.parametrize("id_type, number, ok", [
    (IdType.PASSPORT, "E12345678", True),
    (IdType.PASSPORT, "E1234", True),
    (IdType.PASSPORT, "E-123", False),
    (IdType.HK_MACAO_PERMIT, "H12345678", True),
    (IdType.HK_MACAO_PERMIT, "M1234567801", True),
    (IdType.HK_MACAO_PERMIT, "X12345678", False),
    (IdType.TAIWAN_PERMIT, "12345678", True),
    (IdType.TAIWAN_PERMIT, "1234567", False),
    (IdType.FOREIGN_PERMANENT, "USA110069060101", True),
    (IdType.FOREIGN_PERMANENT, "USA11006906010", False),
])
def test_other_documents_get_format_checks(id_type: IdType, number: str, ok: bool) -> None:
    assert check_id_number(id_type, number, today=TODAY).ok is ok


def test_new_foreign_permanent_id_uses_the_same_check_digit() -> None:
    first17 = "93305619850101001"
    assert check_id_number(IdType.FOREIGN_PERMANENT, first17 + mainland_check_digit(first17)).ok
    wrong = "0" if mainland_check_digit(first17) != "0" else "1"
    assert not check_id_number(IdType.FOREIGN_PERMANENT, first17 + wrong).ok


def test_normalise_and_mask_and_parse() -> None:
    assert normalise_id_number(" １１０１０５ 19491231002x ") == "11010519491231002X"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert IdType.parse("居民身份证") is IdType.MAINLAND_ID and IdType.parse("身份证") is IdType.MAINLAND_ID
    with pytest.raises(ValueError, match="“驾驶证”不是证件类型"):
        IdType.parse("驾驶证")
    assert not check_id_number("驾驶证", "123").ok
