"""The words of a Chinese exam paper: section numerals, points, instructions per item type,
notes to candidates. Kept in one place so the paper, the key and the answer sheet agree.

The instructions follow the wording of the national vocational skill test papers
(职业技能鉴定国家题库统一试卷): "（第1题～第80题。选择一个正确的答案，将相应的字母填入题内
的括号中。每题1分，满分80分。）".
"""

from __future__ import annotations

import unicodedata

from itembank.domain import ItemType, Paper, PaperKind

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


def fmt_points(x: float) -> str:
    """1.0 -> "1", 2.5 -> "2.5", 0.25 -> "0.25" (no trailing zeros)."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def display_width(text: str) -> int:
    """Width in half-width units: CJK and full-width characters count 2 (East Asian Width
    W/F, Unicode Standard Annex #11), everything else 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def form_label_zh(paper: Paper) -> str:
    """A卷, B卷; 备用卷 for a backup paper (附件16), with its label when it has one."""
    if paper.kind is PaperKind.BACKUP:
        label = paper.form_label.strip()
        return "备用卷" if label in ("", "备用") else f"备用卷（{label}）"
    label = paper.form_label.strip()
    return label if label.endswith("卷") else f"{label}卷"


# What a candidate does, per item type, as the section heading says it.
_HOW_TO_ANSWER = {
    ItemType.SINGLE_CHOICE: "选择一个正确的答案，将相应的字母填入题内的括号中。",
    ItemType.MULTIPLE_CHOICE: "选择两个或两个以上正确的答案，将相应的字母填入题内的括号中。"
                              "错选、少选、多选均不得分。",
    ItemType.TRUE_FALSE: "将判断结果填入括号中。正确的填“√”，错误的填“×”。",
    ItemType.FILL_IN: "将正确的答案填在横线空白处。",
    ItemType.SHORT_ANSWER: "请在题后空白处作答。",
    ItemType.CALCULATION: "要求写出计算公式、计算过程和计算结果。",
    ItemType.ESSAY: "请在题后空白处作答，观点明确、条理清楚。",
}
_HOW_TO_ANSWER_ON_SHEET = {
    ItemType.SINGLE_CHOICE: "选择一个正确的答案，将答题卡上相应的字母涂黑。",
    ItemType.MULTIPLE_CHOICE: "选择两个或两个以上正确的答案，将答题卡上相应的字母涂黑。"
                              "错选、少选、多选均不得分。",
    ItemType.TRUE_FALSE: "将判断结果涂在答题卡上。正确的涂“√”，错误的涂“×”。",
}


def how_to_answer(item_type: ItemType, *, answer_sheet: bool) -> str:
    if answer_sheet and item_type in _HOW_TO_ANSWER_ON_SHEET:
        return _HOW_TO_ANSWER_ON_SHEET[item_type]
    return _HOW_TO_ANSWER.get(item_type, "")


def points_phrase(per_item: float | None, total: float) -> str:
    """每题1分，满分80分 when every item is worth the same, else 满分80分."""
    if per_item is not None:
        return f"每题{fmt_points(per_item)}分，满分{fmt_points(total)}分。"
    return f"满分{fmt_points(total)}分。"


def notes_to_candidates(paper: Paper, *, answer_sheet: bool) -> list[str]:
    """注意事项 of a theory paper (closed book, 附件11 第22条)."""
    notes = [
        f"考试时间：{paper.time_allowed_min}分钟。",
        "请首先按要求在试卷的标封处填写您的姓名、准考证号和所在单位的名称。",
        "请仔细阅读各种题目的回答要求，在规定的位置填写您的答案。",
        "不要在试卷上乱写乱画，不要在标封区填写无关的内容。",
    ]
    if answer_sheet:
        notes[2] = "客观题答案一律填涂在答题卡上，写在试卷上无效；其余题目在试卷规定位置作答。"
    notes.append("本试卷为闭卷考试，考生不得携带与考试无关的资料和电子设备进入考场。")
    return notes


PRACTICAL_NOTES = [
    "请根据试题考核要求，完成考试内容。",
    "请服从考评人员指挥，保证考核安全顺利进行。",
    "严格遵守安全操作规程，正确使用工具、仪表和设备，发生重大安全事故的，本次考核成绩为零分。",
    "考核时间到，立即停止操作；考核过程中不得离开考场。",
]
