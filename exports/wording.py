"""The words of a Chinese exam paper: section numerals, points, instructions per item type,
notes to candidates. Kept in one place so the paper, the key and the answer sheet agree.

Every sentence goes through the message catalog (``itembank.i18n``): the English msgid, the
Chinese a centre prints. The instructions follow the wording of the national vocational skill
test papers (职业技能鉴定国家题库统一试卷): "（第1题～第80题。选择一个正确的答案，将相应的字母
填入题内的括号中。每题1分，满分80分。）".
"""

from __future__ import annotations

import unicodedata

from itembank.domain import ItemType, Paper, PaperKind
from itembank.i18n import N_, _, current_locale, gettext

_NUMERALS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 35 -> 三十五 (1..99)."""
    if not 1 <= n <= 99:
        raise ValueError(f"section number {n} out of range 1..99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _NUMERALS[ones]
    head = "" if tens == 1 else _NUMERALS[tens]
    return head + "十" + (_NUMERALS[ones] if ones else "")


def section_numeral(n: int) -> str:
    """The section number as the reader's locale writes it: 一 (Chinese), 1 (English)."""
    return str(n) if current_locale() == "en" else chinese_numeral(n)


def fmt_points(x: float) -> str:
    """1.0 -> "1", 2.5 -> "2.5", 0.25 -> "0.25" (no trailing zeros)."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def display_width(text: str) -> int:
    """Width in half-width units: CJK and full-width characters count 2 (East Asian Width
    W/F, Unicode Standard Annex #11), everything else 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def type_name(item_type: ItemType) -> str:
    """单项选择题 ... in the reader's locale (the domain's names, as ``itembank.i18n`` renders
    enums)."""
    return item_type.value.replace("_", " ") if current_locale() == "en" else item_type.zh


def form_label_zh(paper: Paper) -> str:
    """A卷, B卷; 备用卷 for a backup paper (附件16), with its label when it has one."""
    label = paper.form_label.strip()
    if paper.kind is PaperKind.BACKUP:
        return _("Backup paper") if label in ("", "备用") else _("Backup paper ({label})", label=label)
    return label if label.endswith("卷") else _("Paper {label}", label=label)


# What a candidate does, per item type, as the section heading says it.
_HOW_TO_ANSWER = {
    ItemType.SINGLE_CHOICE: N_("Choose the one right answer and write its letter in the brackets."),
    ItemType.MULTIPLE_CHOICE: N_("Choose the two or more right answers and write their letters in the brackets. "
                                 "A wrong, missing or extra choice scores nothing."),
    ItemType.TRUE_FALSE: N_("Write your judgement in the brackets: √ for right, × for wrong."),
    ItemType.FILL_IN: N_("Write the right answer on the line."),
    ItemType.SHORT_ANSWER: N_("Answer in the space below the question."),
    ItemType.CALCULATION: N_("Write the formula, the working and the result."),
    ItemType.ESSAY: N_("Answer in the space below the question, with a clear view and in good order."),
}
_HOW_TO_ANSWER_ON_SHEET = {
    ItemType.SINGLE_CHOICE: N_("Choose the one right answer and blacken its letter on the answer sheet."),
    ItemType.MULTIPLE_CHOICE: N_("Choose the two or more right answers and blacken their letters on the answer "
                                 "sheet. A wrong, missing or extra choice scores nothing."),
    ItemType.TRUE_FALSE: N_("Mark your judgement on the answer sheet: √ for right, × for wrong."),
}


def how_to_answer(item_type: ItemType, *, answer_sheet: bool) -> str:
    if answer_sheet and item_type in _HOW_TO_ANSWER_ON_SHEET:
        return gettext(_HOW_TO_ANSWER_ON_SHEET[item_type])
    msgid = _HOW_TO_ANSWER.get(item_type)
    return gettext(msgid) if msgid else ""


def points_phrase(per_item: float | None, total: float) -> str:
    """每题1分，满分80分。 when every item is worth the same, else 满分80分。"""
    if per_item is not None:
        return _("{per_item} point(s) each, {total} points in all.", per_item=fmt_points(per_item),
                 total=fmt_points(total))
    return _("{total} points in all.", total=fmt_points(total))


def minutes(x: float) -> str:
    """90 -> 90分钟."""
    return _("{minutes} min", minutes=fmt_points(x))


def notes_to_candidates(paper: Paper, *, answer_sheet: bool) -> list[str]:
    """注意事项 of a theory paper (closed book, 附件11 第22条)."""
    notes = [
        _("Time allowed: {minutes}.", minutes=minutes(paper.time_allowed_min)),
        _("First write your name, admission ticket number and employer in the sealed strip as asked."),
        _("Read the instructions of each kind of question and write your answers where asked."),
        _("Do not scribble on the paper or write anything else in the sealed strip."),
    ]
    if answer_sheet:
        notes[2] = _("Mark the answers of objective questions on the answer sheet; answers written on the paper "
                     "do not count. Answer the other questions where the paper asks.")
    notes.append(_("This is a closed-book examination: bring no material or electronic device that the "
                   "examination does not need."))
    return notes


def practical_notes(paper: Paper) -> list[str]:
    """注意事项 of a practical paper's task sheet."""
    return [
        _("Test time: {minutes}.", minutes=minutes(paper.time_allowed_min)),
        _("Complete the tasks as each task requires."),
        _("Follow the examiners' directions so that the test runs safely."),
        _("Keep strictly to the safety rules and use tools, instruments and equipment correctly; a serious "
          "accident makes this test's score zero."),
        _("Stop work as soon as the time is up; do not leave the test room during the test."),
    ]
