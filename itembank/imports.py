"""Bulk import of items from ``.xlsx`` and CSV, element tables from ``.xlsx``, and the
template workbooks (docs/IMPORT.md describes the column layout).

Import is all-or-nothing: the whole file is parsed and validated first (cells, item rules,
element codes against the bank's current tables, codes already in the bank, writers against
the expert register); on any problem nothing is written and ``ImportFileError.problems``
lists every one with its sheet, row and column. Re-importing is idempotent: items are matched
by code; unchanged content does nothing, changed content makes a new version.

Two modes (``ImportMode``): ``draft`` (default) brings items into the authoring workflow as
drafts of their writers (命题人, who must be registered writers of the occupation); a new
version of an existing item supersedes a pending draft. ``accepted`` is for a legacy bank
that a committee already accepted elsewhere: versions enter as accepted and the committee's
batch reference is recorded as a legacy acceptance batch (附件11 第17条, 第24条). Both are
written to the ledger, one entry per item plus one for the file.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import hashlib
import io
import math
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NoReturn
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from itembank import ledger, media
from itembank.archive import QTI_LIMITS, ArchiveLimitError, SafeZip, check_workbook
from itembank.domain import (
    Actor,
    BankRef,
    ElementNode,
    ItemContent,
    ItemType,
    Option,
    Part,
    Role,
    RubricPoint,
    VersionState,
)
from itembank.elements import (
    current_element_codes,
    importance_of,
    load_element_table,
    save_element_table,
    validate_element_nodes,
)
from itembank.errors import (
    ImportFileError,
    ItemBankError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from itembank.experts import ExpertRole, require_expert
from itembank.i18n import FieldMessage, Message, N_, Text, for_storage, gettext
from itembank.items import NewItem, _chunks, _version_columns, add_items, validate_code, validate_content
from itembank.media import CheckedPicture
from itembank.orm import ItemRecord, ItemVersionElementRecord, ItemVersionRecord
from itembank.orm_workflow import AcceptanceBatchRecord, AcceptanceItemRecord, BatchKind, BatchState
from itembank.textcheck import text_problem, xml_safe

__all__ = [
    "CSV_COLUMNS",
    "ELEMENT_COLUMNS",
    "ELEMENT_SHEET",
    "ITEM_SHEETS",
    "RUBRIC_SHEET",
    "ElementImportReport",
    "ImportMode",
    "ImportProblem",
    "ImportReport",
    "ParsedItem",
    "apply_items",
    "decode_csv",
    "elements_template",
    "import_elements",
    "import_items",
    "items_csv_template",
    "items_template",
    "parse_elements_xlsx",
    "parse_items_csv",
    "parse_items_xlsx",
]

S = VersionState


class ImportMode(str, enum.Enum):
    DRAFT = "draft"  # new versions enter the workflow as drafts of their writers
    ACCEPTED = "accepted"  # legacy bank accepted by a committee elsewhere (batch reference kept)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem of an import file, where it is and what is wrong: the sheet (the file name
    for a CSV file or a problem of the whole file), the row as the spreadsheet numbers it, the
    column by its header in the file (题目编号, 答案 ...)."""

    sheet: str
    row: int | None
    column: str | None
    message: Text

    def as_message(self) -> Message:
        if self.row is not None and self.column:
            return Message("{sheet}, row {row}, column {column}: {message}", sheet=self.sheet, row=self.row,
                           column=self.column, message=self.message)
        if self.row is not None:
            return Message("{sheet}, row {row}: {message}", sheet=self.sheet, row=self.row, message=self.message)
        if self.column:
            return Message("{sheet}, column {column}: {message}", sheet=self.sheet, column=self.column,
                           message=self.message)
        return Message("{sheet}: {message}", sheet=self.sheet, message=self.message)

    def __str__(self) -> str:
        return str(self.as_message())


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """An item read from a file, with where it came from."""

    sheet: str
    row: int | None
    code: str
    content: ItemContent
    set_code: str | None = None
    writer: str = ""  # 命题人; "" = the importing user
    columns: dict[str, str] = field(default_factory=dict)  # content field -> column label in the file
    pictures: tuple[CheckedPicture, ...] = ()  # the pictures its text shows, checked, from the same file
    picture_names: tuple[str, ...] = ()  # files named in the 图片 column (a zip's images folder)
    broken: bool = False  # the row had problems: checked further, never written
    unreadable: frozenset[str] = frozenset()  # fields whose cells could not be read (not checked again)


@dataclass(frozen=True, slots=True)
class ImportReport:
    source: str
    sha256: str
    mode: ImportMode
    batch_ref: str
    dry_run: bool
    n_items: int
    created: tuple[str, ...]
    revised: tuple[str, ...]
    unchanged: tuple[str, ...]
    set_code_changed: tuple[str, ...]

    def summary(self) -> Message:
        counts = dict(source=self.source, n=self.n_items, created=len(self.created), revised=len(self.revised),
                      unchanged=len(self.unchanged), sets=len(self.set_code_changed))
        mode = (Message("as accepted items of committee batch {batch}", batch=self.batch_ref)
                if self.mode is ImportMode.ACCEPTED else Message("as drafts"))
        if self.dry_run:
            return Message("{source}: checked, nothing written; would import {n} items {mode}: {created} new, "
                           "{revised} new versions, {unchanged} unchanged, {sets} set codes changed.",
                           mode=mode, **counts)
        return Message("{source}: imported {n} items {mode}: {created} new, {revised} new versions, "
                       "{unchanged} unchanged, {sets} set codes changed.", mode=mode, **counts)


# --------------------------------------------------------------------------------------
# Column layout (docs/IMPORT.md)

ITEM_SHEETS = {"理论知识": Part.THEORY, "实际操作": Part.PRACTICAL, "答辩评审": Part.DEFENCE}
RUBRIC_SHEET = "评分要点"
IGNORED_SHEETS = {"说明", "readme", "instructions"}
OPTION_LABELS = "ABCDEF"

# canonical label -> field, and the accepted aliases (English names included)
ITEM_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "题目编号": ("code", ("题号", "试题编号", "code")),
    "题型": ("item_type", ("type", "item_type")),
    "题干": ("stem", ("试题内容", "操作任务", "stem")),
    **{f"选项{x}": (f"option_{x}", (x, f"option_{x.lower()}", f"option{x.lower()}")) for x in OPTION_LABELS},
    "答案": ("key", ("标准答案", "参考答案", "key", "answer")),
    "分值": ("points", ("分数", "配分", "points")),
    "鉴定点": ("element_codes", ("鉴定点代码", "认定点", "elements", "element_codes")),
    "难度": ("difficulty_rating", ("难度等级", "rating", "difficulty")),
    "预计用时(秒)": ("estimated_time_s", ("预计用时", "用时(秒)", "time_s", "estimated_time_s")),
    "考核时限(分钟)": ("time_limit_min", ("考核时限", "时限(分钟)", "time_limit_min")),
    "设备工具材料": ("equipment", ("设备、工具、材料", "设备工具", "equipment")),
    "解析/评分标准": ("analysis", ("解析", "评分标准", "analysis")),
    "评分要点": ("rubric", ("rubric",)),
    "套题": ("set_code", ("套题编号", "set", "set_code")),
    "命题人": ("writer", ("writer", "author")),
    "图片": ("pictures", ("图片文件", "附图", "pictures", "images")),
}
RUBRIC_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "题目编号": ("code", ("题号", "code")),
    "序号": ("position", ("position", "no")),
    "评分要点": ("description", ("考核要点", "description")),
    "配分": ("points", ("分值", "points")),
    "评分标准": ("criteria", ("扣分标准", "criteria")),
}
ELEMENT_SHEET = "认定要素细目表"
ELEMENT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "部分": ("part", ("part",)),
    "代码": ("code", ("鉴定点代码", "code")),
    "名称": ("name", ("鉴定范围/鉴定点", "name")),
    "上级代码": ("parent_code", ("上级", "parent", "parent_code")),
    "比重(%)": ("weight", ("比重", "鉴定比重", "weight")),
    "重要程度": ("importance", ("重要性", "importance")),
}
# columns offered per sheet in the template (and in that order)
SHEET_COLUMNS = {
    "理论知识": ["题目编号", "题型", "题干", *[f"选项{x}" for x in OPTION_LABELS], "答案", "分值", "鉴定点",
             "难度", "预计用时(秒)", "解析/评分标准", "套题", "命题人", "图片"],
    "实际操作": ["题目编号", "题型", "题干", "分值", "鉴定点", "难度", "考核时限(分钟)", "预计用时(秒)",
             "设备工具材料", "解析/评分标准", "套题", "命题人", "图片"],
    "答辩评审": ["题目编号", "题型", "题干", "分值", "鉴定点", "难度", "预计用时(秒)", "解析/评分标准",
             "套题", "命题人", "图片"],
}
CSV_COLUMNS = ["题目编号", "题型", "题干", *[f"选项{x}" for x in OPTION_LABELS], "答案", "分值", "鉴定点",
               "难度", "预计用时(秒)", "考核时限(分钟)", "设备工具材料", "解析/评分标准", "评分要点", "套题",
               "命题人"]
