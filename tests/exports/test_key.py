"""The answer key and scoring standard, and the answer sheet, read back."""

from __future__ import annotations

import pytest

from exports import KeyOptions, PaperLayoutError, render_answer_key, render_answer_sheet, render_theory_paper
from exports.key import key_text
from itembank.domain import ItemType

from tests.exports.conftest import make_item, make_paper, open_docx, table_texts


def key_grid(document) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """题号 -> 答案 from every 题号/答案 row pair of the key's tables."""
    out: dict[int, str] = {}
    for rows in table_texts(document):
        for a, b in zip(rows, rows[1:]):
            if a[0] == "题号" and b[0] == "答案":
                for no, ans in zip(a[1:], b[1:]):
                    if no:
                        assert int(no) not in out, f"item {no} keyed twice"
                        out[int(no)] = ans
    return out


def test_key_has_every_objective_answer_at_its_number(theory_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_answer_key(theory_paper))
    grid = key_grid(d)
    assert sorted(grid) == list(range(1, 101))
    for number, it in enumerate(theory_paper.items, start=1):
        assert grid[number] == key_text(it)
        assert grid[number] in ("A", "B", "C", "D", "√", "×")
    text = "\n".join(p.text for p in d.paragraphs)
    assert "标准答案及评分标准" in text and "全卷共100题，满分100分。" in text


def test_key_prints_scoring_points_of_subjective_items(mixed_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_answer_key(mixed_paper))
    grid = key_grid(d)
    objective = [i for i, it in enumerate(mixed_paper.items, start=1) if it.item_type.is_objective]
    assert sorted(grid) == objective
    multi = [it for it in mixed_paper.items if it.item_type is ItemType.MULTIPLE_CHOICE]
    assert all(len(key_text(it)) >= 2 for it in multi)
    texts = [p.text for p in d.paragraphs]
    tables = table_texts(d)
    for number, it in enumerate(mixed_paper.items, start=1):
        if it.item_type.is_objective:
            continue
        head = [t for t in texts if t.startswith(f"{number}．（")]
        assert len(head) == 1 and it.content.stem in head[0]
        rubric_rows = [row for rows in tables for row in rows
                       if len(row) == 4 and any(row[1] == rp.description for rp in it.content.rubric)]
        assert len(rubric_rows) >= len(it.content.rubric)
        for rp in it.content.rubric:
            # two items may share a scoring point's wording, with different points
            assert any(r[1] == rp.description and float(r[2]) == rp.points
                       and r[3] == (rp.criteria or "答出要点得分") for r in rubric_rows), rp
        assert any(t.startswith("参考答案：") for t in texts)
    totals = [float(r[2]) for rows in tables for r in rows if r[0] == "合\u3000计" and len(r) == 4]
    subjective = [it for it in mixed_paper.items if not it.item_type.is_objective]
    assert totals == [it.points for it in subjective]


def test_key_traces_every_item_to_the_bank_once(mixed_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_answer_key(mixed_paper))
    trace = next(rows for rows in table_texts(d) if rows[0][:2] == ["题号", "试题编号"])
    assert [r[1] for r in trace[1:]] == [it.code for it in mixed_paper.items]
    assert sum(float(r[4]) for r in trace[1:]) == mixed_paper.total_points
    plain = open_docx(render_answer_key(mixed_paper, options=KeyOptions(include_trace=False)))
    assert not any(rows[0][:2] == ["题号", "试题编号"] for rows in table_texts(plain))


def test_key_is_separate_from_the_paper(theory_paper) -> None:  # type: ignore[no-untyped-def]
    paper = "\n".join(p.text for p in open_docx(render_theory_paper(theory_paper)).paragraphs)
    key = open_docx(render_answer_key(theory_paper))
    assert "标准答案" not in paper
    assert key.paragraphs[0].text.startswith("绝密★启用前")
    assert "标准答案" in key.sections[0].header.paragraphs[0].text


def test_answer_sheet_has_a_box_row_for_every_objective_item_and_no_answers(mixed_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(render_answer_sheet(mixed_paper))
    cells = [c for rows in table_texts(d) for row in rows for c in row if c.strip()]
    numbered = {}
    for c in cells:
        head, _, boxes = c.strip().partition("\u2002")
        if head.isdigit():
            numbered[int(head)] = boxes
    objective = {i: it for i, it in enumerate(mixed_paper.items, start=1) if it.item_type.is_objective}
    assert sorted(numbered) == sorted(objective)
    for i, it in objective.items():
        if it.item_type is ItemType.TRUE_FALSE:
            assert numbered[i] == "[√] [×]"
        else:
            assert numbered[i] == " ".join(f"[{o.label}]" for o in it.content.options)
    text = "\n".join(p.text for p in d.paragraphs)
    assert "答题卡" in text and "标准答案" not in text


def test_answer_sheet_needs_objective_items() -> None:
    paper = make_paper([make_item("Q1", ItemType.SHORT_ANSWER), make_item("Q2", ItemType.ESSAY)])
    with pytest.raises(PaperLayoutError) as e:
        render_answer_sheet(paper)
    assert e.value.text.msgid == "paper {code} has no objective items: it needs no answer sheet"
    assert e.value.text.params["code"] == paper.code
