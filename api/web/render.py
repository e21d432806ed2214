"""Templates (Jinja2, autoescaped), the words for the domain's codes (catalog msgids, rendered in
the reader's locale), paging, and field-named problems as per-field error lists for forms."""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.web.markup import render_markup
from api.words import DOC_KINDS, DOC_LABELS, OBJECTIVE_WORDS
import assembly as asm
from itembank import i18n, media
from itembank.domain import ItemType, Level, PaperKind, Part, Role, VersionState
from itembank.i18n import N_
from itembank.ledger_text import Names
from itembank.orm_assembly import PaperStatus, RunState
from itembank.orm_sealing import IncidentKind, SealRole, SealState
from itembank.orm_workflow import BatchState, ExpertRole, ReviewDecision, TitleRank

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

# The words for the domain's codes, as msgids of the catalog (rendered in the reader's locale
# by ``label``); enums that carry their own Chinese (levels, parts, item types, roles,
# categories) are rendered by ``itembank.i18n``.
STATE_LABELS = {
    "draft": N_("Draft"), "submitted": N_("Submitted, awaiting review"), "in_review": N_("In review"),
    "changes_requested": N_("Changes requested"), "approved": N_("Approved, awaiting acceptance"),
    "accepted": N_("Accepted into the bank"), "superseded": N_("Superseded by a newer version"),
    "retired": N_("Retired"),
}
LABELS: dict[type, dict[str, str]] = {
    VersionState: STATE_LABELS,
    BatchState: {"open": N_("Awaiting votes"), "accepted": N_("Accepted"), "rejected": N_("Not accepted")},
    ReviewDecision: {"approve": N_("Approved"), "request_changes": N_("Sent back for changes")},
    RunState: {"queued": N_("Queued"), "running": N_("Assembling"), "finished": N_("Finished"),
               "failed": N_("Failed")},
    PaperStatus: {"assembled": N_("Assembled"), "sealed": N_("Sealed"), "issued": N_("In use"),
                  "leaked": N_("Leaked, void"), "void": N_("Void")},
    PaperKind: {"form": N_("Main paper"), "backup": N_("Backup paper")},
    SealRole: {"main": N_("Main paper"), "backup": N_("Backup paper")},
    SealState: {"sealed": N_("Sealed"), "opened": N_("Opened"), "void": N_("Void"),
                "standby": N_("Backup (not in use)")},
    IncidentKind: {"leak": N_("Leak"), "damaged": N_("Damaged"), "missing": N_("Missing or not delivered"),
                   "other": N_("Other")},
    ExpertRole: {"writer": N_("Item writer (expert)"), "reviewer": N_("Reviewer (expert)")},
    TitleRank: {"none": N_("No title"), "junior": N_("Junior"), "intermediate": N_("Intermediate"),
                "associate_senior": N_("Associate senior"), "senior": N_("Senior")},
}
# Codes that reach the pages as plain strings (a run's solver outcome)
RAW_LABELS = {"optimal": N_("Optimal"), "feasible": N_("Feasible"), "infeasible": N_("Infeasible"),
              "time_limit": N_("Time limit reached"), "not_solved": N_("Not solved"),
              "refused": N_("Papers refused (items give each other away)")}




def doc_kinds(part: Any) -> list[tuple[str, str]]:
    """The documents of a paper of ``part``: (kind, label) pairs (``exports.service``'s kinds)."""
    return [(k, i18n.gettext(DOC_LABELS[k])) for k in DOC_KINDS.get(str(getattr(part, "value", part)), ())]


def label(value: Any) -> str:
    """The word for an enum value or code in the reader's locale (the code itself when there is none)."""
    if isinstance(value, Level):
        return i18n.render(value.title)
    if isinstance(value, enum.Enum):
        table = LABELS.get(type(value))
        if table and value.value in table:
            return i18n.gettext(table[value.value])
        if hasattr(value, "zh"):  # the i18n module's own rendering of the domain's enums
            text = i18n._enum_label(value, i18n.current_locale())
            return text[:1].upper() + text[1:] if i18n.current_locale() == "en" else text
        value = value.value
    raw = str(value)
    for table in (RAW_LABELS, *LABELS.values()):
        if raw in table:
            return i18n.gettext(table[raw])
    return raw