FIELD_COLUMN = {  # content field (as validate_content names it) -> column label
    "code": "题目编号", "item_type": "题型", "stem": "题干", "options": "选项", "key": "答案",
    "points": "分值", "element_codes": "鉴定点", "difficulty_rating": "难度",
    "estimated_time_s": "预计用时(秒)", "time_limit_min": "考核时限(分钟)", "equipment": "设备工具材料",
    "analysis": "解析/评分标准", "rubric": "评分要点", "set_code": "套题", "writer": "命题人",
    "pictures": "图片",
}

TYPE_NAMES: dict[str, ItemType] = {}
for _t in ItemType:
    TYPE_NAMES[_t.value] = _t
    TYPE_NAMES[_t.zh] = _t
for _name, _t in {
    "单选": ItemType.SINGLE_CHOICE, "单选题": ItemType.SINGLE_CHOICE, "单项选择": ItemType.SINGLE_CHOICE,
    "选择题": ItemType.SINGLE_CHOICE, "多选": ItemType.MULTIPLE_CHOICE, "多选题": ItemType.MULTIPLE_CHOICE,
    "多项选择": ItemType.MULTIPLE_CHOICE, "判断": ItemType.TRUE_FALSE, "填空": ItemType.FILL_IN,
    "简答": ItemType.SHORT_ANSWER, "计算": ItemType.CALCULATION, "论述": ItemType.ESSAY,
    "实操": ItemType.PRACTICAL_TASK, "实际操作": ItemType.PRACTICAL_TASK, "实际操作题": ItemType.PRACTICAL_TASK,
    "操作题": ItemType.PRACTICAL_TASK, "答辩题": ItemType.DEFENCE_TOPIC, "评审题": ItemType.DEFENCE_TOPIC,
    "答辩": ItemType.DEFENCE_TOPIC, "论文答辩": ItemType.DEFENCE_TOPIC, "技术评审": ItemType.DEFENCE_TOPIC,
}.items():
    TYPE_NAMES[_name] = _t
TRUE_WORDS = {"T", "TRUE", "Y", "YES", "正确", "对", "是", "√", "✓", "✔"}
FALSE_WORDS = {"F", "FALSE", "N", "NO", "错误", "错", "否", "×", "✗", "✘", "X"}
RATING_WORDS = {"易": 1, "容易": 1, "较易": 2, "中": 3, "中等": 3, "适中": 3, "较难": 4, "难": 5, "困难": 5}
PART_NAMES = {**{p.value: p for p in Part}, "理论知识": Part.THEORY, "理论": Part.THEORY,
              "实际操作": Part.PRACTICAL, "实操": Part.PRACTICAL, "答辩评审": Part.DEFENCE,
              "论文答辩": Part.DEFENCE, "技术评审": Part.DEFENCE, "论文答辩/技术评审": Part.DEFENCE}
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_PICTURE_SPLIT = re.compile(r"[,，、;；\r\n]+")  # file names may hold spaces
_KEY_SEPARATORS = re.compile(r"[,，、;；\s]+")


_ELEMENT_FIELD_COLUMN = {fld: label for label, (fld, _) in ELEMENT_COLUMNS.items()}
_SHEET_RANK = {**{name: i for i, name in enumerate(ITEM_SHEETS, start=1)}, RUBRIC_SHEET: 4, ELEMENT_SHEET: 5}
_COLUMN_RANK = {label: i for i, label in enumerate(
    [*CSV_COLUMNS, "选项A..选项F", *RUBRIC_COLUMNS, *ELEMENT_COLUMNS])}


def sorted_problems(source: str, problems: Sequence[ImportProblem]) -> list[ImportProblem]:
    """The problems in reading order: the whole file's first, then by sheet (in the template's
    order), row and column (in the template's order)."""
    def key(p: ImportProblem) -> tuple[int, str, int, int]:
        rank = 0 if p.sheet == source and p.row is None else _SHEET_RANK.get(p.sheet, 6)
        return (rank, p.sheet, p.row if p.row is not None else 0, _COLUMN_RANK.get(p.column or "", -1))
    return sorted(problems, key=key)


def raise_problems(source: str, problems: Sequence[ImportProblem]) -> NoReturn:
    """Refuse the file: ``ImportFileError`` with every problem, sorted by sheet and row."""
    ordered = sorted_problems(source, problems)
    rows = {(p.sheet, p.row) for p in ordered if p.row is not None}
    if rows:
        text = Message("{source}: {n} problem(s) in {rows} row(s); nothing was imported.", source=source,
                       n=len(ordered), rows=len(rows))
    else:
        text = Message("{source}: {n} problem(s); nothing was imported.", source=source, n=len(ordered))
    raise ImportFileError(text, problems=ordered)


def _reason(exc: Exception) -> str:
    return "{}: {}".format(type(exc).__name__, exc)


def _norm_header(text: object) -> str:
    s = str(text or "").strip().replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")
    return s.lower()


def _header_map(columns: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, str]]:
    """normalised header -> (field, canonical label)."""
    out: dict[str, tuple[str, str]] = {}
    for label, (fld, aliases) in columns.items():
        for name in (label, *aliases):
            out[_norm_header(name)] = (fld, label)
    return out


ITEM_HEADERS = _header_map(ITEM_COLUMNS)
RUBRIC_HEADERS = _header_map(RUBRIC_COLUMNS)
ELEMENT_HEADERS = _header_map(ELEMENT_COLUMNS)


def _text(value: object) -> str:
    """A cell as text: integral numbers lose their '.0' (codes typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: object) -> float | None:
    """A number cell; None when empty; raises ValueError with the text otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        x = float(str(value).strip().replace("，", ".").rstrip("分"))
    if not math.isfinite(x):
        raise ValueError(str(value))
    return x


# --------------------------------------------------------------------------------------
# Parsing one table (xlsx sheet or csv) into items


class _Table:
    """Rows of one sheet with the header resolved; collects problems."""

    def __init__(self, sheet: str, rows: Iterator[Sequence[object]], headers: dict[str, tuple[str, str]],
                 problems: list[ImportProblem], *, first_row: int = 1) -> None:
        self.sheet = sheet
        self.problems = problems
        self.index: dict[str, int] = {}
        self.labels: dict[str, str] = {}
        self.rows = rows
        self.first_row = first_row
        header = next(rows, None)
        if header is None:
            self.ok = False
            problems.append(ImportProblem(sheet, first_row, None, Message(
                "the sheet is empty: the first row must hold the column headers")))
            return
        self.ok = True
        for i, h in enumerate(header):
            name = _norm_header(h)
            if not name or name.startswith("备注") or name.startswith("note"):
                continue
            if name not in headers:
                problems.append(ImportProblem(sheet, first_row, _text(h), Message(
                    "unknown column; the known columns are {columns}",
                    columns=list(dict.fromkeys(lbl for _, lbl in headers.values())))))
                continue
            fld, label = headers[name]
            if fld in self.index:
                problems.append(ImportProblem(sheet, first_row, _text(h), Message("column {column} appears twice",
                                                                                  column=label)))
                continue
            self.index[fld] = i
            self.labels[fld] = label

    def records(self) -> Iterator[tuple[int, dict[str, object]]]:
        for n, row in enumerate(self.rows, start=self.first_row + 1):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            rec = {f: (row[i] if i < len(row) else None) for f, i in self.index.items()}
            for f, v in rec.items():  # text documents cannot hold (itembank.textcheck): reported once, here
                problem = text_problem(v) if isinstance(v, str) else None
                if problem is not None:
                    self.problem(n, f, str(problem))
                    rec[f] = xml_safe(v)  # type: ignore[arg-type]  # the file is refused; no second report
            yield n, rec

    def problem(self, row: int | None, fld: str | None, message: Message) -> None:
        self.problems.append(ImportProblem(self.sheet, row, self.column(fld), message))

    def column(self, fld: str | None) -> str | None:
        """The header of ``fld`` as this file writes it (else the template's)."""
        if not fld:
            return None
        return self.labels.get(fld) or FIELD_COLUMN.get(fld) or _ELEMENT_FIELD_COLUMN.get(fld) or fld


