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

    def problems(self, value: str) -> list[str]:
        if len(value) != self.length:
            return [f"{self.name}: {value!r} has {len(value)} characters, needs {self.length}"]
        if self.kind == "letter" and not all(c in string.ascii_uppercase for c in value):
            return [f"{self.name}: {value!r} must be upper-case letters A–Z"]
        if self.kind == "digits" and not (value.isascii() and value.isdigit()):
            return [f"{self.name}: {value!r} must be digits 0–9"]
        if self.allowed is not None and value not in self.allowed:
            return [f"{self.name}: {value!r} is not one of {', '.join(sorted(self.allowed))}"]
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
        problems: list[str] = []
        if len(set(names)) != len(names):
            problems.append("segment names repeat")
        for req in REQUIRED_SEGMENTS:
            if req not in names:
                problems.append(f"a {req!r} segment is required")
        total = sum(s.length for s in self.segments)
        if total != CODE_LENGTH:
            problems.append(f"segments add up to {total} characters; 附件3 第13条 needs {CODE_LENGTH}")
        if not self.segments or self.segments[0].kind != "letter" or self.segments[0].length != 1:
            problems.append("the first segment must be one upper-case letter (附件3 第13条)")
        if any(s.kind != "digits" for s in self.segments[1:]):
            problems.append("every segment after the letter must be digits (附件3 第13条)")
        by = {s.name: s for s in self.segments}
        if "year" in by and by["year"].length != 2:
            problems.append("the year segment has 2 digits")
        if "level" in by and by["level"].length != 1:
            problems.append("the level segment has 1 digit")
        if problems:
            raise ValueError("certificate code layout: " + "; ".join(problems))
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
    problems: list[str] = []
    for seg in layout.segments:
        if seg.name not in vals:
            problems.append(f"{seg.name}: missing")
            continue
        text = _value_str(seg, vals[seg.name])
        problems += seg.problems(text)
        parts.append(text)
    if not problems and int(parts[[s.name for s in layout.segments].index("serial")]) == 0:
        problems.append("serial: 0 is not a serial; serials start at 1")
    if problems:
        raise ValueError("certificate code: " + "; ".join(problems))
    return "".join(parts)


def validate_certificate_code(code: str, layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> list[str]:
    """Every problem of ``code`` under ``layout``; empty when valid."""
    if not isinstance(code, str):
        return [f"code: {code!r} is not text"]
    if len(code) != CODE_LENGTH:
        return [f"code: {code!r} has {len(code)} characters; a certificate code has {CODE_LENGTH} "
                "(1 upper-case letter and 21 digits, 附件3 第13条)"]
    problems: list[str] = []
    for seg in layout.segments:
        a, b = layout.offsets[seg.name]
        problems += seg.problems(code[a:b])
    if not problems and int(code[slice(*layout.offsets["serial"])]) == 0:
        problems.append("serial: 0 is not a serial")
    return problems


def parse_certificate_code(code: str, layout: CertificateCodeLayout = DEFAULT_LAYOUT) -> dict[str, str]:
    """Segment name -> text; raises ValueError naming every problem."""
    problems = validate_certificate_code(code, layout)
    if problems:
        raise ValueError("certificate code: " + "; ".join(problems))
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


def _institution_problems(code: str) -> list[str]:
    if len(code) != INSTITUTION_CODE_LENGTH or not (code.isascii() and code.isdigit()):
        return [f"institution code {code!r}: needs {INSTITUTION_CODE_LENGTH} digits"]
    return []


def format_examiner_card(institution_code: str, grade: ExaminerGrade | int, serial: int) -> str:
    """附件2 第16条: 学院代码（13 位）+考评人员等级（1 位）+序列号（4 位）."""
    problems = _institution_problems(institution_code)
    try:
        g = ExaminerGrade(int(grade))
    except ValueError:
        problems.append(f"grade {grade!r}: use " + ", ".join(f"{int(x)} ({x.zh})" for x in ExaminerGrade))
        g = None
    if not 1 <= serial <= 9999:
        problems.append(f"serial {serial}: 1–9999 (4 digits)")
    if problems:
        raise ValueError("examiner card: " + "; ".join(problems))
    return f"{institution_code}{int(g)}{serial:04d}"  # type: ignore[arg-type]


def format_supervisor_card(institution_code: str, serial: int) -> str:
    """附件10 第13条: 机构代码（13位）+ 序列号（5位）."""
    problems = _institution_problems(institution_code)
    if not 1 <= serial <= 99999:
        problems.append(f"serial {serial}: 1–99999 (5 digits)")
    if problems:
        raise ValueError("supervisor card: " + "; ".join(problems))
    return f"{institution_code}{serial:05d}"


@dataclass(frozen=True, slots=True)
class CardNumber:
    institution_code: str
    serial: int
    grade: ExaminerGrade | None = None  # examiner cards only


def _card_shape(number: str, what: str) -> list[str]:
    if not isinstance(number, str) or len(number) != 18 or not (number.isascii() and number.isdigit()):
        return [f"{what} {number!r}: needs 18 digits"]
    return []


def parse_examiner_card(number: str) -> CardNumber:
    problems = _card_shape(number, "examiner card")
    if not problems:
        if number[13] not in {str(int(g)) for g in ExaminerGrade}:
            problems.append(f"examiner card {number}: grade digit {number[13]} is not "
                            + " or ".join(f"{int(g)} ({g.zh})" for g in ExaminerGrade))
        if number[14:] == "0000":
            problems.append(f"examiner card {number}: serial 0000")
    if problems:
        raise ValueError("; ".join(problems))
    return CardNumber(number[:13], int(number[14:]), ExaminerGrade(int(number[13])))


def parse_supervisor_card(number: str) -> CardNumber:
    problems = _card_shape(number, "supervisor card")
    if not problems and number[13:] == "00000":
        problems.append(f"supervisor card {number}: serial 00000")
    if problems:
        raise ValueError("; ".join(problems))
    return CardNumber(number[:13], int(number[13:]))
