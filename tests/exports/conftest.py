"""Fixtures of the export tests.

Two sources of papers: small hand-built items (no database, for unit and property tests) and
real items of the demo banks (``itembank.demo.build_demo`` into a private SQLite file, once
per run), from which the 100-item theory paper of the issue is made: 80 single choice + 20
true/false of the level-5 electrician bank.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docx
import pytest

from itembank.domain import (
    BankRef,
    ElementTable,
    Item,
    ItemContent,
    ItemType,
    Level,
    Occupation,
    OccupationCategory,
    Option,
    Paper,
    PaperKind,
    Part,
    RubricPoint,
    VersionState,
)
from itembank.readiness import BankReadiness

ELECTRICIAN = Occupation("6-31-01-03", "电工", OccupationCategory.TECHNICAL_SKILL)
PROGRAMMER = Occupation("4-04-05-01", "计算机程序设计员", OccupationCategory.KNOWLEDGE_SKILL, work_type="软件开发")


def make_item(code: str, item_type: ItemType, *, points: float | None = None, stem: str | None = None,
              n_options: int = 4, key: tuple[str, ...] | None = None, rubric: tuple[RubricPoint, ...] = (),
              analysis: str = "", equipment: str = "", time_limit_min: float | None = None,
              elements: tuple[str, ...] = ("A-01-01",)) -> Item:
    """A small hand-built item with plausible Chinese content, unique per code."""
    n = int(re.sub(r"\D", "", code) or 0)
    default_points = {ItemType.SINGLE_CHOICE: 1.0, ItemType.TRUE_FALSE: 1.0, ItemType.MULTIPLE_CHOICE: 2.0,
                      ItemType.PRACTICAL_TASK: 30.0, ItemType.DEFENCE_TOPIC: 100.0}.get(item_type, 10.0)
    options: tuple[Option, ...] = ()
    if item_type.has_options:
        options = tuple(Option("ABCDE"[i], f"选项{'甲乙丙丁戊'[i]}{n}号") for i in range(n_options))
    if key is None:
        key = {ItemType.SINGLE_CHOICE: ("ABCD"[n % 4],), ItemType.MULTIPLE_CHOICE: ("A", "C"),
               ItemType.TRUE_FALSE: ("T" if n % 2 else "F",)}.get(item_type, ())
    if stem is None:
        stem = {
            ItemType.SINGLE_CHOICE: f"第{n}号单选题：安全电压的额定值不包括（　）。",
            ItemType.MULTIPLE_CHOICE: f"第{n}号多选题：下列属于常用电工工具的有（　）。",
            ItemType.TRUE_FALSE: f"第{n}号判断题：串联电路中各处的电流相等。",
            ItemType.SHORT_ANSWER: f"第{n}号简答题：简述触电急救的步骤。",
            ItemType.CALCULATION: f"第{n}号计算题：电阻为10Ω，电压为220V，求电流多少？写出计算过程。",
            ItemType.ESSAY: f"第{n}号论述题：试论述接地与接零保护的区别。",
            ItemType.FILL_IN: f"第{n}号填空题：我国工频交流电的频率为＿＿＿＿Hz。",
            ItemType.PRACTICAL_TASK: f"第{n}号实操题：安装两地控制一盏白炽灯的照明电路并通电试验。",
            ItemType.DEFENCE_TOPIC: f"第{n}号答辩题：论述一项电气控制系统技术改造的方案与效果",
        }[item_type]
    if not rubric and not item_type.is_objective:
        p = points if points is not None else default_points
        rubric = (RubricPoint(f"要点一（{code}）", p * 0.6, "答出得分，不全酌情扣分"),
                  RubricPoint(f"要点二（{code}）", p * 0.4, "每错一处扣1分"))
    if not analysis and not item_type.is_objective:
        analysis = f"参考要点（{code}）：要点一；要点二。"
    content = ItemContent(
        item_type=item_type, stem=stem, points=points if points is not None else default_points, element_codes=elements,
        options=options, key=key, rubric=rubric, analysis=analysis,
        equipment=equipment or ("配电板、万用表、常用电工工具" if item_type is ItemType.PRACTICAL_TASK else ""),
        time_limit_min=time_limit_min or (60.0 if item_type is ItemType.PRACTICAL_TASK else None),
    )
    return Item(code=code, version=1, content=content, state=VersionState.ACCEPTED,
                occupation_code=ELECTRICIAN.code, level=Level.L5)


def make_paper(items: tuple[Item, ...] | list[Item], *, part: Part = Part.THEORY, code: str = "T-2026-01-A",
               level: Level = Level.L5, occupation: Occupation = ELECTRICIAN, kind: PaperKind = PaperKind.FORM,
               form_label: str = "A", time_allowed_min: int = 120, **kwargs: object) -> Paper:
    return Paper(code=code, occupation=occupation, level=level, part=part, form_label=form_label, kind=kind,
                 items=tuple(items), time_allowed_min=time_allowed_min,
                 created_at=datetime(2026, 3, 1, 9, 0), **kwargs)  # type: ignore[arg-type]


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def body_paragraphs(document: docx.document.Document) -> list[tuple[str, str]]:
    """(style id, text) of the body's top-level paragraphs, in order."""
    out = []
    for p in document.paragraphs:
        ppr = p._p.pPr
        sid = ppr.style if ppr is not None and ppr.style else "Normal"
        out.append((sid, p.text))
    return out