def _parse_type(t: _Table, row: int, rec: dict[str, object], default: ItemType | None) -> ItemType | None:
    raw = _text(rec.get("item_type"))
    if not raw:
        if default is None:
            t.problem(row, "item_type", Message("the item type is empty; write one of {types}",
                                                types=list(ItemType)))
        return default
    found = TYPE_NAMES.get(raw) or TYPE_NAMES.get(raw.lower())
    if found is None:
        t.problem(row, "item_type", Message("'{value}' is not an item type; write one of {types}", value=raw,
                                            types=list(ItemType)))
    return found


def _parse_key(t: _Table, row: int, raw: str, item_type: ItemType) -> tuple[str, ...]:
    if not raw:
        return ()
    if item_type.has_options:
        text = _KEY_SEPARATORS.sub("", raw).upper()
        return tuple(text)
    if item_type is ItemType.TRUE_FALSE:
        word = raw.strip().upper()
        if word in TRUE_WORDS:
            return ("T",)
        if word in FALSE_WORDS:
            return ("F",)
        t.problem(row, "key", Message("'{value}' is not a true/false key; write 正确 or 错误 (or T / F, √ / ×)",
                                      value=raw))
        return ()
    if item_type is ItemType.FILL_IN:
        return tuple(p.strip() for p in re.split(r"[|｜]", raw))
    return (raw,)


def _parse_rubric_text(t: _Table, row: int, raw: str) -> tuple[RubricPoint, ...] | None:
    """Inline 评分要点: one point a line, ``description | points | criteria``."""
    points: list[RubricPoint] = []
    for i, line in enumerate(x for x in re.split(r"[\r\n]+", raw) if x.strip()):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        if len(parts) < 2:
            t.problem(row, "rubric", Message("scoring point {n} '{line}': write 'description | points | criteria'",
                                             n=i + 1, line=line))
            return None
        try:
            value = _number(parts[1])
        except ValueError:
            value = None
        if value is None:
            t.problem(row, "rubric", Message("scoring point {n}: the points '{value}' are not a number", n=i + 1,
                                             value=parts[1]))
            return None
        points.append(RubricPoint(parts[0], value, parts[2] if len(parts) > 2 else ""))
    return tuple(points)


def _item_from_record(t: _Table, row: int, rec: dict[str, object], part: Part | None,
                      default_type: ItemType | None) -> ParsedItem | None:
    """The item of one row, with every problem of the row reported (cells that cannot be read
    and the item's rules, which are checked on what could be read). An item whose row had
    problems is returned marked ``broken``: later checks (codes, element codes, writers) see
    it too, and nothing is written anyway."""
    n_before = len(t.problems)
    code = _text(rec.get("code"))
    if not code:
        t.problem(row, "code", Message("the item code is empty"))
    item_type = _parse_type(t, row, rec, default_type)
    if item_type is not None and part is not None and item_type.part is not part:
        t.problem(row, "item_type", Message(
            "a {item_type} belongs to {part}, not to sheet {sheet}; move the row to sheet {target}",
            item_type=item_type, part=item_type.part, sheet=t.sheet, target=_sheet_of(item_type.part)))
        item_type = None  # the item's rules would be checked against the wrong type: only the cells are
    stem = _text(rec.get("stem"))
    options: list[Option] = []
    gap: str | None = None
    for x in OPTION_LABELS:
        text = _text(rec.get(f"option_{x}"))
        if text:
            if gap is not None:
                t.problem(row, f"option_{gap}", Message(
                    "option {gap} is empty but option {label} is filled; fill the options from A on without gaps",
                    gap=gap, label=x))
                gap = None
            options.append(Option(x, text))
        elif gap is None and any(_text(rec.get(f"option_{y}")) for y in OPTION_LABELS[OPTION_LABELS.index(x) + 1:]):
            gap = x
    numbers: dict[str, float | None] = {}
    unreadable: set[str] = set()
    for fld in ("points", "estimated_time_s", "time_limit_min", "difficulty_rating"):
        raw = rec.get(fld)
        if fld == "difficulty_rating" and _text(raw) in RATING_WORDS:
            numbers[fld] = RATING_WORDS[_text(raw)]
            continue
        try:
            numbers[fld] = _number(raw)
        except ValueError:
            t.problem(row, fld, Message("'{value}' is not a number", value=_text(raw)))
            numbers[fld] = None
            unreadable.add(fld)
    if numbers["points"] is None and _text(rec.get("points")) == "":
        t.problem(row, "points", Message("the points are empty"))
        unreadable.add("points")
    rating = numbers["difficulty_rating"]
    if rating is not None and not float(rating).is_integer():
        t.problem(row, "difficulty_rating", Message("{value:g} is not a whole number from 1 (easiest) to 5 (hardest)",
                                                    value=rating))
        unreadable.add("difficulty_rating")
    elements = tuple(c for c in _LIST_SPLIT.split(_text(rec.get("element_codes"))) if c)
    n_key = len(t.problems)
    key = _parse_key(t, row, _text(rec.get("key")), item_type) if item_type else ()
    if len(t.problems) > n_key:
        unreadable.add("key")
    rubric: tuple[RubricPoint, ...] = ()
    if _text(rec.get("rubric")):
        parsed = _parse_rubric_text(t, row, _text(rec.get("rubric")))
        if parsed is None:
            unreadable.add("rubric")
        rubric = parsed or ()
    if item_type is None:
        return None
    time_limit = numbers["time_limit_min"]
    est = numbers["estimated_time_s"]
    if est is None:
        est = time_limit * 60.0 if time_limit else 60.0
    content = ItemContent(
        item_type=item_type, stem=stem, points=numbers["points"] or 0.0, element_codes=elements,
        options=tuple(options), key=key, rubric=rubric, analysis=_text(rec.get("analysis")),
        time_limit_min=time_limit, equipment=_text(rec.get("equipment")), estimated_time_s=est,
        difficulty_rating=int(rating) if rating is not None and float(rating).is_integer() else 3,
    )
    return ParsedItem(sheet=t.sheet, row=row, code=code, content=content,
                      set_code=_text(rec.get("set_code")) or None, writer=_text(rec.get("writer")),
                      columns=dict(t.labels), broken=len(t.problems) > n_before, unreadable=frozenset(unreadable),
                      picture_names=tuple(n.strip() for n in _PICTURE_SPLIT.split(_text(rec.get("pictures")))
                                          if n.strip()))


def _sheet_of(part: Part) -> str:
    return next(name for name, p in ITEM_SHEETS.items() if p is part)


def _check_items(items: list[ParsedItem], problems: list[ImportProblem]) -> None:
    """Rules of one item and duplicate codes, with no database."""
    first: dict[str, ParsedItem] = {}
    for it in items:
        column = it.columns.get("code", "题目编号")
        if it.code and "code" not in it.unreadable:
            for msg in validate_code(it.code):
                problems.append(ImportProblem(it.sheet, it.row, column, msg.message))
        if it.code in first:
            f = first[it.code]
            problems.append(ImportProblem(it.sheet, it.row, column, Message(
                "item code {code} appears twice: also on sheet {sheet}, row {row}", code=it.code, sheet=f.sheet,
                row=f.row)))
        elif it.code:
            first[it.code] = it
        for msg in validate_content(it.content):
            if msg.field in it.unreadable or (msg.field == "points" and "rubric" in it.unreadable):
                continue  # the cell was reported as unreadable already
            problems.append(_content_problem(it, msg))


def _content_problem(it: ParsedItem, msg: FieldMessage) -> ImportProblem:
    fld = msg.field or ""
    column = it.columns.get(fld) or FIELD_COLUMN.get(fld)
    if fld == "options":
        column = "选项A..选项F"
    if fld == "rubric" and "rubric" not in it.columns:
        column = RUBRIC_SHEET
    return ImportProblem(it.sheet, it.row, column, msg.message)


