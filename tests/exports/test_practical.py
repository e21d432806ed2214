"""Practical task sheet, examiners' scoring table, defence topics."""

from __future__ import annotations

import io
import zipfile

import pytest

from exports import ExportError, render_defence_topics, render_scoring_sheet, render_task_sheet
from itembank.domain import ItemType, Level, Part

from tests.exports.conftest import make_item, make_paper, open_docx, table_texts


def _xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_task_sheet_gives_every_task_without_its_rubric(practical_paper) -> None:  # type: ignore[no-untyped-def]
    data = render_task_sheet(practical_paper)
    d = open_docx(data)
    tables = table_texts(d)
    texts = [p.text for p in d.paragraphs]
    assert texts[2] == "电工（五级/初级工）实际操作试题"
    total = sum(it.content.time_limit_min for it in practical_paper.items)
    assert total == practical_paper.time_allowed_min
    assert f"考核时间：{total:g}分钟。" in "".join(texts)
    for number, it in enumerate(practical_paper.items, start=1):
        heads = [t for t in texts if t.startswith(f"试题{number}（")]
        assert heads == [f"试题{number}（本题{it.points:g}分，考核时间{it.content.time_limit_min:g}分钟）"]
        task = [rows for rows in tables if rows[0][0] == "考核内容与要求" and rows[0][1] == it.content.stem]
        assert len(task) == 1
        assert task[0][1][1] == it.content.equipment
    xml = _xml(data)
    for it in practical_paper.items:
        for rp in it.content.rubric:
            assert rp.criteria not in xml
    assert "vert270" in xml  # the candidate's sealing strip


def test_scoring_sheet_has_every_rubric_point_and_signatures(practical_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_scoring_sheet(practical_paper))
    tables = table_texts(d)
    rubric_tables = [rows for rows in tables if rows[0] == ["序号", "考核要点", "配分", "评分标准", "扣分", "得分", "备注"]]
    assert len(rubric_tables) == len(practical_paper.items)
    for rows, it in zip(rubric_tables, practical_paper.items):
        body = rows[1:-1]
        assert [(r[1], float(r[2]), r[3]) for r in body] == [(rp.description, rp.points, rp.criteria)
                                                              for rp in it.content.rubric]
        assert rows[-1][1] == "合\u3000计" and float(rows[-1][2]) == it.points
        assert all(r[4] == r[5] == "" for r in rows[1:])  # deductions and scores are the examiners'
    summary = next(rows for rows in tables if rows[0][0] == "试\u3000题")
    assert summary[0][2:5] == ["考评员1", "考评员2", "考评员3"] and summary[0][-1] == "平均得分"
    assert float(next(r for r in summary if r[0] == "合\u3000计")[1]) == practical_paper.total_points
    signatures = [p.text for p in d.paragraphs if "（签字）" in p.text]
    assert [s.split("（")[0] for s in signatures] == ["考评员1", "考评员2", "考评员3", "考评组长"]


def test_more_examiners_and_too_few(practical_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_scoring_sheet(practical_paper, n_examiners=5))
    assert sum("考评员" in p.text and "（签字）" in p.text for p in d.paragraphs) == 5
    with pytest.raises(ExportError) as e:
        render_scoring_sheet(practical_paper, n_examiners=2)
    assert e.value.text.params == {"n": 2, "minimum": 3}


def test_defence_topics_and_their_scoring(defence_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_defence_topics(defence_paper))
    texts = [p.text for p in d.paragraphs]
    for number, it in enumerate(defence_paper.items, start=1):
        assert f"{number}．{it.content.stem}" in texts
    info = " ".join(c for row in table_texts(d)[0] for c in row)
    assert "满分：100分（选答一题）" in info
    s = open_docx(render_scoring_sheet(defence_paper))
    summary = next(rows for rows in table_texts(s) if rows[0][0] == "试\u3000题")
    assert float(next(r for r in summary if r[0] == "合\u3000计")[1]) == 100.0
    low = make_paper([make_item("D1", ItemType.DEFENCE_TOPIC)], part=Part.DEFENCE, level=Level.L5)
    with pytest.raises(ExportError) as e:
        render_defence_topics(low)
    assert "二级和一级" in e.value.message


def test_task_sheet_refuses_a_theory_paper(theory_paper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExportError, match="理论知识"):
        render_task_sheet(theory_paper)


def test_a_practical_paper_that_allows_less_than_its_tasks_take_is_refused() -> None:
    from exports import PaperLayoutError

    tasks = [make_item(f"P{i}", ItemType.PRACTICAL_TASK, points=p, time_limit_min=t)
             for i, (p, t) in enumerate(((30.0, 90.0), (40.0, 60.0), (30.0, 90.0)), start=1)]
    ok = make_paper(tasks, part=Part.PRACTICAL, time_allowed_min=240)
    assert render_task_sheet(ok)
    short = make_paper(tasks, part=Part.PRACTICAL, time_allowed_min=120)
    with pytest.raises(PaperLayoutError) as e:
        render_task_sheet(short)
    assert "240" in e.value.message and "120" in e.value.message


def test_a_rule_that_deducts_more_than_its_row_is_refused() -> None:
    from exports import PaperLayoutError
    from itembank.domain import RubricPoint

    rubric = (RubricPoint("安装接线", 9.0, "二次不成功扣10分"), RubricPoint("通电试验", 21.0, "每错一处扣2分"))
    bad = make_paper([make_item("P1", ItemType.PRACTICAL_TASK, points=30.0, rubric=rubric)], part=Part.PRACTICAL)
    for render in (render_task_sheet, render_scoring_sheet):
        with pytest.raises(PaperLayoutError) as e:
            render(bad)
        assert "安装接线" in e.value.message and "10" in e.value.message and "9" in e.value.message
    fixed = (RubricPoint("安装接线", 9.0, "二次不成功扣9分"), rubric[1])
    good = make_paper([make_item("P1", ItemType.PRACTICAL_TASK, points=30.0, rubric=fixed)], part=Part.PRACTICAL)
    assert render_scoring_sheet(good)
