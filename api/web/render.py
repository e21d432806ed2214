"""Templates (Jinja2, autoescaped), the Chinese words for the domain's codes, paging, and the
translation of field-named problems into per-field error lists for forms."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.web.markup import render_markup
from itembank import i18n, media
from itembank.domain import ItemType, Level, Part, Role, VersionState

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CST = timezone(timedelta(hours=8))  # times are shown in China Standard Time

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

STATE_ZH = {
    "draft": "草稿", "submitted": "已提交待审", "in_review": "审核中", "changes_requested": "需修改",
    "approved": "审核通过待验收", "accepted": "已验收入库", "superseded": "已被新版本取代", "retired": "已停用",
}
WORDS_ZH = {
    # acceptance batches, review decisions
    "open": "待签署", "rejected": "未通过验收", "approve": "通过", "request_changes": "要求修改",
    # assembly runs and papers
    "queued": "排队中", "running": "组卷中", "finished": "已完成", "failed": "失败", "cancelled": "已取消",
    "optimal": "最优解", "feasible": "可行解", "infeasible": "无可行解", "time_limit": "达到时限",
    "assembled": "已组卷", "sealed": "已密封", "issued": "已启用", "leaked": "已泄密作废", "void": "已作废",
    "form": "正式卷", "backup": "备用卷",
    # sealed papers and incidents
    "main": "正式卷", "standby": "备用（未启用）", "opened": "已启封",
    "leak": "泄密", "damaged": "损坏", "missing": "丢失/未运抵", "other": "其他",
    # exam sessions
    "planned": "已排定",
}
WORDS_ZH.update(STATE_ZH)
ANALYSIS_FLAGS_ZH = {
    "too_hard": "过难", "too_easy": "过易", "low_corrected_correlation": "校正题总相关低",
    "negative_discrimination": "区分度为负", "low_discrimination": "区分度低",
    "alpha_rises_if_deleted": "删除后信度上升", "distractor_attracts_high_scorers": "干扰项吸引高分组",
    "too_few_responses_for_irt": "作答人数不足（仅经典统计）", "no_score_variation": "得分无变异",
    "large_irt_standard_error": "IRT 标准误过大", "low_irt_discrimination": "IRT 区分度低",
    "extreme_irt_difficulty": "IRT 难度极端", "item_misfit": "拟合不良", "degenerate_irt_estimate": "IRT 估计退化",
}
FIELD_ZH = {
    "code": "试题编号", "item_type": "题型", "stem": "题干", "points": "分值", "element_codes": "鉴定点",
    "options": "选项", "key": "答案", "rubric": "评分要点", "analysis": "解析/评分标准",
    "time_limit_min": "考核时限", "equipment": "设备工具材料", "estimated_time_s": "预计用时",
    "difficulty_rating": "难度", "comment": "意见", "reason": "理由", "members": "验收委员", "items": "试题",
}


def words(value: Any) -> str:
    """The Chinese word for an enum value or code (the value itself when there is none)."""
    raw = getattr(value, "value", value)
    if isinstance(value, (ItemType, Part, Role)):
        return value.zh
    if isinstance(value, Level):
        return value.title_zh
    return WORDS_ZH.get(str(raw), str(raw))


def local_time(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(CST).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


templates.env.filters.update(markup=render_markup, words=words, local_time=local_time, num=num, percent=percent,
                             datetime=i18n.format_datetime, date=i18n.format_date, text=i18n.render)
# pictures in item text (issue 17): the list of a version's pictures; text without them (lists)
templates.env.filters.update(pictures=media.content_pictures, nopictures=media.strip_pictures)
# ``_("...", name=value)``: the catalog's words in the request's locale (itembank.i18n)
templates.env.globals.update(_=i18n._, locale=i18n.current_locale)
templates.env.globals.update(Role=Role, ItemType=ItemType, Part=Part, VersionState=VersionState,
                             STATE_ZH=STATE_ZH, FLAGS_ZH=ANALYSIS_FLAGS_ZH, FIELD_ZH=FIELD_ZH)


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

# Chinese for the common problems the services report (item content, acceptance batches);
# any message not matched here is shown as the service wrote it.
_PROBLEMS_ZH: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in [
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
    (r"^no page (\S+)$", r"没有这个页面：\1"),
    (r"security token does not match", "表单安全校验未通过（页面可能已过期）：请刷新页面后重试"),
]]


def zh_problem(message: str) -> str:
    for pattern, zh in _PROBLEMS_ZH:
        m = pattern.search(message)
        if m:
            return m.expand(zh)
    return message


def field_errors(problems: Iterable[str], *, known: Iterable[str]) -> dict[str, list[str]]:
    """``{"field": [messages]}`` from "field: message" problems; the rest under ``"_form"``."""
    names = set(known)
    out: dict[str, list[str]] = defaultdict(list)
    for p in problems:
        m = _FIELD_RE.match(p)
        if m and m.group(1) in names:
            out[m.group(1)].append(zh_problem(m.group(2)))
        else:
            out["_form"].append(zh_problem(p))
    return dict(out)