def _with_rubric_rows(items: list[ParsedItem], rubric_rows: dict[str, list[tuple[int, float, RubricPoint]]],
                      problems: list[ImportProblem]) -> list[ParsedItem]:
    codes = {it.code for it in items}
    # scoring points go to the subjective items of the code (a code may be duplicated by mistake,
    # which is reported elsewhere); to an objective one only when there is no other
    subjective_codes = {it.code for it in items if not it.content.item_type.is_objective}
    for code, rows in rubric_rows.items():
        if code not in codes:
            for row, _, _ in rows:
                problems.append(ImportProblem(RUBRIC_SHEET, row, "题目编号", Message(
                    "{code} is not an item of the item sheets of this file", code=code)))
    out = []
    for it in items:
        rows = rubric_rows.get(it.code)
        if rows and (not it.content.item_type.is_objective or it.code not in subjective_codes):
            if it.content.rubric:
                problems.append(ImportProblem(it.sheet, it.row, "评分要点", Message(
                    "item {code} has scoring points both here and on sheet {sheet}; keep one of them",
                    code=it.code, sheet=RUBRIC_SHEET)))
            rubric = tuple(p for _, _, p in sorted(rows, key=lambda r: (r[1], r[0])))
            it = dataclasses.replace(it, content=dataclasses.replace(it.content, rubric=rubric))
        out.append(it)
    return out


def _rubric_sheet(t: _Table) -> dict[str, list[tuple[int, float, RubricPoint]]]:
    out: dict[str, list[tuple[int, float, RubricPoint]]] = defaultdict(list)
    for fld in ("code", "description", "points"):
        if fld not in t.index:
            t.problem(t.first_row, None, Message("the column {column} is missing",
                                                 column=next(k for k, v in RUBRIC_COLUMNS.items() if v[0] == fld)))
    if any(f not in t.index for f in ("code", "description", "points")):
        return out
    for row, rec in t.records():
        code = _text(rec.get("code"))
        desc = _text(rec.get("description"))
        bad = False
        if not code:
            t.problem(row, "code", Message("the item code is empty"))
            bad = True
        try:
            points = _number(rec.get("points"))
        except ValueError:
            t.problem(row, "points", Message("'{value}' is not a number", value=_text(rec.get("points"))))
            points, bad = None, True
        else:
            if points is None:
                t.problem(row, "points", Message("the points are empty"))
                bad = True
        try:
            position = _number(rec.get("position"))
        except ValueError:
            t.problem(row, "position", Message("'{value}' is not a number", value=_text(rec.get("position"))))
            position, bad = None, True
        if bad or points is None:
            continue
        out[code].append((row, position if position is not None else float(row),
                          RubricPoint(desc, points, _text(rec.get("criteria")))))
    return out


def _items_from_table(t: _Table, part: Part | None) -> list[ParsedItem]:
    if not t.ok:
        return []
    missing = [label for fld, label in (("code", "题目编号"), ("stem", "题干"), ("points", "分值"),
                                        ("element_codes", "鉴定点")) if fld not in t.index]
    if part in (Part.THEORY, None) and "item_type" not in t.index:
        missing.append("题型")
    if missing:
        t.problem(t.first_row, None, Message("required columns missing: {columns}", columns=missing))
        return []
    default_type = {Part.PRACTICAL: ItemType.PRACTICAL_TASK, Part.DEFENCE: ItemType.DEFENCE_TOPIC}.get(part)  # type: ignore[arg-type]
    out = []
    for row, rec in t.records():
        it = _item_from_record(t, row, rec, part, default_type)
        if it is not None:
            out.append(it)
    return out


def parse_items_xlsx(data: bytes, *, source: str = "workbook") -> tuple[list[ParsedItem], list[ImportProblem]]:
    """Items of an .xlsx workbook: sheets 理论知识 / 实际操作 / 答辩评审, and 评分要点."""
    from openpyxl import load_workbook

    problems: list[ImportProblem] = []
    try:  # bounded unpacking and size before the spreadsheet reader sees it (itembank.archive)
        check_workbook(data, source=source)
    except ArchiveLimitError as e:
        return [], [ImportProblem(source, None, None, e.head_text)]
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        return [], [ImportProblem(source, None, None, Message(
            "this is not an Excel .xlsx workbook ({reason}); save it as 'Excel 工作簿 (*.xlsx)'",
            reason=_reason(e)))]
    try:
        items: list[ParsedItem] = []
        rubric_rows: dict[str, list[tuple[int, float, RubricPoint]]] = {}
        seen_item_sheet = False
        for ws in wb.worksheets:
            name = ws.title.strip()
            rows = ws.iter_rows(values_only=True)
            if name in ITEM_SHEETS:
                seen_item_sheet = True
                items += _items_from_table(_Table(name, rows, ITEM_HEADERS, problems), ITEM_SHEETS[name])
            elif name == RUBRIC_SHEET:
                rubric_rows = _rubric_sheet(_Table(name, rows, RUBRIC_HEADERS, problems))
            elif name.lower() not in IGNORED_SHEETS:
                problems.append(ImportProblem(name, None, None, Message(
                    "unknown sheet; the item sheets are {sheets}, scoring points go on sheet {rubric}",
                    sheets=list(ITEM_SHEETS), rubric=RUBRIC_SHEET)))
        if not seen_item_sheet:
            problems.append(ImportProblem(source, None, None, Message(
                "the workbook has no item sheet; name the sheets {sheets} (the import template has them)",
                sheets=list(ITEM_SHEETS))))
    finally:
        wb.close()
    items = _with_rubric_rows(items, rubric_rows, problems)
    _check_items(items, problems)
    return items, problems


def decode_csv(data: bytes, *, encoding: str | None = None, source: str = "csv") -> tuple[str | None, list[ImportProblem]]:
    """Text of a CSV file. UTF-8 (with or without BOM) unless ``encoding`` is declared
    (e.g. ``gb18030`` for files saved by Excel on Chinese Windows). Bad bytes are reported
    with their line and byte offset."""
    if data.startswith(b"PK\x03\x04"):
        return None, [ImportProblem(source, None, None, Message(
            "this is an Excel workbook, not a CSV file; import it as .xlsx"))]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [ImportProblem(source, 1, None, Message(
            "the file is UTF-16 (Excel 'Unicode 文本'); save it as 'CSV UTF-8 (逗号分隔)'"))]
    enc = encoding or "utf-8-sig"
    try:
        return data.decode(enc), []
    except LookupError:
        return None, [ImportProblem(source, None, None, Message(
            "unknown encoding '{encoding}'; use utf-8 or gb18030", encoding=encoding))]
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1)
        hint: Message | str = ""
        if encoding is None:
            try:
                data.decode("gb18030")
                hint = Message("It looks like GBK/GB18030 (Excel's 'CSV (逗号分隔)' on Chinese Windows): save it as "
                               "'CSV UTF-8', or import with the encoding gb18030.")
            except UnicodeDecodeError:
                hint = Message("Save it as 'CSV UTF-8'.")
        return None, [ImportProblem(source, line, None, Message(
            "bad encoding: byte 0x{byte} at byte offset {offset} (byte {col} of line {line}) is not valid {encoding}. "
            "{hint}", byte=format(data[e.start], "02x"), offset=e.start, col=col + 1, line=line, encoding=enc,
            hint=hint))]


