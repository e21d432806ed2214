"""A paper's sections: items grouped by type in printed order, numbered continuously.

Every document of a paper (the paper, its answer key, its answer sheet, the task sheets and
scoring tables) numbers items through ``paper_sections``, so item 37 is item 37 everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from itembank.domain import Item, ItemType, Paper, Part

from exports.errors import PaperLayoutError
from exports.wording import chinese_numeral, fmt_points, how_to_answer, points_phrase

_POINT_TOLERANCE = 1e-9


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
        return chinese_numeral(self.index)

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

    def heading(self, *, answer_sheet: bool = False) -> str:
        """一、单项选择题（第1题～第80题。选择一个正确的答案，…每题1分，满分80分。）"""
        span = f"第{self.first}题" if self.first == self.last else f"第{self.first}题～第{self.last}题"
        how = how_to_answer(self.item_type, answer_sheet=answer_sheet)
        return (f"{self.numeral}、{self.item_type.zh}（{span}。{how}"
                f"{points_phrase(self.per_item, self.total)}）")

    def short_heading(self) -> str:
        """一、单项选择题（每题1分，满分80分）"""
        phrase = points_phrase(self.per_item, self.total).rstrip("。")
        return f"{self.numeral}、{self.item_type.zh}（{phrase}）"


def validate_paper(paper: Paper, *, parts: tuple[Part, ...] | None = None) -> None:
    """Raise ``PaperLayoutError`` listing every problem that stops the paper being printed."""
    problems: list[str] = []
    if not paper.items:
        raise PaperLayoutError(f"paper {paper.code} has no items", field="items")
    if parts is not None and paper.part not in parts:
        wanted = " or ".join(p.zh for p in parts)
        raise PaperLayoutError(
            f"paper {paper.code} is a {paper.part.zh} paper; this document is for {wanted} papers",
            field="part",
        )
    if paper.time_allowed_min <= 0:
        problems.append(f"time allowed is {paper.time_allowed_min} min; it must be > 0")
    seen: dict[str, int] = {}
    for i, it in enumerate(paper.items, start=1):
        if it.code in seen:
            problems.append(f"item {it.code} appears twice (positions {seen[it.code]} and {i})")
        seen.setdefault(it.code, i)
        if it.part is not paper.part:
            problems.append(f"item {it.code} ({it.item_type.zh}) is a {it.part.zh} item in a {paper.part.zh} paper")
        if not it.points > _POINT_TOLERANCE:
            problems.append(f"item {it.code} is worth {fmt_points(it.points)} points; it must be worth more than 0")
        if it.item_type.has_options and len(it.content.options) < 2:
            problems.append(f"item {it.code} ({it.item_type.zh}) has {len(it.content.options)} options")
    closed: set[ItemType] = set()
    prev: ItemType | None = None
    for it in paper.items:
        if it.item_type is not prev:
            if it.item_type in closed:
                problems.append(
                    f"item {it.code}: {it.item_type.zh} items are not together; a paper's items are "
                    "grouped by type, one section per type"
                )
                break
            if prev is not None:
                closed.add(prev)
            prev = it.item_type
    if problems:
        raise PaperLayoutError(
            f"paper {paper.code} cannot be laid out:\n" + "\n".join(f"  - {p}" for p in problems),
            field="items",
        )


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
