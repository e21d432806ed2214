"""Element specification table and bank readiness report."""

from __future__ import annotations

from datetime import date

import pytest

from exports import ExportError, document_text, render_element_table, render_readiness_report
from exports.element_table import element_rows
from itembank.domain import ElementNode, ElementTable, Importance, Level, Part

from tests.exports.conftest import ELECTRICIAN, open_docx


def test_element_table_lists_every_scope_and_element_once(demo) -> None:  # type: ignore[no-untyped-def]
    table = demo.theory_table
    data = render_element_table(table, occupation=demo.l5.occupation)
    paragraphs = document_text(data)  # merged cells hold their text once
    for node in table.nodes:
        assert paragraphs.count(node.code) == 1, node.code
    d = open_docx(data)
    rows = [[c.text for c in r.cells] for r in d.tables[0].rows]
    assert rows[0][0] == "行为领域" and rows[0][3] == "鉴定范围" and rows[0][6] == "鉴定点"
    leaves = {n.code: n for n in table.leaves()}
    printed = {r[6]: r for r in rows[2:]}
    assert set(printed) == set(leaves)
    for code, r in printed.items():
        assert r[7] == leaves[code].name and float(r[8]) == leaves[code].weight
        assert r[9] == leaves[code].importance.value  # type: ignore[union-attr]
    assert [leaf for _, leaf in element_rows(table)] == [r[6] for r in rows[2:]]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "电工（五级/初级工）理论知识认定要素细目表" in text and "鉴定比重合计：100%" in text
    assert f"鉴定点共{len(leaves)}个" in text


def test_element_table_of_one_level_and_without_occupation() -> None:
    table = ElementTable("6-31-01-03", Level.L3, Part.PRACTICAL, 2, nodes=(
        ElementNode("P-01", "线路安装", 60.0, None, Importance.X),
        ElementNode("P-02", "故障排除", 40.0, None, Importance.Y),
    ))
    d = open_docx(render_element_table(table))
    rows = [[c.text for c in r.cells] for r in d.tables[0].rows]
    assert rows[0] == ["鉴定点"] * 4 and [r[0] for r in rows[2:]] == ["P-01", "P-02"]
    assert "职业编码：6-31-01-03" in d.paragraphs[2].text and "第2版" in d.paragraphs[3].text
    with pytest.raises(ExportError):
        render_element_table(ElementTable("x", Level.L3, Part.THEORY, 1, nodes=()))


def test_readiness_report_per_bank(demo) -> None:  # type: ignore[no-untyped-def]
    reports = demo.readiness
    data = render_readiness_report(reports, as_of=date(2026, 11, 28))
    d = open_docx(data)
    texts = [p.text for p in d.paragraphs]
    assert "统计日期：2026年11月28日" in texts
    summary = [[c.text for c in r.cells] for r in d.tables[0].rows]
    assert len(summary) == 1 + len(reports)
    for row, r in zip(summary[1:], reports):
        assert row[0] == ELECTRICIAN.code and row[2] == Level(r.bank.level).title_zh
        assert row[4] == ("达标" if r.ready else "未达标") and int(row[5]) == len(r.shortfalls)
    body = "\n".join(texts)
    for r in reports:
        for s in r.shortfalls:
            assert str(s) in body
        for p in r.parts:
            for e in p.elements:
                assert e.code in document_text(data)
    assert render_readiness_report(reports, as_of=date(2026, 11, 28)) == data
    with pytest.raises(ExportError):
        render_readiness_report([])