def parse_items_csv(data: bytes, *, encoding: str | None = None, source: str = "csv") -> tuple[list[ParsedItem], list[ImportProblem]]:
    """Items of a CSV file: the columns of ``CSV_COLUMNS`` (any part; 题型 required; inline
    评分要点). Row numbers count records as a spreadsheet shows them (header = row 1)."""
    text, problems = decode_csv(data, encoding=encoding, source=source)
    if text is None:
        return [], problems
    if "\x00" in text:
        return [], [ImportProblem(source, None, None, Message("the file holds NUL bytes: it is not a text CSV file"))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as e:
        return [], [ImportProblem(source, reader.line_num, None, Message("this is not a readable CSV file ({reason})",
                                                                         reason=str(e)))]
    items = _items_from_table(_Table(source, iter(rows), ITEM_HEADERS, problems), None)
    _check_items(items, problems)
    return items, problems


# --------------------------------------------------------------------------------------
# Pictures: a .zip of the workbook (or CSV) and its images folder (issue 17)

IMAGE_FOLDERS = ("images", "image", "pictures", "图片")
MAX_BOOK_BYTES = 60 * 1024 * 1024  # the workbook inside a zip (10,000 items are ~3 MB)
# ![caption](file.png) in a cell: the picture of that file shown there (a picture's own markup
# is ![caption](media:<sha256>), which the upload or the import writes)
LOCAL_PICTURE_RE = re.compile(r"!\[(?P<caption>[^\[\]\n$]{0,200})\]\((?P<name>(?!media:)[^()\n]{1,255}?\."
                              r"(?:png|jpe?g|svg))\)", re.IGNORECASE)


def _skipped_entry(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts) or parts[-1].lower() == "thumbs.db"


def _in_images(name: str) -> bool:
    return any(p.lower() in IMAGE_FOLDERS for p in name.split("/")[:-1])


class _ImageFolder:
    """The images folder of a zip: files found by their path below the folder or by their
    name alone, read with a bound, checked and re-encoded once each."""

    def __init__(self, zf: zipfile.ZipFile, entries: Sequence[zipfile.ZipInfo]) -> None:
        self.zf = zf
        self.by_path: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for info in entries:
            parts = info.filename.split("/")
            below = next(i for i, p in enumerate(parts) if p.lower() in IMAGE_FOLDERS) + 1
            self.by_path["/".join(parts[below:]).lower()] = info.filename
            self.by_name[parts[-1].lower()].append(info.filename)
        self.cache: dict[str, CheckedPicture | media.PictureError] = {}

    def find(self, name: str) -> tuple[CheckedPicture | None, str | None]:
        """The checked picture of ``name``, or None and why not."""
        key = name.strip().replace("\\", "/").lstrip("./").lower()
        for folder in IMAGE_FOLDERS:
            key = key.removeprefix(folder + "/")
        entry = self.by_path.get(key)
        if entry is None:
            found = self.by_name.get(key.rsplit("/", 1)[-1], [])
            if len(found) > 1:
                return None, str(Message("picture file {name} is in the images folder {n} times ({paths}); "
                                         "write its path below images/", name=name, n=len(found), paths=found))
            if not found:
                return None, str(Message("picture file {name} is not in the images folder of the zip", name=name))
            entry = found[0]
        if entry not in self.cache:
            try:
                self.cache[entry] = media.check_picture(media.read_packaged_picture(self.zf, entry), name=entry)
            except media.PictureError as e:
                self.cache[entry] = e
        got = self.cache[entry]
        return (None, got.message) if isinstance(got, media.PictureError) else (got, None)


def parse_items_zip(data: bytes, *, encoding: str | None = None,
                    source: str = "zip") -> tuple[list[ParsedItem], list[ImportProblem]]:
    """Items of a .zip holding one workbook (.xlsx, or a .csv) and a folder ``images`` with the
    picture files its 图片 column and its ``![caption](file.png)`` cells name."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as e:
        return [], [ImportProblem(source, None, None, str(Message(
            "not a zip file ({detail}); put the workbook and its images folder into one .zip", detail=str(e))))]
    try:  # member count, declared sizes and compression ratios before anything is unpacked
        SafeZip(data, limits=QTI_LIMITS, source=source).close()
    except ArchiveLimitError as e:
        zf.close()
        return [], [ImportProblem(source, None, None, e.head_text)]
    with zf:
        entries = [i for i in zf.infolist() if not i.is_dir() and not _skipped_entry(i.filename)]
        books = [i for i in entries if not _in_images(i.filename)
                 and i.filename.lower().endswith((".xlsx", ".xlsm", ".csv"))]
        if len(books) != 1:
            return [], [ImportProblem(source, None, None, str(Message(
                "the zip holds {n} workbooks ({names}); it must hold one workbook (.xlsx or .csv) and the folder "
                "images with the pictures", n=len(books), names=[b.filename for b in books][:5] or "—")))]
        book = books[0]
        if book.file_size > MAX_BOOK_BYTES:
            return [], [ImportProblem(book.filename, None, None, str(Message(
                "the workbook has {size} MB inside the zip; at most {limit} MB are read: split it",
                size=round(book.file_size / 1048576), limit=MAX_BOOK_BYTES // 1048576)))]
        try:
            with zf.open(book) as stream:
                content = stream.read(MAX_BOOK_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            return [], [ImportProblem(book.filename, None, None, str(Message(
                "the workbook in the zip is damaged ({detail})", detail=str(e)[:120])))]
        if book.filename.lower().endswith(".csv"):
            items, problems = parse_items_csv(content, encoding=encoding, source=book.filename)
        else:
            items, problems = parse_items_xlsx(content, source=book.filename)
        folder = _ImageFolder(zf, [i for i in entries if _in_images(i.filename)])
        items = _with_pictures(items, problems, folder)
    return items, problems


def _with_pictures(items: list[ParsedItem], problems: list[ImportProblem],
                   folder: _ImageFolder | None) -> list[ParsedItem]:
    """Resolve each item's pictures: the files its 图片 column names (shown after the stem unless
    a cell places them) and the ``![caption](file.png)`` of its cells, each replaced by the
    picture's markup. Without a folder (a bare .xlsx or .csv) any picture named is a problem."""
    out = []
    for it in items:
        if not it.picture_names and not any(LOCAL_PICTURE_RE.search(t) for _, t in media.content_texts(it.content)):
            out.append(it)
            continue
        n = len(problems)
        shown: dict[str, CheckedPicture] = {}

        def problem(fld: str, message: Text, it: ParsedItem = it) -> None:
            problems.append(ImportProblem(it.sheet, it.row, it.columns.get(fld) or FIELD_COLUMN.get(fld, fld),
                                          Message("item {code}: {message}", code=it.code, message=message)))

        def resolve(fld: str, name: str, caption: str) -> str | None:
            if folder is None:
                problem(fld, str(Message("picture file {name} needs the images folder: import a .zip holding the "
                                         "workbook and the folder images", name=name)))
                return None
            picture, why = folder.find(name)
            if picture is None:
                problem(fld, why or "")
                return None
            shown[picture.sha256] = picture
            return media.picture_markup(picture.sha256, caption)

        def place(fld: str, text: str) -> str:
            return LOCAL_PICTURE_RE.sub(lambda m: resolve(fld, m.group("name"), m.group("caption")) or m.group(0),
                                        text)

        c = it.content
        placed = dataclasses.replace(
            c, stem=place("stem", c.stem), analysis=place("analysis", c.analysis),
            options=tuple(dataclasses.replace(o, text=place(f"option_{o.label}", o.text)) for o in c.options))
        placed_names = {m.group("name").strip().lower() for _, t in media.content_texts(c)
                        for m in LOCAL_PICTURE_RE.finditer(t)}
        extra = [resolve("pictures", name, "") for name in it.picture_names if name.strip().lower() not in placed_names]
        if any(extra):
            placed = dataclasses.replace(placed, stem="\n".join([placed.stem.rstrip("\n"), *(e for e in extra if e)]))
        for msg in media.reference_problems(placed):
            problem(msg.field or "stem", msg.message)
        if len(problems) == n:
            out.append(dataclasses.replace(it, content=placed, pictures=tuple(shown.values())))
    return out


# --------------------------------------------------------------------------------------
# Checking against the bank and writing


@dataclass(frozen=True, slots=True)
class _Existing:
    item_id: int
    part: Part
    set_code: str | None
    version_no: int
    version_id: int
    content_hash: str
    state: VersionState


def _existing(session: Session, bank_id: int) -> dict[str, _Existing]:
    latest = (select(ItemVersionRecord.item_id, func.max(ItemVersionRecord.version_no).label("n"))
              .join(ItemRecord, ItemRecord.id == ItemVersionRecord.item_id)
              .where(ItemRecord.bank_id == bank_id).group_by(ItemVersionRecord.item_id).subquery())
    rows = session.execute(
        select(ItemRecord.code, ItemRecord.id, ItemRecord.part, ItemRecord.set_code, ItemVersionRecord.version_no,
               ItemVersionRecord.id, ItemVersionRecord.content_hash, ItemVersionRecord.state)
        .join(latest, latest.c.item_id == ItemRecord.id)
        .join(ItemVersionRecord, (ItemVersionRecord.item_id == ItemRecord.id)
              & (ItemVersionRecord.version_no == latest.c.n))
    ).all()
    return {r[0]: _Existing(*r[1:]) for r in rows}


def _require_manager(actor: Actor, bank: BankRef) -> None:
    if not actor.has(Role.BANK_MANAGER, occupation_code=bank.occupation.code):
        raise PermissionDeniedError(Message(
            "{user} may not import into {bank}: importing needs the role {role} for occupation {occupation}",
            user=actor.username, bank=bank.label, role=Role.BANK_MANAGER, occupation=bank.occupation.code))


