"""A paper's sections: items grouped by type in printed order, numbered continuously.

Every document of a paper (the paper, its answer key, its answer sheet, the task sheets and
scoring tables) numbers items through ``paper_sections``, so item 37 is item 37 everywhere.
The order of the sections is the order the paper's items were recorded in (the centre's
section order, ``itembank.printed_order``); the exports print it as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from itembank.domain import Item, ItemType, Paper, Part
from itembank.i18n import Message, render

from exports.errors import PaperLayoutError
from exports.wording import fmt_points, how_to_answer, points_phrase, section_numeral, type_name

_POINT_TOLERANCE = 1e-9
# a deduction named in a scoring rule: "扣2分", "扣 0.5 分"
DEDUCTION = re.compile(r"扣\s*(\d+(?:\.\d+)?)\s*分")


@dataclass(frozen=True, slots=True)
class NumberedItem:
    number: int  # printed number, continuous across sections
    item: Item


@dataclass(frozen=True, slots=True)
class Section:
    """One section (大题) of a paper: all items of one type, in printed order."""

    index: int  # 1-based: 一、二、三 ...
    item_type: ItemType
    items: tuple[NumberedItem, ...]

    @property
    def numeral(self) -> str:
        return section_numeral(self.index)

    @property
    def first(self) -> int:
        return self.items[0].number

    @property
    def last(self) -> int:
        return self.items[-1].number

    @property
    def total(self) -> float:
        return float(sum(n.item.points for n in self.items))

    @property
    def per_item(self) -> float | None:
        """The points of every item when all are equal, else None."""
        pts = {n.item.points for n in self.items}
        return next(iter(pts)) if len(pts) == 1 else None

    def span(self) -> str:
        """第1题～第80题 (or 第5题 for one item)."""
        if self.first == self.last:
            return render(Message("item {number}", number=self.first))
        return render(Message("items {first}-{last}", first=self.first, last=self.last))

    def heading(self, *, answer_sheet: bool = False) -> str:
        """一、单项选择题（第1题～第80题。选择一个正确的答案，…每题1分，满分80分。）"""
        return render(Message("{numeral}. {type} ({span}. {how}{points})", numeral=self.numeral,
                              type=type_name(self.item_type), span=self.span(),
                              how=how_to_answer(self.item_type, answer_sheet=answer_sheet),
                              points=points_phrase(self.per_item, self.total)))

    def short_heading(self) -> str:
        """一、单项选择题（每题1分，满分80分）"""
        phrase = points_phrase(self.per_item, self.total).rstrip("。.")
        return render(Message("{numeral}. {type} ({points})", numeral=self.numeral, type=type_name(self.item_type),
                              points=phrase))


def validate_paper(paper: Paper, *, parts: tuple[Part, ...] | None = None) -> None:
    """Raise ``PaperLayoutError`` listing every problem that stops the paper being printed:
    no items, an item of another part, an item twice, points, options, item types not grouped
    into sections; for a practical paper, tasks that take longer than the time allowed and
    scoring rules that deduct more than their row's points (附件2 第9条: examiners score by
    the rubric; a rule the row cannot pay is no rule)."""
    if not paper.items:
        raise PaperLayoutError(Message("paper {code} has no items", code=paper.code), field="items")
    if parts is not None and paper.part not in parts:
        raise PaperLayoutError(Message("paper {code} is a {part} paper; this document is for {wanted} papers",
                                       code=paper.code, part=paper.part, wanted=list(parts)), field="part")
    problems: list[Message] = []
    if paper.time_allowed_min <= 0:
        problems.append(Message("time allowed is {minutes} min; it must be more than 0", minutes=paper.time_allowed_min))
    seen: dict[str, int] = {}
    for i, it in enumerate(paper.items, start=1):
        if it.code in seen:
            problems.append(Message("item {code} appears twice (positions {first} and {second})", code=it.code,
                                    first=seen[it.code], second=i))
        seen.setdefault(it.code, i)
        if it.part is not paper.part:
            problems.append(Message("item {code} ({type}) is a {item_part} item in a {paper_part} paper", code=it.code,
                                    type=it.item_type, item_part=it.part, paper_part=paper.part))
        if not it.points > _POINT_TOLERANCE:
            problems.append(Message("item {code} is worth {points} points; it must be worth more than 0",
                                    code=it.code, points=fmt_points(it.points)))
        if it.item_type.has_options and len(it.content.options) < 2:
            problems.append(Message("item {code} ({type}) has {n} option(s); it needs at least 2", code=it.code,
                                    type=it.item_type, n=len(it.content.options)))
    closed: set[ItemType] = set()
    prev: ItemType | None = None
    for it in paper.items:
        if it.item_type is not prev:
            if it.item_type in closed:
                problems.append(Message("item {code}: the {type} items are not together; a paper's items are grouped "
                                        "by type, one section per type", code=it.code, type=it.item_type))
                break
            if prev is not None:
                closed.add(prev)
            prev = it.item_type
    if paper.part is Part.PRACTICAL:
        problems += practical_problems(paper)
    if problems:
        raise PaperLayoutError(Message("paper {code} cannot be printed:\n{problems}", code=paper.code,
                                       problems="\n".join(f"  - {render(p)}" for p in problems)), field="items")


def task_minutes(paper: Paper) -> float | None:
    """The time the paper's tasks take together (minutes), or None when a task has no time."""
    times = [it.content.time_limit_min for it in paper.items]
    if not times or any(t is None or t <= 0 for t in times):
        return None
    return float(sum(times))  # type: ignore[arg-type]


def practical_problems(paper: Paper) -> list[Message]:
    """A practical paper's tasks against its time allowed, and each scoring rule against its
    row's points."""
    problems: list[Message] = []
    total = task_minutes(paper)
    if total is not None and total > paper.time_allowed_min + 1e-9:
        problems.append(Message("its tasks take {tasks} min together, but the paper allows {allowed} min: print "
                                "the time the tasks take (or a longer fixed time)", tasks=fmt_points(total),
                                allowed=paper.time_allowed_min))
    for number, it in enumerate(paper.items, start=1):
        rubric = it.content.rubric
        if rubric and abs(sum(rp.points for rp in rubric) - it.points) > 1e-6:
            problems.append(Message("task {number} ({code}): its scoring points add up to {sum}, the task is worth "
                                    "{points}", number=number, code=it.code,
                                    sum=fmt_points(sum(rp.points for rp in rubric)), points=fmt_points(it.points)))
        for row, rp in enumerate(rubric, start=1):
            for amount in DEDUCTION.findall(rp.criteria):
                if float(amount) > rp.points + 1e-9:
                    problems.append(Message("task {number} ({code}), scoring row {row} “{point}”: the rule deducts "
                                            "{amount} points from a row worth {points}", number=number, code=it.code,
                                            row=row, point=rp.description, amount=amount,
                                            points=fmt_points(rp.points)))
    return problems


def paper_sections(paper: Paper) -> tuple[Section, ...]:
    """Split ``paper.items`` into sections (validated first)."""
    validate_paper(paper)
    sections: list[Section] = []
    run: list[NumberedItem] = []
    for number, it in enumerate(paper.items, start=1):
        if run and run[-1].item.item_type is not it.item_type:
            sections.append(Section(len(sections) + 1, run[0].item.item_type, tuple(run)))
            run = []
        run.append(NumberedItem(number, it))
    sections.append(Section(len(sections) + 1, run[0].item.item_type, tuple(run)))
    return tuple(sections)