_BACKUP_LABEL = re.compile(r"^备用(\d+)$")


def paper_label(form_label: str) -> str:
    """A paper's stored label in the reader's words: A, B … as they are; 备用N as "backup N"."""
    m = _BACKUP_LABEL.match(form_label or "")
    return i18n._("Backup {n}", n=int(m.group(1))) if m else (form_label or "")


def flag_label(code: str) -> str:
    """A stored analysis flag in the reader's words (``itembank.analysis_service.flag_label``)."""
    from itembank.analysis_service import flag_label as label_of

    return i18n.render(label_of(code))


def field_label(field: str) -> str:
    """An item field's name in the reader's words (``stem``, ``analysis``, ``option_A`` ...)."""
    from itembank.workflow import FIELD_LABELS

    if field.startswith("option_"):
        return i18n._("Option {label}", label=field.removeprefix("option_"))
    return i18n.gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def tr(msgid: str) -> str:
    """A msgid marked elsewhere with ``N_`` (a field label, a flash), in the reader's locale."""
    return i18n.gettext(msgid)


def flash_of(request: Request, messages: Mapping[str, str]) -> dict[str, str]:
    """``{"flash": ...}`` for the ``?done=`` code of a redirect after a form (msgids of ``messages``)."""
    done = request.query_params.get("done", "")
    return {"flash": i18n.gettext(messages[done])} if done in messages else {}


def visible_space(text: str) -> str:
    """Spaces and line breaks made visible in a diff (an added space in "220 V" must show)."""
    return text.replace(" ", "␣").replace("\u3000", "␣").replace("\n", "↵\n") if not text.strip() else text


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


templates.env.filters.update(markup=render_markup, words=label, label=label, num=num, percent=percent, tr=tr,
                             flag=flag_label, field_label=field_label, paper_label=paper_label, visible_space=visible_space,
                             datetime=i18n.format_datetime, date=i18n.format_date, clock=i18n.format_time,
                             text=i18n.render, person=Names(),
                             solver=lambda s: asm.SOLVER_NAMES.get(str(s), str(s)))
# pictures in item text (issue 17): the list of a version's pictures; text without them (lists)
templates.env.filters.update(pictures=media.content_pictures, nopictures=media.strip_pictures)
# ``_("...", name=value)``: the catalog's words in the request's locale (itembank.i18n)
templates.env.globals.update(_=i18n._, locale=i18n.current_locale)
templates.env.globals.update(Role=Role, ItemType=ItemType, Part=Part, VersionState=VersionState, doc_kinds=doc_kinds,
                             OBJECTIVE_WORDS=OBJECTIVE_WORDS)


# Every page is one user's view of confidential material: never cached, never framed, scripts
# only from this site (htmx reads no inline script; templates use a few inline styles).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
}


def render(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200):  # type: ignore[no-untyped-def]
    """A page (or a fragment for htmx) with the page headers."""
    ctx = {"page": getattr(request.state, "page", None), **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=PAGE_HEADERS)


# --------------------------------------------------------------------------------------
# Paging


PAGE_SIZES = (20, 50, 100)


@dataclass(frozen=True, slots=True)
class Pager:
    offset: int
    limit: int
    total: int
    base: str
    params: tuple[tuple[str, str], ...]

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    def url(self, offset: int) -> str:
        q = [(k, v) for k, v in self.params if k != "offset" and v not in ("", None)] + [("offset", str(offset))]
        return f"{self.base}?{urlencode(q)}"

    @property
    def prev_url(self) -> str | None:
        return self.url(max(0, self.offset - self.limit)) if self.offset > 0 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.offset + self.limit) if self.offset + self.limit < self.total else None