def apply_items(
    session: Session,
    *,
    actor: Actor,
    bank: BankRef,
    items: Sequence[ParsedItem],
    problems: Sequence[ImportProblem] = (),
    source: str,
    sha256: str,
    mode: ImportMode | str = ImportMode.DRAFT,
    batch_ref: str = "",
    dry_run: bool = False,
    fmt: str = "items",
) -> ImportReport:
    """Check parsed items against the bank, then (unless ``dry_run``) write them all.

    Raises ``ImportFileError`` listing ``problems`` plus every problem found here; nothing is
    written then. Used by the xlsx, csv and QTI imports."""
    from itembank.items import content_hash

    _require_manager(actor, bank)
    mode = ImportMode(mode)
    batch_ref = (batch_ref or "").strip()
    problems = list(problems)
    # a picture sent back exactly as this bank stores it is that stored picture (not re-encoded)
    alias = media.stored_originals(session, bank=bank, pictures=[p for it in items for p in it.pictures])
    if alias:
        items = [dataclasses.replace(it, content=media.content_with_refs(it.content, alias),
                                     pictures=tuple(p for p in it.pictures if p.sha256 not in alias)) for it in items]
    if mode is ImportMode.ACCEPTED and not batch_ref:
        raise ValidationError(Message(
            "Importing as accepted items needs the reference of the committee batch that accepted them "
            "(附件11 第17条): give the batch reference."), field="batch_ref")
    if mode is ImportMode.DRAFT and batch_ref:
        raise ValidationError(Message("A batch reference only goes with importing as accepted items."),
                              field="batch_ref")

    # element codes of the bank's current tables
    codes_by_part: dict[Part, set[str] | None] = {}
    for part in sorted({it.content.part for it in items}, key=lambda p: p.value):
        codes_by_part[part] = current_element_codes(session, bank_id=bank.id, part=part)  # type: ignore[arg-type]
        if codes_by_part[part] is None:
            problems.append(ImportProblem(source, None, None, Message(
                "{bank} has no {part} element table; import the element table first", bank=bank.label, part=part)))
    # writers (draft mode: they must be registered writers of the occupation)
    writer_ok: dict[str, Message | None] = {}
    occ = bank.occupation.code

    def writer_problem(name: str) -> Message | None:
        if name not in writer_ok:
            try:
                require_expert(session, username=name, occupation_code=occ, role=ExpertRole.WRITER)
                writer_ok[name] = None
            except ItemBankError as e:
                head = e.head_text if isinstance(e.head_text, Message) else Message("{reason}", reason=e.head_text)
                writer_ok[name] = Message("{reason} ({details})", reason=head, details=e.errors) if e.errors \
                    and e.errors != [e.head_text] else head
        return writer_ok[name]

    existing = _existing(session, bank.id)  # type: ignore[arg-type]
    plan_new: list[ParsedItem] = []
    plan_rev: list[tuple[ParsedItem, _Existing]] = []
    unchanged: list[str] = []
    set_changed: list[tuple[ParsedItem, _Existing]] = []
    default_writer_used = False
    for it in items:
        known = codes_by_part.get(it.content.part)
        if known is not None:
            unknown = [c for c in it.content.element_codes if c not in known]
            if unknown:
                problems.append(ImportProblem(it.sheet, it.row, it.columns.get("element_codes", "鉴定点"), Message(
                    "{codes} is not an element of the current {part} element table", codes=unknown,
                    part=it.content.part)))
        if mode is ImportMode.DRAFT:
            if it.writer:
                msg = writer_problem(it.writer)
                if msg:
                    problems.append(ImportProblem(it.sheet, it.row, it.columns.get("writer", "命题人"), msg))
            else:
                default_writer_used = True
        ex = existing.get(it.code)
        if ex is None:
            plan_new.append(it)
            continue
        if ex.part is not it.content.part:
            problems.append(ImportProblem(it.sheet, it.row, it.columns.get("item_type", "题型"), Message(
                "item {code} is already in the bank as a {part} item; an item cannot move to {new_part}",
                code=it.code, part=Part(ex.part), new_part=it.content.part)))
            continue
        if ex.set_code != it.set_code:
            set_changed.append((it, ex))
        if content_hash(it.content) == ex.content_hash:
            unchanged.append(it.code)
            continue
        frozen = (S.SUBMITTED, S.IN_REVIEW, S.APPROVED) if mode is ImportMode.DRAFT else (
            S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED)
        if ex.state in frozen:
            problems.append(ImportProblem(it.sheet, it.row, None, Message(
                "item {code} version {version} is {state} in the workflow; an import cannot replace its content "
                "now: finish its review first", code=it.code, version=ex.version_no, state=S(ex.state))
                if mode is ImportMode.DRAFT else Message(
                "item {code} version {version} is {state} in the workflow; an import of accepted items cannot "
                "replace its content now: finish its review or retire it first", code=it.code,
                version=ex.version_no, state=S(ex.state))))
            continue
        plan_rev.append((it, ex))
    # pictures: those the file brings, or already in the bank (a re-import of unchanged text)
    provided = {p.sha256: p for it in items for p in it.pictures}
    by_code = {it.code: it for it in items}
    for code, fld, sha in media.unknown_references(session, bank=bank, contents=[(it.code, it.content) for it in items],
                                                   also_known=provided):
        it = by_code[code]
        problems.append(ImportProblem(it.sheet, it.row, it.columns.get(fld) or FIELD_COLUMN.get(fld, fld),
                                      Message("item {code}: {message}", code=code,
                                              message=media.unknown_picture_message(sha))))
    if default_writer_used and mode is ImportMode.DRAFT:
        msg = writer_problem(actor.username)
        if msg:
            problems.append(ImportProblem(source, None, "命题人", Message(
                "rows without a writer (命题人) would be drafts of the importing user, but {reason}; fill in the "
                "writer of each item", reason=msg)))
    if problems:
        raise_problems(source, problems)

    report = ImportReport(
        source=source, sha256=sha256, mode=mode, batch_ref=batch_ref, dry_run=dry_run, n_items=len(items),
        created=tuple(it.code for it in plan_new), revised=tuple(it.code for it, _ in plan_rev),
        unchanged=tuple(unchanged), set_code_changed=tuple(it.code for it, _ in set_changed),
    )
    if dry_run or not (plan_new or plan_rev or set_changed):
        return report
    _write(session, actor=actor, bank=bank, mode=mode, batch_ref=batch_ref, plan_new=plan_new,
           plan_rev=plan_rev, set_changed=set_changed, source=source, sha256=sha256, fmt=fmt,
           pictures=list(provided.values()))
    return report


