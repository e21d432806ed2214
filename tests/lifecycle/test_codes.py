"""Certificate codes (附件3 第13条) and staff card numbers (附件2 第16条, 附件10 第13条)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.codes import (
    CertificateCodeLayout,
    ExaminerGrade,
    Segment,
    certificate_scope,
    format_certificate_code,
    format_examiner_card,
    format_supervisor_card,
    parse_certificate_code,
    parse_examiner_card,
    parse_supervisor_card,
    validate_certificate_code,
)
from lifecycle.idnumbers import PROVINCE_CODES

VALUES = dict(organisation_kind="Y", organisation="0001", province="32", site="000001", year=2026, level=5, serial=1)


def test_default_code_is_a_letter_and_21_digits() -> None:
    code = format_certificate_code(VALUES)
    assert code == "Y00013200000126" + "5" + "000001"
    assert len(code) == 22 and code[0].isupper() and code[1:].isdigit()
    assert parse_certificate_code(code) == {"organisation_kind": "Y", "organisation": "0001", "province": "32",
                                            "site": "000001", "year": "26", "level": "5", "serial": "000001"}
    assert certificate_scope(VALUES) == "Y000132000001265"


@pytest.mark.parametrize("code, words", [
    ("Y0001320000012650000", "22"),
    ("y000132000001265000001", "须为大写字母 A–Z"),
    ("X000132000001265000001", "不在 S、Y 之中"),
    ("Y000199000001265000001", "省份代码“99”不在"),
    ("Y000132000001266000001", "职业技能等级 1–5“6”不在"),
    ("Y00013200000126500000A", "须为数字 0–9"),
    ("Y000132000001265000000", "序列号不能为 0"),
])
def test_invalid_codes_are_explained(code: str, words: str) -> None:
    problems = validate_certificate_code(code)
    assert problems and any(words in str(p) for p in problems), problems
    with pytest.raises(ValueError):
        parse_certificate_code(code)


def test_bad_values_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="职业技能等级 1–5“6”不在"):
        format_certificate_code({**VALUES, "level": 6})
    with pytest.raises(ValueError, match="证书序列号“1000000”共 7 位，应为 6 位"):
        format_certificate_code({**VALUES, "serial": 1_000_000})
    with pytest.raises(ValueError, match="缺少考点/机构序号"):
        format_certificate_code({k: v for k, v in VALUES.items() if k != "site"})


def test_layouts_are_configurable_within_the_regulation() -> None:
    alt = CertificateCodeLayout((
        Segment("kind", 1, "letter"), Segment("filing", 10), Segment("year", 2), Segment("level", 1),
        Segment("serial", 8)), name="filing-number")
    code = format_certificate_code({"kind": "S", "filing": 3205000001, "year": 26, "level": 3, "serial": 42}, alt)
    assert code == "S3205000001263" + "00000042" and parse_certificate_code(code, alt)["filing"] == "3205000001"
    with pytest.raises(ValueError, match="22"):
        CertificateCodeLayout((Segment("k", 1, "letter"), Segment("year", 2), Segment("level", 1), Segment("serial", 6)))
    with pytest.raises(ValueError, match="第一段须为一个大写字母"):
        CertificateCodeLayout((Segment("org", 12), Segment("year", 2), Segment("level", 1), Segment("serial", 7)))
    with pytest.raises(ValueError, match="必须包含“level”段"):
        CertificateCodeLayout((Segment("k", 1, "letter"), Segment("org", 13), Segment("year", 2), Segment("serial", 6)))


code_values = st.fixed_dictionaries({
    "organisation_kind": st.sampled_from(["Y", "S"]),
    "organisation": st.integers(0, 9999),
    "province": st.sampled_from(sorted(PROVINCE_CODES)),
    "site": st.integers(0, 999_999),
    "year": st.integers(2000, 2099),
    "level": st.integers(1, 5),
    "serial": st.integers(1, 999_999),
})


@given(code_values)
def test_generated_codes_are_valid_and_parse_back(values: dict) -> None:
    code = format_certificate_code(values)
    assert validate_certificate_code(code) == []
    parsed = parse_certificate_code(code)
    assert int(parsed["serial"]) == values["serial"] and int(parsed["level"]) == values["level"]
    assert int(parsed["year"]) == values["year"] % 100 and parsed["province"] == values["province"]
    assert format_certificate_code(parsed) == code  # round trip


@given(code_values, code_values)
def test_different_values_give_different_codes(a: dict, b: dict) -> None:
    norm = lambda v: {**v, "year": v["year"] % 100}  # noqa: E731
    if norm(a) != norm(b):
        assert format_certificate_code(a) != format_certificate_code(b)


@given(st.lists(st.integers(1, 999_999), min_size=1, max_size=50, unique=True))
def test_distinct_serials_in_one_scope_give_distinct_valid_codes(serials: list[int]) -> None:
    codes = {format_certificate_code({**VALUES, "serial": s}) for s in serials}
    assert len(codes) == len(serials) and all(not validate_certificate_code(c) for c in codes)


def test_examiner_card_number() -> None:
    n = format_examiner_card("3205000000001", ExaminerGrade.SENIOR, 17)
    assert n == "3205000000001" + "2" + "0017" and len(n) == 18
    card = parse_examiner_card(n)
    assert card.grade is ExaminerGrade.SENIOR and card.serial == 17 and card.institution_code == "3205000000001"
    for bad in ("320500000000190017", "32050000000012001", "3205000000001X0017", "320500000000110000"):
        with pytest.raises(ValueError):
            parse_examiner_card(bad)
    with pytest.raises(ValueError, match="机构代码“320500”应为 13 位数字"):
        format_examiner_card("320500", 1, 1)
    with pytest.raises(ValueError, match="1–9999"):
        format_examiner_card("3205000000001", 1, 10_000)


def test_examiner_grades_and_levels() -> None:
    # 附件2 第5条: 考评员 levels 5–3, 高级考评员 also 2 and 1
    assert [lvl for lvl in range(1, 6) if ExaminerGrade.EXAMINER.may_examine(lvl)] == [3, 4, 5]
    assert all(ExaminerGrade.SENIOR.may_examine(lvl) for lvl in range(1, 6))


@given(st.integers(1, 99_999))
def test_supervisor_card_round_trip(serial: int) -> None:
    n = format_supervisor_card("3205000000001", serial)
    assert len(n) == 18 and n.isdigit() and parse_supervisor_card(n).serial == serial


def test_supervisor_card_rejects_bad_numbers() -> None:
    with pytest.raises(ValueError):
        parse_supervisor_card("320500000000100000")
    with pytest.raises(ValueError):
        format_supervisor_card("3205000000001", 100_000)