def paging(request: Request, default_limit: int = 20) -> tuple[int, int]:
    """``offset`` and ``limit`` from the query string, clamped (a bad value is the default)."""
    def _int(name: str, default: int, lo: int, hi: int) -> int:
        try:
            return max(lo, min(hi, int(request.query_params.get(name, default))))
        except ValueError:
            return default
    return _int("offset", 0, 0, 10_000_000), _int("limit", default_limit, 1, 200)


def pager(request: Request, offset: int, limit: int, total: int) -> Pager:
    return Pager(offset, limit, total, request.url.path, tuple(request.query_params.multi_items()))


# --------------------------------------------------------------------------------------
# Problems -> per-field errors

_FIELD_RE = re.compile(r"^(?:item [^:]*: )?([a-z_0-9]+)(?:\[[^\]]*\])?: (.*)$", re.DOTALL)

Problem = str | i18n.Message | tuple[str, "str | i18n.Message"]


def problem_text(problem: Any) -> str:
    """A service's problem in the reader's locale. Services that still write English strings
    (not yet catalog messages) pass through ``legacy_zh`` in the Chinese locale."""
    if isinstance(problem, i18n.Message):
        return i18n.render(problem)
    if not isinstance(problem, str):  # a field message or a listing: it renders itself
        return str(problem)
    text = str(problem)
    return legacy_zh(text) if i18n.current_locale() == "zh_CN" else text


def as_field_problem(p: Any) -> tuple[str, Any] | None:
    """``(field, message)`` of a problem that names its field: a pair, or a field message of the
    services (an object with ``field`` and ``message``); None for a plain text."""
    if isinstance(p, tuple) and len(p) == 2:
        return str(p[0]), p[1]
    if not isinstance(p, (str, i18n.Message)) and hasattr(p, "field") and hasattr(p, "message"):
        return (p.field or "_form"), p.message
    return None


def problem_field(p: Any) -> str | None:
    """The field a problem is about, or None."""
    pair = as_field_problem(p)
    if pair is not None:
        return pair[0]
    m = _FIELD_RE.match(p.english() if isinstance(p, i18n.Message) else str(p))
    return m.group(1) if m else None


def field_errors(problems: Iterable[Any], *, known: Iterable[str]) -> dict[str, list[str]]:
    """``{"field": [messages]}`` from problems, each ``(field, message)``, a service's field
    message, or a "field: message" text (a Message is matched on its English form); the rest
    under ``"_form"``."""
    names = set(known)
    out: dict[str, list[str]] = defaultdict(list)
    for p in problems:
        pair = as_field_problem(p)
        if pair is not None:
            name, text = pair
            out[name if name in names else "_form"].append(problem_text(text))
            continue
        english = p.english() if isinstance(p, i18n.Message) else str(p)
        m = _FIELD_RE.match(english)
        if m and m.group(1) in names:
            shown = problem_text(p) if isinstance(p, i18n.Message) else problem_text(m.group(2))
            if isinstance(p, i18n.Message):  # the field's name is beside the field already
                shown = re.sub(rf"^{re.escape(m.group(1))}\s*[:：]\s*", "", shown)
            out[m.group(1)].append(shown)
        else:
            out["_form"].append(problem_text(p))
    return dict(out)