def _write(session: Session, *, actor: Actor, bank: BankRef, mode: ImportMode, batch_ref: str,
           plan_new: list[ParsedItem], plan_rev: list[tuple[ParsedItem, _Existing]],
           set_changed: list[tuple[ParsedItem, _Existing]], source: str, sha256: str, fmt: str,
           pictures: Sequence[CheckedPicture] = ()) -> None:
    state = S.ACCEPTED if mode is ImportMode.ACCEPTED else S.DRAFT
    # the pictures first (once each, by hash): the versions written next link them
    for picture in pictures:
        media.store_picture(session, bank=bank, checked=picture, uploaded_by=actor.username)
    reason = f"import {source} (sha256 {sha256[:12]})" + (f", committee batch {batch_ref}" if batch_ref else "")
    now = datetime.now(timezone.utc)
    entries: list[ledger.NewEntry] = []
    accepted_versions: list[tuple[int, int]] = []  # (item id, version id)

    # new items, one bulk insert per writer (the writer is the version's author)
    by_writer: dict[str, list[ParsedItem]] = defaultdict(list)
    for it in plan_new:
        by_writer[it.writer or actor.username].append(it)
    for writer, group in by_writer.items():
        made = add_items(session, bank=bank, items=[NewItem(it.code, it.content, it.set_code) for it in group],
                         actor=writer, state=state, reason=reason)
        for m in made:
            entries.append(ledger.NewEntry("item.import", "item", m.id,  # type: ignore[arg-type]
                                           {"code": m.code, "version": 1, "state": state.value, "writer": writer,
                                            "result": "created", "source": source, "sha256": sha256,
                                            "batch_ref": batch_ref}))
            accepted_versions.append((m.id, m.version_id))  # type: ignore[arg-type]

    # new versions of existing items, in bulk
    if plan_rev:
        item_ids = [ex.item_id for _, ex in plan_rev]
        # what each new version supersedes: a pending draft (draft mode) or the accepted version
        if mode is ImportMode.DRAFT:
            superseded = {ex.item_id: (ex.version_id, ex.version_no) for _, ex in plan_rev
                          if ex.state in (S.DRAFT, S.CHANGES_REQUESTED)}
        else:
            superseded = {}
            for chunk in _chunks(item_ids):
                superseded.update({iid: (vid, no) for iid, vid, no in session.execute(
                    select(ItemVersionRecord.item_id, ItemVersionRecord.id, ItemVersionRecord.version_no)
                    .where(ItemVersionRecord.item_id.in_(chunk), ItemVersionRecord.state == S.ACCEPTED))})
        rows = []
        for it, ex in plan_rev:
            rows.append({"item_id": ex.item_id, "version_no": ex.version_no + 1, "state": state,
                         "state_changed_at": now, "created_by": it.writer or actor.username, "created_at": now,
                         "stats_n": 0, "usage_count": 0, **_version_columns(it.content)})
        session.execute(insert(ItemVersionRecord), rows)
        new_ids: dict[int, int] = {}
        for chunk in _chunks(item_ids):
            new_ids.update(session.execute(
                select(ItemVersionRecord.item_id, func.max(ItemVersionRecord.id))
                .where(ItemVersionRecord.item_id.in_(chunk)).group_by(ItemVersionRecord.item_id)).all())
        session.execute(insert(ItemVersionElementRecord), [
            {"version_id": new_ids[ex.item_id], "element_code": c}
            for it, ex in plan_rev for c in dict.fromkeys(it.content.element_codes)])
        media.link_versions(session, [(new_ids[ex.item_id], it.content) for it, ex in plan_rev])
        old_ids = [vid for vid, _ in superseded.values()]
        for chunk in _chunks(old_ids):
            session.execute(update(ItemVersionRecord).where(ItemVersionRecord.id.in_(chunk))
                            .values(state=S.SUPERSEDED, state_changed_at=now)
                            .execution_options(synchronize_session=False))
        for it, ex in plan_rev:
            old = superseded.get(ex.item_id)
            entries.append(ledger.NewEntry("item.import", "item", ex.item_id, {
                "code": it.code, "version": ex.version_no + 1, "state": state.value,
                "writer": it.writer or actor.username, "result": "new version", "from_version": ex.version_no,
                "superseded_version": old[1] if old else None, "source": source, "sha256": sha256,
                "batch_ref": batch_ref}))
            accepted_versions.append((ex.item_id, new_ids[ex.item_id]))

    for it, ex in set_changed:
        session.execute(update(ItemRecord).where(ItemRecord.id == ex.item_id).values(set_code=it.set_code)
                        .execution_options(synchronize_session=False))
        entries.append(ledger.NewEntry("item.set_code", "item", ex.item_id,
                                       {"code": it.code, "from": ex.set_code, "to": it.set_code, "source": source}))

    batch_code = ""
    if mode is ImportMode.ACCEPTED and accepted_versions:
        batch = session.scalar(select(AcceptanceBatchRecord).where(
            AcceptanceBatchRecord.bank_id == bank.id, AcceptanceBatchRecord.kind == BatchKind.LEGACY,
            AcceptanceBatchRecord.external_ref == batch_ref))
        if batch is None:
            batch = AcceptanceBatchRecord(
                code=f"LEGACY-{bank.id}-{hashlib.sha256(batch_ref.encode()).hexdigest()[:10]}", bank_id=bank.id,
                kind=BatchKind.LEGACY, state=BatchState.ACCEPTED, external_ref=batch_ref,
                manifest_hash=sha256, meeting="", note=for_storage(Message(
                    "accepted by a committee elsewhere; imported from {source}", source=source)),
                created_by=actor.username, closed_by=actor.username, closed_at=now, close_reason="")
            session.add(batch)
            session.flush()
        batch_code = batch.code
        session.execute(insert(AcceptanceItemRecord), [
            {"batch_id": batch.id, "version_id": vid, "item_id": iid, "returned": False}
            for iid, vid in accepted_versions])
    ledger.append(session, actor=actor.username, action=f"import.{fmt}", object_type="bank",
                  object_id=bank.id, details={  # type: ignore[arg-type]
                      "bank": bank.label, "source": source, "sha256": sha256, "mode": mode.value,
                      "batch_ref": batch_ref, "legacy_batch": batch_code, "created": len(plan_new),
                      "revised": len(plan_rev), "set_codes_changed": len(set_changed),
                      "pictures": sorted(p.sha256 for p in pictures)})
    ledger.append_many(session, actor=actor.username, entries=entries)
    session.flush()
    session.expire_all()


def import_items(
    session: Session,
    *,
    actor: Actor,
    bank: BankRef,
    data: bytes,
    filename: str,
    mode: ImportMode | str = ImportMode.DRAFT,
    batch_ref: str = "",
    dry_run: bool = False,
    encoding: str | None = None,
) -> ImportReport:
    """Import items from an .xlsx or .csv file (by ``filename``'s suffix).

    All-or-nothing; raises ``ImportFileError`` with every problem (sheet, row, column)."""
    _require_manager(actor, bank)
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        items, problems = parse_items_xlsx(data, source=filename)
    elif lower.endswith((".csv", ".txt")):
        items, problems = parse_items_csv(data, encoding=encoding, source=filename)
    elif lower.endswith(".zip"):
        items, problems = parse_items_zip(data, encoding=encoding, source=filename)
    else:
        raise ValidationError(Message("{filename}: import .xlsx or .csv files here, or a .zip of one of them with its "
                                      "images folder (QTI packages have their own import)", filename=filename),
                              field="filename")
    if not items and not problems:  # a header without rows is a mistake, as an empty QTI package is
        raise ImportFileError(Message("{file}: the file holds no item: fill in one item per row below the header",
                                      file=filename),
                              problems=[ImportProblem(filename, 2, None, Message("no item rows below the header"))])
    if not lower.endswith(".zip"):
        items = _with_pictures(items, problems, None)
    return apply_items(session, actor=actor, bank=bank, items=items, problems=problems, source=filename,
                       sha256=hashlib.sha256(data).hexdigest(), mode=mode, batch_ref=batch_ref, dry_run=dry_run)


# --------------------------------------------------------------------------------------
# Element tables


@dataclass(frozen=True, slots=True)
class ElementImportReport:
    source: str
    versions: dict[str, int | None]  # part value -> new table version; None: unchanged
    n_rows: int
    dry_run: bool


def parse_elements_xlsx(
    data: bytes, *, source: str = "workbook", default_part: Part | None = None,
) -> tuple[dict[Part, list[tuple[int, ElementNode]]], list[ImportProblem]]:
    """Element tables from sheet 认定要素细目表 (column 部分 says the part; ``default_part``
    when the column is absent)."""
    from openpyxl import load_workbook

    problems: list[ImportProblem] = []
    try:  # bounded unpacking and size before the spreadsheet reader sees it (itembank.archive)
        check_workbook(data, source=source)
    except ArchiveLimitError as e:
        return {}, [ImportProblem(source, None, None, e.head_text)]
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        return {}, [ImportProblem(source, None, None, Message(
            "this is not an Excel .xlsx workbook ({reason}); save it as 'Excel 工作簿 (*.xlsx)'",
            reason=_reason(e)))]
    out: dict[Part, list[tuple[int, ElementNode]]] = defaultdict(list)
    try:
        if ELEMENT_SHEET not in wb.sheetnames:
            return {}, [ImportProblem(source, None, None, Message(
                "the workbook has no sheet {sheet}; the element table template has it", sheet=ELEMENT_SHEET))]
        t = _Table(ELEMENT_SHEET, wb[ELEMENT_SHEET].iter_rows(values_only=True), ELEMENT_HEADERS, problems)
        if not t.ok:
            return {}, problems
        need = ["code", "name", "weight"] + ([] if default_part else ["part"])
        missing = [next(k for k, v in ELEMENT_COLUMNS.items() if v[0] == f) for f in need if f not in t.index]
        if missing:
            t.problem(1, None, Message("required columns missing: {columns}", columns=missing))
            return {}, problems
        for row, rec in t.records():
            n = len(problems)
            raw_part = _text(rec.get("part"))
            part = PART_NAMES.get(raw_part) or PART_NAMES.get(raw_part.lower()) if raw_part else default_part
            if part is None:
                t.problem(row, "part", Message("'{value}' is not a part; write 理论知识, 实际操作 or 答辩评审",
                                               value=raw_part))
            code = _text(rec.get("code"))
            if not code:
                t.problem(row, "code", Message("the code is empty"))
            try:
                weight = _number(rec.get("weight"))
            except ValueError:
                t.problem(row, "weight", Message("'{value}' is not a number", value=_text(rec.get("weight"))))
                weight = None
            if weight is None and len(problems) == n:
                t.problem(row, "weight", Message("the weight is empty"))
            try:
                importance = importance_of(_text(rec.get("importance")))
            except ValueError:
                t.problem(row, "importance", Message("'{value}' is not an importance; write X (core), Y or Z",
                                                     value=_text(rec.get("importance"))))
                importance = None
            if len(problems) == n:
                out[part].append((row, ElementNode(code, _text(rec.get("name")), weight,  # type: ignore[index, arg-type]
                                                   _text(rec.get("parent_code")) or None, importance)))
    finally:
        wb.close()
    for part, rows in out.items():
        for msg in validate_element_nodes([n for _, n in rows]):
            column = _ELEMENT_FIELD_COLUMN.get(msg.field or "")
            where = msg.where.params.get("row") if isinstance(msg.where, Message) else None
            text = Message("{part}: {message}", part=part, message=msg.message)
            if isinstance(where, int):  # validate_element_nodes counts rows of the part from 1
                problems.append(ImportProblem(ELEMENT_SHEET, rows[where - 1][0], column, text))
            else:
                problems.append(ImportProblem(ELEMENT_SHEET, None, column, text))
    return dict(out), problems


