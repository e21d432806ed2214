"""Small banks for service tests (fast on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from itembank.domain import (
    BankRef,
    ElementNode,
    Importance,
    ItemContent,
    ItemType,
    Level,
    OccupationCategory,
    Option,
    Part,
    RubricPoint,
)
from itembank.elements import save_element_table
from itembank.occupations import create_bank, create_occupation

SMALL_TABLE = [
    ElementNode("A", "基本要求", 40.0),
    ElementNode("A-01", "职业道德", 15.0, "A", Importance.X),
    ElementNode("A-02", "基础知识", 25.0, "A", Importance.Y),
    ElementNode("B", "相关知识", 60.0),
    ElementNode("B-01", "工具仪表", 30.0, "B", Importance.X),
    ElementNode("B-02", "安全用电", 30.0, "B", Importance.Z),
]
PRACTICAL_TABLE = [
    ElementNode("P", "操作技能", 100.0),
    ElementNode("P-01", "线路安装", 60.0, "P", Importance.X),
    ElementNode("P-02", "故障排除", 40.0, "P", Importance.Y),
]


def single_choice(element: str = "A-01", stem: str = "安全电压的额定值不包括（　）。", key: str = "D",
                  rating: int = 3) -> ItemContent:
    return ItemContent(
        item_type=ItemType.SINGLE_CHOICE,
        stem=stem,
        points=1.0,
        element_codes=(element,),
        options=(Option("A", "36V"), Option("B", "24V"), Option("C", "12V"), Option("D", "110V")),
        key=(key,),
        difficulty_rating=rating,
    )


def practical_task(element: str = "P-01") -> ItemContent:
    return ItemContent(
        item_type=ItemType.PRACTICAL_TASK,
        stem="安装双控照明电路并通电试验。",
        points=30.0,
        element_codes=(element,),
        rubric=(RubricPoint("接线正确", 15.0), RubricPoint("通电成功", 10.0), RubricPoint("安全文明", 5.0)),
        time_limit_min=60.0,
        estimated_time_s=3600.0,
    )


@pytest.fixture()
def bank(session: Session) -> BankRef:
    create_occupation(session, code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL)
    b = create_bank(session, occupation_code="6-31-01-03", level=Level.L5)
    save_element_table(session, bank=b, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
    save_element_table(session, bank=b, part=Part.PRACTICAL, nodes=PRACTICAL_TABLE, actor="t")
    return b