# Services that have not yet moved to catalog messages report English strings; these patterns
# give the Chinese of the common ones (item content, acceptance batches, blueprints, refusals).
# A message not matched here is shown as the service wrote it. To be removed once the services'
# messages are all catalog messages (issue 14).
_LEGACY_ZH: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in [
    (r"the question text is empty", "请填写题干"),
    (r"must be a positive number", "请填写大于 0 的分值"),
    (r"estimated_time_s.*must be positive|^.* must be positive$", "请填写大于 0 的数"),
    (r"must be an integer 1 \(easiest\) to 5", "难度为 1（最易）到 5（最难）的整数"),
    (r"the item is tied to no element", "请至少选择一个鉴定点"),
    (r"^(.+) not an element of the current", r"\1 不是当前认定要素细目表中的鉴定点"),
    (r"an element is listed twice", "鉴定点重复"),
    (r"needs at least 2 options", "至少需要 2 个选项"),
    (r"option labels repeat", "选项标号重复"),
    (r"option (\w+) is empty", r"选项 \1 为空"),
    (r"^(.+) not among the options", r"答案 \1 不在选项中"),
    (r"a single choice item has exactly one key", "单项选择题须且只能有一个答案"),
    (r"a multiple choice item has at least two keys", "多项选择题至少有两个答案"),
    (r"a key is listed twice", "答案重复"),
    (r"has no options", "此题型没有选项"),
    (r"true/false item's key is T", "判断题答案为“正确”或“错误”"),
    (r"fill-in item needs the expected answer", "填空题须填写标准答案"),
    (r"needs a scoring standard", "主观题须有评分标准：评分要点或文字"),
    (r"defence topic needs its review points", "答辩/评审题须有评审要点"),
    (r"practical task needs its scoring points", "实际操作试题须有评分要点"),
    (r"practical task needs a time limit", "实际操作试题须填写考核时限（分钟）"),
    (r"scoring point (\d+) has no description", r"第 \1 个评分要点没有内容"),
    (r"scoring point (\d+) has points .*; must be positive", r"第 \1 个评分要点的分值须大于 0"),
    (r"scoring points sum to (\S+), but the item is worth (\S+)", r"评分要点合计 \1 分，与题目分值 \2 分不符"),
    (r"use 1-64 letters, digits", "编号用 1–64 个字母、数字或 - _ .，以字母或数字开头"),
    (r"the code is already used", "该编号已被使用"),
    # acceptance batches (itembank.workflow.create_acceptance_batch)
    (r"(\d+) distinct member\(s\); an acceptance committee has at least (\d+)",
     r"已选 \1 人；验收小组至少 \2 人（附件11 第17条(二)）"),
    (r"a member is listed twice", "验收委员重复"),
    (r"the batch is empty", "请至少选择一道审核通过的试题"),
    (r"^item (\S+) v(\d+): is (\w+), not approved", r"试题 \1 v\2 尚未审核通过"),
    (r"^item (\S+) v(\d+): already in an open acceptance batch", r"试题 \1 v\2 已在另一个待签署的批次中"),
    (r"^item (\S+): (.+) wrote it and may not sit on its acceptance committee",
     r"试题 \1：\2 是命题人，不能担任其验收委员"),
    (r"^item (\S+): compromised", r"试题 \1 已泄密，不得验收（附件16）"),
    # blueprints (assembly.validate_blueprint names the first bad field)
    (r"^must be >= (\S+), got (\S+)$", r"不得小于 \1（现为 \2）"),
    (r"^must be <= (\S+), got (\S+)$", r"不得大于 \1（现为 \2）"),
    (r"^must be an integer", "须为整数"),
    (r"^must be a finite number", "须为数字"),
    (r"^is required$", "必填"),
    (r"^(\S+) is above (\S+) = (\S+)$", r"\1 大于上限 \3"),
    (r"type '(\w+)' listed twice", r"题型重复"),
    (r"needs at least one type", "至少需要一种题型"),
    # refusals (api.deps.require, check_scope, itembank.visibility)
    (r"^(\S+) may not do this; it needs the role (.+)$", r"\1 无权执行此操作：需要以下角色之一：\2"),
    (r"^(\S+) has no role for occupation (\S+); ask an administrator$",
     r"\1 没有职业 \2 的相应角色，请联系系统管理员"),
    (r"^item (\S+) is not yours to read",
     r"试题 \1 不在您的查阅范围内：命题专家只看自己的试题，审题专家只看分配给自己的试题，验收委员只看所在批次的试题（附件12 第9条）"),
    (r"^(\S+) may not read the items of (.+?): only", r"\1 无权查阅 \2 的试题（附件12 第9条）"),
]]


def legacy_zh(message: str) -> str:
    for pattern, zh in _LEGACY_ZH:
        m = pattern.search(message)
        if m:
            return m.expand(zh)
    return message