def table_texts(document: docx.document.Document) -> list[list[list[str]]]:
    """Every body table as rows of cell texts (merged cells repeat, as python-docx reads them)."""
    return [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]


# --------------------------------------------------------------------------------------
# Demo banks (real items)


@dataclass(frozen=True)
class DemoData:
    url: str
    l5: BankRef
    l2: BankRef
    pool5: tuple[Item, ...]
    pool2: tuple[Item, ...]
    theory_table: ElementTable
    readiness: tuple[BankReadiness, ...]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    from itembank.db import make_engine, transaction, upgrade
    from itembank.demo import DemoBankSpec, build_demo
    from itembank.elements import load_element_table
    from itembank.pool import load_pool
    from itembank.readiness import bank_readiness

    specs = (
        DemoBankSpec("electrician", Level.L5, n_theory=300, n_practical=20, n_past_sessions=1, n_compromised=2),
        DemoBankSpec("electrician", Level.L2, n_theory=200, n_practical=8, n_defence=4, subjective_share=0.25,
                     n_past_sessions=0, n_compromised=0),
    )
    path: Path = tmp_path_factory.mktemp("exports-demo") / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url=url)
    upgrade(engine)
    with transaction(engine) as session:
        summary = build_demo(session, seed=11, specs=specs)
        l5, l2 = summary.banks
        data = DemoData(
            url=url, l5=l5, l2=l2,
            pool5=tuple(load_pool(session, bank=l5)), pool2=tuple(load_pool(session, bank=l2)),
            theory_table=load_element_table(session, bank=l5, part=Part.THEORY),
            readiness=(bank_readiness(session, bank=l5), bank_readiness(session, bank=l2)),
        )
    engine.dispose()
    return data


def _first(pool: tuple[Item, ...], item_type: ItemType, n: int) -> list[Item]:
    got = [it for it in pool if it.item_type is item_type and not it.usage.compromised][:n]
    assert len(got) == n, f"demo bank has too few {item_type.value}"
    return got


@pytest.fixture(scope="session")
def theory_paper(demo: DemoData) -> Paper:
    """The issue's paper: 80 single choice + 20 true/false from the level-5 bank."""
    items = _first(demo.pool5, ItemType.SINGLE_CHOICE, 80) + _first(demo.pool5, ItemType.TRUE_FALSE, 20)
    return make_paper(items, code="DG5-2026-03-A", occupation=demo.l5.occupation, session_code="2026-DG5-S03")


@pytest.fixture(scope="session")
def mixed_paper(demo: DemoData) -> Paper:
    """Level 2: objective and subjective sections (附件1 第16条)."""
    items = (_first(demo.pool2, ItemType.SINGLE_CHOICE, 30) + _first(demo.pool2, ItemType.MULTIPLE_CHOICE, 10)
             + _first(demo.pool2, ItemType.TRUE_FALSE, 10) + _first(demo.pool2, ItemType.SHORT_ANSWER, 2)
             + _first(demo.pool2, ItemType.CALCULATION, 1) + _first(demo.pool2, ItemType.ESSAY, 1))
    return make_paper(items, code="DG2-2026-01-B", level=Level.L2, occupation=demo.l2.occupation, form_label="B")


@pytest.fixture(scope="session")
def practical_paper(demo: DemoData) -> Paper:
    tasks = [it for it in demo.pool5 if it.item_type is ItemType.PRACTICAL_TASK]
    chosen = (tasks[0], tasks[7], tasks[14])
    minutes = int(sum(it.content.time_limit_min or 0 for it in chosen))  # 考核时间: what the tasks take
    return make_paper(chosen, part=Part.PRACTICAL, code="DG5-2026-03-P",
                      occupation=demo.l5.occupation, time_allowed_min=minutes)


@pytest.fixture(scope="session")
def defence_paper(demo: DemoData) -> Paper:
    topics = [it for it in demo.pool2 if it.item_type is ItemType.DEFENCE_TOPIC]
    return make_paper(topics, part=Part.DEFENCE, code="DG2-2026-01-D", level=Level.L2,
                      occupation=demo.l2.occupation, time_allowed_min=30)
