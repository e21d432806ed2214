"""Identity document numbers: type, format and, for mainland resident ID numbers, the
GB 11643-1999 check digit (ISO 7064 MOD 11-2) and the birth date. Pure; no database.

附件1 第6条: candidates register with their 身份证; 附件3 第11条: the certificate carries the
证件类型 and 证件号码. Other documents (passport, Hong Kong/Macao and Taiwan permits, foreign
permanent residence ID) have no published checksum except the new 18-digit foreign permanent
residence ID, which uses the same MOD 11-2 digit; the others get format checks only.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from itembank.i18n import FieldMessage, Message, N_

# GB 11643-1999: weight of position i (0-based from the left) is 2^(17-i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11

# First two digits of the administrative division code (GB/T 2260), plus 81/82/83 used by the
# residence permits of Hong Kong, Macao and Taiwan residents.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)


class IdType(str, enum.Enum):
    MAINLAND_ID = "mainland_id"  # 居民身份证 (also 港澳台居民居住证: same format)
    PASSPORT = "passport"  # 护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证

    @property
    def zh(self) -> str:
        return {
            "mainland_id": "居民身份证", "passport": "护照", "hk_macao_permit": "港澳居民来往内地通行证",
            "taiwan_permit": "台湾居民来往大陆通行证", "foreign_permanent": "外国人永久居留身份证",
        }[self.value]

    @classmethod
    def parse(cls, value: object) -> "IdType":
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for t in cls:
            if text in (t.value, t.zh, t.name):
                return t
        if text in ("身份证", "二代身份证"):
            return cls.MAINLAND_ID
        raise ValueError(Message("'{value}' is not a type of identity document; use one of {types}", value=value,
                                 types=[t.zh for t in cls]))


_FORMATS: dict[IdType, tuple[re.Pattern[str], str]] = {
    IdType.PASSPORT: (re.compile(r"^[A-Z0-9]{5,17}$"), N_("5–17 letters or digits")),
    IdType.HK_MACAO_PERMIT: (re.compile(r"^[HM]\d{8}(\d{2})?$"), N_("H or M followed by 8 (or 10) digits")),
    IdType.TAIWAN_PERMIT: (re.compile(r"^(\d{8}|\d{10}[A-Z]?)$"), N_("8 digits (or 10 digits of the old permit)")),
    IdType.FOREIGN_PERMANENT: (
        re.compile(r"^([A-Z]{3}\d{12}|9\d{16}[0-9X])$"),
        N_("3 letters and 12 digits (2017 card) or 18 characters starting with 9 (2023 card)"),
    ),
}


def normalise_id_number(number: str) -> str:
    """Strip spaces, full-width characters and case: ``１１０１…x`` -> ``1101…X``."""
    text = "".join(number.split())
    text = text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})  # full-width ASCII
    return text.upper()


def mainland_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits (ISO 7064 MOD 11-2).

    Reference: GB 11643-1999 公民身份号码 §8.2: a_1 = (12 - (Σ a_i W_i mod 11)) mod 11,
    10 written as X.
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(Message("'{value}': exactly 17 digits are needed", value=first17))
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True, slots=True)
class IdCheck:
    id_type: IdType
    number: str  # normalised
    errors: tuple[FieldMessage, ...]
    birth_date: date | None = None
    sex: str | None = None  # "M" / "F" from the mainland ID's order code

    @property
    def ok(self) -> bool:
        return not self.errors


def check_id_number(id_type: IdType | str, number: str, *, today: date | None = None) -> IdCheck:
    """Validate a document number; every problem is listed, naming the field."""
    try:
        t = IdType.parse(id_type) if not isinstance(id_type, IdType) else id_type
    except ValueError as e:
        return IdCheck(IdType.PASSPORT, number, (FieldMessage("id_type", e.args[0]),))
    num = normalise_id_number(number or "")
    if not num:
        return IdCheck(t, num, (FieldMessage("id_number", Message("the document number is empty")),))
    if t is IdType.MAINLAND_ID:
        return _check_mainland(num, today=today or date.today())
    pattern, words = _FORMATS[t]
    errors: list[FieldMessage] = []
    if not pattern.match(num):
        errors.append(FieldMessage("id_number", Message("'{number}' is not a {id_type} number ({form})", number=num,
                                                        id_type=t.zh, form=Message(words))))
    elif t is IdType.FOREIGN_PERMANENT and len(num) == 18:
        expected = mainland_check_digit(num[:17])
        if num[17] != expected:
            errors.append(FieldMessage("id_number", Message(
                "the check digit of {number} should be {expected} (GB 11643 MOD 11-2)", number=num,
                expected=expected)))
    return IdCheck(t, num, tuple(errors))


def _check_mainland(num: str, *, today: date) -> IdCheck:
    t = IdType.MAINLAND_ID
    if len(num) != 18:
        return IdCheck(t, num, (FieldMessage("id_number", Message(
            "'{number}' has {n} characters; a resident identity card number has 18", number=num, n=len(num))),))
    if not num[:17].isdigit() or not (num[17].isdigit() or num[17] == "X"):
        return IdCheck(t, num, (FieldMessage("id_number", Message(
            "'{number}': 17 digits and then a digit or X are expected", number=num)),))
    errors: list[FieldMessage] = []
    if num[:2] not in PROVINCE_CODES:
        errors.append(FieldMessage("id_number", Message(
            "{code} is not an administrative division code (province {province})", code=num[:6], province=num[:2])))
    birth: date | None = None
    try:
        birth = date(int(num[6:10]), int(num[10:12]), int(num[12:14]))
    except ValueError:
        errors.append(FieldMessage("id_number", Message("{digits} is not a valid date of birth", digits=num[6:14])))
    if birth is not None and not (date(1900, 1, 1) <= birth <= today):
        errors.append(FieldMessage("id_number", Message("the date of birth {birth} is not plausible", birth=birth)))
        birth = None
    expected = mainland_check_digit(num[:17])
    if num[17] != expected:
        errors.append(FieldMessage("id_number", Message(
            "the check digit of {number} is {digit}, but {expected} is expected (GB 11643-1999 MOD 11-2): a digit "
            "was mistyped", number=num, digit=num[17], expected=expected)))
    sex = "M" if int(num[16]) % 2 else "F"
    return IdCheck(t, num, tuple(errors), birth_date=birth, sex=sex)


def mask_id_number(number: str) -> str:
    """``320102199001011234`` -> ``3201**********1234`` (for QR payloads and public lists)."""
    if len(number) <= 8:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