def import_elements(
    session: Session, *, actor: Actor, bank: BankRef, data: bytes, filename: str,
    default_part: Part | None = None, dry_run: bool = False, note: str = "",
) -> ElementImportReport:
    """Import element tables; each part whose rows differ from the current table becomes a
    new table version. All parts are checked before any is saved."""
    _require_manager(actor, bank)
    tables, problems = parse_elements_xlsx(data, source=filename, default_part=default_part)
    if problems:
        raise_problems(filename, problems)
    versions: dict[str, int | None] = {}
    for part, rows in sorted(tables.items(), key=lambda kv: kv[0].value):
        nodes = [n for _, n in rows]
        try:
            current = load_element_table(session, bank=bank, part=part)
            same = list(current.nodes) == [ElementNode(n.code, n.name, float(n.weight), n.parent_code, n.importance)
                                           for n in nodes]
        except NotFoundError:
            same = False
        if same or dry_run:
            versions[part.value] = None
            continue
        table = save_element_table(session, bank=bank, part=part, nodes=nodes, actor=actor.username,
                                   note=note or for_storage(Message("imported from {file}", file=filename)))
        versions[part.value] = table.version
    if not dry_run and any(v is not None for v in versions.values()):
        ledger.append(session, actor=actor.username, action="import.elements", object_type="bank",
                      object_id=bank.id, details={"bank": bank.label, "source": filename,  # type: ignore[arg-type]
                                                  "sha256": hashlib.sha256(data).hexdigest(), "versions": versions})
    return ElementImportReport(filename, versions, sum(len(r) for r in tables.values()), dry_run)


# --------------------------------------------------------------------------------------
# Templates


_HELP = {  # comments on the template's headers, in the locale of whoever makes the template
    "题目编号": N_("Item code: 1-64 letters, digits, '-', '_' or '.'; unique in the bank; a re-import matches "
               "items by it"),
    "题型": N_("Item type: 单项选择题 多项选择题 判断题 填空题 简答题 计算题 论述题 (实际操作试题, 答辩/评审题)"),
    "题干": N_("The question text"),
    "答案": N_("Key: A / ABD / 正确 or 错误 / fill-in answers separated by |"),
    "分值": N_("Points (more than 0); a practical task: the sum of its scoring points"),
    "鉴定点": N_("Element codes of the current element table, separated by , or 、"),
    "难度": N_("Expert rating from 1 (easiest) to 5, or 易/较易/中等/较难/难; 3 when empty"),
    "预计用时(秒)": N_("Estimated answering time in seconds; 60 when empty (practical tasks: the time limit)"),
    "考核时限(分钟)": N_("Practical tasks: the time limit in minutes (required)"),
    "设备工具材料": N_("Practical tasks: equipment, tools and materials"),
    "解析/评分标准": N_("Analysis; for subjective items the scoring standard"),
    "套题": N_("Set code: the items of one set always go on a paper together"),
    "命题人": N_("The writer's username in the expert register; empty: the importing user"),
    "图片": N_("Picture files of the images folder, separated by 、 (import a .zip of this workbook and the folder "
             "images); ![caption](file.png) in the stem places one, the others follow the stem"),
    "评分要点": N_("One scoring point a line: description | points | criteria"),
}


def items_template() -> bytes:
    """The .xlsx template of ``itembank template xlsx``: one sheet per part, a scoring-points
    sheet and an instructions sheet with examples (docs/IMPORT.md)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    readme = wb.active
    readme.title = "说明"
    lines = [
        ["职业技能等级认定题库 — 试题导入模板"],
        ["每个部分一个工作表：理论知识、实际操作、答辩评审；实际操作与答辩题的评分要点写在“评分要点”工作表。"],
        ["第一行是列名，不要改动；“备注”开头的列会被忽略。整个文件先校验，有任何错误则不导入，并列出每个错误的工作表、行、列。"],
        ["再次导入同一文件：按题目编号匹配，内容未变则不做任何事，内容改变则生成新版本。"],
        [],
        ["示例（理论知识）", *SHEET_COLUMNS["理论知识"]],
        ["", "DG5-T-0001", "单项选择题", "安全电压的额定值不包括（　）。", "36V", "24V", "12V", "110V", "", "",
         "D", 1, "A-01", 2, 60, "110V 不是安全电压", "", "zhangsan"],
        ["", "DG5-T-0002", "多项选择题", "下列属于基本安全用具的是（　）。", "绝缘杆", "绝缘夹钳", "绝缘手套", "",
         "", "", "AB", 2, "B-02", 3, 90, "", "", "zhangsan"],
        ["", "DG5-T-0003", "判断题", "保护接零适用于中性点直接接地的低压系统。", "", "", "", "", "", "", "正确", 1,
         "B-02", 2, 30, "", "", "zhangsan"],
        [],
        ["示例（实际操作）", *SHEET_COLUMNS["实际操作"]],
        ["", "DG5-P-0001", "实际操作试题", "安装双控照明电路并通电试验。", 30, "P-01", 3, 60, "", "万用表、剥线钳、导线",
         "", "", "lisi"],
        ["示例（评分要点）", *RUBRIC_COLUMNS],
        ["", "DG5-P-0001", 1, "接线正确", 15, "每错一处扣5分"],
        ["", "DG5-P-0001", 2, "通电成功", 10, "不成功不得分"],
        ["", "DG5-P-0001", 3, "安全文明", 5, "违规操作扣5分"],
    ]
    for line in lines:
        readme.append(line)
    readme["A1"].font = Font(bold=True, size=14)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    theory_types = ",".join(t.zh for t in ItemType if t.part is Part.THEORY)
    for name, cols in SHEET_COLUMNS.items():
        ws = wb.create_sheet(name)
        ws.append(cols)
        for i, label in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font, cell.fill = bold, fill
            if label in _HELP:
                cell.comment = Comment(gettext(_HELP[label]), "itembank")
            ws.column_dimensions[cell.column_letter].width = 40 if label in ("题干", "解析/评分标准") else 14
        ws.freeze_panes = "A2"
        if name == "理论知识":
            dv = DataValidation(type="list", formula1=f'"{theory_types}"', allow_blank=True)
            ws.add_data_validation(dv)
            dv.add("B2:B20000")
    ws = wb.create_sheet(RUBRIC_SHEET)
    ws.append(list(RUBRIC_COLUMNS))
    for i in range(1, len(RUBRIC_COLUMNS) + 1):
        ws.cell(row=1, column=i).font = bold
        ws.cell(row=1, column=i).fill = fill
    ws.column_dimensions["C"].width = 30
    ws.column_dimensions["E"].width = 30
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def items_csv_template() -> bytes:
    """A CSV header line (UTF-8 with BOM so that Excel opens it right) and one example row."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    w.writerow(["DG5-T-0001", "单项选择题", "安全电压的额定值不包括（　）。", "36V", "24V", "12V", "110V", "", "",
                "D", 1, "A-01", 2, 60, "", "", "110V 不是安全电压", "", "", "zhangsan"])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def elements_template() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = ELEMENT_SHEET
    ws.append(list(ELEMENT_COLUMNS))
    for row in (["理论知识", "A", "基本要求", "", 40, ""], ["理论知识", "A-01", "职业道德", "A", 15, "X"],
                ["理论知识", "A-02", "基础知识", "A", 25, "Y"], ["理论知识", "B", "相关知识", "", 60, ""],
                ["理论知识", "B-01", "工具仪表", "B", 60, "X"]):
        ws.append(row)
    for i in range(1, len(ELEMENT_COLUMNS) + 1):
        ws.cell(row=1, column=i).font = Font(bold=True)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
