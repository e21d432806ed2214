"""Certificate codes and staff card numbers: build, parse, validate. Pure; no database.

Certificate code (附件3 第13条): 22 characters, 1 upper-case letter and 21 digits, built from
the institution's filing number, the year of issue, the level and a serial; one code per
certificate. The published convention (DOMAIN.md) splits it as letter (Y employer / S social
organisation) + 4-digit organisation code + 2-digit province + 6-digit site serial + 2-digit
year + 1-digit level + 6-digit serial; ``CertificateCodeLayout`` makes the split
configurable within the regulation's 1 letter + 21 digits.

Examiner cards (附件2 第16条): 18 digits = institution code (13) + examiner grade (1) + serial (4).
Supervisor cards (附件10 第13条): 18 digits = institution code (13) + serial (5).
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from lifecycle.idnumbers import PROVINCE_CODES
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

CODE_LENGTH = 22  # 附件3 第13条


@dataclass(frozen=True, slots=True)
class Segment:
    """One field of the code: ``letter`` (upper-case A–Z) or ``digits``; ``allowed`` restricts
    the values (None: any of the right form)."""

    name: str
    length: int
    kind: str = "digits"
    allowed: frozenset[str] | None = None
    description: str = ""

    def problems(self, value: str) -> list[Message]:
        label = self.description or self.name
        if len(value) != self.length:
            return [Message("{segment}: '{value}' has {n} characters, {length} are needed", segment=label, value=value,
                            n=len(value), length=self.length)]
        if self.kind == "letter" and not all(c in string.ascii_uppercase for c in value):
            return [Message("{segment}: '{value}' must be upper-case letters A–Z", segment=label, value=value)]
        if self.kind == "digits" and not (value.isascii() and value.isdigit()):
            return [Message("{segment}: '{value}' must be digits 0–9", segment=label, value=value)]
        if self.allowed is not None and value not in self.allowed:
            return [Message("{segment}: '{value}' is not one of {allowed}", segment=label, value=value,
                            allowed=sorted(self.allowed))]
        return []


REQUIRED_SEGMENTS = ("year", "level", "serial")


@dataclass(frozen=True, slots=True)
class CertificateCodeLayout:
    """The segments of a certificate code, left to right.

    The layout must keep the regulation's form (1 upper-case letter then 21 digits) and hold
    ``year`` (2 digits), ``level`` (1 digit) and ``serial`` segments; the other segments (the
    institution's filing number) are free.
    """

    segments: tuple[Segment, ...]
    name: str = "default"
    offsets: dict[str, tuple[int, int]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.segments]
        problems: list[Message] = []
        if len(set(names)) != len(names):
            problems.append(Message("segment names repeat"))
        for req in REQUIRED_SEGMENTS:
            if req not in names:
                problems.append(Message("a '{segment}' segment is required", segment=req))
        total = sum(s.length for s in self.segments)
        if total != CODE_LENGTH:
            problems.append(Message("the segments add up to {total} characters; 附件3 第13条 needs {length}", total=total,
                                    length=CODE_LENGTH))
        if not self.segments or self.segments[0].kind != "letter" or self.segments[0].length != 1:
            problems.append(Message("the first segment must be one upper-case letter (附件3 第13条)"))
        if any(s.kind != "digits" for s in self.segments[1:]):
            problems.append(Message("every segment after the letter must be digits (附件3 第13条)"))
        by = {s.name: s for s in self.segments}
        if "year" in by and by["year"].length != 2:
            problems.append(Message("the year segment has 2 digits"))
        if "level" in by and by["level"].length != 1:
            problems.append(Message("the level segment has 1 digit"))
        if problems:
            raise ValueError(Message("The layout of the certificate code is wrong: {problems}", problems=problems))
        offsets: dict[str, tuple[int, int]] = {}
        pos = 0
        for s in self.segments:
            offsets[s.name] = (pos, pos + s.length)
            pos += s.length
        object.__setattr__(self, "offsets", offsets)

    @property
    def serial_segment(self) -> Segment:
        return next(s for s in self.segments if s.name == "serial")

    @property
    def max_serial(self) -> int:
        return 10 ** self.serial_segment.length - 1


LEVEL_DIGITS = frozenset("12345")

DEFAULT_LAYOUT = CertificateCodeLayout(
    (
        Segment("organisation_kind", 1, "letter", frozenset({"Y", "S"}),
                "Y 用人单位 / S 社会培训评价组织"),
        Segment("organisation", 4, description="评价机构代码"),
        Segment("province", 2, allowed=PROVINCE_CODES, description="省份代码"),
        Segment("site", 6, description="考点/机构序号"),
        Segment("year", 2, description="核发年份后两位"),
        Segment("level", 1, allowed=LEVEL_DIGITS, description="职业技能等级 1–5"),
        Segment("serial", 6, description="证书序列号"),
    )
)


def _value_str(seg: Segment, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and seg.kind == "digits":
        if value < 0:
            return str(value)
        return f"{value:0{seg.length}d}"
    return str(value)


def format_certificate_code(values: Mapping[str, object], layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> str:
    """Build the code from segment values (ints are zero-padded; ``year`` may be 2026 or 26).

    Raises ValueError listing every bad or missing segment.
    """
    vals = dict(values)
    if isinstance(vals.get("year"), int) and vals["year"] >= 100:  # type: ignore[operator]
        vals["year"] = vals["year"] % 100  # type: ignore[operator]
    parts: list[str] = []
    problems: list[Message] = []
    for seg in layout.segments:
        if seg.name not in vals:
            problems.append(Message("{segment}: missing", segment=seg.description or seg.name))
            continue
        text = _value_str(seg, vals[seg.name])
        problems += seg.problems(text)
        parts.append(text)
    if not problems and int(parts[[s.name for s in layout.segments].index("serial")]) == 0:
        problems.append(Message("serial number 0 is not a serial number; serial numbers start at 1"))
    if problems:
        raise ValueError(Message("Certificate code: {problems}", problems=problems))
    return "".join(parts)


def validate_certificate_code(code: str, layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> list[Message]:
    """Every problem of ``code`` under ``layout``; empty when valid."""
    if not isinstance(code, str):
        return [Message("the code '{code}' is not text", code=code)]
    if len(code) != CODE_LENGTH:
        return [Message("the code '{code}' has {n} characters; a certificate code has {length} (1 upper-case letter "
                        "and 21 digits, 附件3 第13条)", code=code, n=len(code), length=CODE_LENGTH)]
    problems: list[Message] = []
    for seg in layout.segments:
        a, b = layout.offsets[seg.name]
        problems += seg.problems(code[a:b])
    if not problems and int(code[slice(*layout.offsets["serial"])]) == 0:
        problems.append(Message("serial number 0 is not a serial number"))
    return problems


def parse_certificate_code(code: str, layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> dict[str, str]:
    """Segment name -> text; raises ValueError naming every problem."""
    problems = validate_certificate_code(code, layout)
    if problems:
        raise ValueError(Message("Certificate code: {problems}", problems=problems))
    return {seg.name: code[slice(*layout.offsets[seg.name])] for seg in layout.segments}


def certificate_scope(values: Mapping[str, object], layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> str:
    """The counter scope of a code: every segment but the serial, e.g. ``Y00013200000126 5``
    without spaces. Serials count up within one (prefix, year, level)."""
    probe = dict(values)
    probe["serial"] = 1
    code = format_certificate_code(probe, layout)
    a, b = layout.offsets["serial"]
    return code[:a] + code[b:]


# --------------------------------------------------------------------------------------
# Staff cards


INSTITUTION_CODE_LENGTH = 13


class ExaminerGrade(enum.IntEnum):
    """The grade digit of an examiner card (附件2 第5条: 考评员 and 高级考评员).

    The digit values are this centre's convention (the regulation fixes only its position).
    """

    EXAMINER = 1  # 考评员: levels 5, 4, 3
    SENIOR = 2  # 高级考评员: every level, including 2 and 1

    @property
    def zh(self) -> str:
        return {1: "考评员", 2: "高级考评员"}[int(self)]

    def may_examine(self, level: int) -> bool:
        """附件2 第5条: 考评员 examine levels 5–3; 高级考评员 every level."""
        return self is ExaminerGrade.SENIOR or int(level) >= 3


def _institution_problems(code: str) -> list[Message]:
    if len(code) != INSTITUTION_CODE_LENGTH or not (code.isascii() and code.isdigit()):
        return [Message("institution code '{code}': {n} digits are needed", code=code, n=INSTITUTION_CODE_LENGTH)]
    return []


def format_examiner_card(institution_code: str, grade: ExaminerGrade | int, serial: int) -> str:
    """附件2 第16条: 学院代码（13 位）+考评人员等级（1 位）+序列号（4 位）."""
    problems = _institution_problems(institution_code)
    try:
        g = ExaminerGrade(int(grade))
    except ValueError:
        problems.append(Message("grade '{grade}': use {grades}", grade=grade,
                                grades=[f"{int(x)} ({x.zh})" for x in ExaminerGrade]))
        g = None
    if not 1 <= serial <= 9999:
        problems.append(Message("serial number {serial}: use 1–9999 (4 digits)", serial=serial))
    if problems:
        raise ValueError(Message("Examiner card: {problems}", problems=problems))
    return f"{institution_code}{int(g)}{serial:04d}"  # type: ignore[arg-type]


def format_supervisor_card(institution_code: str, serial: int) -> str:
    """附件10 第13条: 机构代码（13位）+ 序列号（5位）."""
    problems = _institution_problems(institution_code)
    if not 1 <= serial <= 99999:
        problems.append(Message("serial number {serial}: use 1–99999 (5 digits)", serial=serial))
    if problems:
        raise ValueError(Message("Supervisor card: {problems}", problems=problems))
    return f"{institution_code}{serial:05d}"


@dataclass(frozen=True, slots=True)
class CardNumber:
    institution_code: str
    serial: int
    grade: ExaminerGrade | None = None  # examiner cards only


def _card_shape(number: str, what: Message) -> list[Message]:
    if not isinstance(number, str) or len(number) != 18 or not (number.isascii() and number.isdigit()):
        return [Message("{card} '{number}': 18 digits are needed", card=what, number=number)]
    return []


def parse_examiner_card(number: str) -> CardNumber:
    problems = _card_shape(number, Message("examiner card"))
    if not problems:
        if number[13] not in {str(int(g)) for g in ExaminerGrade}:
            problems.append(Message("examiner card {number}: the grade digit {digit} is not one of {grades}",
                                    number=number, digit=number[13],
                                    grades=[f"{int(g)} ({g.zh})" for g in ExaminerGrade]))
        if number[14:] == "0000":
            problems.append(Message("examiner card {number}: serial number 0000", number=number))
    if problems:
        raise ValueError(Message("{problems}", problems=problems))
    return CardNumber(number[:13], int(number[14:]), ExaminerGrade(int(number[13])))


def parse_supervisor_card(number: str) -> CardNumber:
    problems = _card_shape(number, Message("supervisor card"))
    if not problems and number[13:] == "00000":
        problems.append(Message("supervisor card {number}: serial number 00000", number=number))
    if problems:
        raise ValueError(Message("{problems}", problems=problems))
    return CardNumber(number[:13], int(number[13:]))
